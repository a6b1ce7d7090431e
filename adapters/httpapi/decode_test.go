package httpapi

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// decodeTarget exercises every kind diagnose walks.
type decodeTarget struct {
	Embedded
	*Pointed
	Tag      string            `json:"tag"`
	Untagged int               // named by its Go name
	Skipped  string            `json:"-"`
	Flag     bool              `json:"flag"`
	Ratio    float64           `json:"ratio"`
	Small    int8              `json:"small"`
	Blob     []byte            `json:"blob"`
	Labels   map[string]int    `json:"labels"`
	Any      any               `json:"any"`
	Addrs    [2]netip.Addr     `json:"addrs"`
	MAC      model.MAC         `json:"mac"`
	Seg      flexUint          `json:"seg"`
	Nested   map[string]Nested `json:"nested"`
}

type Embedded struct {
	Inner string `json:"inner"`
}

type Pointed struct {
	Deep string `json:"deep"`
}

type Nested struct {
	Leaf string `json:"leaf"`
}

func TestDecodeJSON(t *testing.T) {
	ok := `{"inner":"i","deep":"d","tag":"t","Untagged":1,"flag":true,"ratio":0.5,"small":-128,"blob":"aGk=",` +
		`"labels":{"a":1},"any":[1,{"x":null}],"addrs":["10.0.0.1","::1"],"mac":"02:00:00:00:00:01","seg":"7","nested":{"k":{"leaf":"l"}}}`
	var v decodeTarget
	if err := decodeJSON([]byte(ok), &v); err != nil {
		t.Fatal(err)
	}
	if v.Inner != "i" || v.Pointed == nil || v.Deep != "d" || v.Untagged != 1 || string(v.Blob) != "hi" || v.Seg != 7 || v.Nested["k"].Leaf != "l" {
		t.Fatalf("decoded %+v", v)
	}
	for _, tc := range []struct{ body, field, message string }{
		{`{"Skipped":"x"}`, "Skipped", "unknown field"},
		{`{"inner":1}`, "inner", "expects a string"},
		{`{"deep":false}`, "deep", "expects a string"},
		{`{"flag":"yes"}`, "flag", "expects true or false"},
		{`{"ratio":"half"}`, "ratio", "expects a number"},
		{`{"small":128}`, "small", "from -128 to 127"},
		{`{"blob":"%%%"}`, "blob", "base64"},
		{`{"labels":{"a":"one"}}`, "labels.a", "expects an integer"},
		{`{"labels":[1]}`, "labels", "expects an object"},
		{`{"addrs":"10.0.0.1"}`, "addrs", "expects an array"},
		{`{"addrs":["10.0.0.1",7]}`, "addrs[1]", "expects a string"},
		{`{"mac":"01:02"}`, "mac", "not a valid MAC address"},
		{`{"seg":"x"}`, "seg", "not a whole number"},
		{`{"nested":{"k":{"lef":"l"}}}`, "nested.k.lef", `did you mean "leaf"?`},
		{`{"tag":"` + strings.Repeat("x", 50) + `","flag":{}}`, "flag", "expects true or false, got an object {}"},
	} {
		var v decodeTarget
		err := decodeJSON([]byte(tc.body), &v)
		var e *model.Error
		if !errors.As(err, &e) || e.Code != model.CodeInvalid || e.Field != tc.field || !strings.Contains(e.Message, tc.message) {
			t.Errorf("%s: %v (field %q), want field %q and %q", tc.body, err, fieldOf(err), tc.field, tc.message)
		}
	}
}

func fieldOf(err error) string {
	var e *model.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

func TestJSONKind(t *testing.T) {
	for in, want := range map[string]string{"": "nothing", "{}": "an object", "[]": "an array", `""`: "a string", "true": "a boolean", "null": "null", "-1": "a number"} {
		if got := jsonKind([]byte(in)); got != want {
			t.Errorf("jsonKind(%q) = %q, want %q", in, got, want)
		}
	}
}

// viewFailing is a backend whose View fails with a plain error.
type viewFailing struct{ *testBackend }

func (viewFailing) View(func(*alloc.State)) error {
	return errors.New("state dropped after a failed write")
}

func TestViewFailureIsUnavailable(t *testing.T) {
	s := NewServer(viewFailing{newTestBackend(t)}, Options{Logger: quietLogger()}).(*Server)
	err := s.view(func(*alloc.State) error { return nil })
	if !errors.Is(err, ErrUnavailable) || errorBody(err).Code != model.CodeUnavailable {
		t.Fatalf("view error %v", err)
	}
}

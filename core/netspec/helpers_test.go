package netspec

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/core/model"
)

// errCase is one input that must fail with a CodeInvalid error on field whose message contains fix.
type errCase struct {
	name  string
	in    string
	field string
	fix   string
}

// checkInvalid asserts that err is a CodeInvalid *model.Error on field whose message contains fix.
func checkInvalid(t *testing.T, err error, field, fix string) {
	t.Helper()
	var e *model.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want *model.Error", err, err)
	}
	if e.Code != model.CodeInvalid {
		t.Errorf("code = %q, want %q", e.Code, model.CodeInvalid)
	}
	if e.Field != field {
		t.Errorf("field = %s\n                want %s", e.Field, field)
	}
	if !strings.Contains(e.Message, fix) {
		t.Errorf("message %q does not mention %q", e.Message, fix)
	}
	if !errors.Is(err, model.ErrInvalid) {
		t.Errorf("errors.Is(err, model.ErrInvalid) = false")
	}
}

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

func mac(s string) model.MAC {
	m, err := model.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

const (
	npwgF    = `annotations["k8s.v1.cni.cncf.io/networks"]`
	knitterF = `annotations["networks"]`
)

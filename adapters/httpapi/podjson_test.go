package httpapi

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// podGen makes random pods and requests: every field set or not, nil and empty slices, strings
// with the characters encoding/json escapes, non-ASCII and invalid UTF-8, addresses of both
// families with and without zones.
type podGen struct{ r *rand.Rand }

func (g podGen) str() string {
	const plainChars = "abcdefghijklmnopqrstuvwxyz0123456789-_./:"
	odd := []string{"<", ">", "&", `"`, `\`, "\n", "\t", "\b", "\f", "\r", "\x00", "\x1f", "\x7f", "é", "日本",
		"\u2028", "\u2029", "\xff", "\xc3", "\xed\xa0\x80", "🙂", " "}
	if g.r.IntN(4) == 0 {
		return ""
	}
	var b strings.Builder
	for range g.r.IntN(12) + 1 {
		if g.r.IntN(8) == 0 {
			b.WriteString(odd[g.r.IntN(len(odd))])
		} else {
			b.WriteByte(plainChars[g.r.IntN(len(plainChars))])
		}
	}
	return b.String()
}

// plain is a string of the plain form the hand decoders read: printable ASCII that json.Marshal
// does not escape.
func (g podGen) plain() string {
	const plainChars = "abcdefghijklmnopqrstuvwxyzABC0123456789-_./: {}[],'~\x7f"
	b := make([]byte, g.r.IntN(10))
	for i := range b {
		b[i] = plainChars[g.r.IntN(len(plainChars))]
	}
	return string(b)
}

func (g podGen) addr() netip.Addr {
	var a netip.Addr
	switch g.r.IntN(4) {
	case 0:
		a = netip.AddrFrom4([4]byte{10, byte(g.r.IntN(256)), byte(g.r.IntN(256)), byte(g.r.IntN(256))})
	case 1:
		var b [16]byte
		b[0], b[1], b[15] = 0xfd, 0, byte(g.r.IntN(256))
		a = netip.AddrFrom16(b)
	case 2:
		a = netip.MustParseAddr("fe80::1").WithZone([]string{"eth0", "a<b", "z\"q", "é"}[g.r.IntN(4)])
	case 3:
		a = netip.AddrFrom16([16]byte{10: 0xff, 11: 0xff, 12: 10, 15: 1}) // IPv4-mapped
	}
	return a
}

func (g podGen) addrs() []netip.Addr {
	switch g.r.IntN(4) {
	case 0:
		return nil
	case 1:
		return []netip.Addr{}
	}
	out := make([]netip.Addr, g.r.IntN(3)+1)
	for i := range out {
		out[i] = g.addr()
		if g.r.IntN(10) == 0 {
			out[i] = netip.Addr{}
		}
	}
	return out
}

func (g podGen) mac() model.MAC {
	if g.r.IntN(3) == 0 {
		return model.MAC{}
	}
	var m model.MAC
	for i := range m {
		m[i] = byte(g.r.IntN(256))
	}
	return m
}

func (g podGen) attachRequests() []model.AttachRequest {
	switch g.r.IntN(6) {
	case 0:
		return nil
	case 1:
		return []model.AttachRequest{}
	}
	qs := make([]model.AttachRequest, g.r.IntN(4)+1)
	for i := range qs {
		q := &qs[i]
		q.Network, q.Tenant, q.Interface = g.str(), g.str(), g.str()
		q.IPs, q.Gateways = g.addrs(), g.addrs()
		switch g.r.IntN(3) {
		case 1:
			q.IPPrefixes = []netip.Prefix{}
		case 2:
			q.IPPrefixes = []netip.Prefix{netip.PrefixFrom(g.addr().WithZone(""), g.r.IntN(25)+8), {}}
		}
		q.MAC = g.mac()
		q.IPGroup, q.Function, q.NICType, q.CNIArgs = g.str(), g.str(), g.str(), g.str()
		q.DefaultRoute, q.Accelerate = g.r.IntN(2) == 0, g.r.IntN(2) == 0
		switch g.r.IntN(3) {
		case 1:
			q.Metadata = map[string]string{}
		case 2:
			q.Metadata = map[string]string{}
			for range g.r.IntN(4) + 1 {
				q.Metadata[g.str()] = g.str()
			}
		}
	}
	return qs
}

func (g podGen) podRef() model.PodRef {
	return model.PodRef{UID: g.str(), Namespace: g.str(), Name: g.str()}
}

func (g podGen) request() alloc.PodRequest {
	return alloc.PodRequest{Pod: g.podRef(), Tenant: g.str(), Owner: g.str(), Requests: g.attachRequests()}
}

func (g podGen) pod() model.Pod {
	p := model.Pod{PodRef: g.podRef(), Tenant: g.str(), Owner: g.str(), Requests: g.attachRequests(), Node: g.str(),
		Created: model.Time(g.r.Int64() - g.r.Int64())}
	switch g.r.IntN(5) {
	case 0:
	case 1:
		p.Ports = []model.Port{}
	default:
		p.Ports = make([]model.Port, g.r.IntN(4)+1)
		for i := range p.Ports {
			p.Ports[i] = model.Port{ID: g.str(), Tenant: g.str(), Network: g.str(), Pod: g.podRef(), Interface: g.str(),
				IPs: g.addrs(), MAC: g.mac(), IPGroup: g.str(), DefaultRoute: g.r.IntN(2) == 0, Node: g.str(),
				State: model.PortState(g.str()), Function: g.str(), NICType: g.str()}
		}
	}
	return p
}

// plainPod is a pod whose every string is in the plain form.
func plainPod(g podGen) model.Pod {
	p := g.pod()
	p.UID, p.Namespace, p.Name, p.Tenant, p.Owner, p.Node = g.plain(), g.plain(), g.plain(), g.plain(), g.plain(), g.plain()
	p.Requests = plainRequests(g, p.Requests)
	for i := range p.Ports {
		q := &p.Ports[i]
		q.ID, q.Tenant, q.Network, q.Interface, q.IPGroup, q.Node, q.Function, q.NICType = g.plain(), g.plain(), g.plain(), g.plain(), g.plain(), g.plain(), g.plain(), g.plain()
		q.State = model.PortState(g.plain())
		q.Pod = model.PodRef{UID: g.plain(), Namespace: g.plain(), Name: g.plain()}
		q.IPs = plainAddrs(q.IPs)
	}
	return p
}

func plainRequest(g podGen) alloc.PodRequest {
	q := g.request()
	q.Pod = model.PodRef{UID: g.plain(), Namespace: g.plain(), Name: g.plain()}
	q.Tenant, q.Owner = g.plain(), g.plain()
	q.Requests = plainRequests(g, q.Requests)
	return q
}

func plainRequests(g podGen, qs []model.AttachRequest) []model.AttachRequest {
	for i := range qs {
		q := &qs[i]
		q.Network, q.Tenant, q.Interface, q.IPGroup, q.Function, q.NICType, q.CNIArgs = g.plain(), g.plain(), g.plain(), g.plain(), g.plain(), g.plain(), g.plain()
		q.IPs, q.Gateways = plainAddrs(q.IPs), plainAddrs(q.Gateways)
		if len(q.Metadata) > 0 {
			q.Metadata = map[string]string{g.plain(): g.plain(), g.plain() + "x": g.plain()}
		}
	}
	return qs
}

// plainAddrs drops the zones that are not plain ASCII.
func plainAddrs(as []netip.Addr) []netip.Addr {
	for i, a := range as {
		if a.Zone() != "" && a.Zone() != "eth0" {
			as[i] = a.WithZone("eth0")
		}
	}
	return as
}

// TestPodJSONEncodesAsEncodingJSON: the hand encoders give json.Marshal's bytes for random pods
// and requests, escapes, invalid UTF-8, zones, nil and empty slices and maps included.
func TestPodJSONEncodesAsEncodingJSON(t *testing.T) {
	g := podGen{rand.New(rand.NewPCG(12, 1))}
	for i := range 3000 {
		var v any = g.pod()
		if i%2 == 1 {
			v = g.request()
		}
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendJSON(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("value %d:\nhand:          %s\nencoding/json: %s", i, got, want)
		}
	}
	// Pointers, a nil one, and what follows bytes already in the buffer.
	p := g.pod()
	for _, v := range []any{&p, (*model.Pod)(nil), (*alloc.PodRequest)(nil), ErrorBody{Code: "x", Message: "<m>"}} {
		want, _ := json.Marshal(v)
		got, err := appendJSON([]byte("x"), v)
		if err != nil || string(got) != "x"+string(want) {
			t.Errorf("%T: %s, %v; want x%s", v, got, err, want)
		}
	}
}

// TestPodJSONDecodesAsEncodingJSON: whatever a body is, when a hand decoder takes it the value is
// the one encoding/json gives, and for a request the server's strict decoding accepts the body
// too; plain bodies (every answer and request of the allocation path) are taken, any other is
// left to encoding/json. The bodies are random values' encodings, indented, and mutated byte by
// byte.
func TestPodJSONDecodesAsEncodingJSON(t *testing.T) {
	g := podGen{rand.New(rand.NewPCG(12, 2))}
	checkPod := func(body []byte) bool {
		got, ok := decodePod(body)
		if !ok {
			return false
		}
		var want model.Pod
		if err := json.NewDecoder(bytes.NewReader(body)).Decode(&want); err != nil {
			t.Fatalf("the hand decoder took %s, encoding/json refuses it: %v", body, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s:\nhand:          %#v\nencoding/json: %#v", body, got, want)
		}
		return true
	}
	checkRequest := func(body []byte) bool {
		got, ok := decodePodRequest(body)
		if !ok {
			return false
		}
		var want alloc.PodRequest
		if err := decodeJSON(body, &want); err != nil {
			t.Fatalf("the hand decoder took %s, decodeJSON refuses it: %v", body, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s:\nhand:          %#v\nencoding/json: %#v", body, got, want)
		}
		return true
	}
	mutations := 0
	for i := range 2000 {
		var body []byte
		var check func([]byte) bool
		if i%2 == 0 {
			body, _ = json.Marshal(plainPod(g))
			check = checkPod
		} else {
			body, _ = json.Marshal(plainRequest(g))
			check = checkRequest
		}
		if !check(body) {
			t.Fatalf("the hand decoder left a plain body to encoding/json: %s", body)
		}
		var indented bytes.Buffer
		_ = json.Indent(&indented, body, " ", "\t")
		indented.WriteString("\r\n ")
		if !check(indented.Bytes()) {
			t.Fatalf("the hand decoder left an indented plain body to encoding/json: %s", indented.Bytes())
		}
		// Values with escapes and UTF-8: taken or not, never decoded differently.
		if i%2 == 0 {
			odd, _ := json.Marshal(g.pod())
			check(odd)
		} else {
			odd, _ := json.Marshal(g.request())
			check(odd)
		}
		for range 20 {
			m := bytes.Clone(body)
			at := g.r.IntN(len(m))
			switch g.r.IntN(6) {
			case 0: // drop a byte
				m = append(m[:at], m[at+1:]...)
			case 1: // another byte
				const chars = "{}[],:\"\\ 0-1e.nultrfasU"
				m[at] = chars[g.r.IntN(len(chars))]
			case 2: // a key in other case
				if k := bytes.Index(m[at:], []byte(`":`)); k > 0 {
					m[at+k-1] &^= 0x20
				}
			case 3: // a key twice
				if k := bytes.IndexByte(m[at:], ','); k >= 0 {
					if e := bytes.Index(m[at+k+1:], []byte(`,"`)); e >= 0 {
						m = slicesInsert(m, at+k+1+e, m[at+k:at+k+1+e])
					}
				}
			case 4: // something after the object
				m = append(m, " {}"[g.r.IntN(3)])
			case 5: // a truncated body
				m = m[:at]
			}
			if check(m) {
				mutations++
			}
		}
	}
	if mutations == 0 {
		t.Fatal("no mutated body was taken by a hand decoder; the check above checked nothing")
	}
	// Forms encoding/json takes that the hand decoders leave to it.
	for _, body := range []string{
		`{"UID":"u"}`, `{"uid":"u","uid":"v"}`, `{"uid":null}`, `{"created":1.0}`, `{"created":1e3}`,
		`{"created":01}`, `{"uid":"\u0041"}`, `{"uid":"é"}`, `{"extra":1}`, `null`, `{"uid":"u"} {}`,
		`{"ports":[{"ips":["10.0.0.1%"]}]}`, `{"requests":[{"metadata":{"k":"1","k":"2"}}]}`,
	} {
		if _, ok := decodePod([]byte(body)); ok {
			t.Errorf("decodePod took %s", body)
		}
	}
	for body, want := range map[string]alloc.PodRequest{
		`{}`:                {},
		`{"requests":null}`: {},
		`{"requests":[]}`:   {Requests: []model.AttachRequest{}},
		`{"requests":[{"ips":[],"metadata":{}}]}`: {Requests: []model.AttachRequest{{IPs: []netip.Addr{}, Metadata: map[string]string{}}}},
	} {
		got, ok := decodePodRequest([]byte(body))
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %#v, %v; want %#v", body, got, ok, want)
		}
		checkRequest([]byte(body))
	}
}

func slicesInsert(b []byte, at int, what []byte) []byte {
	return append(b[:at], append(bytes.Clone(what), b[at:]...)...)
}

// FuzzPodRequestBody: a body the hand decoder takes is one the server's strict decoding accepts,
// with the same value.
func FuzzPodRequestBody(f *testing.F) {
	body, _ := json.Marshal(alloc.PodRequest{Pod: model.PodRef{UID: "u", Namespace: "n", Name: "p"}, Tenant: "acme",
		Requests: []model.AttachRequest{{Network: "net-a", Interface: "eth0", IPs: []netip.Addr{netip.MustParseAddr("10.0.0.5")},
			MAC: model.MAC{2, 0, 0, 0, 0, 1}, Metadata: map[string]string{"k": "v"}, DefaultRoute: true}}})
	f.Add(body)
	f.Add([]byte(`{"pod":{"uid":"u"},"requests":[{"ip_prefixes":["10.0.0.5/24"],"gateways":["10.0.0.1"]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, ok := decodePodRequest(body)
		if !ok {
			return
		}
		var want alloc.PodRequest
		if err := decodeJSON(body, &want); err != nil {
			t.Fatalf("the hand decoder took %q, decodeJSON refuses it: %v", body, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\nhand:          %#v\nencoding/json: %#v", body, got, want)
		}
	})
}

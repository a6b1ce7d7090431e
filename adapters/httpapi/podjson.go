package httpapi

import (
	"encoding/json"
	"net/netip"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// The allocation round trip — POST /api/v1/pods with an alloc.PodRequest, answered with the
// model.Pod — is the manager's hottest path, and encoding/json's reflection was a sixth of its CPU
// (decoding the request on the server, with the duplicate-key walk, 8%; decoding the answer on the
// client 8%; the encodings 3%: BenchmarkManagerAllocateHTTPS, docs/benchmarks.md). The functions
// here encode those two types by hand into exactly the bytes json.Marshal gives, and decode the
// plain form of them; podjson_test.go holds both against encoding/json.

// appendJSON appends v's JSON encoding: the hand-written one for the allocation path's types, else
// json.Marshal's.
func appendJSON(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case model.Pod:
		return appendPod(b, &v), nil
	case *model.Pod:
		if v == nil {
			return append(b, "null"...), nil
		}
		return appendPod(b, v), nil
	case alloc.PodRequest:
		return appendPodRequest(b, &v), nil
	case *alloc.PodRequest:
		if v == nil {
			return append(b, "null"...), nil
		}
		return appendPodRequest(b, v), nil
	}
	out, err := json.Marshal(v)
	if len(b) == 0 {
		return out, err
	}
	return append(b, out...), err
}

func appendPodRequest(b []byte, r *alloc.PodRequest) []byte {
	b = append(b, `{"pod":`...)
	b = appendPodRef(b, &r.Pod)
	b = append(b, `,"tenant":`...)
	b = appendString(b, r.Tenant)
	if r.Owner != "" {
		b = append(b, `,"owner":`...)
		b = appendString(b, r.Owner)
	}
	b = append(b, `,"requests":`...)
	b = appendAttachRequests(b, r.Requests)
	return append(b, '}')
}

func appendPod(b []byte, p *model.Pod) []byte {
	b = append(b, `{"uid":`...)
	b = appendString(b, p.UID)
	b = append(b, `,"namespace":`...)
	b = appendString(b, p.Namespace)
	b = append(b, `,"name":`...)
	b = appendString(b, p.Name)
	b = append(b, `,"tenant":`...)
	b = appendString(b, p.Tenant)
	if p.Owner != "" {
		b = append(b, `,"owner":`...)
		b = appendString(b, p.Owner)
	}
	b = append(b, `,"requests":`...)
	b = appendAttachRequests(b, p.Requests)
	b = append(b, `,"ports":`...)
	if p.Ports == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range p.Ports {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendPort(b, &p.Ports[i])
		}
		b = append(b, ']')
	}
	if p.Node != "" {
		b = append(b, `,"node":`...)
		b = appendString(b, p.Node)
	}
	b = append(b, `,"created":`...)
	b = strconv.AppendInt(b, int64(p.Created), 10)
	return append(b, '}')
}

func appendPodRef(b []byte, r *model.PodRef) []byte {
	b = append(b, `{"uid":`...)
	b = appendString(b, r.UID)
	b = append(b, `,"namespace":`...)
	b = appendString(b, r.Namespace)
	b = append(b, `,"name":`...)
	b = appendString(b, r.Name)
	return append(b, '}')
}

func appendAttachRequests(b []byte, qs []model.AttachRequest) []byte {
	if qs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range qs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendAttachRequest(b, &qs[i])
	}
	return append(b, ']')
}

func appendAttachRequest(b []byte, q *model.AttachRequest) []byte {
	b = append(b, `{"network":`...)
	b = appendString(b, q.Network)
	if q.Tenant != "" {
		b = append(b, `,"tenant":`...)
		b = appendString(b, q.Tenant)
	}
	b = append(b, `,"interface":`...)
	b = appendString(b, q.Interface)
	if len(q.IPs) > 0 {
		b = append(b, `,"ips":`...)
		b = appendAddrs(b, q.IPs)
	}
	if len(q.IPPrefixes) > 0 {
		b = append(b, `,"ip_prefixes":[`...)
		for i, p := range q.IPPrefixes {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendText(b, p)
		}
		b = append(b, ']')
	}
	if len(q.Gateways) > 0 {
		b = append(b, `,"gateways":`...)
		b = appendAddrs(b, q.Gateways)
	}
	if !q.MAC.IsZero() {
		b = append(b, `,"mac":`...)
		b = appendMAC(b, q.MAC)
	}
	if q.IPGroup != "" {
		b = append(b, `,"ip_group":`...)
		b = appendString(b, q.IPGroup)
	}
	if q.DefaultRoute {
		b = append(b, `,"default_route":true`...)
	}
	if q.Function != "" {
		b = append(b, `,"function":`...)
		b = appendString(b, q.Function)
	}
	if q.NICType != "" {
		b = append(b, `,"nic_type":`...)
		b = appendString(b, q.NICType)
	}
	if q.Accelerate {
		b = append(b, `,"accelerate":true`...)
	}
	if len(q.Metadata) > 0 {
		b = append(b, `,"metadata":{`...)
		keys := make([]string, 0, len(q.Metadata))
		for k := range q.Metadata {
			keys = append(keys, k)
		}
		slices.Sort(keys) // encoding/json sorts map keys
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendString(b, q.Metadata[k])
		}
		b = append(b, '}')
	}
	if q.CNIArgs != "" {
		b = append(b, `,"cni_args":`...)
		b = appendString(b, q.CNIArgs)
	}
	return append(b, '}')
}

func appendPort(b []byte, p *model.Port) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, p.ID)
	b = append(b, `,"tenant":`...)
	b = appendString(b, p.Tenant)
	b = append(b, `,"network":`...)
	b = appendString(b, p.Network)
	b = append(b, `,"pod":`...)
	b = appendPodRef(b, &p.Pod)
	b = append(b, `,"interface":`...)
	b = appendString(b, p.Interface)
	b = append(b, `,"ips":`...)
	if p.IPs == nil {
		b = append(b, "null"...)
	} else {
		b = appendAddrs(b, p.IPs)
	}
	b = append(b, `,"mac":`...)
	b = appendMAC(b, p.MAC)
	if p.IPGroup != "" {
		b = append(b, `,"ip_group":`...)
		b = appendString(b, p.IPGroup)
	}
	if p.DefaultRoute {
		b = append(b, `,"default_route":true`...)
	}
	if p.Node != "" {
		b = append(b, `,"node":`...)
		b = appendString(b, p.Node)
	}
	b = append(b, `,"state":`...)
	b = appendString(b, string(p.State))
	if p.Function != "" {
		b = append(b, `,"function":`...)
		b = appendString(b, p.Function)
	}
	if p.NICType != "" {
		b = append(b, `,"nic_type":`...)
		b = appendString(b, p.NICType)
	}
	return append(b, '}')
}

func appendAddrs(b []byte, as []netip.Addr) []byte {
	b = append(b, '[')
	for i, a := range as {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendText(b, a)
	}
	return append(b, ']')
}

// appendText appends a's text form as a JSON string, as encoding/json encodes a TextMarshaler. An
// address's text is plain ASCII but for an IPv6 zone, which may hold anything: such text is
// escaped again.
func appendText(b []byte, a interface{ AppendText([]byte) ([]byte, error) }) []byte {
	start := len(b)
	b = append(b, '"')
	b, _ = a.AppendText(b) // netip never fails to append the text of a value it holds
	for _, c := range b[start+1:] {
		if !plain[c] {
			text := string(b[start+1:])
			return appendString(b[:start], text)
		}
	}
	return append(b, '"')
}

// appendMAC appends m as MAC.MarshalText does ("" for the zero MAC), quoted.
func appendMAC(b []byte, m model.MAC) []byte {
	if m.IsZero() {
		return append(b, `""`...)
	}
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i, c := range m {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hex[c>>4], hex[c&0xf])
	}
	return append(b, '"')
}

// plain marks the bytes encoding/json (with its default HTML escaping) copies into a string as
// they are: printable ASCII other than '"', '\\', '<', '>' and '&'.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range `"\<>&` {
		t[c] = false
	}
	return t
}()

// appendString appends s as a JSON string exactly as json.Marshal writes it: HTML-sensitive
// characters, U+2028 and U+2029 escaped, invalid UTF-8 replaced by U+FFFD.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if plain[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// The decoders read the plain form of JSON that appendPod and appendPodRequest write (and any
// client sending the same shape writes): each key spelled exactly as its field's tag and given
// once, strings of printable ASCII without escapes, integers without fraction or exponent,
// whitespace anywhere JSON allows it. They fill a zero value exactly as encoding/json would: null
// is a nil slice, [] an empty one, {} an empty map. Anything else — and every error — makes them
// report ok false; the caller then decodes the same bytes with encoding/json, which accepts what it
// accepts and names what it refuses, so the answer to a body never depends on which path read it.

// decodePodRequest decodes body — one object, then only whitespace — into a PodRequest.
func decodePodRequest(body []byte) (alloc.PodRequest, bool) {
	r := jsonReader{b: body}
	var req alloc.PodRequest
	r.podRequest(&req)
	r.end()
	return req, !r.failed
}

// decodePod decodes body — one object, then only whitespace — into a Pod.
func decodePod(body []byte) (model.Pod, bool) {
	r := jsonReader{b: body}
	var p model.Pod
	r.pod(&p)
	r.end()
	return p, !r.failed
}

// jsonReader reads the plain form. The first byte outside it sets failed; every read after that
// returns at once with a zero value.
type jsonReader struct {
	b      []byte
	i      int
	failed bool
}

func (r *jsonReader) fail() {
	r.failed = true
	r.i = len(r.b)
}

func (r *jsonReader) ws() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// next reports whether c comes next (after whitespace), and reads it if so.
func (r *jsonReader) next(c byte) bool {
	r.ws()
	if r.i < len(r.b) && r.b[r.i] == c {
		r.i++
		return true
	}
	return false
}

func (r *jsonReader) expect(c byte) {
	if !r.next(c) {
		r.fail()
	}
}

// end reads the whitespace after the value; anything more fails.
func (r *jsonReader) end() {
	r.ws()
	if r.i != len(r.b) {
		r.fail()
	}
}

// null reads a null if one comes next.
func (r *jsonReader) null() bool {
	r.ws()
	if len(r.b)-r.i >= 4 && string(r.b[r.i:r.i+4]) == "null" {
		r.i += 4
		return true
	}
	return false
}

// raw reads a string of printable ASCII without escapes and returns its bytes, which alias r.b.
func (r *jsonReader) raw() []byte {
	if !r.next('"') {
		r.fail()
		return nil
	}
	start := r.i
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			r.i++
			return r.b[start : r.i-1]
		case c < 0x20 || c >= utf8.RuneSelf || c == '\\':
			r.fail() // escapes, control bytes and UTF-8 are encoding/json's to read
			return nil
		}
		r.i++
	}
	r.fail()
	return nil
}

func (r *jsonReader) str() string { return string(r.raw()) }

func (r *jsonReader) boolean() bool {
	r.ws()
	switch {
	case len(r.b)-r.i >= 4 && string(r.b[r.i:r.i+4]) == "true":
		r.i += 4
		return true
	case len(r.b)-r.i >= 5 && string(r.b[r.i:r.i+5]) == "false":
		r.i += 5
		return false
	}
	r.fail()
	return false
}

// int64 reads an integer as JSON writes one ("0", "-12"; no leading zero, fraction or exponent)
// that fits an int64.
func (r *jsonReader) int64() int64 {
	r.ws()
	start := r.i
	if r.i < len(r.b) && r.b[r.i] == '-' {
		r.i++
	}
	digits := r.i
	for r.i < len(r.b) && r.b[r.i] >= '0' && r.b[r.i] <= '9' {
		r.i++
	}
	if r.i == digits || r.b[digits] == '0' && r.i-digits > 1 {
		r.fail()
		return 0
	}
	if r.i < len(r.b) {
		switch r.b[r.i] {
		case '.', 'e', 'E':
			r.fail()
			return 0
		}
	}
	n, err := strconv.ParseInt(string(r.b[start:r.i]), 10, 64)
	if err != nil {
		r.fail()
		return 0
	}
	return n
}

// text reads a string into v with its UnmarshalText, as encoding/json does; v's error fails.
func (r *jsonReader) text(v interface{ UnmarshalText([]byte) error }) {
	b := r.raw()
	if r.failed || v.UnmarshalText(b) != nil {
		r.fail()
	}
}

// object reads an object, calling field with each key's index in keys (the field reads the value);
// a key not in keys, or given twice, fails.
func (r *jsonReader) object(keys []string, field func(k int)) {
	r.expect('{')
	if r.failed || r.next('}') {
		return
	}
	var seen uint64
	for !r.failed {
		k := slices.Index(keys, string(r.raw()))
		if k < 0 || seen&(1<<k) != 0 {
			r.fail()
			return
		}
		seen |= 1 << k
		r.expect(':')
		field(k)
		if !r.next(',') {
			r.expect('}')
			return
		}
	}
}

// array reads null (false) or an array, calling elem to read each value.
func (r *jsonReader) array(elem func()) bool {
	if r.null() {
		return false
	}
	r.expect('[')
	if r.failed || r.next(']') {
		return true
	}
	for !r.failed {
		elem()
		if !r.next(',') {
			r.expect(']')
			break
		}
	}
	return true
}

var podRequestKeys = []string{"pod", "tenant", "owner", "requests"}

func (r *jsonReader) podRequest(q *alloc.PodRequest) {
	r.object(podRequestKeys, func(k int) {
		switch k {
		case 0:
			r.podRef(&q.Pod)
		case 1:
			q.Tenant = r.str()
		case 2:
			q.Owner = r.str()
		case 3:
			q.Requests = r.attachRequests()
		}
	})
}

var podKeys = []string{"uid", "namespace", "name", "tenant", "owner", "requests", "ports", "node", "created"}

func (r *jsonReader) pod(p *model.Pod) {
	r.object(podKeys, func(k int) {
		switch k {
		case 0:
			p.UID = r.str()
		case 1:
			p.Namespace = r.str()
		case 2:
			p.Name = r.str()
		case 3:
			p.Tenant = r.str()
		case 4:
			p.Owner = r.str()
		case 5:
			p.Requests = r.attachRequests()
		case 6:
			ports := make([]model.Port, 0, 4)
			if r.array(func() {
				ports = append(ports, model.Port{})
				r.port(&ports[len(ports)-1])
			}) {
				p.Ports = ports
			}
		case 7:
			p.Node = r.str()
		case 8:
			p.Created = model.Time(r.int64())
		}
	})
}

var podRefKeys = []string{"uid", "namespace", "name"}

func (r *jsonReader) podRef(p *model.PodRef) {
	r.object(podRefKeys, func(k int) {
		switch k {
		case 0:
			p.UID = r.str()
		case 1:
			p.Namespace = r.str()
		case 2:
			p.Name = r.str()
		}
	})
}

func (r *jsonReader) attachRequests() []model.AttachRequest {
	qs := make([]model.AttachRequest, 0, 4)
	if !r.array(func() {
		qs = append(qs, model.AttachRequest{})
		r.attachRequest(&qs[len(qs)-1])
	}) {
		return nil
	}
	return qs
}

var attachRequestKeys = []string{"network", "tenant", "interface", "ips", "ip_prefixes", "gateways", "mac",
	"ip_group", "default_route", "function", "nic_type", "accelerate", "metadata", "cni_args"}

func (r *jsonReader) attachRequest(q *model.AttachRequest) {
	r.object(attachRequestKeys, func(k int) {
		switch k {
		case 0:
			q.Network = r.str()
		case 1:
			q.Tenant = r.str()
		case 2:
			q.Interface = r.str()
		case 3:
			q.IPs = r.addrs()
		case 4:
			var ps []netip.Prefix
			if r.array(func() {
				ps = append(ps, netip.Prefix{})
				r.text(&ps[len(ps)-1])
			}) && ps == nil {
				ps = []netip.Prefix{}
			}
			q.IPPrefixes = ps
		case 5:
			q.Gateways = r.addrs()
		case 6:
			r.text(&q.MAC)
		case 7:
			q.IPGroup = r.str()
		case 8:
			q.DefaultRoute = r.boolean()
		case 9:
			q.Function = r.str()
		case 10:
			q.NICType = r.str()
		case 11:
			q.Accelerate = r.boolean()
		case 12:
			q.Metadata = r.metadata()
		case 13:
			q.CNIArgs = r.str()
		}
	})
}

// metadata reads an object of strings; a key given twice fails (the server refuses it, and a
// client keeps the last: encoding/json decides either way).
func (r *jsonReader) metadata() map[string]string {
	if r.null() {
		return nil
	}
	m := map[string]string{}
	r.expect('{')
	if r.failed || r.next('}') {
		return m
	}
	for !r.failed {
		k := r.str()
		if _, dup := m[k]; dup {
			r.fail()
			return nil
		}
		r.expect(':')
		m[k] = r.str()
		if !r.next(',') {
			r.expect('}')
			break
		}
	}
	return m
}

func (r *jsonReader) addrs() []netip.Addr {
	var as []netip.Addr
	if r.array(func() {
		as = append(as, netip.Addr{})
		r.text(&as[len(as)-1])
	}) && as == nil {
		as = []netip.Addr{}
	}
	return as
}

var portKeys = []string{"id", "tenant", "network", "pod", "interface", "ips", "mac", "ip_group",
	"default_route", "node", "state", "function", "nic_type"}

func (r *jsonReader) port(p *model.Port) {
	r.object(portKeys, func(k int) {
		switch k {
		case 0:
			p.ID = r.str()
		case 1:
			p.Tenant = r.str()
		case 2:
			p.Network = r.str()
		case 3:
			r.podRef(&p.Pod)
		case 4:
			p.Interface = r.str()
		case 5:
			p.IPs = r.addrs()
		case 6:
			r.text(&p.MAC)
		case 7:
			p.IPGroup = r.str()
		case 8:
			p.DefaultRoute = r.boolean()
		case 9:
			p.Node = r.str()
		case 10:
			p.State = model.PortState(r.str())
		case 11:
			p.Function = r.str()
		case 12:
			p.NICType = r.str()
		}
	})
}

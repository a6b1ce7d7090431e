package netspec

import "testing"

// The monitor parses every pod it sees (and again on every relist), so parsing should stay cheap
// next to the allocation it leads to. These report the cost for a typical pod: eth0 + 3 NICs.

func BenchmarkParseNPWGJSON(b *testing.B) {
	annos := map[string]string{NPWGAnnotation: `[
		{"name": "net-a", "interface": "net1", "ips": ["10.1.1.5/24"]},
		{"name": "net-b", "namespace": "other", "mac": "02:00:00:00:00:01"},
		{"name": "net-c", "default-route": ["10.3.0.1"], "cni-args": {"k": "v"}}]`}
	benchParse(b, annos)
}

func BenchmarkParseNPWGCSV(b *testing.B) {
	benchParse(b, map[string]string{NPWGAnnotation: "net-a@net1, other/net-b, net-c"})
}

func BenchmarkParseKnitter(b *testing.B) {
	benchParse(b, map[string]string{KnitterAnnotation: `{"ports": [
		{"attach_to_network": "control", "attributes": {"nic_name": "eth0", "function": "control"}},
		{"attach_to_network": "media", "attributes": {"nic_type": "direct", "accelerate": "true"}},
		{"attach_to_network": "oam", "attributes": {"function": "oam", "ip_addr": "10.1.1.5"}},
		{"attach_to_network": "data", "attributes": {"metadata": {"team": "x"}}}]}`})
}

func benchParse(b *testing.B, annos map[string]string) {
	opts := Options{PodNamespace: "team-1", DefaultNetwork: "def"}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		reqs, err := Parse(annos, opts)
		if err != nil {
			b.Fatal(err)
		}
		n += len(reqs)
	}
	b.ReportMetric(float64(n)/float64(b.N), "interfaces/op")
}

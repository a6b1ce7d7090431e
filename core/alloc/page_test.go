package alloc

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/knitter-cni/knitter/core/model"
)

// pagingState has tenants a and b with two overlay networks each; pods of one or two ports.
func pagingState(t *testing.T) *State {
	t.Helper()
	s, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for i, tn := range []string{"a", "b"} {
		if _, err := s.CreateTenant(Admin, model.Tenant{Name: tn}); err != nil {
			t.Fatal(err)
		}
		for j, nn := range []string{"n1", "n2"} {
			p := netip.MustParsePrefix(fmt.Sprintf("10.%d.0.0/16", 10*i+j))
			if _, _, err := s.CreateNetwork(Admin, model.Network{Tenant: tn, Name: nn, Type: model.Overlay, IPv4: &model.Subnet{CIDR: p}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return s
}

func pagingPod(s *State, rng *rand.Rand, uid string) error {
	tn := []string{"a", "b"}[rng.IntN(2)]
	req := PodRequest{Pod: model.PodRef{UID: uid, Namespace: tn, Name: uid}, Tenant: tn,
		Requests: []model.AttachRequest{{Network: "n1", Interface: "eth0"}}}
	if rng.IntN(2) == 0 {
		req.Requests = append(req.Requests, model.AttachRequest{Network: "n2", Interface: "net1"})
	}
	_, _, err := s.AllocatePod(Admin, req)
	return err
}

// allPages lists f through PortsPage with pages of limit, calling between before each page.
func allPages(s *State, a Actor, f PortFilter, limit int, between func()) []model.Port {
	var out []model.Port
	var cur PortCursor
	for {
		page, next, more := s.PortsPage(a, f, cur, limit)
		if len(page) > limit {
			panic(fmt.Sprintf("page of %d ports, limit %d", len(page), limit))
		}
		out = append(out, page...)
		if !more {
			return out
		}
		cur = next
		between()
	}
}

func portIDs(ps []model.Port) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

// TestPortsPageConcatenatesToPorts: for every actor, filter and page size, the pages in order are
// exactly Ports.
func TestPortsPageConcatenatesToPorts(t *testing.T) {
	s := pagingState(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		if err := pagingPod(s, rng, fmt.Sprintf("pod-%03d", rng.IntN(1000)+i*1000)); err != nil {
			t.Fatal(err)
		}
	}
	actors := []Actor{Admin, System, {Tenant: "a"}, {Tenant: "b"}, {Tenant: "nobody"}}
	filters := []PortFilter{{}, {Tenant: "a"}, {Network: "b/n2"}, {PodUID: "pod-000000"}, {PodUID: s.Pods()[7]}, {Network: "a/n2", Tenant: "b"}}
	for _, a := range actors {
		for _, f := range filters {
			want := fmt.Sprint(portIDs(s.Ports(a, f)))
			for _, limit := range []int{1, 2, 3, 7, 100, 1000} {
				if got := fmt.Sprint(portIDs(allPages(s, a, f, limit, func() {}))); got != want {
					t.Fatalf("actor %+v filter %+v limit %d:\n got %s\nwant %s", a, f, limit, got, want)
				}
			}
		}
	}
}

// TestPortsPageUnderChurn allocates and releases pods between pages: every port that exists for the
// whole listing is listed exactly once, and nothing is listed twice.
func TestPortsPageUnderChurn(t *testing.T) {
	for seed := range uint64(20) {
		s := pagingState(t)
		rng := rand.New(rand.NewPCG(seed, 7))
		next := 0
		newUID := func() string { next++; return fmt.Sprintf("%08d", rng.IntN(1e8)) + fmt.Sprint(next) }
		for range 200 {
			if err := pagingPod(s, rng, newUID()); err != nil {
				t.Fatal(err)
			}
		}
		stable := map[string]bool{} // ports of pods never released during the listing
		for _, p := range s.Ports(Admin, PortFilter{}) {
			stable[p.ID] = true
		}
		churn := func() {
			for range rng.IntN(6) {
				if rng.IntN(2) == 0 {
					if err := pagingPod(s, rng, newUID()); err != nil {
						t.Fatal(err)
					}
					continue
				}
				pods := s.Pods()
				uid := pods[rng.IntN(len(pods))]
				pod, _ := s.Pod(uid)
				for _, p := range pod.Ports {
					delete(stable, p.ID)
				}
				if _, _, err := s.ReleasePod(Admin, uid); err != nil {
					t.Fatal(err)
				}
			}
		}
		seen := map[string]int{}
		for _, p := range allPages(s, Admin, PortFilter{}, 1+rng.IntN(9), churn) {
			seen[p.ID]++
		}
		for id, n := range seen {
			if n > 1 {
				t.Fatalf("seed %d: port %s listed %d times", seed, id, n)
			}
		}
		for id := range stable {
			if seen[id] != 1 {
				t.Fatalf("seed %d: port %s existed for the whole listing but was listed %d times", seed, id, seen[id])
			}
		}
	}
}

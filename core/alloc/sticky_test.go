package alloc

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/core/model"
)

// stickyWorld has a public network of an admin tenant, tenants ta and tb with a private network each,
// and a released pod of ta with owner "statefulset/ta/web/0" holding addresses on both networks.
func stickyWorld(t *testing.T) (w *world, held model.Pod) {
	w = newWorld(t)
	w.do(CreateTenantCmd{Tenant: model.Tenant{Name: "infra", Admin: true}})
	w.do(CreateTenantCmd{Tenant: model.Tenant{Name: "ta"}})
	w.do(CreateTenantCmd{Tenant: model.Tenant{Name: "tb"}})
	pub := v4net("infra", "shared", "10.9.0.0/24")
	pub.Public = true
	w.do(CreateNetworkCmd{Network: pub})
	w.do(CreateNetworkCmd{Network: v4net("ta", "priv", "10.1.0.0/24")})
	w.do(CreateNetworkCmd{Network: v4net("tb", "priv", "10.2.0.0/24")})
	held = w.pod(podReq("ta", "a1", "statefulset/ta/web/0",
		model.AttachRequest{Network: "shared", Interface: "eth0"},
		model.AttachRequest{Network: "priv", Interface: "net1"}))
	w.do(ReleasePodCmd{UID: "a1"})
	return w, held
}

// TestHoldsAreScopedByTenant: another tenant sending the same owner string neither takes the holds nor
// ends them, the errors it can provoke do not name the owner, and the owner gets both holds back
// after a restore.
func TestHoldsAreScopedByTenant(t *testing.T) {
	w, held := stickyWorld(t)
	const owner = "statefulset/ta/web/0"
	tb := As("tb")
	// tb names ta's owner on the public network and on its own private network.
	thief := podReq("tb", "b1", owner,
		model.AttachRequest{Network: "shared", Interface: "eth0"},
		model.AttachRequest{Network: "priv", Interface: "net1"})
	thief.As = tb
	got := w.pod(thief)
	for i, p := range got.Ports {
		if slices.Equal(p.IPs, held.Ports[0].IPs) || slices.Equal(p.IPs, held.Ports[1].IPs) || p.MAC == held.Ports[i].MAC && i == 0 {
			t.Fatalf("tenant tb's port %s took tenant ta's held addresses: %v %s (held %v)", p.Interface, p.IPs, p.MAC, held.Ports)
		}
	}
	if n := len(w.s.Holds()); n != 2 {
		t.Fatalf("tenant tb's request ended ta's holds: %d left, want 2", n)
	}
	// A static request for ta's held address on the public network fails without naming the owner.
	grab := podReq("tb", "b2", "", model.AttachRequest{Network: "shared", Interface: "eth0", IPs: held.Ports[0].IPs})
	grab.As = tb
	_, err := w.try(grab)
	e := wantErr(t, err, model.CodeConflict, "requests[0].ips[0]")
	if strings.Contains(e.Message, "statefulset") || strings.Contains(e.Message, "ta") {
		t.Fatalf("error reveals another tenant's owner: %q", e.Message)
	}
	for _, h := range w.s.Holds() {
		if !strings.HasPrefix(h.Key, "ta/") {
			t.Fatalf("hold %+v is not scoped by its tenant", h)
		}
		if _, ok := w.store[holdPrefix+h.Key]; !ok || !strings.HasPrefix(holdPrefix+h.Key, "holds/ta/") {
			t.Fatalf("hold %q has no record holds/ta/...", h.Key)
		}
	}
	w.restore()
	back := w.pod(podReq("ta", "a2", owner,
		model.AttachRequest{Network: "shared", Interface: "eth0"},
		model.AttachRequest{Network: "priv", Interface: "net1"}))
	for i, p := range back.Ports {
		if !slices.Equal(p.IPs, held.Ports[i].IPs) || p.MAC != held.Ports[i].MAC {
			t.Fatalf("ta's %s came back as %v %s; want its held %v %s", p.Interface, p.IPs, p.MAC, held.Ports[i].IPs, held.Ports[i].MAC)
		}
	}
	if n := len(w.s.Holds()); n != 0 {
		t.Fatalf("%d holds left after the owner took them back", n)
	}
}

// TestRequestWinsOverHold: a requested static MAC or address is what the pod gets, even when its
// owner holds other ones; a requested MAC that is taken fails and changes nothing.
func TestRequestWinsOverHold(t *testing.T) {
	const owner = "statefulset/ta/web/0"
	priv := func(q model.AttachRequest) AllocatePodCmd {
		q.Network, q.Interface = "priv", "net1"
		return podReq("ta", "a2", owner, q)
	}
	t.Run("static MAC", func(t *testing.T) {
		w, held := stickyWorld(t)
		want := model.MAC{0x02, 0, 0, 0, 0, 0xbb}
		p := w.pod(priv(model.AttachRequest{MAC: want})).Ports[0]
		if p.MAC != want || !slices.Equal(p.IPs, held.Ports[1].IPs) {
			t.Fatalf("got %v %s; want the held %v with the requested MAC %s", p.IPs, p.MAC, held.Ports[1].IPs, want)
		}
		// The held MAC went back to the pool: another pod may ask for it.
		w.pod(podReq("ta", "a3", "", model.AttachRequest{Network: "priv", Interface: "eth0", MAC: held.Ports[1].MAC}))
		w.restore()
	})
	t.Run("static MAC taken", func(t *testing.T) {
		w, _ := stickyWorld(t)
		other := w.pod(podReq("ta", "a3", "", model.AttachRequest{Network: "priv", Interface: "eth0"}))
		before := w.s.Describe()
		_, err := w.try(priv(model.AttachRequest{MAC: other.Ports[0].MAC}))
		wantErr(t, err, model.CodeConflict, "requests[0].mac")
		if w.s.Describe() != before {
			t.Fatal("a failed allocation changed the state")
		}
	})
	t.Run("static held address", func(t *testing.T) {
		w, held := stickyWorld(t)
		p := w.pod(priv(model.AttachRequest{IPs: held.Ports[1].IPs})).Ports[0]
		if !slices.Equal(p.IPs, held.Ports[1].IPs) {
			t.Fatalf("got %v; want the requested %v", p.IPs, held.Ports[1].IPs)
		}
		w.restore()
	})
	t.Run("static other address", func(t *testing.T) {
		w, held := stickyWorld(t)
		want := []netip.Addr{netip.MustParseAddr("10.1.0.77")}
		p := w.pod(priv(model.AttachRequest{IPs: want})).Ports[0]
		if !slices.Equal(p.IPs, want) {
			t.Fatalf("got %v; want %v", p.IPs, want)
		}
		for _, h := range w.s.Holds() {
			if h.Network == "ta/priv" {
				t.Fatalf("the hold of %v stayed although its owner asked for other addresses", held.Ports[1].IPs)
			}
		}
		w.restore()
	})
}

// TestRetryAfterRestore: a retried request with empty lists and objects equals the stored one, whose
// JSON dropped them.
func TestRetryAfterRestore(t *testing.T) {
	w := newWorld(t)
	w.do(CreateTenantCmd{Tenant: model.Tenant{Name: "ta"}})
	w.do(CreateNetworkCmd{Network: v4net("ta", "priv", "10.1.0.0/24")})
	req := podReq("ta", "a1", "", model.AttachRequest{Network: "priv", Interface: "eth0",
		IPs: []netip.Addr{}, IPPrefixes: []netip.Prefix{}, Gateways: []netip.Addr{},
		Metadata: map[string]string{}, CNIArgs: `{"k":"v"}`})
	first := w.pod(req)
	w.restore()
	res, muts, err := w.s.Apply(req)
	if err != nil || len(muts) != 0 {
		t.Fatalf("retry after restore = %v with %d mutations; want the same pod, no mutations", err, len(muts))
	}
	if got := res.(model.Pod); !slices.EqualFunc(got.Ports, first.Ports, func(a, b model.Port) bool {
		return a.ID == b.ID && slices.Equal(a.IPs, b.IPs) && a.MAC == b.MAC
	}) {
		t.Fatalf("retry got %v; want %v", got.Ports, first.Ports)
	}
	// A request that differs is still a conflict.
	req.Requests[0].Metadata = map[string]string{"k": "v"}
	_, err = w.try(req)
	wantErr(t, err, model.CodeConflict, "pod.uid")
	req.Requests[0].Metadata = nil
	req.Requests[0].Gateways = []netip.Addr{netip.MustParseAddr("10.1.0.1")}
	_, err = w.try(req)
	wantErr(t, err, model.CodeConflict, "pod.uid")
}

// TestLegacyHoldRecord: a hold stored before holds were scoped by tenant still restores, is handed to
// nobody (its owner string is no tenant's), and ends with its TTL, deleting its record.
func TestLegacyHoldRecord(t *testing.T) {
	w, _ := stickyWorld(t)
	w.restore()
	// Rewrite ta's hold on its private network as the old format wrote it.
	var h Hold
	for _, x := range w.s.Holds() {
		if x.Network == "ta/priv" {
			h = x
		}
	}
	delete(w.store, holdPrefix+h.Key)
	h.Key, h.Tenant = "statefulset/ta/web/0|net1", ""
	w.store[holdPrefix+h.Key] = put("", h).Value
	recs := make([]Record, 0, len(w.store))
	for _, k := range sortedKeys(w.store) {
		recs = append(recs, Record{Key: k, Value: w.store[k]})
	}
	s, err := Restore(w.cfg, recs)
	if err != nil {
		t.Fatalf("restore with a legacy hold: %v", err)
	}
	w.s = s
	p := w.pod(podReq("ta", "a2", "statefulset/ta/web/0", model.AttachRequest{Network: "priv", Interface: "net1"})).Ports[0]
	if slices.Equal(p.IPs, h.IPs) {
		t.Fatalf("a legacy hold was handed out: %v", p.IPs)
	}
	muts := w.s.Tick(h.Until)
	if !slices.ContainsFunc(muts, func(m Mutation) bool { return m.Key == holdPrefix+h.Key && m.Delete() }) {
		t.Fatalf("the legacy hold's record was not deleted when it ended: %v", muts)
	}
}

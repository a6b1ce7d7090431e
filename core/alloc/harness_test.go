package alloc

import (
	"net/netip"
	"testing"

	"github.com/knitter-cni/knitter/core/model"
)

// world is a State with the store its mutations would build, for tests that restore mid-way.
type world struct {
	t     *testing.T
	cfg   Config
	s     *State
	store map[string][]byte
}

func newWorld(t *testing.T) *world {
	t.Helper()
	cfg := DefaultConfig()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, cfg: cfg, s: s, store: map[string][]byte{}}
}

// try applies c and keeps its mutations; a failed command must return none.
func (w *world) try(c Command) (any, error) {
	w.t.Helper()
	res, muts, err := w.s.Apply(c)
	if err != nil && len(muts) > 0 {
		w.t.Fatalf("%s failed (%v) but returned %d mutations", c.Op(), err, len(muts))
	}
	for _, m := range muts {
		if m.Delete() {
			delete(w.store, m.Key)
		} else {
			w.store[m.Key] = m.Value
		}
	}
	return res, err
}

// do applies c and fails the test on an error.
func (w *world) do(c Command) any {
	w.t.Helper()
	res, err := w.try(c)
	if err != nil {
		w.t.Fatalf("%s: %v", c.Op(), err)
	}
	return res
}

func (w *world) pod(c AllocatePodCmd) model.Pod {
	w.t.Helper()
	return w.do(c).(model.Pod)
}

// restore replaces the state by one restored from the store and checks that nothing was lost.
func (w *world) restore() {
	w.t.Helper()
	recs := make([]Record, 0, len(w.store))
	for _, k := range sortedKeys(w.store) {
		recs = append(recs, Record{Key: k, Value: w.store[k]})
	}
	r, err := Restore(w.cfg, recs)
	if err != nil {
		w.t.Fatalf("restore: %v", err)
	}
	r.Tick(w.s.Now())
	if got, want := r.Describe(), w.s.Describe(); got != want {
		w.t.Fatalf("restored state differs:\n%s\nwant:\n%s", got, want)
	}
	w.s = r
}

// wantErr checks err's code and field.
func wantErr(t *testing.T, err error, code model.Code, field string) *model.Error {
	t.Helper()
	e, ok := err.(*model.Error)
	if !ok || e.Code != code || e.Field != field {
		t.Fatalf("error = %v (%T); want [%s] on %q", err, err, code, field)
	}
	return e
}

func prefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func v4net(tenant, name, cidr string) model.Network {
	return model.Network{Tenant: tenant, Name: name, Type: model.Overlay, IPv4: &model.Subnet{CIDR: prefix(cidr)}}
}

func podReq(tenant, uid, owner string, reqs ...model.AttachRequest) AllocatePodCmd {
	return AllocatePodCmd{PodRequest: PodRequest{Pod: model.PodRef{UID: uid, Namespace: tenant, Name: uid},
		Tenant: tenant, Owner: owner, Requests: reqs}}
}

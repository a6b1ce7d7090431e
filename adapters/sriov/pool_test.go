package sriov_test

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/knitter-cni/knitter/adapters/sriov"
	"github.com/knitter-cni/knitter/adapters/sriov/sriovtest"
	"github.com/knitter-cni/knitter/core/model"
)

func tree(t *testing.T, vfs ...string) string {
	t.Helper()
	root := t.TempDir()
	if err := sriovtest.WriteTree(root, "pf0", 1, vfs); err != nil {
		t.Fatal(err)
	}
	return root
}

func all(string) (net.HardwareAddr, bool) { return nil, true }

func TestListReadsTheTree(t *testing.T) {
	root := tree(t, "vf0", "", "vf2")
	p, err := sriov.NewPool(sriov.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	vfs, err := p.List("pf0")
	if err != nil {
		t.Fatal(err)
	}
	want := []sriov.VF{
		{PF: "pf0", Index: 0, PCI: "0000:01:01.0", Netdev: "vf0"},
		{PF: "pf0", Index: 1, PCI: "0000:01:01.1"},
		{PF: "pf0", Index: 2, PCI: "0000:01:01.2", Netdev: "vf2"},
	}
	if len(vfs) != len(want) {
		t.Fatalf("List = %+v, want %+v", vfs, want)
	}
	for i := range want {
		if vfs[i] != want[i] {
			t.Errorf("vf %d = %+v, want %+v", i, vfs[i], want[i])
		}
	}
}

func TestListErrors(t *testing.T) {
	root := tree(t, "vf0")
	// A NIC without SR-IOV: present in class/net, no sriov_numvfs.
	if err := os.MkdirAll(filepath.Join(root, "class", "net", "eth0", "device"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A PF whose count does not parse.
	if err := sriovtest.WriteTree(root, "pfbad", 2, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "devices", "0000:02:00.0", "sriov_numvfs"), []byte("lots"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A PF whose VF link dangles.
	if err := sriovtest.WriteTree(root, "pfdangling", 3, []string{"x"}); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(root, "devices", "0000:03:01.0")); err != nil {
		t.Fatal(err)
	}
	p, _ := sriov.NewPool(sriov.Options{Root: root})
	cases := []struct {
		pf, code, text string
	}{
		{"nope", string(model.CodeNotFound), "not a network device"},
		{"eth0", string(model.CodeInvalid), "not an SR-IOV PF"},
		{"pfbad", "", "not a VF count"},
		{"pfdangling", "", "resolving VF 0 of PF pfdangling"},
	}
	for _, c := range cases {
		_, err := p.List(c.pf)
		if err == nil || !strings.Contains(err.Error(), c.text) || string(model.CodeOf(err)) != c.code {
			t.Errorf("List(%s) = %v (code %q), want code %q and %q", c.pf, err, model.CodeOf(err), c.code, c.text)
		}
		if _, err := p.Take(c.pf, "o", all); err == nil {
			t.Errorf("Take(%s) succeeded", c.pf)
		}
	}
}

func TestTakeGivesEachVFOnce(t *testing.T) {
	p, _ := sriov.NewPool(sriov.Options{Root: tree(t, "vf0", "vf1")})
	a, err := p.Take("pf0", "pod-a/net1", all)
	if err != nil {
		t.Fatal(err)
	}
	again, err := p.Take("pf0", "pod-a/net1", all)
	if err != nil || again != a {
		t.Fatalf("second Take for the same owner = %+v, %v; want %+v", again, err, a)
	}
	b, err := p.Take("pf0", "pod-b/net1", all)
	if err != nil {
		t.Fatal(err)
	}
	if a.PCI == b.PCI {
		t.Fatalf("two owners got VF %s", a.PCI)
	}
	_, err = p.Take("pf0", "pod-c/net1", all)
	if !errors.Is(err, model.ErrExhausted) || !strings.Contains(err.Error(), "2 held by pods") {
		t.Fatalf("Take from a full PF = %v, want exhausted naming 2 held", err)
	}
	if _, err := p.Take("pf1", "pod-a/net1", all); !errors.Is(err, model.ErrConflict) {
		t.Fatalf("Take of another PF for a holder = %v, want conflict", err)
	}
	if err := p.Release("pod-a/net1"); err != nil {
		t.Fatal(err)
	}
	if err := p.Release("pod-a/net1"); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	c, err := p.Take("pf0", "pod-c/net1", all)
	if err != nil || c.PCI != a.PCI {
		t.Fatalf("Take after Release = %+v, %v; want the released VF %s", c, err, a.PCI)
	}
	if got := strings.Join(p.Owners(), ","); got != "pod-b/net1,pod-c/net1" {
		t.Fatalf("Owners = %s", got)
	}
}

func TestTakeSkipsVFsNotInTheNodeNamespace(t *testing.T) {
	// vf1 has no netdev in sysfs; vf0's netdev is not present (it sits in a pod after a restart).
	p, _ := sriov.NewPool(sriov.Options{Root: tree(t, "vf0", "", "vf2")})
	vf, err := p.Take("pf0", "o", func(n string) (net.HardwareAddr, bool) { return nil, n != "vf0" })
	if err != nil || vf.Netdev != "vf2" {
		t.Fatalf("Take = %+v, %v; want vf2", vf, err)
	}
	_, err = p.Take("pf0", "o2", func(n string) (net.HardwareAddr, bool) { return nil, n != "vf0" })
	if !errors.Is(err, model.ErrExhausted) || !strings.Contains(err.Error(), "2 not in the node's namespace") {
		t.Fatalf("Take = %v, want exhausted naming 2 absent", err)
	}
}

func TestConcurrentTakesNeverShareAVF(t *testing.T) {
	p, _ := sriov.NewPool(sriov.Options{Root: tree(t, "a", "b", "c", "d", "e", "f", "g", "h")})
	var wg sync.WaitGroup
	got := make([]sriov.VF, 8)
	errs := make([]error, 8)
	for i := range 8 {
		wg.Go(func() { got[i], errs[i] = p.Take("pf0", string(rune('A'+i)), all) })
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range 8 {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if seen[got[i].PCI] {
			t.Fatalf("VF %s handed out twice", got[i].PCI)
		}
		seen[got[i].PCI] = true
	}
}

func TestRecordFileSurvivesRestart(t *testing.T) {
	root := tree(t, "vf0", "vf1")
	file := filepath.Join(t.TempDir(), "state", "vfs.json")
	p, err := sriov.NewPool(sriov.Options{Root: root, RecordFile: file})
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.Take("pf0", "pod-a/net1", all)
	if err != nil {
		t.Fatal(err)
	}
	restarted, err := sriov.NewPool(sriov.Options{Root: root, RecordFile: file})
	if err != nil {
		t.Fatal(err)
	}
	if vf, ok := restarted.Held("pod-a/net1"); !ok || vf != a {
		t.Fatalf("Held after restart = %+v, %v; want %+v", vf, ok, a)
	}
	b, err := restarted.Take("pf0", "pod-b/net1", all)
	if err != nil || b.PCI == a.PCI {
		t.Fatalf("Take after restart = %+v, %v; must not be %s", b, err, a.PCI)
	}
	if err := restarted.Release("pod-a/net1"); err != nil {
		t.Fatal(err)
	}
	again, _ := sriov.NewPool(sriov.Options{Root: root, RecordFile: file})
	if _, ok := again.Held("pod-a/net1"); ok {
		t.Fatal("released VF still recorded after a restart")
	}
	entries, _ := os.ReadDir(filepath.Dir(file))
	if len(entries) != 1 {
		t.Fatalf("state dir holds %d files, want only the record (no temporaries)", len(entries))
	}
}

func TestRecordFileErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{"), 0o600)
	if _, err := sriov.NewPool(sriov.Options{RecordFile: bad}); err == nil || !strings.Contains(err.Error(), "fix or remove") {
		t.Fatalf("corrupt record: %v", err)
	}
	future := filepath.Join(dir, "future.json")
	os.WriteFile(future, []byte(`{"version": 9}`), 0o600)
	if _, err := sriov.NewPool(sriov.Options{RecordFile: future}); err == nil || !strings.Contains(err.Error(), "version 9") {
		t.Fatalf("record of another version: %v", err)
	}
	// A record that cannot be written: Take fails and holds nothing.
	root := tree(t, "vf0")
	blocker := filepath.Join(dir, "sub")
	p, err := sriov.NewPool(sriov.Options{Root: root, RecordFile: filepath.Join(blocker, "vfs.json")})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(blocker, nil, 0o600) // the record's directory is now a file
	if _, err := sriov.NewPool(sriov.Options{RecordFile: filepath.Join(blocker, "vfs.json")}); err == nil {
		t.Fatal("NewPool read a record under a file")
	}
	if _, err := p.Take("pf0", "o", all); err == nil || !strings.Contains(err.Error(), "saving the VF allocation record") {
		t.Fatalf("Take with an unwritable record = %v", err)
	}
	if _, ok := p.Held("o"); ok {
		t.Fatal("failed Take left a holder")
	}
	// A Release that cannot be written keeps the holder, so the VF is not handed out twice.
	sub := filepath.Join(dir, "sub2")
	p2, _ := sriov.NewPool(sriov.Options{Root: root, RecordFile: filepath.Join(sub, "vfs.json")})
	if _, err := p2.Take("pf0", "o", all); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(sub)
	os.WriteFile(sub, nil, 0o600)
	if err := p2.Release("o"); err == nil {
		t.Fatal("Release with an unwritable record succeeded")
	}
	if _, ok := p2.Held("o"); !ok {
		t.Fatal("failed Release dropped the holder")
	}
}

func TestCurrentNetdev(t *testing.T) {
	root := tree(t, "vf0", "")
	p, _ := sriov.NewPool(sriov.Options{Root: root})
	if n, err := p.CurrentNetdev(sriov.VF{PF: "pf0", Index: 0}); err != nil || n != "vf0" {
		t.Fatalf("CurrentNetdev(0) = %q, %v", n, err)
	}
	if n, err := p.CurrentNetdev(sriov.VF{PF: "pf0", Index: 1}); err != nil || n != "" {
		t.Fatalf("CurrentNetdev(1) = %q, %v", n, err)
	}
	if n, err := p.CurrentNetdev(sriov.VF{PF: "pf0", Index: 7}); err != nil || n != "" {
		t.Fatalf("CurrentNetdev(7) = %q, %v", n, err)
	}
	if _, err := p.CurrentNetdev(sriov.VF{PF: "gone"}); err == nil {
		t.Fatal("CurrentNetdev of a missing PF succeeded")
	}
}

func TestRecorder(t *testing.T) {
	r := &sriovtest.Recorder{}
	vf := sriov.VF{PF: "pf0", Index: 3}
	if err := r.Configure(vf, []byte{2, 0, 0, 0, 0, 1}, 100); err != nil {
		t.Fatal(err)
	}
	r.Fail = errors.New("boom")
	if err := r.Reset(vf); err == nil {
		t.Fatal("Fail not returned")
	}
	calls := r.Calls()
	if len(calls) != 2 || calls[0] != (sriovtest.Call{Op: "configure", PF: "pf0", VF: 3, MAC: "02:00:00:00:00:01", VLAN: 100}) || calls[1].Op != "reset" {
		t.Fatalf("calls = %+v", calls)
	}
}

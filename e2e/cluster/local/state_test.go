package local

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func testState(dir string) *clusterState {
	return &clusterState{Version: stateVersion, RunID: "abc123", Dir: dir, Bin: dir + "/bin", Hub: "kn-abc123-hub",
		Manager: managerState{URL: "https://127.0.0.1:1", Proc: process{Pid: 42, Args: []string{"/x/knitter-manager"}}},
		Nodes:   []nodeState{{Name: "node1", Netns: "kn-abc123-node1", VTEP: "192.0.2.1"}},
		Pods:    []podState{{Namespace: "e2e", Name: "p", ContainerID: "abc1230001ff", Interfaces: []string{"eth0"}}},
		NextPod: 1}
}

func TestStateRoundTrip(t *testing.T) {
	dir := t.TempDir()
	st := testState(dir)
	if err := st.save(); err != nil {
		t.Fatal(err)
	}
	got, err := loadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, st) {
		t.Fatalf("loaded %+v\nwant %+v", got, st)
	}
	if fi, err := os.Stat(filepath.Join(dir, stateFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file %v, %v; want mode 0600", fi, err)
	}
	if n, ok := got.node("node1"); !ok || n.VTEP != "192.0.2.1" {
		t.Errorf("node lookup: %+v %v", n, ok)
	}
	if _, ok := got.node("node9"); ok {
		t.Error("found a node that does not exist")
	}
	if got.pod("abc1230001ff") != 0 || got.pod("nope") != -1 {
		t.Error("pod lookup")
	}
}

func TestLoadStateRefuses(t *testing.T) {
	dir := t.TempDir()
	if _, err := loadState(dir); !errors.Is(err, ErrNoCluster) {
		t.Fatalf("no state file: %v, want ErrNoCluster", err)
	}
	write := func(mod func(*clusterState)) {
		st := testState(dir)
		mod(st)
		b, _ := json.Marshal(st)
		if err := os.WriteFile(filepath.Join(dir, stateFile), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for name, c := range map[string]struct {
		mod  func(*clusterState)
		want string
	}{
		"another version": {func(s *clusterState) { s.Version = 99 }, "version 99"},
		"copied":          {func(s *clusterState) { s.Dir = "/elsewhere" }, "copied"},
		"no run ID":       {func(s *clusterState) { s.RunID = "" }, "copied"},
	} {
		write(c.mod)
		if _, err := loadState(dir); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error mentioning %q", name, err, c.want)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, stateFile), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadState(dir); err == nil || errors.Is(err, ErrNoCluster) {
		t.Errorf("garbage: %v", err)
	}
}

func TestClusterDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "c")
	got, err := clusterDir(dir)
	if err != nil || got != dir {
		t.Fatalf("new dir: %q, %v", got, err)
	}
	if _, err := clusterDir(dir); err != nil {
		t.Fatalf("an empty dir is fine: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := clusterDir(dir); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("non-empty dir: %v", err)
	}
	if err := testState(dir).save(); err != nil {
		t.Fatal(err)
	}
	if _, err := clusterDir(dir); err == nil || !strings.Contains(err.Error(), "localcluster down") {
		t.Fatalf("dir with a cluster: %v", err)
	}
	tmp, err := clusterDir("")
	if err != nil || !strings.Contains(tmp, "knitter-e2e-") {
		t.Fatalf("temporary dir %q, %v", tmp, err)
	}
	_ = os.RemoveAll(tmp)
}

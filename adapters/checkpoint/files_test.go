package checkpoint_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/adapters/checkpoint"
	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/agent/porttest"
	"github.com/knitter-cni/knitter/agent/wire"
)

func open(t *testing.T) *checkpoint.Files {
	t.Helper()
	s, err := checkpoint.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestContract(t *testing.T) {
	porttest.CheckpointStore(t, func(t *testing.T) agent.CheckpointStore { return open(t) })
}

// One file per attachment, 0600 in a 0700 directory; a crash's temp files are removed on open and
// an unreadable file is skipped, named and kept.
func TestFiles(t *testing.T) {
	s := open(t)
	cp := agent.Checkpoint{ContainerID: "c1", IfName: "eth0"}
	if err := s.Save(cp, true); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(s.Dir(), "c1@eth0.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("checkpoint file: %v, %v", fi, err)
	}
	if err := os.WriteFile(filepath.Join(s.Dir(), ".tmp-123"), []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(s.Dir(), "c9@eth0.json")
	if err := os.WriteFile(bad, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.Dir(), "c8@eth0.json"), []byte(`{"version":99}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s2, err := checkpoint.Open(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), ".tmp-123")); !os.IsNotExist(err) {
		t.Fatalf("a crash's temp file survived Open: %v", err)
	}
	cps, err := s2.List()
	if len(cps) != 1 || err == nil || !strings.Contains(err.Error(), "c9@eth0.json") || !strings.Contains(err.Error(), "version 99") {
		t.Fatalf("List = %v, %v; want c1 and errors naming c9 and the version of c8", cps, err)
	}
	if _, err := os.Stat(bad); err != nil {
		t.Fatalf("an unreadable checkpoint was removed: %v", err)
	}
	if _, _, err := s2.Load(wire.Attachment{ContainerID: "c9", IfName: "eth0"}); err == nil {
		t.Fatal("Load of a corrupt file succeeded")
	}
}

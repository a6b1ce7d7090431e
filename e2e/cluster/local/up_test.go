package local

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A cluster whose manager cannot start is removed again, and the error says why.
func TestUpFailureLeavesNothing(t *testing.T) {
	needRoot(t)
	if testing.Short() {
		t.Skip("builds the binaries")
	}
	bootstrap := filepath.Join(t.TempDir(), "bootstrap.yaml")
	if err := os.WriteFile(bootstrap, []byte("tenants: [{name: e2e, nonsense: true}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "cluster")
	var progress strings.Builder
	c, err := Up(t.Context(), Config{Dir: dir, Bootstrap: bootstrap, Progress: &progress})
	if err == nil {
		_ = c.Down(t.Context())
		t.Fatal("Up succeeded with a bootstrap file the manager refuses")
	}
	if c != nil {
		t.Error("Up returned a cluster with its error")
	}
	if !strings.Contains(err.Error(), "knitter-manager exited while starting") || !strings.Contains(err.Error(), "nonsense") {
		t.Errorf("the error does not say why: %v", err)
	}
	if _, serr := os.Stat(dir); serr == nil {
		t.Errorf("%s is still there", dir)
	}
	if !strings.Contains(progress.String(), "removed") {
		t.Errorf("progress does not report the removal:\n%s", progress.String())
	}
}

func TestUpRefusesBadConfig(t *testing.T) {
	needRoot(t)
	for name, cfg := range map[string]Config{
		"too many nodes":    {Nodes: maxNodes + 1},
		"missing bootstrap": {Bootstrap: "/nonexistent/bootstrap.yaml"},
	} {
		if c, err := Up(t.Context(), cfg); err == nil {
			_ = c.Down(t.Context())
			t.Errorf("%s: Up succeeded", name)
		}
	}
}

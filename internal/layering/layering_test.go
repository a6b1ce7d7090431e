package layering

import (
	"os"
	"strings"
	"testing"
)

// TestModuleKeepsTheLayers fails listing every import that breaks a rule of the package doc.
func TestModuleKeepsTheLayers(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, module, err := ModuleRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := Check(root, module)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) > 0 {
		var b strings.Builder
		for _, v := range vs {
			b.WriteString("\n  " + v.String())
		}
		t.Fatalf("%d imports break the layering (see internal/layering's doc):%s", len(vs), b.String())
	}
}

func TestRules(t *testing.T) {
	for _, c := range []struct {
		importer, imported string
		stdlib, test, bad  bool
	}{
		{"core/alloc", "", true, false, false},
		{"core/alloc", "core/model", false, false, false},
		{"core/alloc", "", false, false, true}, // third-party
		{"core/alloc", "adapters/httpapi", false, true, true},
		{"agent", "adapters/httpapi", false, false, true},
		{"agent", "fakes/fakedp", false, false, true},
		{"agent", "adapters/httpapi", false, true, false},
		{"agent/agenttest", "adapters/httpapi", false, false, false},
		{"agent/wire", "adapters/httpapi", false, false, true},
		{"manager", "adapters/etcdstore", false, false, true},
		{"plugin", "agent/wire", false, false, false},
		{"adapters/kube", "agent", false, false, false},
		{"adapters/netlinkdp", "fakes/fakedp", false, false, true},
		{"fakes/memstore", "adapters/etcdstore", false, false, true},
		{"fakes/memstore", "manager", false, false, false},
		{"cmd/knitter-agent", "adapters/netlinkdp", false, false, false},
		{"e2e/cluster", "adapters/httpapi", false, false, false},
		{"bench/node", "cmd/knitter-agent", false, true, true},
	} {
		got := len(check(c.importer, c.imported, c.stdlib, c.test)) > 0
		if got != c.bad {
			t.Errorf("%s -> %q (stdlib %v, test %v): broken %v, want %v", c.importer, c.imported, c.stdlib, c.test, got, c.bad)
		}
	}
}

package nodebench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// binDir holds the Knitter binaries the benchmarks execute, built on first use for this run. The
// plugin is named "knitter", the "type" its network configuration gives.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "knitter-nodebench-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// binary is one command built as `make build` builds it: static and trimmed, so that process start
// costs what it costs in a release.
type binary struct {
	name, pkg string
	once      sync.Once
	path      string
	err       error
}

var (
	pluginBinary = &binary{name: "knitter", pkg: "github.com/knitter-cni/knitter/cmd/knitter-plugin"}
	agentBinary  = &binary{name: "knitter-agent", pkg: "github.com/knitter-cni/knitter/cmd/knitter-agent"}
)

// build returns the binary's path, building it the first time.
func (b *binary) build(tb testing.TB) string {
	tb.Helper()
	b.once.Do(func() {
		path := filepath.Join(binDir, b.name)
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", path, b.pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("building %s: %w\n%s", b.pkg, err, out)
			return
		}
		b.path = path
	})
	if b.err != nil {
		tb.Fatal(b.err)
	}
	return b.path
}

package nodebench

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// emptyBinary is a static, trimmed Go program that does nothing: the least a Go process can cost
// to start and exit, the floor for knitter-plugin's own start.
func emptyBinary(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() {}\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, "empty")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", path, src)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GO111MODULE=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("building the empty binary: %v\n%s", err, out)
	}
	return path
}

// BenchmarkPluginStart times the knitter-plugin process, built as `make build` builds it, answering
// CNI VERSION (no agent call: start, parse, print, exit), interleaved with an empty static Go binary
// started and waited for the same way, so that both see the same machine. It needs no root and no
// network namespace. ns/op is one plugin run; the metrics are each process's p50 and p99 and the
// plugin's p50 over the empty binary's, in one run.
func BenchmarkPluginStart(b *testing.B) {
	plugin := pluginBinary.build(b)
	empty := emptyBinary(b)
	conf := []byte(`{"cniVersion":"1.1.0","name":"knitter","type":"knitter"}`)
	run := func(path string, env []string, stdin []byte) time.Duration {
		cmd := exec.Command(path)
		cmd.Env = env
		cmd.Stdin = bytes.NewReader(stdin)
		var out bytes.Buffer
		cmd.Stdout = &out
		start := time.Now()
		if err := cmd.Run(); err != nil {
			b.Fatalf("%s: %v\n%s", path, err, out.String())
		}
		d := time.Since(start)
		if path == plugin && !strings.Contains(out.String(), "supportedVersions") {
			b.Fatalf("knitter-plugin VERSION printed %q, not the supported versions", out.String())
		}
		return d
	}
	env := []string{"CNI_COMMAND=VERSION", "PATH=/usr/bin:/bin"}
	// Warm the page cache for both before timing.
	run(plugin, env, conf)
	run(empty, nil, nil)
	var plug, floor samples
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			plug.add(run(plugin, env, conf))
			floor.add(run(empty, nil, nil))
		} else {
			floor.add(run(empty, nil, nil))
			plug.add(run(plugin, env, conf))
		}
	}
	plug.report(b, "plugin-VERSION")
	floor.report(b, "empty-go")
	b.ReportMetric(ms(plug.percentile(50)-floor.percentile(50)), "plugin-minus-empty-p50-ms")
	reportRatio(b, "plugin/empty-p50", &plug, &floor, 50)
}

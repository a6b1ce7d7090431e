package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"
)

// TestPrintsTheEarliestFailuresReasons writes a report with a passed spec and three failed ones,
// started out of order, and checks that the two earliest failures are printed with their
// locations and messages cut to the line limit, and the seed.
func TestPrintsTheEarliestFailuresReasons(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC)
	spec := func(text string, state types.SpecState, start time.Duration, msg string) types.SpecReport {
		return types.SpecReport{
			ContainerHierarchyTexts: []string{"the CNI lifecycle"}, LeafNodeText: text, LeafNodeType: types.NodeTypeIt,
			State: state, StartTime: t0.Add(start),
			Failure: types.Failure{Message: msg, Location: types.CodeLocation{FileName: "/src/e2e/" + text + "_test.go", LineNumber: 7}},
		}
	}
	report := []types.Report{{
		SuiteConfig: types.SuiteConfig{RandomSeed: 42},
		SpecReports: types.SpecReports{
			spec("third", types.SpecStateFailed, 3*time.Second, "third's reason"),
			spec("passed", types.SpecStatePassed, 0, ""),
			spec("first", types.SpecStateFailed, time.Second, "namespace e2e is being terminated\nline 2\nline 3"),
			spec("second", types.SpecStateTimedout, 2*time.Second, "A suite timeout occurred"),
		},
	}}
	raw, err := json.Marshal(report)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "report.json")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := run(&buf, path, 2, 2); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"e2e failures: 3 (seed 42",
		"1. [failed] the CNI lifecycle first\n   at /src/e2e/first_test.go:7\n   namespace e2e is being terminated\n   line 2\n   ... (1 more lines)",
		"2. [timedout] the CNI lifecycle second",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, not := range []string{"third's reason", "passed", "line 3"} {
		if strings.Contains(out, not) {
			t.Errorf("output has %q, past the limits:\n%s", not, out)
		}
	}
}

func TestRefusesWhatIsNoReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.json")
	if err := os.WriteFile(path, []byte("ok  github.com/knitter-cni/knitter/e2e\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(io.Discard, path, 3, 8); err == nil || !strings.Contains(err.Error(), "is not a ginkgo JSON report") {
		t.Fatalf("run on a text file: %v, want \"is not a ginkgo JSON report\"", err)
	}
}

// Command e2efailures prints, from a ginkgo JSON report (-ginkgo.json-report), why each failed spec
// failed: its name, the failure's location and the first lines of its message, the earliest first.
// Ginkgo's own summary at the end of a run names the failed specs and their locations only; when a
// run's output is read from its tail (a CI log), the reason is far above it. `make test-e2e` and
// `make test-e2e-kube` run it after a failed suite, so the last lines of their output say why.
//
//	go run ./hack/e2efailures [-max 3] [-lines 8] report.json
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/onsi/ginkgo/v2/types"
)

func main() {
	limit := flag.Int("max", 3, "print the reasons of at most this many failed specs (the earliest first)")
	lines := flag.Int("lines", 8, "print at most this many lines of each failure's message")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: e2efailures [-max N] [-lines N] REPORT.json\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(os.Stdout, flag.Arg(0), *limit, *lines); err != nil {
		fmt.Fprintln(os.Stderr, "e2efailures:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, path string, limit, lines int) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var reports []types.Report
	if err := json.Unmarshal(raw, &reports); err != nil {
		return fmt.Errorf("%s is not a ginkgo JSON report: %w", path, err)
	}
	var failed types.SpecReports
	var seeds []string
	for _, r := range reports {
		seeds = append(seeds, fmt.Sprint(r.SuiteConfig.RandomSeed))
		failed = append(failed, r.SpecReports.WithState(types.SpecStateFailureStates)...)
	}
	slices.SortStableFunc(failed, func(a, b types.SpecReport) int { return a.StartTime.Compare(b.StartTime) })
	if len(failed) == 0 {
		fmt.Fprintln(w, "e2e failures: none in", path)
		return nil
	}
	fmt.Fprintf(w, "e2e failures: %d (seed %s: E2E_FLAGS=-ginkgo.seed=N runs the specs in the same order); why the first %d failed (all in %s):\n",
		len(failed), strings.Join(seeds, ","), min(limit, len(failed)), path)
	for i, s := range failed {
		if i == limit {
			break
		}
		name := strings.TrimSpace(strings.Join(append(slices.Clone(s.ContainerHierarchyTexts), s.LeafNodeText), " "))
		if name == "" {
			name = s.LeafNodeType.String()
		}
		fmt.Fprintf(w, "%d. [%s] %s\n   at %s\n", i+1, s.State, name, s.Failure.Location)
		msg := strings.Split(strings.TrimSpace(s.Failure.Message), "\n")
		for j, l := range msg {
			if j == lines {
				fmt.Fprintf(w, "   ... (%d more lines)\n", len(msg)-lines)
				break
			}
			fmt.Fprintf(w, "   %s\n", strings.TrimRight(l, " \t"))
		}
	}
	return nil
}

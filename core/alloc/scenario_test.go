package alloc

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/core/model"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of scenario files in core/testdata/alloc")

// TestScenarios runs the scenario files: blocks of commands, a "----" line, and the expected output,
// ended by a blank line. Besides the commands of the log there are "describe" (print the state) and
// "restore" (rebuild the state from every mutation so far and require an identical Describe).
// Regenerate expectations with: go test ./core/alloc -run TestScenarios -rewrite
func TestScenarios(t *testing.T) {
	files, err := filepath.Glob("../testdata/alloc/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenario files found: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { runScenario(t, f) })
	}
}

type block struct {
	cmds     []string
	expected string
	line     int
}

func readBlocks(t *testing.T, path string) []block {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []block
	var cur *block
	inExpected := false
	var exp strings.Builder
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	flush := func() {
		if cur != nil {
			cur.expected = exp.String()
			blocks = append(blocks, *cur)
		}
		cur, inExpected = nil, false
		exp.Reset()
	}
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case inExpected && line == "":
			flush()
		case inExpected:
			exp.WriteString(line + "\n")
		case line == "----":
			if cur == nil {
				t.Fatalf("%s:%d: ---- without commands", path, n)
			}
			inExpected = true
		case line == "" || strings.HasPrefix(line, "#"):
			if cur != nil {
				t.Fatalf("%s:%d: commands without a ---- line", path, n)
			}
		default:
			if cur == nil {
				cur = &block{line: n}
			}
			cur.cmds = append(cur.cmds, line)
		}
	}
	if cur != nil && !inExpected {
		t.Fatalf("%s:%d: commands without a ---- line", path, cur.line)
	}
	flush()
	return blocks
}

func runScenario(t *testing.T, path string) {
	cfg := DefaultConfig()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	store := map[string][]byte{}
	blocks := readBlocks(t, path)
	var out strings.Builder
	var failed bool
	for _, b := range blocks {
		var got strings.Builder
		for _, line := range b.cmds {
			got.WriteString(step(t, &s, cfg, store, line))
		}
		if !*rewrite && got.String() != b.expected {
			failed = true
			t.Errorf("%s:%d:\n%s\n--- got:\n%s--- want:\n%s", path, b.line, strings.Join(b.cmds, "\n"), got.String(), b.expected)
		}
		fmt.Fprintf(&out, "%s\n----\n%s\n", strings.Join(b.cmds, "\n"), got.String())
	}
	if *rewrite {
		if err := os.WriteFile(path, []byte(header(path)+out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	} else if failed {
		t.Log("rerun with -rewrite if the new output is right")
	}
}

// header keeps the comment lines at the top of a scenario file across rewrites.
func header(path string) string {
	b, _ := os.ReadFile(path)
	var h strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "#") {
			break
		}
		h.WriteString(line + "\n")
	}
	if h.Len() > 0 {
		h.WriteString("\n")
	}
	return h.String()
}

func step(t *testing.T, s **State, cfg Config, store map[string][]byte, line string) string {
	switch line {
	case "describe":
		return (*s).Describe()
	case "restore":
		recs := make([]Record, 0, len(store))
		for _, k := range sortedKeys(store) {
			recs = append(recs, Record{Key: k, Value: store[k]})
		}
		r, err := Restore(cfg, recs)
		if err != nil {
			return fmt.Sprintf("restore error: %v\n", err)
		}
		r.Tick((*s).Now())
		if r.Describe() != (*s).Describe() {
			return fmt.Sprintf("restore differs:\n%s", r.Describe())
		}
		*s = r
		return fmt.Sprintf("restored %d records: identical\n", len(recs))
	}
	c, err := ParseCommand(line)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	res, muts, err := (*s).Apply(c)
	var b strings.Builder
	if err != nil {
		fmt.Fprintf(&b, "error[%s] %v\n", model.CodeOf(err), err)
		if len(muts) > 0 {
			t.Errorf("%s: failed command returned %d mutations", line, len(muts))
		}
		return b.String()
	}
	b.WriteString(summary(res))
	for _, m := range muts {
		if m.Delete() {
			delete(store, m.Key)
			fmt.Fprintf(&b, "  del %s\n", m.Key)
		} else {
			store[m.Key] = m.Value
			fmt.Fprintf(&b, "  put %s\n", m.Key)
		}
	}
	return b.String()
}

func summary(res any) string {
	var b strings.Builder
	switch r := res.(type) {
	case model.Network:
		fmt.Fprintf(&b, "ok network %s", r.Key())
		if r.VNI != 0 {
			fmt.Fprintf(&b, " vni=%d", r.VNI)
		}
		b.WriteString("\n")
	case model.IPGroup:
		fmt.Fprintf(&b, "ok ipgroup %s ips=%s\n", r.Key(), joinAddrs(r.IPs))
	case model.Pod:
		b.WriteString("ok ")
		describePod(&b, &r)
	case model.Node:
		fmt.Fprintf(&b, "ok node %s\n", r.Name)
	case bool:
		fmt.Fprintf(&b, "ok %v\n", r)
	default:
		b.WriteString("ok\n")
	}
	return b.String()
}

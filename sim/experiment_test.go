package sim

import (
	"strings"
	"testing"
)

func TestParseExperimentErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"name: x\nseeds: {from: 1, to: 2}\nvariants: [{name: a}]\nbogus: 1\n", "bogus"},
		{"name: x\nseeds: {from: 1, to: 2}\n", "variants"},
		{"name: x\nseeds: {from: 3, to: 2}\nvariants: [{name: a}]\n", "seeds"},
		{"name: x\nseeds: {from: 1, to: 2}\nvariants: [{name: a}, {name: a}]\n", "variants[1].name"},
		{"name: x\nseeds: {from: 1, to: 2}\nvariants: [{name: a, plant: nope}]\n", "no-cooldown"},
		{"name: x\nseeds: {from: 1, to: 2}\nvariants: [{name: a, duration: soon}]\n", "duration"},
	} {
		if _, err := ParseExperiment([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v; want one naming %q", tc.in, err, tc.want)
		}
	}
}

// TestExperimentComparesVariants: a planted variant fails where the baseline passes, over the same
// seeds, and the report says so in JSON fields and in the table.
func TestExperimentComparesVariants(t *testing.T) {
	e, err := ParseExperiment([]byte(`{"name": "cooldown", "seeds": {"from": 1, "to": 3},
		"base": {"nodes": 0, "pods": 15, "duration": "20s"},
		"variants": [{"name": "baseline"}, {"name": "no cooldown", "plant": "no-cooldown"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	rep := RunExperiment(e)
	if len(rep.Variants) != 2 || rep.Variants[0].Kinds[OK] != 3 || rep.Variants[1].Kinds[Safety] != 3 {
		t.Fatalf("report %+v; want the baseline ok 3 times and the plant failing 3 times", rep.Variants)
	}
	md := rep.Markdown()
	if !strings.Contains(md, "| baseline | 3 | 3 | 0 | 0 | 0 |") || !strings.Contains(md, "| no cooldown | 3 | 0 | 3 | 0 | 0 |") ||
		!strings.Contains(md, "--plant no-cooldown") {
		t.Fatalf("markdown:\n%s", md)
	}
	if again := RunExperiment(e); again.Markdown() != md {
		t.Fatal("the same experiment gave another report")
	}
}

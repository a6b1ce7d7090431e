package cluster

import (
	"strings"
	"testing"
)

func TestSeriesValue(t *testing.T) {
	text := `# HELP knitter_agent_orphans_reclaimed_total Attachments reclaimed.
# TYPE knitter_agent_orphans_reclaimed_total counter
knitter_agent_orphans_reclaimed_total{reason="netns_gone"} 0
knitter_agent_orphans_reclaimed_total{reason="pod_gone"} 3 1700000000000
knitter_agent_orphans_reclaimed_total_extra{reason="pod_gone"} 9
`
	for series, want := range map[string]float64{
		`knitter_agent_orphans_reclaimed_total{reason="pod_gone"}`:   3,
		`knitter_agent_orphans_reclaimed_total{reason="netns_gone"}`: 0,
	} {
		if v, err := SeriesValue(strings.NewReader(text), series); err != nil || v != want {
			t.Errorf("%s = %v, %v; want %v", series, v, err, want)
		}
	}
	for _, series := range []string{`knitter_agent_orphans_reclaimed_total`, `knitter_agent_orphans_reclaimed_total{reason="other"}`} {
		if _, err := SeriesValue(strings.NewReader(text), series); err == nil || !strings.Contains(err.Error(), "no series") {
			t.Errorf("%s: %v, want no series", series, err)
		}
	}
	if _, err := SeriesValue(strings.NewReader("m{a=\"b\"} x\n"), `m{a="b"}`); err == nil || !strings.Contains(err.Error(), `value "x"`) {
		t.Errorf("a bad value: %v", err)
	}
}

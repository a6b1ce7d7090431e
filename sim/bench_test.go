package sim

import (
	"testing"
	"time"
)

// BenchmarkSeed20Nodes runs one seed of a 20-node fault scenario (40 pods, 20 s virtual) per
// iteration and reports seeds per minute; the target is 1,000 seeds in 5 minutes (200/min).
func BenchmarkSeed20Nodes(b *testing.B) {
	for _, monitor := range []bool{false, true} {
		name := "agents"
		if monitor {
			name = "monitor"
		}
		b.Run(name, func(b *testing.B) {
			start := time.Now()
			seed := uint64(0)
			for b.Loop() {
				seed++
				r := Run(Config{Seed: seed, Nodes: 20, Pods: 40, Duration: 20 * time.Second, Faults: true, Monitor: monitor})
				if r.Kind != OK {
					b.Fatalf("%s: %s\nreproduce: %s", r.Kind, r.Err, r.Config.Repro())
				}
			}
			b.ReportMetric(float64(seed)/time.Since(start).Minutes(), "seeds/min")
		})
	}
}

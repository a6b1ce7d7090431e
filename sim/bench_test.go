package sim

import (
	"fmt"
	"os"
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

// BenchmarkScale creates and deletes pods on nodes with real agents (Scale), one run per
// iteration. The default sizes suit `make bench`; KNITTER_SIM_SCALE=full adds 1,000 nodes / 30,000
// pods and 5,000 nodes / 150,000 pods (the target: ≤ 60 s).
func BenchmarkScale(b *testing.B) {
	sizes := [][2]int{{100, 3_000}}
	if os.Getenv("KNITTER_SIM_SCALE") == "full" {
		sizes = append(sizes, [2]int{1_000, 30_000}, [2]int{5_000, 150_000})
	}
	for _, sz := range sizes {
		b.Run(fmt.Sprintf("nodes=%d/pods=%d", sz[0], sz[1]), func(b *testing.B) {
			seed := uint64(0)
			for b.Loop() {
				seed++
				r := Scale(ScaleConfig{Seed: seed, Nodes: sz[0], Pods: sz[1]})
				if r.Kind != OK {
					b.Fatalf("%s: %s\nreproduce: %s", r.Kind, r.Err, r.Config.Repro())
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(sz[1]), "µs/pod")
		})
	}
}

//go:build race

package sim

// raceScale divides the test swarm's seeds under the race detector, which slows this single-goroutine
// code about tenfold and finds nothing in it; plain `go test` runs the whole swarm.
const raceScale = 5

//go:build race

package ipam

// raceScale divides the number of random sequences of the property tests under the race detector,
// which slows this single-goroutine code tenfold and finds nothing in it; plain `go test` runs them
// all.
const raceScale = 4

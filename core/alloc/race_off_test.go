//go:build !race

package alloc

// raceScale: see race_on_test.go.
const raceScale = 1

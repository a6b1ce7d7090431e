//go:build !race

package ipam

// raceScale: see race_on_test.go.
const raceScale = 1

package agent

import (
	"testing"
	"time"
)

func TestNextPeerRetry(t *testing.T) {
	// A failed node watch is retried at once-ish, then backs off to the configured interval: a
	// manager restart must not leave the node set unwatched for the whole interval.
	var got []time.Duration
	var d time.Duration
	for range 9 {
		d = nextPeerRetry(d, 5*time.Second)
		got = append(got, d)
	}
	want := []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond,
		400 * time.Millisecond, 800 * time.Millisecond, 1600 * time.Millisecond, 3200 * time.Millisecond,
		5 * time.Second, 5 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("retries = %v, want %v", got, want)
		}
	}
	if d := nextPeerRetry(0, 10*time.Millisecond); d != 10*time.Millisecond {
		t.Fatalf("first retry with a 10ms interval = %v, want 10ms (never more than the interval)", d)
	}
}

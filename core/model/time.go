package model

import "time"

// Time is a point in time in milliseconds, on the caller's clock. The core never reads a clock: the
// manager passes wall-clock milliseconds, the simulator its virtual time. Zero means "never".
type Time int64

// Add returns t advanced by d.
func (t Time) Add(d time.Duration) Time { return t + Time(d.Milliseconds()) }

// FromTime converts a wall-clock time for the core.
func FromTime(t time.Time) Time { return Time(t.UnixMilli()) }

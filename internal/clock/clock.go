// Package clock reads the monotonic clock, which on Linux counts
// nanoseconds since boot and never jumps, unlike the wall clock.
package clock

import (
	_ "unsafe" // for go:linkname
)

//go:linkname nanotime runtime.nanotime
func nanotime() int64

// Mono returns CLOCK_MONOTONIC in nanoseconds: time since boot, not
// counting suspend. It costs a vDSO call and never allocates.
func Mono() int64 { return nanotime() }

//go:build !linux

package engine

import "time"

// sleepPrecise falls back to a runtime sleep where nanosleep(2) is not in
// package syscall.
func sleepPrecise(d time.Duration) { time.Sleep(d) }

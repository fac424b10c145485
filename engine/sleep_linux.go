//go:build linux

package engine

import (
	"syscall"
	"time"
)

// sleepPrecise blocks this goroutine's thread in nanosleep(2): accurate to
// the kernel's timer slack, unlike a runtime timer (see fineWait). Only
// for waits under fineWait: the thread is held for d.
func sleepPrecise(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	_ = syscall.Nanosleep(&ts, nil)
}

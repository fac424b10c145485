package promquery

import (
	"context"
	"time"

	"github.com/brink-load/brink/measure"
)

// maxBackoff caps the wait after repeated failures, so a source that comes
// back is seen again within half a minute.
const maxBackoff = 30 * time.Second

// Run polls src every Interval until ctx is done, handing each poll (failed
// ones too, with stale samples and Err set) to onPoll. After consecutive
// failures it waits exponentially longer (interval × 2^n, capped), so a
// dead Prometheus is not hammered. Polls never overlap: onPoll runs on
// Run's goroutine and a slow onPoll delays the next poll.
func Run(ctx context.Context, src Source, onPoll func(measure.Poll)) {
	fails := 0
	for {
		start := time.Now()
		interval := src.Interval()
		// The poll must finish before the next one is due; sources apply
		// their own (possibly shorter) timeout inside.
		pctx, cancel := context.WithTimeout(ctx, pollTimeout(0, interval))
		p, err := src.Poll(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			fails++
		} else {
			fails = 0
		}
		if onPoll != nil {
			onPoll(p)
		}
		wait := backoff(fails, src.Interval()) - time.Since(start)
		if wait < 0 {
			wait = 0
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// backoff is the time from one poll's start to the next after n
// consecutive failures: interval × 2^(n-1), capped at maxBackoff (or the
// interval if that is longer). One failure keeps the pace: a single lost
// poll is common and should not slow the console.
func backoff(fails int, interval time.Duration) time.Duration {
	if interval <= 0 {
		interval = time.Second
	}
	if fails <= 1 {
		return interval
	}
	ceiling := maxBackoff
	if interval > ceiling {
		ceiling = interval
	}
	d := interval
	for i := 1; i < fails; i++ {
		d *= 2
		if d >= ceiling {
			return ceiling
		}
	}
	return d
}

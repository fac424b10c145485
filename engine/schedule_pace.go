package engine

import (
	"runtime"
	"time"
)

// pace is an open-model group's arrival clock on top of its Schedule, with
// the live controls applied: arrivals already due at an anchor, then one
// regime until the next control change re-anchors it. Like Schedule it is a
// pure function of elapsed wall time, so Hold/Scale/SetTarget on an
// arrival-rate group are tested without sleeping and never make a burst:
// the count of due arrivals is continuous across a change.
type pace struct {
	anchorWall time.Duration // run time (since start) of the anchor
	anchorAcc  float64       // arrivals due at the anchor

	// constant: held or overridden, rate is the (already scaled) rate/s.
	constant bool
	rate     float64
	// Otherwise the stage curve, multiplied by scale, from stage time
	// stageAt (the stage time at the anchor).
	scale   float64
	stageAt time.Duration
}

// due is how many arrivals are due by run time w (w ≥ anchorWall).
func (p *pace) due(s Schedule, w time.Duration) float64 {
	dt := w - p.anchorWall
	if dt <= 0 {
		return p.anchorAcc
	}
	if p.constant {
		return p.anchorAcc + p.rate*dt.Seconds()
	}
	return p.anchorAcc + p.scale*(s.Arrivals(p.stageAt+dt)-s.Arrivals(p.stageAt))
}

// when is the run time at which arrival n (0-based) is due; ok is false if
// it never is under this regime (rate 0).
func (p *pace) when(s Schedule, n float64) (time.Duration, bool) {
	dn := n - p.anchorAcc
	if dn <= 0 {
		return p.anchorWall, true
	}
	if p.constant {
		if p.rate <= 0 {
			return 0, false
		}
		return p.anchorWall + secs(dn/p.rate), true
	}
	if p.scale <= 0 {
		return 0, false
	}
	st, ok := s.ArrivalTime(s.Arrivals(p.stageAt) + dn/p.scale)
	if !ok {
		return 0, false
	}
	return p.anchorWall + st - p.stageAt, true
}

// fineWait is how close to an arrival's due time the pacer stops trusting
// Go's timers. The runtime parks timer waits in epoll, whose timeout has
// millisecond granularity: a timer wait lands up to 1 ms late (about
// 0.6 ms at p50), and an open-model latency, measured from the intended
// start, would carry that lateness. So the pacer sleeps on a timer until
// about 1 ms before the arrival (still waking for control changes), then
// finishes with preciseWait.
const fineWait = 2 * time.Millisecond

// spinWait: the last few µs are spun (yielding the core each turn), as a
// sleep syscall overshoots by its timer slack (~50 µs on Linux).
const spinWait = 60 * time.Microsecond

// preciseWait returns at run time due (as now reports it), within tens of
// µs rather than a millisecond. It first yields once, so a VU just handed
// an arrival on this P runs before the pacer blocks in a syscall.
func preciseWait(now func() time.Duration, due time.Duration) {
	runtime.Gosched()
	if d := due - now() - spinWait; d > 0 {
		sleepPrecise(d)
	}
	for now() < due {
		runtime.Gosched()
	}
}

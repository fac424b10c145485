package engine

import "time"

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

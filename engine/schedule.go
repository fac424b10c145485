package engine

import (
	"math"
	"time"

	"github.com/brink-load/brink/scenarios"
)

// Schedule is a group's stage curve as a pure function of stage time: the
// target (VUs or iterations/s) moves linearly from Start through each
// stage's Target. Nothing here reads a clock, so ramps and arrival times are
// unit-tested without sleeping (vegeta's pacer idea).
type Schedule struct {
	Start  float64
	Stages []scenarios.Stage
}

// NewSchedule takes a group's start value and stages.
func NewSchedule(g *scenarios.Group) Schedule {
	return Schedule{Start: g.Start, Stages: g.Stages}
}

// Duration is the sum of the stage durations.
func (s Schedule) Duration() time.Duration {
	var d time.Duration
	for _, st := range s.Stages {
		d += st.Duration
	}
	return d
}

// At returns the target at stage time t, and the index of the stage t falls
// in. Past the end it returns the last target and len(Stages).
func (s Schedule) At(t time.Duration) (float64, int) {
	if t < 0 {
		return s.Start, 0
	}
	from := s.Start
	var off time.Duration
	for i, st := range s.Stages {
		if t < off+st.Duration {
			frac := float64(t-off) / float64(st.Duration)
			return from + (st.Target-from)*frac, i
		}
		off += st.Duration
		from = st.Target
	}
	return from, len(s.Stages)
}

// VUsAt is the closed-model VU target at t: the curve rounded down, so a
// ramp 0→10 over 10 s adds the n-th VU at n seconds, as k6 does.
func (s Schedule) VUsAt(t time.Duration) int {
	v, _ := s.At(t)
	return int(math.Floor(v + 1e-9))
}

// Arrivals is ∫₀ᵗ rate: how many iterations are due by stage time t in the
// open model. Arrival k (0-based) is due at the t where Arrivals(t) = k.
func (s Schedule) Arrivals(t time.Duration) float64 {
	if t <= 0 {
		return 0
	}
	from := s.Start
	var off time.Duration
	var n float64
	for _, st := range s.Stages {
		d := st.Duration
		if t < off+d {
			x := (t - off).Seconds()
			k := (st.Target - from) / d.Seconds()
			return n + from*x + k*x*x/2
		}
		n += (from + st.Target) / 2 * d.Seconds()
		off += d
		from = st.Target
	}
	// Past the end the last rate would continue; callers stop at Duration.
	return n + from*(t-off).Seconds()
}

// ArrivalTime inverts Arrivals: the stage time at which the n-th arrival
// count is reached. ok is false when the curve never gets there (rate 0 to
// the end of the stages).
func (s Schedule) ArrivalTime(n float64) (time.Duration, bool) {
	if n <= 0 {
		return 0, true
	}
	from := s.Start
	var off time.Duration
	var acc float64
	for _, st := range s.Stages {
		d := st.Duration.Seconds()
		seg := (from + st.Target) / 2 * d
		if acc+seg >= n && seg > 0 {
			x := solveRamp(from, (st.Target-from)/d, n-acc)
			if x > d {
				x = d // rounding at the segment's end
			}
			return off + secs(x), true
		}
		acc += seg
		off += st.Duration
		from = st.Target
	}
	return 0, false
}

// solveRamp returns x ≥ 0 with a·x + k·x²/2 = dn, for a rate starting at a
// and changing by k per second. The form 2dn / (a + √(a² + 2k·dn)) avoids
// cancellation when k is tiny and works for a = 0.
func solveRamp(a, k, dn float64) float64 {
	disc := a*a + 2*k*dn
	if disc < 0 {
		disc = 0
	}
	den := a + math.Sqrt(disc)
	if den <= 0 {
		return 0
	}
	return 2 * dn / den
}

func secs(x float64) time.Duration { return time.Duration(x * float64(time.Second)) }

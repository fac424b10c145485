package report

import "github.com/brink-load/brink/scenarios"

// Detectors are the run's sustain rules as small pure state machines: a
// window (or a sample) goes in, a sustained change comes out. They know
// nothing of ticks, loads or events; the recorder turns their changes into
// events with the load of the window they fall in.

// streak applies the sustain rule to a series of windows.
type streak struct {
	bad, good int
	on        bool // a sustained violation is in effect
	runStart  int  // window index where the current bad (or good) run began
	runVal    float64
	badTotal  int
	firstOn   bool // a sustained violation has been seen
	first     int  // window index where the first sustained violation began
}

// step feeds window i; it returns +1 when a violation becomes sustained
// (need bad windows in a row) and -1 when a sustained one has cleared for
// as long. runStart and runVal then name the window the change is stamped
// at and its value.
func (s *streak) step(i int, bad bool, v float64, need int) int {
	if bad {
		s.badTotal++
		s.good = 0
		if s.on || !s.run(&s.bad, i, v, need) {
			return 0
		}
		s.on = true
		if !s.firstOn {
			s.firstOn, s.first = true, s.runStart
		}
		return +1
	}
	s.bad = 0
	if !s.on || !s.run(&s.good, i, v, need) {
		return 0
	}
	s.on = false
	return -1
}

// run counts window i into a run toward the other state (n is the bad or
// the good count), stamping the run at its first window; it reports
// whether the run has lasted need windows, and then starts the count over.
func (s *streak) run(n *int, i int, v float64, need int) bool {
	if *n == 0 {
		s.runStart, s.runVal = i, v
	}
	*n++
	if *n < need {
		return false
	}
	*n = 0
	return true
}

// warn reports a violation that is sustained or on its way to being so.
func (s *streak) warn() bool { return s.on || s.bad > 0 }

// sloDetector is one per-window SLO threshold under the sustain rule.
type sloDetector struct {
	th scenarios.Threshold
	// dflt: brink applied it, the scenario set none of its kind.
	dflt bool
	streak
	near bool // the last window held, but within 10 % of the limit
}

// step judges window i's value v of the threshold; ok false (no data in
// the window) neither breaches nor recovers. bad: the window failed it.
// idle: no load was offered in the window (no VU active at its end, no
// arrival rate). A window without data while load ran may only be slow
// responses still in flight, so it leaves a run of bad windows as it is;
// an idle one without data ends it: breaches either side of a gap at 0
// load are two, not one sustained.
func (s *sloDetector) step(i int, v float64, ok, idle bool, need int) (bad bool, change int) {
	if !ok {
		if idle {
			s.bad = 0
		}
		return false, 0
	}
	bad = !s.th.Holds(v)
	s.near = !bad && nearLimit(v, s.th)
	return bad, s.streak.step(i, bad, v, need)
}

// nearFrac is how close to a limit counts as "near" for the WARN state.
const nearFrac = 0.9

// nearLimit reports whether a value that holds is within 10 % of an upper
// limit. Lower limits (checks rate>0.99) have no useful "near".
func nearLimit(v float64, th scenarios.Threshold) bool {
	return (th.Op == "<" || th.Op == "<=") && th.Value > 0 && v >= nearFrac*th.Value
}

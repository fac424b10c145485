package report

// rateDetector checks that one arrival-rate group started its iterations
// on schedule. Each window is judged when the window after it arrives (or
// at the end), so an arrival that fell just across a window edge counts
// for either side: a shortfall at a window's end made up at the start of
// the next (or the other way round) is jitter, not a shortfall.
//
// A window is judged on the arrivals the engine started plus those it
// dropped (GroupStats.Started), never on completions: slow responses alone
// are not a shortfall. Without started counts it falls back to completed
// iterations; with neither, only dropped arrivals say anything.
type rateDetector struct {
	streak
	prevTarget float64
	seen       bool // a window was fed (prevTarget is meaningful)
	// started: the engine reported started arrivals for this group, so a
	// window with none started really started none.
	started bool
	// prev and pending are the last two windows seen; pending is judged
	// when the window after it arrives (or at the end).
	prev, pending rateWin
	target        float64 // at the start of the current bad run
	dropped       int64   // dropped iterations over the current bad run
}

// rateWin is one window of one arrival-rate group.
type rateWin struct {
	ok       bool // holds a window
	judge    bool // there was a target to meet
	known    bool // counted says what started (else only drops count)
	i        int  // window index
	target   float64
	expected float64 // arrivals scheduled in the window
	counted  float64 // arrivals started (or iterations completed)
	dropped  int64
	secs     float64
}

// rateJudged is the judgement of one window: bad when it fell short or
// dropped arrivals; change +1 when the shortfall became sustained, -1 when
// it cleared, with the window index the change is stamped at (at), the
// achieved rate then, and for +1 the target and the drops over the run.
type rateJudged struct {
	i        int
	bad      bool
	change   int
	at       int
	achieved float64
	target   float64
	dropped  int64
}

// rateShort reports whether arrivals counted fall short of those scheduled:
// fewer than 99 % of them, with a slack of one arrival.
func rateShort(expected, counted float64) bool {
	return counted < 0.99*expected-1
}

// add feeds window i (secs long, target rate at its end, iterations
// completed, arrivals started and dropped in it; step: the target may
// have stepped within it rather than followed the stages' ramp) and
// judges the window before it; ok is false when there was none to judge.
func (d *rateDetector) add(i int, secs, target float64, iterations, started, dropped int64, need int, step bool) (rateJudged, bool) {
	if !d.seen {
		d.seen, d.prevTarget = true, target
	}
	// The target ramps within the window: expect the average of its two
	// ends. A step (brink find's plateaus and cooldowns, a console scale)
	// may come anywhere in the window, so only the lower end is sure to
	// have been asked for all along: the average read a step down a fifth
	// into the window (8 of 40 due) as short.
	expected := (d.prevTarget + target) / 2 * secs
	if step {
		expected = min(d.prevTarget, target) * secs
	}
	w := rateWin{ok: true, i: i, target: target, expected: expected, dropped: dropped, secs: secs}
	d.prevTarget = target
	if started > 0 {
		d.started = true
	}
	switch {
	case d.started:
		w.counted = float64(started)
	case iterations > 0:
		w.counted = float64(iterations)
	default:
		// No evidence of what started (nothing completed yet: slow
		// responses): only drops count, and what was not dropped is taken
		// as started.
		w.counted = max(w.expected-float64(dropped), 0)
	}
	w.known = d.started || iterations > 0
	w.judge = target > 0 || w.expected > 0
	j, ok := d.judge(&w, need)
	d.prev, d.pending = d.pending, w
	return j, ok
}

// pendingWindow is the index of the window waiting for its next one.
func (d *rateDetector) pendingWindow() (int, bool) { return d.pending.i, d.pending.ok }

// flush judges the pending window without a next one (the end, an abort).
func (d *rateDetector) flush(need int) (rateJudged, bool) { return d.judge(nil, need) }

// forget drops the windows kept for edge slack.
func (d *rateDetector) forget() { d.prev, d.pending = rateWin{}, rateWin{} }

// judge judges d.pending given the window after it (nil: none) and steps
// the sustain rule.
func (d *rateDetector) judge(next *rateWin, need int) (rateJudged, bool) {
	w := d.pending
	if !w.ok {
		return rateJudged{}, false
	}
	// A window with nothing due (at 0/s: a stage or a console scale at 0,
	// find's cooldown) holds, as any on-schedule window does: it ends a
	// run of short windows. Skipped, shortfalls either side of an idle gap
	// added up to one "sustained" shortfall that never was.
	short := w.judge && w.known && rateShort(w.expected, w.counted)
	// Arrivals counted across an edge: the window is short only if it is
	// short together with each neighbour too.
	for _, n := range []*rateWin{&d.prev, next} {
		if short && n != nil && n.ok && n.known && (n.i == w.i-1 || n.i == w.i+1) {
			short = rateShort(w.expected+n.expected, w.counted+n.counted)
		}
	}
	bad := short || w.judge && w.dropped > 0
	achieved := w.counted / w.secs
	if bad && d.bad == 0 && !d.on {
		d.target, d.dropped = w.target, 0
	}
	if bad && !d.on {
		d.dropped += w.dropped
	}
	j := rateJudged{i: w.i, bad: bad}
	j.change = d.step(w.i, bad, achieved, need)
	j.at, j.achieved, j.target, j.dropped = d.runStart, d.runVal, d.target, d.dropped
	return j, true
}

package report

import "time"

// crossDetector is one series (a node's metric, a custom panel's series)
// against one threshold, sample by sample. A crossing counts only from
// below: a series first seen over its threshold before the load began
// (baseline) is "over before the load" and has to come back under before
// a later crossing counts.
type crossDetector struct {
	over     bool      // a sustained crossing (or a baseline over) is in effect
	before   bool      // over since before the load: no crossing of the load's
	runStart time.Time // first sample of the current run towards a change
	runVal   float64
	last     time.Time
	near     bool // under, but within 10 % of the threshold
	seen     bool // a sample was judged while load ran
}

// crossing is a sustained change of one series against its threshold:
// over (or back under) since at, when the value was val.
type crossing struct {
	over bool
	at   time.Time
	val  float64
	// before: the series was over before the load (baseline), so this
	// crossing (over) or clearing says so.
	before bool
}

// baseline sets the state from a sample taken before any load: over is
// in effect at once (no sustain: it is not the load's doing either way).
// The latest such sample decides. ok is true when it has just become over
// before the load.
func (c *crossDetector) baseline(t time.Time, v, above float64) (crossing, bool) {
	if !c.last.IsZero() && !t.After(c.last) {
		return crossing{}, false // the same scrape seen again
	}
	was := c.before
	c.last = t
	c.runStart = time.Time{}
	c.over = v > above
	c.before = c.over
	c.near = !c.over && above > 0 && v >= nearFrac*above
	return crossing{over: true, at: t, val: v, before: true}, c.over && !was
}

// step applies the sustain rule to one sample (at t, value v) against the
// threshold above. The value must stay over (or under) for the sustain
// time, measured from the first sample of the run to the end of the
// interval the latest sample stands for. ok is true when a crossing up or
// down has just become sustained; it is stamped at the run's first sample.
func (c *crossDetector) step(t time.Time, v, above float64, sustain time.Duration) (cr crossing, ok bool) {
	if !c.last.IsZero() && !t.After(c.last) {
		return cr, false // the same scrape seen again
	}
	var gap time.Duration
	if !c.last.IsZero() {
		gap = min(t.Sub(c.last), sustain)
	}
	c.last = t
	c.seen = true
	over := v > above
	c.near = !over && above > 0 && v >= nearFrac*above
	if over == c.over {
		c.runStart = time.Time{}
		return cr, false
	}
	if c.runStart.IsZero() {
		c.runStart, c.runVal = t, v
	}
	if t.Sub(c.runStart)+gap < sustain {
		return cr, false
	}
	c.over = over
	cr = crossing{over: over, at: c.runStart, val: c.runVal, before: c.before}
	c.before = false
	c.runStart = time.Time{}
	return cr, true
}

// warn reports a series over, on its way over (or back), or near.
func (c *crossDetector) warn() bool {
	return c.over || !c.runStart.IsZero() || c.near
}

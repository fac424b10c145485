package report

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
)

// The recorder's glue between windows and samples and the detectors: it
// feeds them, and turns their sustained changes into events (with the load
// of the window they fall in) and breakpoint candidates.

// crossKey names one series against one threshold: a node against node
// threshold th, or (panel set) one series of custom panel th, named by its
// labels.
type crossKey struct {
	th    int
	node  string
	panel bool
}

// violation is a sustained SLO, node or rate violation, a breakpoint
// candidate.
type violation struct {
	at   time.Time
	load Load
	// loadTime is the end of the window load was taken from: the window
	// that contains at. Zero: not known yet.
	loadTime time.Time
	signal   Signal
}

// cut is where "before the breakpoint" ends: the window that contains it
// is not stable load.
func (v *violation) cut() time.Time { return v.at }

// evalSLOs tests every per-window SLO on tick i; it reports whether all held.
func (r *Recorder) evalSLOs(i int, t *measure.Tick) bool {
	held := true
	for k := range r.slos {
		s := &r.slos[k]
		if !perWindow(s.th) {
			continue
		}
		v, ok := windowValue(s.th, t, &r.scratch)
		bad, change := s.step(i, v, ok, r.need)
		if bad {
			held = false
		}
		switch change {
		case +1:
			at := &r.v.Ticks[s.runStart]
			sig := Signal{Kind: SignalSLO, Metric: metricLabel(s.th), Expr: s.th.Expr,
				Value: Num(s.runVal), Threshold: Num(s.th.Value), Text: sloWithValue(s.th, s.runVal)}
			if s.th.TagKey == "group" {
				sig.Group = s.th.TagValue
			}
			load := tickLoad(at)
			r.addEvent(Event{Time: at.Time, Kind: EventSLOBreach, Metric: sig.Metric, Value: s.runVal,
				Threshold: s.th.Value, Text: sig.Text + " — " + r.loadText(load), Load: load})
			r.violate(violation{at: at.Time, load: load, signal: sig})
		case -1:
			at := &r.v.Ticks[s.runStart]
			load := tickLoad(at)
			r.addEvent(Event{Time: at.Time, Kind: EventSLORecover, Metric: metricLabel(s.th), Value: s.runVal,
				Threshold: s.th.Value, Text: aggLabel(s.th) + " back within " + s.th.Expr + " (" +
					fmtThresholdValue(s.th.Metric, s.th.Agg, s.runVal) + ") — " + r.loadText(load), Load: load})
		}
	}
	return held
}

// evalRates feeds every arrival-rate group's window i to its detector (see
// rateDetector), which judges the window before it.
func (r *Recorder) evalRates(i int, t *measure.Tick) {
	secs := t.Window.Seconds()
	if secs <= 0 {
		return
	}
	add := func(name string, target float64, iterations, started, dropped int64) {
		d := r.rates[name]
		if d == nil {
			d = &rateDetector{}
			if start, ok := r.startRate(i, t, name); ok {
				d.seen, d.prevTarget = true, start
			}
			r.rates[name] = d
		}
		if j, ok := d.add(i, secs, target, iterations, started, dropped, r.need); ok {
			r.rateJudged(name, j)
		}
	}
	open := false
	for j := range t.Groups {
		g := &t.Groups[j]
		if g.Open() {
			open = true
			add(g.Name, g.TargetRate, g.Iterations, g.Started, g.Dropped)
		}
	}
	if !open && t.TargetRate > 0 && len(t.Groups) == 0 {
		add("", t.TargetRate, t.Iterations, 0, t.Dropped)
	}
}

// startRate is the target an arrival-rate group's first window began
// at: the scenario's start rate, when window i is the run's first. A ramp
// from 10/s reached 24.7/s at the end of its first second, having
// scheduled 17 arrivals there: judged against 24.7 (the window's end
// taken for both ends), the generator looked short and the first window
// failed (ok: false) while every arrival had started on time.
func (r *Recorder) startRate(i int, t *measure.Tick, name string) (float64, bool) {
	if i != 0 || t.Elapsed > t.Window || r.v.Scenario == nil {
		return 0, false
	}
	for k := range r.v.Scenario.Groups {
		if g := &r.v.Scenario.Groups[k]; g.Name == name && g.Executor == scenarios.RampingArrivalRate {
			return g.Start, true
		}
	}
	return 0, false
}

// flushRates judges every pending window that ended before cut (zero: all)
// without a next window, and forgets them; after an abort, or at the end.
func (r *Recorder) flushRates(cut time.Time) {
	names := make([]string, 0, len(r.rates))
	for name := range r.rates {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		d := r.rates[name]
		if i, ok := d.pendingWindow(); ok && (cut.IsZero() || r.v.Ticks[i].Time.Before(cut)) {
			if j, ok := d.flush(r.need); ok {
				r.rateJudged(name, j)
			}
		}
		d.forget()
	}
}

// rateJudged records a rate detector's judgement of one window: the window
// no longer held when it fell short, and a sustained change is an event.
func (r *Recorder) rateJudged(name string, j rateJudged) {
	if j.bad && j.i < len(r.wins) {
		r.wins[j.i].held = false
	}
	what := "the arrival rate"
	if name != "" {
		what = name
	}
	switch j.change {
	case +1:
		at := &r.v.Ticks[j.at]
		text := fmt.Sprintf("%s could not sustain %s/s (achieved %s/s", what, trimFloat(j.target, 1),
			trimFloat(j.achieved, 1))
		if j.dropped > 0 {
			text += fmt.Sprintf(", %d dropped", j.dropped)
		}
		text += ")"
		sig := Signal{Kind: SignalRate, Group: name, Metric: "iterations_rate", Value: Num(j.achieved),
			Threshold: Num(j.target), Text: text}
		load := tickLoad(at)
		r.addEvent(Event{Time: at.Time, Kind: EventRateShort, Metric: sig.Metric, Value: j.achieved,
			Threshold: j.target, Text: text + " — " + r.loadText(load), Load: load})
		r.violate(violation{at: at.Time, load: load, signal: sig})
	case -1:
		at := &r.v.Ticks[j.at]
		load := tickLoad(at)
		r.addEvent(Event{Time: at.Time, Kind: EventRateRecover, Metric: "iterations_rate", Value: j.achieved,
			Text: fmt.Sprintf("%s back on schedule (%s/s) — %s", what, trimFloat(j.achieved, 1), r.loadText(load)),
			Load: load})
	}
}

// AddPoll appends one node poll and runs every node threshold over its
// samples, and every custom panel threshold over its series. Until the
// first window arrives, when the load began is not known: the poll is
// judged then.
func (r *Recorder) AddPoll(p measure.Poll) {
	r.mu.Lock()
	if r.v.Done {
		r.mu.Unlock()
		return
	}
	r.v.Polls = append(r.v.Polls, p)
	switch {
	case p.Err != "" && !r.sourceDown:
		r.sourceDown = true
		r.addEvent(Event{Time: p.Time, Kind: EventSourceError, Text: "node metrics failed: " + p.Err, Load: r.lastLoad()})
	case p.Err == "" && r.sourceDown:
		r.sourceDown = false
		r.addEvent(Event{Time: p.Time, Kind: EventSourceError, Text: "node metrics back", Load: r.lastLoad()})
	}
	if r.loadStart.IsZero() {
		r.early = append(r.early, len(r.v.Polls)-1)
	} else {
		r.judgePoll(&r.v.Polls[len(r.v.Polls)-1])
	}
	fns := r.changed()
	r.mu.Unlock()
	r.fire(fns)
}

// Baseline records the node poll taken before any load. A node (or panel
// series) over its threshold then is "over before the load": never the
// breakpoint, and it must come back under before a crossing counts. A
// failed poll (p.Err) is kept and judges nothing.
func (r *Recorder) Baseline(p measure.Poll) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.v.Done {
		return
	}
	r.baseline = &p
	if p.Err == "" {
		r.judgeSamples(&p, true)
	}
	r.changed()
}

// startLoad fixes when the load began (from the first window) and judges
// the polls that came before it.
func (r *Recorder) startLoad(t *measure.Tick) {
	r.loadStart = t.Time.Add(-t.Window)
	if t.Elapsed > 0 {
		r.loadStart = t.Time.Add(-t.Elapsed)
	}
	for _, i := range r.early {
		r.judgePoll(&r.v.Polls[i])
	}
	r.early = nil
}

// judgePoll runs the thresholds over one poll: samples from before the
// load count as the baseline.
func (r *Recorder) judgePoll(p *measure.Poll) {
	r.judgeSamples(p, false)
}

// judgeSamples runs every node threshold over a poll's samples and every
// panel threshold over its series; base: the poll was taken before the
// load (as is any sample stamped before it began).
func (r *Recorder) judgeSamples(p *measure.Poll, base bool) {
	for si := range p.Samples {
		s := &p.Samples[si]
		if s.Stale {
			continue
		}
		pre := base || (!r.loadStart.IsZero() && s.Time.Before(r.loadStart))
		for k, th := range r.nodeThs {
			if (th.Node != "" && th.Node != s.Node) || (th.Role != "" && th.Role != s.Role) {
				continue
			}
			v, ok := s.Metric(th.Metric)
			if !ok {
				continue
			}
			if pre {
				r.nodePreSeen[k] = true
				r.preNode(k, th, s, v)
				continue
			}
			r.nodeSeen[k] = true
			r.stepNode(k, th, s, v)
		}
	}
	pre := base || (!r.loadStart.IsZero() && p.Time.Before(r.loadStart))
	for pi := range p.Panels {
		r.stepPanel(p.Time, &p.Panels[pi], pi, pre)
	}
}

// crossOf is the detector of one series against one threshold.
func (r *Recorder) crossOf(key crossKey) *crossDetector {
	d := r.cross[key]
	if d == nil {
		d = &crossDetector{}
		r.cross[key] = d
	}
	return d
}

// preNode takes one node sample from before the load.
func (r *Recorder) preNode(k int, th scenarios.NodeThreshold, s *measure.Sample, v float64) {
	if _, ok := r.crossOf(crossKey{th: k, node: s.Node}).baseline(s.Time, v, th.Above); ok {
		r.addEvent(Event{Time: s.Time, Kind: EventNodeOverBefore, Node: s.Node, Metric: th.Metric, Value: v,
			Threshold: th.Above, Text: fmt.Sprintf("%s %s %s > %s before the load: not the load's doing, never the breakpoint",
				s.Node, th.Metric, fmtOver(th.Metric, v, th.Above), fmtNodeValue(th.Metric, th.Above))})
	}
}

// stepNode applies the sustain rule to one node sample.
func (r *Recorder) stepNode(k int, th scenarios.NodeThreshold, s *measure.Sample, v float64) {
	c, ok := r.crossOf(crossKey{th: k, node: s.Node}).step(s.Time, v, th.Above, r.sustain)
	if !ok {
		return
	}
	at, val := c.at, c.val
	if c.over {
		sig := Signal{Kind: SignalNode, Node: s.Node, Metric: th.Metric, Value: Num(val), Threshold: Num(th.Above),
			Text:    fmt.Sprintf("%s %s %s > %s", s.Node, th.Metric, fmtOver(th.Metric, val, th.Above), fmtNodeValue(th.Metric, th.Above)),
			ownHost: onThisMachine(s.Instance)}
		r.crossed(Event{Time: at, Kind: EventNodeOver, Node: s.Node, Metric: th.Metric, Value: val, Threshold: th.Above},
			sig.Text, &sig)
		return
	}
	r.crossed(Event{Time: at, Kind: EventNodeClear, Node: s.Node, Metric: th.Metric, Value: val, Threshold: th.Above},
		fmt.Sprintf("%s %s back under %s (%s)", s.Node, th.Metric, fmtNodeValue(th.Metric, th.Above),
			fmtNodeValue(th.Metric, val)), nil)
}

// crossed logs a sustained crossing (or clearing) stamped at e.Time, with
// the load of the window that contains it, and for a crossing over (sig
// set) records the violation. A window that has not ended yet gives its
// load when it arrives (see resolveLoads).
func (r *Recorder) crossed(e Event, text string, sig *Signal) {
	ev := len(r.v.Events)
	r.addEvent(e)
	vi, bp := -1, -1
	if sig != nil {
		vi = len(r.violations)
		bp = r.violate(violation{at: e.Time, signal: *sig})
	}
	set := func(l Load, lt time.Time) {
		r.v.Events[ev].Load, r.v.Events[ev].Text = l, text+" — "+r.loadText(l)
		if vi >= 0 {
			r.violations[vi].load, r.violations[vi].loadTime = l, lt
		}
		if bp >= 0 {
			r.v.Events[bp].Load, r.v.Events[bp].Text = l, "breakpoint: "+text+" — "+r.loadText(l)
		}
	}
	if i := windowAt(r.v.Ticks, e.Time); i >= 0 {
		set(tickLoad(&r.v.Ticks[i]), r.v.Ticks[i].Time)
		return
	}
	// Not yet known: say so much now, the load once its window ends.
	set(r.lastLoad(), time.Time{})
	r.pendingLoads = append(r.pendingLoads, pendingLoad{at: e.Time, set: set})
}

// pendingLoad is a crossing waiting for the window that contains it.
type pendingLoad struct {
	at  time.Time
	set func(l Load, windowEnd time.Time)
}

// resolveLoads gives waiting crossings the load of the window t, which
// contains them once it ends at or after them; at the end (t nil), the
// last window's.
func (r *Recorder) resolveLoads(t *measure.Tick) {
	keep := r.pendingLoads[:0]
	for _, p := range r.pendingLoads {
		switch {
		case t != nil && !t.Time.Before(p.at):
			p.set(tickLoad(t), t.Time)
		case t == nil && len(r.v.Ticks) > 0:
			last := &r.v.Ticks[len(r.v.Ticks)-1]
			p.set(tickLoad(last), last.Time)
		default:
			keep = append(keep, p)
		}
	}
	r.pendingLoads = keep
}

// panelOf finds the scenario panel a polled panel value answers: the one
// at the same position (the sources poll them in scenario order), else the
// first with its title. k is -1 when there is none.
func (r *Recorder) panelOf(pv *measure.PanelValue, i int) (k int, p *scenarios.Panel) {
	if i < len(r.panels) && r.panels[i].Title == pv.Title {
		return i, &r.panels[i]
	}
	for j := range r.panels {
		if r.panels[j].Title == pv.Title {
			return j, &r.panels[j]
		}
	}
	return -1, nil
}

// stepPanel applies a custom panel's threshold to each of its series, at
// the poll's time, like a node threshold (pre: the poll was taken before
// the load). A failed query, a NaN or an infinite value says nothing
// either way.
func (r *Recorder) stepPanel(t time.Time, pv *measure.PanelValue, i int, pre bool) {
	k, pa := r.panelOf(pv, i)
	if pa == nil || pa.Above == nil || pv.Err != "" {
		return
	}
	above := *pa.Above
	for _, s := range pv.Series {
		if math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
			continue
		}
		name := pa.Title
		if len(pv.Series) > 1 && s.Labels != "{}" && s.Labels != "" { // sum() has no labels: the title names it
			name += " " + s.Labels
		}
		d := r.crossOf(crossKey{th: k, node: s.Labels, panel: true})
		if pre {
			if _, ok := d.baseline(t, s.Value, above); ok {
				r.addEvent(Event{Time: t, Kind: EventPanelOverBefore, Node: s.Labels, Metric: pa.Title, Value: s.Value,
					Threshold: above, Text: fmt.Sprintf("%s %s > %s before the load: not the load's doing, never the breakpoint",
						name, fmtPanelOver(pa.Unit, s.Value, above), fmtPanelValue(pa.Unit, above))})
			}
			continue
		}
		c, ok := d.step(t, s.Value, above, r.sustain)
		if !ok {
			continue
		}
		at, val := c.at, c.val
		if c.over {
			sig := Signal{Kind: SignalPanel, Node: s.Labels, Metric: pa.Title, Value: Num(val), Threshold: Num(above),
				Text: fmt.Sprintf("%s %s > %s", name, fmtPanelOver(pa.Unit, val, above), fmtPanelValue(pa.Unit, above))}
			r.crossed(Event{Time: at, Kind: EventPanelOver, Node: s.Labels, Metric: pa.Title, Value: val, Threshold: above},
				sig.Text, &sig)
			continue
		}
		r.crossed(Event{Time: at, Kind: EventPanelClear, Node: s.Labels, Metric: pa.Title, Value: val, Threshold: above},
			fmt.Sprintf("%s back under %s (%s)", name, fmtPanelValue(pa.Unit, above), fmtPanelValue(pa.Unit, val)), nil)
	}
}

// violate records a sustained violation; the first one (before any abort)
// is the breakpoint, and its event's index is returned (else -1).
func (r *Recorder) violate(v violation) int {
	r.violations = append(r.violations, v)
	if r.bpFound || (!r.abortAt.IsZero() && !v.at.Before(r.abortAt)) {
		return -1
	}
	if i := windowAt(r.v.Ticks, v.at); i >= 0 && i < len(r.wins) && r.wins[i].genBottleneck && v.signal.brinkCanCause() {
		return -1 // brink measured itself there (see judge)
	}
	r.bpFound = true
	r.addEvent(Event{Time: v.at, Kind: EventBreakpoint, Node: v.signal.Node, Metric: v.signal.Metric,
		Value: float64(v.signal.Value), Threshold: float64(v.signal.Threshold),
		Text: "breakpoint: " + v.signal.Text + " — " + r.loadText(v.load), Load: v.load})
	return len(r.v.Events) - 1
}

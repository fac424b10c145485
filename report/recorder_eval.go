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
		bad, change := s.step(i, v, ok, t.VUs == 0 && t.TargetRate == 0, r.need)
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
	// brink find sets every target itself, in steps, and a console scale
	// steps them too; otherwise they follow the stages' ramps.
	step := r.opts.Find || i > 0 && r.v.Ticks[i-1].Scale != t.Scale
	add := func(name string, target float64, iterations, started, dropped int64) {
		d := r.rates[name]
		if d == nil {
			d = &rateDetector{}
			if start, ok := r.startRate(i, t, name); ok {
				d.seen, d.prevTarget = true, start
			}
			r.rates[name] = d
		}
		if j, ok := d.add(i, secs, target, iterations, started, dropped, r.need, step); ok {
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
	// An engine without groups: once its rate has begun, its windows at
	// 0/s are fed too (they end a run of short windows).
	if !open && len(t.Groups) == 0 && (t.TargetRate > 0 || r.rates[""] != nil) {
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
			w := watched{key: crossKey{th: k, node: s.Node}, node: s.Node, metric: th.Metric,
				name: s.Node + " " + th.Metric, above: th.Above, instance: s.Instance}
			if pre {
				r.nodePreSeen[k] = true
				r.watchBefore(&w, s.Time, v)
				continue
			}
			r.nodeSeen[k] = true
			r.watchStep(&w, s.Time, v)
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

// watched is one series judged against a threshold it must stay under, a
// node metric or a custom panel's series alike: how its events and
// signals name it and print its values.
type watched struct {
	key          crossKey
	node, metric string // the events' and signals' Node and Metric
	name         string // what the text calls it: "db-3 load1", a panel's title (and labels)
	above        float64
	instance     string // a node's (is it brink's own machine?)
	panel        bool
	unit         string // a panel's
}

func (w *watched) valueText(v float64) string {
	if w.panel {
		return fmtPanelValue(w.unit, v)
	}
	return fmtNodeValue(w.metric, v)
}

func (w *watched) overText(v float64) string {
	if w.panel {
		return fmtPanelOver(w.unit, v, w.above)
	}
	return fmtOver(w.metric, v, w.above)
}

// watchBefore takes one sample from before the load: a series already
// over its threshold is said, and is never the breakpoint.
func (r *Recorder) watchBefore(w *watched, t time.Time, v float64) {
	if _, ok := r.crossOf(w.key).baseline(t, v, w.above); !ok {
		return
	}
	kind := EventNodeOverBefore
	if w.panel {
		kind = EventPanelOverBefore
	}
	r.addEvent(Event{Time: t, Kind: kind, Node: w.node, Metric: w.metric, Value: v, Threshold: w.above,
		Text: fmt.Sprintf("%s %s > %s before the load: not the load's doing, never the breakpoint",
			w.name, w.overText(v), w.valueText(w.above))})
}

// watchStep applies the sustain rule to one sample: a sustained crossing
// over is a signal, and coming back under is said too.
func (r *Recorder) watchStep(w *watched, t time.Time, v float64) {
	c, ok := r.crossOf(w.key).step(t, v, w.above, r.sustain)
	if !ok {
		return
	}
	over, under, signal := EventNodeOver, EventNodeClear, SignalNode
	if w.panel {
		over, under, signal = EventPanelOver, EventPanelClear, SignalPanel
	}
	e := Event{Time: c.at, Kind: under, Node: w.node, Metric: w.metric, Value: c.val, Threshold: w.above}
	if c.over {
		sig := Signal{Kind: signal, Node: w.node, Metric: w.metric, Value: Num(c.val), Threshold: Num(w.above),
			Text:    fmt.Sprintf("%s %s > %s", w.name, w.overText(c.val), w.valueText(w.above)),
			ownHost: !w.panel && onThisMachine(w.instance)}
		e.Kind = over
		r.crossed(e, sig.Text, &sig)
		return
	}
	r.crossed(e, fmt.Sprintf("%s back under %s (%s)", w.name, w.valueText(w.above), w.valueText(c.val)), nil)
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
		w := watched{key: crossKey{th: k, node: s.Labels, panel: true}, node: s.Labels, metric: pa.Title, name: name,
			above: above, panel: true, unit: pa.Unit}
		if pre {
			r.watchBefore(&w, t, s.Value)
			continue
		}
		r.watchStep(&w, t, s.Value)
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

package report

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/brink-load/brink/engine"
	"github.com/brink-load/brink/promquery"
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
	// loadTime is the end of the window load was taken from; for a node
	// crossing it may precede at. Zero means at.
	loadTime time.Time
	signal   Signal
}

// cut is where "before the breakpoint" ends: the window whose load the
// breakpoint reports is not stable load.
func (v *violation) cut() time.Time {
	if !v.loadTime.IsZero() && v.loadTime.Before(v.at) {
		return v.loadTime
	}
	return v.at
}

// evalSLOs tests every per-window SLO on tick i; it reports whether all held.
func (r *Recorder) evalSLOs(i int, t *engine.Tick) bool {
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
func (r *Recorder) evalRates(i int, t *engine.Tick) {
	secs := t.Window.Seconds()
	if secs <= 0 {
		return
	}
	add := func(name string, target float64, iterations, started, dropped int64) {
		d := r.rates[name]
		if d == nil {
			d = &rateDetector{}
			r.rates[name] = d
		}
		if j, ok := d.add(i, secs, target, iterations, started, dropped, r.need); ok {
			r.rateJudged(name, j)
		}
	}
	open := false
	for j := range t.Groups {
		g := &t.Groups[j]
		if g.TargetRate > 0 || g.Executor == string(scenarios.RampingArrivalRate) {
			open = true
			add(g.Name, g.TargetRate, g.Iterations, g.Started, g.Dropped)
		}
	}
	if !open && t.TargetRate > 0 && len(t.Groups) == 0 {
		add("", t.TargetRate, t.Iterations, 0, t.Dropped)
	}
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
// samples, and every custom panel threshold over its series.
func (r *Recorder) AddPoll(p promquery.Poll) {
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
	for si := range p.Samples {
		s := &p.Samples[si]
		if s.Stale {
			continue
		}
		for k, th := range r.nodeThs {
			if (th.Node != "" && th.Node != s.Node) || (th.Role != "" && th.Role != s.Role) {
				continue
			}
			v, ok := s.Metric(th.Metric)
			if !ok {
				continue
			}
			r.nodeSeen[k] = true
			r.stepNode(k, th, s, v)
		}
	}
	for pi := range p.Panels {
		r.stepPanel(p.Time, &p.Panels[pi], pi)
	}
	fns := r.changed()
	r.mu.Unlock()
	r.fire(fns)
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

// stepNode applies the sustain rule to one node sample.
func (r *Recorder) stepNode(k int, th scenarios.NodeThreshold, s *promquery.Sample, v float64) {
	c, ok := r.crossOf(crossKey{th: k, node: s.Node}).step(s.Time, v, th.Above, r.sustain)
	if !ok {
		return
	}
	at, val := c.at, c.val
	load, loadTime := r.loadTickAt(at)
	if c.over {
		sig := Signal{Kind: SignalNode, Node: s.Node, Metric: th.Metric, Value: Num(val), Threshold: Num(th.Above),
			Text: fmt.Sprintf("%s %s %s > %s", s.Node, th.Metric, fmtOver(th.Metric, val, th.Above), fmtNodeValue(th.Metric, th.Above))}
		r.addEvent(Event{Time: at, Kind: EventNodeOver, Node: s.Node, Metric: th.Metric, Value: val, Threshold: th.Above,
			Text: sig.Text + " — " + r.loadText(load), Load: load})
		r.violate(violation{at: at, load: load, loadTime: loadTime, signal: sig})
		return
	}
	r.addEvent(Event{Time: at, Kind: EventNodeClear, Node: s.Node, Metric: th.Metric, Value: val, Threshold: th.Above,
		Text: fmt.Sprintf("%s %s back under %s (%s) — %s", s.Node, th.Metric, fmtNodeValue(th.Metric, th.Above),
			fmtNodeValue(th.Metric, val), r.loadText(load)), Load: load})
}

// panelOf finds the scenario panel a polled panel value answers: the one
// at the same position (the sources poll them in scenario order), else the
// first with its title. k is -1 when there is none.
func (r *Recorder) panelOf(pv *promquery.PanelValue, i int) (k int, p *scenarios.Panel) {
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
// the poll's time, like a node threshold. A failed query, a NaN or an
// infinite value says nothing either way.
func (r *Recorder) stepPanel(t time.Time, pv *promquery.PanelValue, i int) {
	k, pa := r.panelOf(pv, i)
	if pa == nil || pa.Above == nil || pv.Err != "" {
		return
	}
	above := *pa.Above
	for _, s := range pv.Series {
		if math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
			continue
		}
		c, ok := r.crossOf(crossKey{th: k, node: s.Labels, panel: true}).step(t, s.Value, above, r.sustain)
		if !ok {
			continue
		}
		name := pa.Title
		if len(pv.Series) > 1 {
			name += " " + s.Labels
		}
		at, val := c.at, c.val
		load, loadTime := r.loadTickAt(at)
		if c.over {
			sig := Signal{Kind: SignalPanel, Node: s.Labels, Metric: pa.Title, Value: Num(val), Threshold: Num(above),
				Text: fmt.Sprintf("%s %s > %s", name, fmtPanelOver(pa.Unit, val, above), fmtPanelValue(pa.Unit, above))}
			r.addEvent(Event{Time: at, Kind: EventPanelOver, Node: s.Labels, Metric: pa.Title, Value: val, Threshold: above,
				Text: sig.Text + " — " + r.loadText(load), Load: load})
			r.violate(violation{at: at, load: load, loadTime: loadTime, signal: sig})
			continue
		}
		r.addEvent(Event{Time: at, Kind: EventPanelClear, Node: s.Labels, Metric: pa.Title, Value: val, Threshold: above,
			Text: fmt.Sprintf("%s back under %s (%s) — %s", name, fmtPanelValue(pa.Unit, above),
				fmtPanelValue(pa.Unit, val), r.loadText(load)), Load: load})
	}
}

// violate records a sustained violation; the first one (before any abort)
// is the breakpoint.
func (r *Recorder) violate(v violation) {
	r.violations = append(r.violations, v)
	if r.bpFound || (!r.abortAt.IsZero() && !v.at.Before(r.abortAt)) {
		return
	}
	r.bpFound = true
	r.addEvent(Event{Time: v.at, Kind: EventBreakpoint, Node: v.signal.Node, Metric: v.signal.Metric,
		Value: float64(v.signal.Value), Threshold: float64(v.signal.Threshold),
		Text: "breakpoint: " + v.signal.Text + " — " + r.loadText(v.load), Load: v.load})
}

package report

import (
	"fmt"
	"sort"
	"time"
)

// Reason is one thing a run could not judge, or failed on beside its
// thresholds, in words. Kind is a contract (JSON report).
type Reason struct {
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
}

// Inconclusive kinds: why a finished run could not be judged (exit 98).
const (
	// A threshold's metric never got a value over the whole run.
	InconclusiveNoData = "no_data"
	// The node source was down (failed polls, only stale samples) for
	// more than half of the load: node and panel thresholds were not
	// judged.
	InconclusiveNodesDown = "nodes_down"
	// A node threshold never met a sample of a node it names.
	InconclusiveNodeNoData = "node_no_data"
	// A node (or panel series) was over its threshold before the load and
	// never came back under: the load's effect on it cannot be told.
	InconclusiveOverBefore = "over_before_load"
	// The first signal came in a window where brink itself was the
	// bottleneck, so it may be brink's, not the system's.
	InconclusiveGenerator = "generator"
)

// FailedDropped is the kind of Verdict.Failed for an arrival-rate group
// that dropped more than 1 % of its scheduled arrivals over the run.
const FailedDropped = "dropped_iterations"

// maxDroppedShare is the share of scheduled arrivals a run may drop: more
// fails it, even in bursts too short for the sustain rule.
const maxDroppedShare = 0.01

// failures lists what failed the run beside its thresholds: dropped
// arrivals over 1 % of those scheduled (started + dropped; more than one),
// per group,
// unless the scenario has its own dropped_iterations threshold. The
// caller holds the lock.
func (r *Recorder) failures() []Reason {
	for _, s := range r.slos {
		if s.th.Metric == "dropped_iterations" {
			return nil
		}
	}
	var out []Reason
	check := func(name string, dropped, started int64) {
		// One dropped arrival is jitter, whatever the share.
		if dropped <= 1 || float64(dropped) <= maxDroppedShare*float64(started+dropped) {
			return
		}
		what := "the run"
		if name != "" {
			what = name
		}
		out = append(out, Reason{Kind: FailedDropped, Reason: fmt.Sprintf(
			"%s dropped %s of its scheduled arrivals (%s of %s): no VU was free to start them",
			what, fmtPct(float64(dropped)/float64(started+dropped)), group3(dropped), group3(started+dropped))})
	}
	a := &r.run
	if len(a.groupList) == 0 {
		check("", a.sum.Dropped, a.sum.Iterations)
	}
	for _, g := range a.groupList {
		c := &g.sum
		started := c.Started
		if started == 0 {
			started = c.Iterations // an engine that does not count starts
		}
		check(g.name, c.Dropped, started)
	}
	return out
}

// Inconclusive reports whether the finished run could not be judged
// (exit code 98 unless something failed).
func (r *Recorder) Inconclusive() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	// The verdict's list: the recorder's reasons and the generator's.
	return r.v.Done && len(r.verdict().Inconclusive) > 0
}

// inconclusive lists what the finished run could not judge, apart from the
// generator (judge adds that); nothing while it runs, since a metric may
// yet get its value. The caller holds the lock.
func (r *Recorder) inconclusive() []Reason {
	if !r.v.Done || len(r.v.Ticks) == 0 {
		return nil
	}
	var out []Reason
	for _, t := range r.thresholdResults() {
		if t.NoData && !t.Default {
			out = append(out, Reason{Kind: InconclusiveNoData,
				Reason: fmt.Sprintf("%s '%s' had no value over the whole run", t.Metric, t.Expr)})
		}
	}
	if len(r.nodeThs) == 0 && r.panelTh == 0 {
		return out
	}
	from, to := r.loadSpan()
	if down := r.sourceDownFor(from, to); to.After(from) && down*2 > to.Sub(from) {
		out = append(out, Reason{Kind: InconclusiveNodesDown,
			Reason: fmt.Sprintf("node metrics were missing for %s of the %s under load: node thresholds were not judged",
				fmtDur(down.Round(time.Second)), fmtDur(to.Sub(from).Round(time.Second)))})
		return out
	}
	out = append(out, r.overBefore()...)
	for k, th := range r.nodeThs {
		if k < len(r.nodeSeen) && r.nodeSeen[k] {
			continue
		}
		who := "any node"
		switch {
		case th.Node != "":
			who = "node " + th.Node
		case th.Role != "":
			who = "role " + th.Role
		}
		never := "never had a sample to judge"
		if k < len(r.nodePreSeen) && r.nodePreSeen[k] {
			never = "had samples before the load but none while it ran"
		}
		out = append(out, Reason{Kind: InconclusiveNodeNoData,
			Reason: fmt.Sprintf("node threshold %s > %s (%s) %s", th.Metric,
				fmtNodeValue(th.Metric, th.Above), who, never)})
	}
	return out
}

// overBefore lists the series over their threshold before the load that
// never came back under, in a stable order.
func (r *Recorder) overBefore() []Reason {
	keys := make([]crossKey, 0, len(r.cross))
	for k, d := range r.cross {
		if d.over && d.before {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.panel != b.panel || a.th != b.th {
			return !a.panel && b.panel || a.panel == b.panel && a.th < b.th
		}
		return a.node < b.node
	})
	var out []Reason
	for _, k := range keys {
		var what string
		switch {
		case !k.panel && k.th < len(r.nodeThs):
			th := r.nodeThs[k.th]
			what = fmt.Sprintf("%s %s was over %s", k.node, th.Metric, fmtNodeValue(th.Metric, th.Above))
		case k.panel && k.th >= 0 && k.th < len(r.panels) && r.panels[k.th].Above != nil:
			p := r.panels[k.th]
			what = fmt.Sprintf("%s %s was over %s", p.Title, k.node, fmtPanelValue(p.Unit, *p.Above))
		default:
			continue
		}
		out = append(out, Reason{Kind: InconclusiveOverBefore,
			Reason: what + " before the load and never came back under, so the load's effect on it cannot be told"})
	}
	return out
}

// loadSpan is from the first VU's start to the end of the run.
func (r *Recorder) loadSpan() (from, to time.Time) {
	if len(r.v.Ticks) == 0 {
		return
	}
	first := &r.v.Ticks[0]
	from = first.Time.Add(-first.Window)
	if first.Elapsed > 0 {
		from = first.Time.Add(-first.Elapsed)
	}
	if !r.loadStart.IsZero() {
		from = r.loadStart
	}
	to = r.end
	if last := r.v.Ticks[len(r.v.Ticks)-1].Time; to.IsZero() || last.After(to) {
		to = last
	}
	return from, to
}

// sourceDownFor is how long between from and to the node source said
// nothing usable: a failed poll, or one without a fresh sample, holds until
// the next poll; before the first poll nothing is known either.
func (r *Recorder) sourceDownFor(from, to time.Time) time.Duration {
	var down time.Duration
	downSince, isDown := from, true
	for i := range r.v.Polls {
		p := &r.v.Polls[i]
		fresh := false
		for j := range p.Samples {
			fresh = fresh || !p.Samples[j].Stale
		}
		for j := range p.Panels {
			fresh = fresh || (p.Panels[j].Err == "" && len(p.Panels[j].Series) > 0)
		}
		now := p.Err != "" || !fresh
		if now == isDown {
			continue
		}
		t := p.Time
		if t.Before(from) {
			t = from
		}
		if isDown && t.After(downSince) && t.Before(to) {
			down += t.Sub(downSince)
		} else if isDown && !t.Before(to) {
			down += to.Sub(downSince)
			return down
		}
		downSince, isDown = t, now
	}
	if isDown && to.After(downSince) {
		down += to.Sub(downSince)
	}
	return down
}

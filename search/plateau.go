package search

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/report"
)

// plateau holds the load for hold (longer while a slow signal has not
// settled) and judges it with a recorder of its own fed only the hold's
// windows and polls: the report's thresholds, detectors and sustain rule,
// as a whole run would have them. It ends early once a threshold broke.
// ok is false when ctx ended first.
func (d *Driver) plateau(ctx context.Context, st Step, groups []report.PlateauGroup, hold time.Duration, best float64) (report.Plateau, bool) {
	from := time.Now()
	sub := report.NewRecorder(d.sc, from, report.Options{Host: "find", GeneratorBottleneck: d.o.GeneratorBottleneck})
	d.mu.Lock()
	d.sub, d.subFrom = sub, from
	d.mu.Unlock()
	detach := func() {
		d.mu.Lock()
		d.sub = nil
		d.mu.Unlock()
	}
	holdEnd := from.Add(hold)
	// The load stood still from the ramp's end; a slow signal may take
	// its own time constants from then.
	steady := from.Add(-(d.o.Settle - d.o.Settle/2))
	// A node over its threshold at the hold's end is held until the
	// sustain rule decides (with a poll's slack either side).
	maxEnd := holdEnd.Add(d.sustain() + 2*d.pollGap())
	for _, th := range d.nodeThresholds() {
		if w := slowSignal(th.Metric); w > 0 && steady.Add(w).After(maxEnd) {
			maxEnd = steady.Add(w)
		}
	}
	unsettled, waited := false, false
	for {
		now := time.Now()
		if sub.Verdict().Breakpoint != nil {
			break // broken, sustained: no need to hold on
		}
		if !now.Before(holdEnd) {
			if d.settled(from, now) {
				break
			}
			waited = true
			if !now.Before(maxEnd) {
				unsettled = true
				break
			}
		}
		wait := time.Until(holdEnd)
		if wait <= 0 {
			wait = time.Until(maxEnd)
		}
		t := time.NewTimer(max(wait, time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			detach()
			return report.Plateau{}, false
		case <-d.wake:
		case <-t.C:
		}
		t.Stop()
	}
	end := time.Now()
	detach()
	sub.Finish(end)
	pl := report.Plateau{Phase: string(st.Phase), Load: st.Load, Groups: groups, Start: from,
		DurationS: end.Sub(from).Seconds(), Judged: true, Signals: []report.Signal{}}
	if waited && end.After(holdEnd) {
		pl.SettleS = end.Sub(holdEnd).Seconds()
		pl.Unsettled = unsettled
	}
	v := sub.Verdict()
	rep := sub.Report()
	pl.RPS, pl.P95Ms, pl.ErrorRate = rep.Summary.RPS, rep.Summary.LatencyMs.P95, rep.Summary.ErrorRate
	if len(rep.Timeline) == 0 {
		pl.Judged = false // shorter than a window: nothing to judge
	}
	for _, r := range v.Inconclusive {
		// Node metrics count as down until the hold's first poll: a short
		// hold is only unjudged when no poll in it had a fresh sample.
		if r.Kind == report.InconclusiveGenerator || r.Kind == report.InconclusiveNodesDown && !d.freshSince(from) {
			pl.Judged = false
		}
	}
	pl.Signals = plateauSignals(v, rep)
	if best > 0 && pl.RPS.Valid() && float64(pl.RPS) < kneeShare*best*st.Load {
		want := best * st.Load
		pl.Signals = append(pl.Signals, report.Signal{Kind: report.SignalKnee, Metric: "rps", Value: pl.RPS,
			Threshold: report.Num(kneeShare * want),
			Text:      fmt.Sprintf("throughput %.0f rps < 90 %% of the %.0f rps the plateaus before predict", float64(pl.RPS), want)})
	}
	pl.Held = pl.Judged && len(pl.Signals) == 0
	return pl, true
}

// plateauSignals are what broke a plateau, as its recorder judged: the
// sustained violations (the first is the breakpoint), thresholds failed
// over the plateau as a whole, and dropped arrivals.
func plateauSignals(v report.Verdict, rep *report.Report) []report.Signal {
	out := []report.Signal{}
	seen := map[string]bool{}
	add := func(s report.Signal) {
		k := s.Kind + "\x00" + s.Node + "\x00" + s.Metric + "\x00" + s.Expr
		if !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	if v.Breakpoint != nil {
		add(v.Breakpoint.Signal)
	}
	for _, f := range v.Followed {
		add(f.Signal)
	}
	for _, t := range rep.Thresholds {
		if t.Failed() {
			add(report.FailedThresholdSignal(t))
		}
	}
	for _, r := range v.Failed {
		add(report.Signal{Kind: report.SignalRate, Metric: r.Kind, Text: r.Reason})
	}
	return out
}

// nodeThresholds is the scenario's node thresholds.
func (d *Driver) nodeThresholds() []nodeTh {
	if d.sc.Nodes == nil {
		return nil
	}
	var out []nodeTh
	for _, th := range d.sc.Nodes.Thresholds {
		out = append(out, nodeTh{Node: th.Node, Role: th.Role, Metric: th.Metric, Above: th.Above})
	}
	return out
}

type nodeTh struct {
	Node, Role, Metric string
	Above              float64
}

func (t nodeTh) matches(s *measure.Sample) bool {
	return (t.Node == "" || t.Node == s.Node) && (t.Role == "" || t.Role == s.Role)
}

// settled reports whether every slow node signal with a threshold moved
// less than settleTolerance of it across the last part of the hold (its
// last third, and at least three polls): observed, not assumed, since an
// exporter may smooth differently.
func (d *Driver) settled(from, now time.Time) bool {
	ths := d.nodeThresholds()
	d.mu.Lock()
	defer d.mu.Unlock()
	tail := now.Sub(from) / 3
	if n := len(d.polls); n >= 4 {
		if gap := d.polls[n-1].Time.Sub(d.polls[n-4].Time); gap > tail {
			tail = gap
		}
	}
	tailFrom := now.Add(-tail)
	for _, th := range ths {
		if v, ok := d.latestOf(th, from); ok && v > th.Above {
			return false // on its way over: the sustain rule decides
		}
		if slowSignal(th.Metric) == 0 {
			continue
		}
		first, last := map[string]float64{}, map[string]float64{}
		count := map[string]int{}
		for i := range d.polls {
			p := &d.polls[i]
			if p.Time.Before(tailFrom) || p.Time.Before(from) {
				continue
			}
			for j := range p.Samples {
				s := &p.Samples[j]
				v, ok := s.Metric(th.Metric)
				if s.Stale || !ok || !th.matches(s) {
					continue
				}
				if count[s.Node] == 0 {
					first[s.Node] = v
				}
				last[s.Node] = v
				count[s.Node]++
			}
		}
		for node, n := range count {
			if n < 2 || math.Abs(last[node]-first[node]) > settleTolerance*th.Above {
				return false
			}
		}
	}
	return true
}

// latestOf is the highest of the newest samples (since from) of the nodes
// th applies to; the caller holds d.mu.
func (d *Driver) latestOf(th nodeTh, from time.Time) (float64, bool) {
	seen := map[string]bool{}
	top, ok := 0.0, false
	for i := len(d.polls) - 1; i >= 0 && !d.polls[i].Time.Before(from); i-- {
		for j := range d.polls[i].Samples {
			s := &d.polls[i].Samples[j]
			if seen[s.Node] || s.Stale || !th.matches(s) {
				continue
			}
			if v, vok := s.Metric(th.Metric); vok {
				seen[s.Node] = true
				if !ok || v > top {
					top, ok = v, true
				}
			}
		}
	}
	return top, ok
}

// freshSince reports whether a poll since from had a fresh sample.
func (d *Driver) freshSince(from time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := len(d.polls) - 1; i >= 0 && !d.polls[i].Time.Before(from); i-- {
		p := &d.polls[i]
		for j := range p.Samples {
			if p.Err == "" && !p.Samples[j].Stale {
				return true
			}
		}
	}
	return false
}

// sustain is how long a threshold must stay broken to count.
func (d *Driver) sustain() time.Duration {
	if d.sc.Sustain > 0 {
		return d.sc.Sustain
	}
	return 3 * time.Second
}

// pollGap is the node source's interval as observed (1 s before two polls).
func (d *Driver) pollGap() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	if n := len(d.polls); n >= 2 {
		return d.polls[n-1].Time.Sub(d.polls[n-2].Time)
	}
	return time.Second
}

// cooldown rests the load after a failed plateau until brink's own
// requests have drained (the target's queue of them with it) and every
// node metric (and panel series) it pushed over is back under its
// threshold, at most --cooldown; it says how long in pl. Without it, the
// backlog a failed plateau left would fail the next one too. It returns
// the targets left set.
func (d *Driver) cooldown(ctx context.Context, ctl Control, cur []report.PlateauGroup, pl *report.Plateau) []report.PlateauGroup {
	var crossed []report.Signal
	for _, s := range pl.Signals {
		if s.Kind == report.SignalNode || s.Kind == report.SignalPanel {
			crossed = append(crossed, s)
		}
	}
	zero := d.targets(0)
	d.set(ctl, zero)
	from := time.Now()
	until := from.Add(d.o.Cooldown)
	if len(crossed) > 0 {
		d.o.Logf("find: cooldown: load off until %s back under (at most %s)", signalNames(crossed), d.o.Cooldown)
	}
	d.publish(func(r *report.Search) { r.Phase = "cooldown" })
	for !(d.drained(from) && d.recovered(crossed, from)) && time.Now().Before(until) {
		t := time.NewTimer(time.Until(until))
		select {
		case <-ctx.Done():
		case <-d.wake:
		case <-t.C:
		}
		t.Stop()
		if ctx.Err() != nil {
			break
		}
	}
	pl.CooldownS = time.Since(from).Seconds()
	return zero
}

func signalNames(ss []report.Signal) string {
	var names []string
	for _, s := range ss {
		names = append(names, strings.TrimSpace(s.Node+" "+s.Metric))
	}
	return strings.Join(names, ", ")
}

// drained reports whether a window that ended after from saw no VU left
// in a closed group and none busy in an open one.
func (d *Driver) drained(from time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	t := &d.lastTick
	if !t.Time.After(from) {
		return false
	}
	for i := range t.Groups {
		if g := &t.Groups[i]; g.VUs > 0 && !g.Open() || g.BusyVUs > 0 {
			return false
		}
	}
	return len(t.Groups) > 0 || t.VUs == 0
}

// recovered reports whether the newest sample (since from) of every
// crossed series is at or under its threshold.
func (d *Driver) recovered(crossed []report.Signal, from time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range crossed {
		v, ok := latest(d.polls, s, from)
		if !ok || v > float64(s.Threshold) {
			return false
		}
	}
	return true
}

// latest is the newest value since from of the series a signal names.
func latest(polls []measure.Poll, s report.Signal, from time.Time) (float64, bool) {
	for i := len(polls) - 1; i >= 0; i-- {
		p := &polls[i]
		if p.Time.Before(from) {
			return 0, false
		}
		if s.Kind == report.SignalPanel {
			for _, pv := range p.Panels {
				for _, ser := range pv.Series {
					if pv.Title == s.Metric && ser.Labels == s.Node {
						return ser.Value, true
					}
				}
			}
			continue
		}
		for j := range p.Samples {
			if sm := &p.Samples[j]; sm.Node == s.Node && !sm.Stale {
				if v, ok := sm.Metric(s.Metric); ok {
					return v, true
				}
			}
		}
	}
	return 0, false
}

// loadText says a load with its groups when there are several: "60 users
// (20 browse + 20 chat + 20 search) + 7/s writes".
func (d *Driver) loadText(load float64) string {
	s := fmtLoad(load) + " " + strings.TrimPrefix(d.unit, "/")
	if d.unit == "/s" {
		s = fmtLoad(load) + "/s"
	}
	if len(d.bases) < 2 {
		return s
	}
	var parts []string
	for i, g := range d.targets(load) {
		u := ""
		if d.bases[i].open {
			u = "/s"
		}
		parts = append(parts, fmtLoad(g.Target)+u+" "+g.Name)
	}
	return s + " (" + strings.Join(parts, " + ") + ")"
}

func (d *Driver) bound(v float64) string {
	if v <= 0 {
		return "?"
	}
	return fmtLoad(v)
}

// plateauText is a plateau's line: "40 users held 30 s: 160 rps, p95 25 ms".
func (d *Driver) plateauText(pl *report.Plateau) string {
	what := [...]string{Held: "held", Failed: "failed", Unjudged: "could not be judged"}[pl.Outcome()]
	line := fmt.Sprintf("%s %s %s after %.1f s: %.0f rps, p95 %.1f ms", pl.Phase, d.loadText(pl.Load), what, pl.DurationS,
		float64(pl.RPS), float64(pl.P95Ms))
	if pl.SettleS >= 0.5 {
		line += fmt.Sprintf(" (%.0f s of it settling", pl.SettleS)
		if pl.Unsettled {
			line += ", still moving"
		}
		line += ")"
	}
	var why []string
	for _, s := range pl.Signals {
		why = append(why, s.Text)
	}
	if len(why) > 0 {
		line += " — " + strings.Join(why, "; ")
	}
	return line
}

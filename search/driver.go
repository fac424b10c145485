package search

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/report"
	"github.com/brink-load/brink/scenarios"
)

// Control is the engine's live control the driver steers through: each
// group's target (VUs, or iterations/s for an arrival-rate group).
type Control interface {
	SetTarget(group string, target float64) error
}

// Options are a find's flags beside the scenario.
type Options struct {
	Start     float64 // first plateau's load in the search's unit (0: 10 % of the scenario's targets)
	Precision float64 // default 0.05
	Hold      time.Duration
	Settle    time.Duration // after the ramp, before the hold (the ramp takes its first half)
	Verify    time.Duration // default 2 × Hold
	Cooldown  time.Duration // longest rest after a failed plateau
	Require   float64       // --require: the answer must reach this (0: none)
	// MaxDuration bounds the whole search.
	MaxDuration time.Duration
	// GeneratorBottleneck is the run's own judgement of a window where
	// brink itself was the bottleneck (see report.Options).
	GeneratorBottleneck func(t *measure.Tick) bool
	// Logf says each plateau as it starts and ends (progress lines).
	Logf func(format string, a ...any)
	// OnChange receives the search's state after each change (the
	// recorder's SetSearch), on the driver's goroutine.
	OnChange func(*report.Search)
}

// Defaults of the find flags (README documents them).
const (
	DefaultHold        = 30 * time.Second
	DefaultSettle      = 10 * time.Second
	DefaultCooldown    = 3 * time.Minute
	DefaultMaxDuration = 30 * time.Minute
	DefaultPrecision   = 0.05
)

// kneeShare: a plateau whose rps is under this share of what the plateaus
// before it predict has passed the knee.
const kneeShare = 0.9

// settleTolerance: a slow signal has settled when it moved less than this
// share of its threshold across the last part of the hold.
const settleTolerance = 0.05

// slowSignal is how long a slow node metric may take to settle after the
// load changes: about three time constants (load1 is a one-minute
// exponential average). Faster metrics need no wait beyond the hold.
func slowSignal(metric string) time.Duration {
	switch metric {
	case "load1", "load1_per_core":
		return 3 * time.Minute
	}
	return 0
}

// groupBase is one group at 100 %: the scenario's own peak target.
type groupBase struct {
	name   string
	open   bool
	target float64
}

// Driver holds a Search's plateaus on one running engine. Tick and Poll
// feed it from the run (any goroutine); Run drives the search.
type Driver struct {
	o     Options
	sc    *scenarios.Scenario
	bases []groupBase
	unit  string
	total float64 // the unit's total at 100 %
	cfg   Config
	start time.Time

	wake chan struct{}

	mu       sync.Mutex
	sub      *report.Recorder // the plateau on hold now (nil between holds)
	subFrom  time.Time
	polls    []measure.Poll // recent polls, for settling and cooldown
	lastTick measure.Tick
	ticks    int

	res report.Search
}

// NewDriver prepares a search over sc's groups, scaled together from
// their own targets as 100 %. sc is the scenario the run judges with;
// Prepare gives the engine's.
func NewDriver(sc *scenarios.Scenario, o Options) (*Driver, error) {
	if sc == nil || len(sc.Groups) == 0 {
		return nil, errors.New("find: the scenario has no groups")
	}
	if o.Hold <= 0 {
		o.Hold = DefaultHold
	}
	if o.Settle < 0 {
		o.Settle = 0
	}
	if o.Verify <= 0 {
		o.Verify = 2 * o.Hold
	}
	if o.Cooldown <= 0 {
		o.Cooldown = DefaultCooldown
	}
	if o.MaxDuration <= 0 {
		o.MaxDuration = DefaultMaxDuration
	}
	if o.Precision == 0 {
		o.Precision = DefaultPrecision
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	d := &Driver{o: o, sc: sc, wake: make(chan struct{}, 1)}
	var closed, open float64
	for i := range sc.Groups {
		g := &sc.Groups[i]
		b := groupBase{name: g.Name, open: g.Executor == scenarios.RampingArrivalRate, target: peakTarget(g)}
		if b.target <= 0 {
			return nil, fmt.Errorf("find: group %q: its stages never go above 0, so 100 %% is no load", g.Name)
		}
		if b.open {
			open += b.target
		} else {
			closed += b.target
		}
		d.bases = append(d.bases, b)
	}
	d.unit, d.total = "users", closed
	if closed == 0 {
		d.unit, d.total = "/s", open
	}
	start := o.Start
	if start <= 0 {
		start = math.Max(1, d.total/10)
		if d.unit == "/s" {
			start = d.total / 10
		}
	}
	d.cfg = Config{Start: start, Precision: o.Precision, Whole: d.unit == "users"}
	if _, err := New(d.cfg); err != nil {
		return nil, fmt.Errorf("find: %w", err)
	}
	d.res = report.Search{Unit: d.unit, Goal: o.Precision, Require: o.Require, Answer: report.Num(math.NaN()),
		Precision: report.Num(math.NaN()), Phase: string(PhaseExplore), Plateaus: []report.Plateau{}}
	return d, nil
}

// Unit is what the search counts load in: "users" or "/s".
func (d *Driver) Unit() string { return d.unit }

// peakTarget is a group's highest target over its stages: its 100 %.
func peakTarget(g *scenarios.Group) float64 {
	p := g.Start
	for _, st := range g.Stages {
		p = math.Max(p, st.Target)
	}
	return p
}

// Prepare is the scenario the engine runs for a search: every group starts
// at 0 and lasts the whole search (its target is set live, plateau by
// plateau); an arrival-rate group starts more of its VU budget up front. abort_on_breakpoint
// is off: a failed plateau is part of the search.
func Prepare(sc *scenarios.Scenario, maxDuration time.Duration) *scenarios.Scenario {
	if maxDuration <= 0 {
		maxDuration = DefaultMaxDuration
	}
	out := *sc
	out.AbortOnBreakpoint = false
	out.Groups = make([]scenarios.Group, len(sc.Groups))
	for i, g := range sc.Groups {
		peak := peakTarget(&g)
		g.Start = 0
		// The stage's target only sizes an open group's VUs; the driver
		// sets every target itself.
		g.Stages = []scenarios.Stage{{Duration: maxDuration + time.Minute, Target: 0}}
		if g.Executor == scenarios.RampingArrivalRate {
			// A pool that grows drops an arrival each time (no VU was
			// free), which would fail a plateau for brink's own warm-up:
			// a good part of the budget starts at once, as plateaus go
			// past the scenario's own rate.
			pre, maxVUs := scenarios.OpenVUs(peak, g.PreAllocatedVUs, g.MaxVUs)
			g.MaxVUs = maxVUs
			g.PreAllocatedVUs = min(maxVUs, max(pre, 100, int(math.Ceil(2*peak))))
		}
		out.Groups[i] = g
	}
	return &out
}

// targets are the groups' targets at load (in the search's unit). Closed
// groups' users are whole and add up to the load's share of them (largest
// remainders get the odd users): each rounded on its own, 567 users were
// 284 + 284 = 568 held.
func (d *Driver) targets(load float64) []report.PlateauGroup {
	f := load / d.total
	out := make([]report.PlateauGroup, len(d.bases))
	var want, sum float64
	for i, b := range d.bases {
		t := b.target * f
		if !b.open {
			want += t
			t = math.Floor(t)
			sum += t
		}
		out[i] = report.PlateauGroup{Name: b.name, Target: t}
	}
	for left := math.Round(want) - sum; left > 0; left-- {
		best, bestRem := -1, -1.0
		for i, b := range d.bases {
			if rem := b.target*f - out[i].Target; !b.open && rem > bestRem {
				best, bestRem = i, rem
			}
		}
		out[best].Target++
	}
	return out
}

// Tick feeds one engine window (from the run's OnTick).
func (d *Driver) Tick(t measure.Tick) {
	d.mu.Lock()
	d.lastTick = t
	d.ticks++
	// A window counts for the plateau when most of it lies in the hold.
	if d.sub != nil && t.Time.Add(-t.Window/2).After(d.subFrom) {
		// The plateau's recorder sees its load begin with the hold.
		t.Elapsed = t.Time.Sub(d.subFrom)
		d.sub.AddTick(t)
	}
	d.mu.Unlock()
	d.nudge()
}

// Poll feeds one node poll (from the run's poller).
func (d *Driver) Poll(p measure.Poll) {
	d.mu.Lock()
	d.polls = append(d.polls, p)
	if n := len(d.polls); n > 1000 {
		d.polls = append(d.polls[:0:0], d.polls[n-500:]...)
	}
	if d.sub != nil && !p.Time.Before(d.subFrom) {
		d.sub.AddPoll(p)
	}
	d.mu.Unlock()
	d.nudge()
}

func (d *Driver) nudge() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run drives the search on ctl until it ends, ctx ends (a stop from
// outside: the result is inconclusive) or --max-duration passes. It
// leaves every target at 0.
func (d *Driver) Run(ctx context.Context, ctl Control) report.Search {
	d.start = time.Now()
	s, _ := New(d.cfg)
	deadline := d.start.Add(d.o.MaxDuration)
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	// The engine's first window: its VUs are started and waiting, so the
	// first plateau does not judge brink's own start-up.
	for d.windows() == 0 && sleepCtx(dctx, 50*time.Millisecond) {
	}
	var cur []report.PlateauGroup
	var best float64 // highest rps per unit of load on a held plateau
	var lowFail *report.Plateau
	for {
		st, ok := s.Next()
		if !ok {
			break
		}
		lo, hi := s.Bracket()
		d.o.Logf("find: %s %s (bracket %s–%s)", st.Phase, d.loadText(st.Load), d.bound(lo), d.bound(hi))
		d.publish(func(r *report.Search) { r.Phase, r.Current, r.Bracket = string(st.Phase), st.Load, [2]float64{lo, hi} })
		hold := d.o.Hold
		if st.Phase == PhaseVerify {
			hold = d.o.Verify
		}
		next := d.targets(st.Load)
		if !d.ramp(dctx, ctl, cur, next) {
			break
		}
		cur = next
		if !sleepCtx(dctx, d.o.Settle-d.o.Settle/2) {
			break
		}
		pl, ok := d.plateau(dctx, st, next, hold, best)
		if !ok {
			break
		}
		outcome := pl.Outcome()
		switch {
		case outcome == Failed:
			if lowFail == nil || pl.Load <= lowFail.Load {
				lowFail = &pl
			}
		case outcome == Held && pl.Load > 0 && pl.RPS.Valid():
			best = math.Max(best, float64(pl.RPS)/pl.Load)
		}
		d.o.Logf("find: %s", d.plateauText(&pl))
		s.Record(outcome)
		// An unjudged plateau that pushed something over rests too
		// before it is held again.
		if outcome == Failed || outcome == Unjudged && len(pl.Signals) > 0 {
			if _, more := s.Next(); more {
				cur = d.cooldown(dctx, ctl, cur, &pl)
			}
		}
		d.publish(func(r *report.Search) {
			r.Plateaus = append(r.Plateaus, pl)
			r.SettleS += pl.SettleS
		})
	}
	switch {
	case ctx.Err() != nil:
		s.Stop("stopped from outside")
	case dctx.Err() != nil:
		s.Stop(fmt.Sprintf("--max-duration %s reached", d.o.MaxDuration))
	}
	zero := d.targets(0)
	for _, g := range zero {
		_ = ctl.SetTarget(g.Name, 0)
	}
	res := s.Result()
	d.publish(func(r *report.Search) {
		r.Phase, r.Current = "done", 0
		r.Found, r.Why = res.Found, res.Why
		r.Bracket = [2]float64{res.Lo, res.Hi}
		if res.Found {
			r.Answer, r.Precision = report.Num(res.Answer), report.Num(res.Precision())
			r.PrecisionUp = report.Num(res.PrecisionUp())
			// Nothing held, not even the least load tried: the system
			// failed, whatever --require says (a dead deploy must not pass).
			r.Met = res.Answer > 0 && (r.Require <= 0 || res.Answer >= r.Require)
		}
		r.Limit = nil
		if lowFail != nil && len(lowFail.Signals) > 0 && (res.Hi == 0 || lowFail.Load <= res.Hi) {
			r.Limit = &report.SearchLimit{Load: lowFail.Load, Signal: lowFail.Signals[0]}
		}
	})
	d.mu.Lock()
	defer d.mu.Unlock()
	out := d.res
	out.Plateaus = append([]report.Plateau{}, d.res.Plateaus...)
	return out
}

// windows is how many engine windows have come.
func (d *Driver) windows() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ticks
}

// publish changes the search's state and hands it on.
func (d *Driver) publish(fn func(r *report.Search)) {
	d.mu.Lock()
	fn(&d.res)
	d.res.DurationS = time.Since(d.start).Seconds()
	cp := d.res
	cp.Plateaus = append([]report.Plateau{}, d.res.Plateaus...)
	d.mu.Unlock()
	if d.o.OnChange != nil {
		d.o.OnChange(&cp)
	}
}

// ramp moves every group from its targets in from to those in to over the
// first half of --settle, in steps of a tenth of a second.
func (d *Driver) ramp(ctx context.Context, ctl Control, from, to []report.PlateauGroup) bool {
	over := d.o.Settle / 2
	steps := int(over / (100 * time.Millisecond))
	if from == nil || steps < 1 {
		d.set(ctl, to)
		return ctx.Err() == nil
	}
	for i := 1; i <= steps; i++ {
		f := float64(i) / float64(steps)
		mid := make([]report.PlateauGroup, len(to))
		for j := range to {
			v := from[j].Target + (to[j].Target-from[j].Target)*f
			if !d.bases[j].open {
				v = math.Round(v)
			}
			mid[j] = report.PlateauGroup{Name: to[j].Name, Target: v}
		}
		d.set(ctl, mid)
		if !sleepCtx(ctx, over/time.Duration(steps)) {
			return false
		}
	}
	return true
}

func (d *Driver) set(ctl Control, ts []report.PlateauGroup) {
	for _, g := range ts {
		if err := ctl.SetTarget(g.Name, g.Target); err != nil {
			d.o.Logf("find: %v", err)
		}
	}
}

// sleepCtx waits for d or ctx; false when ctx ended.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

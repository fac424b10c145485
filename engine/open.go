package engine

// The open model (ramping-arrival-rate): the pacer that issues arrivals on
// the schedule and hands them to free VUs.

import (
	"math"
	"time"
)

// paceLocked builds an open group's pace from the control state at run
// time w, continuing from the arrivals already due. e.mu must be held.
func (e *Engine) paceLocked(g *group, w time.Duration) pace {
	acc := 0.0
	if w > 0 {
		acc = g.pace.due(g.sch, w)
	}
	p := pace{anchorWall: w, anchorAcc: acc, scale: e.scale, stageAt: e.stageTimeLocked(w)}
	if v, ok := e.overrides[g.cfg.Name]; ok {
		p.constant, p.rate = true, math.Max(0, v)
	} else if e.held {
		r, _ := g.sch.At(p.stageAt)
		p.constant, p.rate = true, r*e.scale
	}
	return p
}

// rate0 is the pace's current target rate at its anchor.
func (p *pace) rate0(s Schedule) float64 {
	if p.constant {
		return p.rate
	}
	r, _ := s.At(p.stageAt)
	return r * p.scale
}

// reanchorLocked re-bases every open group after a control change.
func (e *Engine) reanchorLocked() {
	if !e.once.Running() {
		return
	}
	w := e.sinceStart()
	for _, g := range e.groups {
		if g.open {
			g.pace = e.paceLocked(g, w)
		}
	}
}

// arrivals is an open group's pacer: it hands arrival k to a free VU at
// the absolute run time the schedule says, and counts it as dropped (and
// adds a VU, up to max) when none is free. It returns when the group's
// stages are over or the engine stops.
func (e *Engine) arrivals(g *group) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var issued int64
	for !e.stopping.Load() {
		now := e.sinceStart()
		e.mu.Lock()
		st := e.stageTimeLocked(now)
		p := g.pace
		var next time.Duration
		ok := false
		nextSt := time.Duration(0)
		if st < g.dur {
			next, ok = p.when(g.sch, float64(issued))
			if ok {
				nextSt = next - now + st
				if e.held {
					nextSt = st
				}
			}
		}
		// The rate shown in ticks: the curve now, under the controls, for
		// this segment's share.
		if p.constant {
			g.rateBits.Store(math.Float64bits(p.rate * e.segWidth()))
		} else if st < g.dur {
			r, _ := g.sch.At(st)
			g.rateBits.Store(math.Float64bits(r * p.scale * e.segWidth()))
		}
		e.mu.Unlock()
		if st >= g.dur {
			// Arrivals due before the stages ended that a late wake-up
			// (a busy machine) has not sent yet are still the schedule's:
			// send them now, each with its intended start, rather than
			// lose them without a count.
			for next, ok := p.when(g.sch, float64(issued)); ok && next-now+st < g.dur; next, ok = p.when(g.sch, float64(issued)) {
				if e.opts.Segment.owns(issued) {
					e.dispatch(g, e.start.Add(next))
				}
				issued++
			}
			g.rateBits.Store(0)
			return
		}
		var wait time.Duration
		switch {
		case !ok || nextSt >= g.dur:
			// Nothing more before the stage end (or rate 0): sleep till
			// the end or a control change.
			wait = min(g.dur-st, 100*time.Millisecond)
		case next <= now:
			// Due: dispatch every arrival whose time has come, each with
			// its own intended start.
			// Arrivals of other segments are skipped, not sent.
			for ; ok && next <= now; next, ok = p.when(g.sch, float64(issued)) {
				if e.opts.Segment.owns(issued) {
					e.dispatch(g, e.start.Add(next))
				}
				issued++
			}
			continue
		case next-now <= fineWait:
			// Close: wait precisely (see fineWait), then dispatch.
			preciseWait(e.sinceStart, next)
			continue
		default:
			// Wake about 1 ms early on a timer, then finish precisely.
			wait = next - now - fineWait/2
		}
		timer.Reset(wait)
		select {
		case <-timer.C:
		case <-g.notify:
			if !timer.Stop() {
				<-timer.C
			}
		}
	}
}

// dispatch gives one arrival to a free VU, or counts it as dropped.
func (e *Engine) dispatch(g *group, intended time.Time) {
	select {
	case v := <-g.idle:
		e.rec.shard(int(e.nextVU.Load())).started(g.idx)
		v.work <- intended
	default:
		// No VU free: while the pool may grow, a new VU takes this arrival
		// (from its intended time, so any setup it runs first is counted as
		// lateness). k6 drops it and grows in the background, which counts
		// brink's own pool growth as arrivals the target could not take.
		if e.spawnOpen(g, intended) {
			e.rec.shard(int(e.nextVU.Load())).started(g.idx)
			return
		}
		e.rec.shard(int(e.nextVU.Load())).dropped(g.idx)
		g.mu.Lock()
		warn := !g.warned
		g.warned = true
		g.mu.Unlock()
		if warn {
			e.opts.Logf("engine: group %q: all %d VUs busy, arrivals are being dropped (raise max_vus?)", g.cfg.Name, g.maxVUs)
		}
	}
}

// spawnOpen adds one VU to an open group, up to its max, and reports
// whether it did. A non-zero first is the arrival the VU runs before it
// offers itself as idle.
func (e *Engine) spawnOpen(g *group, first time.Time) bool {
	g.mu.Lock()
	if g.nvus >= g.maxVUs {
		g.mu.Unlock()
		return false
	}
	idx := g.nvus
	g.nvus++
	g.mu.Unlock()
	v := e.newVU(g, idx)
	v.work = make(chan time.Time, 1)
	e.vuWG.Add(1)
	go func() { defer e.guard(); v.runOpen(first) }()
	return true
}

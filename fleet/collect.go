package fleet

import (
	"fmt"
	"strings"
	"time"

	"github.com/brink-load/brink/fleet/proto"
	"github.com/brink-load/brink/measure"
)

// collector orders the agents' windows and hands each merged window on
// once every agent still running has sent it (or it is overdue). It is
// owned by the controller's run loop: no locks.
type collector struct {
	start     time.Time
	lateAfter time.Duration // how long a window waits for a slow agent
	agents    []*agent
	pending   map[int]*window
	first     map[int]time.Time // when each pending window got its first tick
	free      []*window
	next      int // the next window to hand on
	emit      func(measure.Tick)
	logf      func(string, ...any)
}

func newCollector(start time.Time, win time.Duration, agents []*agent, emit func(measure.Tick), logf func(string, ...any)) *collector {
	return &collector{start: start, lateAfter: win + 2*time.Second, agents: agents, pending: map[int]*window{},
		first: map[int]time.Time{}, emit: emit, logf: logf}
}

// add folds one agent's window in. A window that comes after its slot was
// handed on is counted in the next one: its requests are never lost.
func (c *collector) add(a *agent, t *proto.Tick, now time.Time) {
	seq := max(t.Seq, c.next)
	w := c.pending[seq]
	if w == nil {
		if n := len(c.free); n > 0 {
			w, c.free = c.free[n-1], c.free[:n-1]
		} else {
			w = newWindow()
		}
		w.reset(seq)
		c.pending[seq] = w
		c.first[seq] = now
	}
	if err := w.add(a.name, t); err != nil {
		c.logf("agent %s: window %d: %v", a.name, t.Seq, err)
	}
	a.seen = max(a.seen, t.Seq+1)
	a.last, a.lastAt = t, now
}

// flush hands on every window that is complete, or overdue (force: all of
// them, at the end).
func (c *collector) flush(now time.Time, force bool) {
	for len(c.pending) > 0 {
		seq := -1
		for s := range c.pending {
			if seq < 0 || s < seq {
				seq = s
			}
		}
		var missing []string
		for _, a := range c.agents {
			if !a.done && !a.lost && a.seen <= seq {
				missing = append(missing, a.name)
			}
		}
		if len(missing) > 0 && !force && now.Sub(c.first[seq]) < c.lateAfter {
			return
		}
		w := c.pending[seq]
		delete(c.pending, seq)
		delete(c.first, seq)
		t := w.tick(c.start)
		if len(missing) > 0 && !force {
			mark(&t, fmt.Sprintf("agent %s late: its window is counted in a later one", strings.Join(missing, ", ")))
		}
		for _, a := range c.agents {
			if a.lost && !a.lostAt.IsZero() && !c.start.Add(t.Elapsed).Before(a.lostAt) {
				mark(&t, a.lostReason())
			}
		}
		c.next = seq + 1
		c.free = append(c.free, w)
		c.emit(t)
	}
}

// mark says in t's generator health that the load was not all there: such
// a window is never the breakpoint nor stable load, and a first signal in
// it makes the run inconclusive.
func mark(t *measure.Tick, why string) {
	g := &t.Generator
	if g.Overloaded && g.Reason != "" {
		if !strings.Contains(g.Reason, why) {
			g.Reason += "; " + why
		}
	} else {
		g.Reason = why
	}
	g.Overloaded, g.Partial = true, true
}

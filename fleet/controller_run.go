package fleet

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/brink-load/brink/fleet/proto"
	"github.com/brink-load/brink/measure"
)

// Run starts every agent at one time and merges their windows until each
// has ended or been lost. ctx cancelled aborts the agents' load at once
// (in-flight requests cut); Stop ramps it down gracefully.
func (c *Controller) Run(ctx context.Context) error {
	c.mu.Lock()
	err := c.once.Begin("fleet")
	c.mu.Unlock()
	if err != nil {
		return err
	}
	defer c.once.End()

	msgs := make(chan *nats.Msg, 4096)
	sub, err := c.nc.ChanSubscribe(proto.Run(c.run), msgs)
	if err != nil {
		return fmt.Errorf("fleet: subscribe: %w", err)
	}
	defer func() { _ = sub.Unsubscribe() }()

	start := time.Now().Add(startLead)
	c.mu.Lock()
	c.start = start
	c.mu.Unlock()
	errs := c.fanOut(ctx, func(a *agent) *proto.Msg {
		return &proto.Msg{Type: proto.TypeStart, Start: &proto.StartMsg{At: start.Add(a.offset).UnixNano()}}
	})
	if err := joinLine(errs); err != nil {
		c.abortAll()
		return fmt.Errorf("fleet: start: %w", err)
	}
	now := time.Now()
	for _, a := range c.agents {
		a.heard = now
	}
	col := newCollector(start, c.window, c.agents, c.emit, c.logf)
	check := time.NewTicker(250 * time.Millisecond)
	defer check.Stop()
	stopCh := c.once.Stopping()
	var hard <-chan time.Time
	for !c.allEnded() {
		select {
		case raw := <-msgs:
			c.receive(col, raw)
		case <-check.C:
			c.watch(time.Now())
			col.flush(time.Now(), false)
		case <-stopCh:
			stopCh = nil
			_ = c.control(proto.ControlMsg{Op: proto.OpStop})
		case <-ctx.Done():
			if hard == nil {
				c.abortAll()
				// Agents that do not answer are lost by then.
				hard = time.After(LostAfter + time.Second)
			}
		case <-hard:
			col.flush(time.Now(), true)
			return ctx.Err()
		}
	}
	col.flush(time.Now(), true)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

func (c *Controller) emit(t measure.Tick) {
	if c.onTick != nil {
		c.onTick(t)
	}
}

// abortAll cuts every agent's load at once.
func (c *Controller) abortAll() {
	for _, a := range c.agents {
		b, err := proto.Encode(&proto.Msg{Type: proto.TypeControl, Control: &proto.ControlMsg{Op: proto.OpAbort}})
		if err == nil {
			// No reply awaited: an agent that is gone must not hold brink.
			_ = c.nc.Publish(proto.Agent(a.ID), b)
		}
	}
	_ = c.nc.Flush()
}

// beat tells the agents the controller is alive; an agent that stops
// hearing it stops its load.
func (c *Controller) beat(ctx context.Context) {
	t := time.NewTicker(beatEvery)
	defer t.Stop()
	for {
		_ = c.publish(proto.Beat(c.run), &proto.Msg{Type: proto.TypeBeat, Beat: &proto.BeatMsg{Now: time.Now().UnixNano()}})
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (c *Controller) allEnded() bool {
	for _, a := range c.agents {
		if !a.done && !a.lost {
			return false
		}
	}
	return true
}

func (c *Controller) byID(id string) *agent {
	for _, a := range c.agents {
		if a.ID == id {
			return a
		}
	}
	return nil
}

// receive handles one message from an agent of this run.
func (c *Controller) receive(col *collector, raw *nats.Msg) {
	m, err := proto.Decode(raw.Data)
	if err != nil {
		c.logf("fleet: %v", err)
		return
	}
	a := c.byID(m.Agent)
	if a == nil || a.lost {
		return // a lost agent's late word changes nothing: its share was marked short
	}
	now := time.Now()
	a.heard = now
	switch m.Type {
	case proto.TypeTick:
		if m.Tick != nil {
			col.add(a, m.Tick, now)
			c.updateStatus(a, m.Tick, now)
			col.flush(now, false)
		}
	case proto.TypeDone:
		a.done = true
		if m.Done != nil && m.Done.Err != "" {
			a.failed = m.Done.Err
			c.logf("fleet: agent %s ended with: %s", a.name, m.Done.Err)
			c.mu.Lock()
			a.status.Error = m.Done.Err
			c.mu.Unlock()
		}
		col.flush(now, false)
	}
}

// updateStatus copies an agent's latest window into its health row.
func (c *Controller) updateStatus(a *agent, t *proto.Tick, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := &a.status
	s.VUs = t.VUs
	s.Requests += t.Requests
	if t.Window > 0 {
		s.RPS = float64(t.Requests) / t.Window.Seconds()
	}
	s.CPUPercent = t.Generator.CPUPercent
	s.SendLagP99 = t.Generator.LagP99
	s.Overloaded = t.Generator.Overloaded
	s.LastTick = now
}

// watch names an agent lost once it has been silent LostAfter: the run
// goes on without it, and every window from then on says the load was
// short by its share.
func (c *Controller) watch(now time.Time) {
	for _, a := range c.agents {
		if a.done || a.lost || now.Sub(a.heard) < LostAfter {
			continue
		}
		a.lost = true
		// The loss began when it was last heard, not when it was noticed.
		a.lostAt = a.heard
		c.mu.Lock()
		a.status.LostAt = a.lostAt
		c.mu.Unlock()
		text := fmt.Sprintf("agent %s (%s) lost at %s: nothing heard for %s (what it sent after its last window is not counted); the run goes on with %d of %d agents, %.0f %% of the load",
			a.name, a.Host, a.lostAt.Format("15:04:05"), LostAfter.Round(time.Second), len(c.live()), len(c.agents), 100*c.liveShare())
		if c.event != nil {
			c.event(text, a.lostAt)
		} else {
			c.logf("%s", text)
		}
	}
}

func (c *Controller) liveShare() float64 {
	s := 0.0
	for _, a := range c.live() {
		s += a.share()
	}
	return s
}

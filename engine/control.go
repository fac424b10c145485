package engine

// The Control methods: steering a running engine from any goroutine.

import (
	"fmt"
	"math"
	"time"
)

// Hold freezes every group's target where it is.
func (e *Engine) Hold() {
	e.mu.Lock()
	if !e.held {
		w := time.Duration(0)
		if e.once.Running() {
			w = e.sinceStart()
		}
		e.reanchorLocked()
		e.held, e.heldSince = true, w
		e.reanchorLocked()
	}
	e.mu.Unlock()
	e.wakeAll()
}

// Resume continues the stages from where they were held and drops any
// SetTarget override.
func (e *Engine) Resume() {
	e.mu.Lock()
	e.reanchorLocked()
	if e.held {
		w := time.Duration(0)
		if e.once.Running() {
			w = e.sinceStart()
		}
		e.heldTotal += w - e.heldSince
		e.held = false
	}
	clear(e.overrides)
	e.reanchorLocked()
	e.mu.Unlock()
	e.wakeAll()
}

// Held reports whether the ramp is on hold.
func (e *Engine) Held() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.held
}

// Scale multiplies every group's target by factor from now on; factors
// compound. A factor ≤ 0 is ignored.
func (e *Engine) Scale(factor float64) {
	if !(factor > 0) || math.IsInf(factor, 0) {
		return
	}
	e.mu.Lock()
	e.reanchorLocked()
	e.scale *= factor
	for name, v := range e.overrides {
		e.overrides[name] = v * factor
	}
	e.reanchorLocked()
	e.mu.Unlock()
	e.wakeAll()
}

// SetTarget overrides one group's target (VUs, or iterations/s for an
// arrival-rate group) until Resume.
func (e *Engine) SetTarget(group string, target float64) error {
	if target < 0 || math.IsNaN(target) || math.IsInf(target, 0) {
		return fmt.Errorf("engine: target %v for group %q: must be a number ≥ 0", target, group)
	}
	for _, g := range e.groups {
		if g.cfg.Name == group { // a websocket twin shares the name and the override
			e.mu.Lock()
			e.reanchorLocked()
			e.overrides[group] = target
			e.reanchorLocked()
			e.mu.Unlock()
			e.wakeAll()
			return nil
		}
	}
	return fmt.Errorf("engine: no group %q", group)
}

package engine

import (
	"errors"
	"sync"
)

// RunOnce is a load source's one run, kept alike by Engine and
// fleet.Controller: Run begins it at most once; Stop asks it to end and,
// once it has begun, waits until Run has returned. The owner's mutex
// guards whether it has begun.
type RunOnce struct {
	mu       *sync.Mutex // the owner's
	running  bool
	stopOnce sync.Once
	stopCh   chan struct{} // closed by Stop
	done     chan struct{} // closed when Run has returned
}

// NewRunOnce is a run not yet begun, guarded by its owner's mu.
func NewRunOnce(mu *sync.Mutex) *RunOnce {
	return &RunOnce{mu: mu, stopCh: make(chan struct{}), done: make(chan struct{})}
}

// Begin marks the run begun, with the owner's mutex held; a second Run is
// refused with an error naming who.
func (r *RunOnce) Begin(who string) error {
	if r.running {
		return errors.New(who + ": Run called twice")
	}
	r.running = true
	return nil
}

// Running reports whether Run has begun; the owner's mutex is held.
func (r *RunOnce) Running() bool { return r.running }

// Stopping is closed by Stop.
func (r *RunOnce) Stopping() <-chan struct{} { return r.stopCh }

// End says Run has returned (Run defers it): Stop waits for it.
func (r *RunOnce) End() { close(r.done) }

// Stop asks the run to end and, when it has begun, waits until Run has
// returned. Safe to call more than once, and before or without Run.
func (r *RunOnce) Stop() {
	r.stopOnce.Do(func() { close(r.stopCh) })
	r.mu.Lock()
	running := r.running
	r.mu.Unlock()
	if running {
		<-r.done
	}
}

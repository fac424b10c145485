package run

import (
	"context"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/report"
	"github.com/brink-load/brink/scenarios"
	"github.com/brink-load/brink/search"
	"github.com/brink-load/brink/tui"
)

// finder is a `brink find` run's search: the driver that sets the load
// plateau by plateau, and its result once it ended.
type finder struct {
	drv    *search.Driver
	done   chan struct{}
	result report.Search
}

// newFinder prepares the search over sc and returns the scenario the
// engine runs for it (every group's target set live by the driver).
func (r *runner) newFinder(sc *scenarios.Scenario, o search.Options) (*scenarios.Scenario, error) {
	o.GeneratorBottleneck = func(t *measure.Tick) bool { return t.Generator.Overloaded }
	o.Logf = func(f string, a ...any) { r.logf(f, a...) }
	o.OnChange = func(s *report.Search) { r.rec.SetSearch(s) }
	drv, err := search.NewDriver(sc, o)
	if err != nil {
		return nil, err
	}
	r.find = &finder{drv: drv, done: make(chan struct{})}
	return search.Prepare(sc, o.MaxDuration), nil
}

// startFind runs the search beside the engine until it ends or the run is
// stopped (stop); then it ramps the load down.
func (r *runner) startFind(stop context.Context) {
	if r.find == nil {
		return
	}
	r.goGuarded(func() {
		defer close(r.find.done)
		r.find.result = r.find.drv.Run(stop, r.eng)
		r.stopEngine()
	})
}

// waitFind waits for the search to end (its result is then set).
func (r *runner) waitFind() *report.Search {
	if r.find == nil {
		return nil
	}
	<-r.find.done
	return &r.find.result
}

// findController is the console's control during a find: the search sets
// the load, so hold, resume and scale are refused (said in the event log);
// abort and quit still stop it.
type findController struct {
	consoleController
	note func(string)
}

func (c findController) Hold()                           { c.note("hold") }
func (c findController) Resume()                         { c.note("resume") }
func (c findController) Held() bool                      { return false }
func (c findController) Scale(float64)                   { c.note("scale") }
func (c findController) SetTarget(string, float64) error { c.note("set target"); return nil }

func (r *runner) findNote(what string) {
	r.rec.Note("brink", what+" ignored: find sets the load plateau by plateau", time.Now())
}

// controller is what consoles steer the run through.
func (r *runner) controller() tui.Controller {
	if r.find != nil {
		return findController{consoleController: r.ctl, note: r.findNote}
	}
	return r.ctl
}

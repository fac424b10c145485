package run

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/brink-load/brink/report"
)

// Why a run stopped: each is a cause on the run's stop context
// (context.Cause), so the exit code is read from what happened, not from
// flags set in several places.
type (
	// planEnded: the stages ran out (or the engine returned by itself).
	planEnded struct{}
	// breakpointAbort: abort_on_breakpoint ramped the load down.
	breakpointAbort struct{}
	// signalStop: SIGINT, SIGTERM, or SIGHUP without --share.
	signalStop struct{ sig os.Signal }
	// consoleStop: an engineer quit or aborted from a console ("local
	// (quit)", or an SSH viewer's name).
	consoleStop struct{ who string }
	// panicStop: brink itself panicked; the report is still written.
	panicStop struct{ value any }
)

func (planEnded) Error() string       { return "the plan ended" }
func (breakpointAbort) Error() string { return "abort_on_breakpoint" }
func (c signalStop) Error() string    { return "signal " + c.sig.String() }
func (c consoleStop) Error() string   { return "aborted from the console by " + c.who }
func (c panicStop) Error() string     { return fmt.Sprintf("panic: %v", c.value) }

// external reports whether cause is a stop from outside the plan: a signal
// or an engineer at a console. A hang-up that detaches the local console
// under --share is no stop at all and never reaches here.
func external(cause error) bool {
	var s signalStop
	var c consoleStop
	return errors.As(cause, &s) || errors.As(cause, &c)
}

// stops is the run's stop context. The context carries the first reason
// (what began the ramp-down); every reason is kept, since a Ctrl-C after a
// breakpoint abort still makes the run one stopped from outside (105
// outranks 99).
type stops struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	mu     sync.Mutex
	all    []error
}

func newStops() *stops {
	ctx, cancel := context.WithCancelCause(context.Background())
	return &stops{ctx: ctx, cancel: cancel}
}

// stop records why, and ends the stop context on the first call.
func (s *stops) stop(why error) {
	s.mu.Lock()
	s.all = append(s.all, why)
	s.mu.Unlock()
	s.cancel(why)
}

// cause is every reason given so far, joined (nil when none was).
func (s *stops) cause() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.all...)
}

// external reports whether a signal or a console stopped the run.
func (s *stops) external() bool { return external(s.cause()) }

// outcome is what the finished run says about the system under load.
type outcome struct {
	runErr       error // the engine's or the console's error
	reportLost   bool  // neither the path nor the fallback took the report
	passed       bool  // every threshold held
	nodeCrossed  bool  // a node or panel crossed its threshold, sustained
	inconclusive bool  // the run could not be judged
	// search is brink find's result: it, not the run's thresholds,
	// decides (a failed plateau is part of a search).
	search *report.Search
}

// exitCode is the one place a run's end becomes brink's exit code (k6's
// codes): a failure of brink (1) before anything else, then a stop from
// outside (105), a broken system (99), a run that could not be judged
// (98), and only then 0.
func exitCode(cause error, o outcome) int {
	var p panicStop
	switch {
	case errors.As(cause, &p):
		return ExitFailure
	case o.runErr != nil && !errors.Is(o.runErr, context.Canceled):
		return ExitFailure
	case o.reportLost:
		return ExitFailure
	case external(cause):
		return ExitExternalAbort
	case o.search != nil && !o.search.Found:
		return ExitInconclusive
	case o.search != nil && !o.search.Met:
		return ExitThreshold
	case o.search != nil:
		return ExitOK
	case errors.As(cause, new(breakpointAbort)), !o.passed, o.nodeCrossed:
		return ExitThreshold
	case o.inconclusive:
		return ExitInconclusive
	}
	return ExitOK
}

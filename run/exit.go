package run

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/brink-load/brink/measure"
)

// Exit codes follow k6, so CI scripts can treat brink like k6; exitCode
// (stop.go) is the one place a run's end becomes one of them.
const (
	ExitOK        = 0
	ExitFailure   = 1  // anything else went wrong
	ExitUsage     = 2  // bad flags, bad scenario, bad input file
	ExitThreshold = 99 // a threshold failed (or the run aborted at the breakpoint)
	// The run could not be judged: a threshold without data, node metrics
	// missing for most of the load, a first signal while brink itself was
	// the bottleneck (verdict.inconclusive says which).
	ExitInconclusive = 98
	// A run stopped from outside (Ctrl-C, SIGTERM, SIGHUP, a console's
	// quit or abort): the report is still written.
	ExitExternalAbort = 105
)

// Test seams: a test makes a tick panic, and sees the exit code instead of
// losing its process.
var (
	TickHook    = func(measure.Tick) {}
	ExitProcess = os.Exit
)

// gracefulStop bounds how long a stop waits for in-flight requests before
// cutting them (the engine's graceful stop, set here so the message on the
// first Ctrl-C says the truth); hardExitAfter is how long brink waits after
// a second Ctrl-C for the run to let go before it leaves anyway.
const (
	gracefulStop  = 30 * time.Second
	hardExitAfter = 5 * time.Second
)

// stopSignals stop brink from outside: a run (watchSignals, exit 105) and
// whatever waits outside one (StopContext).
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// StopContext ends when one of the stop signals arrives (Ctrl-C, SIGTERM,
// SIGHUP): for the waits outside a run's own handling (agents joining,
// brink agent, nodes, demo --listen). stop stops listening.
func StopContext() (ctx context.Context, stop context.CancelFunc) {
	return signal.NotifyContext(context.Background(), stopSignals...)
}

// SignalName is how the engineer sent the signal.
func SignalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "Ctrl-C"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return s.String()
}

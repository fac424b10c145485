package main

import (
	"fmt"
	"io"

	"github.com/brink-load/brink/scenarios"
)

// runOpts are the options every load-running command (run, probe, demo)
// shares.
type runOpts struct {
	Headless          bool   // line printer instead of the console (also when stdout is no terminal)
	ReportPath        string // JSON report; "" means brink-report-<time>.json in the working directory
	AbortOnBreakpoint bool   // ramp down at the breakpoint (also scenario abort_on_breakpoint)
	Share             string // SSH listen address for pairing ("" = off)
	AuthorizedKeys    string
	Controllers       string
	MaxViewers        int
	// Extra nodes source etc. are taken from the scenario.
}

// execute runs a loaded scenario through engine → report (+ promquery) →
// console or line printer, and returns the exit code. Being wired in this
// session; callers (run, probe, demo) can already depend on its signature.
func execute(sc *scenarios.Scenario, o runOpts, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "brink: execute not wired yet")
	return exitFailure
}

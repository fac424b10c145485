package report

import "strings"

// Final is a finished run as a console shows it at the end: the verdict,
// what decided the exit code, and whole-run figures (not the last,
// often partial, window's).
type Final struct {
	Verdict Verdict
	// Outcome says the exit code in words ("Thresholds failed: exit code
	// 99."), "" for a pass; the summary prints the same line.
	Outcome string
	// Passed: nothing failed the run (exit code 0, or 98 inconclusive, or
	// 105 stopped from outside with everything held so far).
	Passed bool
	// FailedThresholds are the labels of the thresholds that failed over
	// the whole run, with their expression: "http_req_duration p(95)<500".
	FailedThresholds []string
	Requests         int64
	RPS, ErrorRate   Num // over the run's active time; a fraction
	P50Ms, P95Ms     Num
	P99Ms            Num
	VUsMax           int
}

// outcome is what decides a finished run's exit code, as the report
// holds it.
type outcome struct {
	thFailed     bool   // a threshold failed over the whole run
	failed       bool   // the verdict failed the run (dropped arrivals)
	crossed      bool   // a node or panel crossed its threshold
	inconclusive bool   // something could not be judged
	aborted      string // why the run stopped early, "" if it ran its course
	// search is brink find's result: it decides, not the thresholds (a
	// failed plateau is part of a search).
	search *Search
}

// Abort reasons as the run gives them to Recorder.Abort: a signal or a
// console's quit/abort is a stop from outside (105), a panic an internal
// failure (1), abort_on_breakpoint the breakpoint itself (99).
const (
	abortSignalPrefix     = "signal "
	abortSecondPrefix     = "second signal "
	abortConsolePrefix    = "aborted from the console by "
	abortPanicPrefix      = "panic: "
	abortBreakpointPrefix = "abort_on_breakpoint"
)

// stoppedFromOutside reports whether an abort reason is a stop from
// outside the plan: exit code 105.
func stoppedFromOutside(why string) bool {
	return strings.HasPrefix(why, abortSignalPrefix) || strings.HasPrefix(why, abortSecondPrefix) ||
		strings.HasPrefix(why, abortConsolePrefix)
}

// text is the exit code in words by the run's precedence (1 for brink's
// own failure, then 105 > 99 > 98 > 0), as the summary ends and the
// console's verdict panel says; "" for a pass.
func (o outcome) text() string {
	switch {
	case strings.HasPrefix(o.aborted, abortPanicPrefix):
		return "brink stopped on an internal error: exit code 1."
	case stoppedFromOutside(o.aborted):
		return "Stopped from outside before the plan ended (" + o.aborted + "): exit code 105."
	case o.search != nil && !o.search.Found:
		return "Inconclusive: the search found no answer: exit code 98."
	case o.search != nil && !o.search.Met && o.search.Answer <= 0:
		return "Nothing held, not even the least load tried: exit code 99."
	case o.search != nil && !o.search.Met:
		return "The answer is below --require " + trimFloat(o.search.Require, 1) + ": exit code 99."
	case o.search != nil:
		return ""
	case o.thFailed:
		return "Thresholds failed: exit code 99."
	case o.failed:
		return "The run failed: exit code 99."
	case o.crossed:
		return "A node or panel crossed its threshold: exit code 99."
	case strings.HasPrefix(o.aborted, abortBreakpointPrefix):
		return "Aborted at the breakpoint: exit code 99."
	case o.inconclusive:
		return "Inconclusive: exit code 98."
	}
	return ""
}

// nothingFailed: no threshold, verdict rule, crossing or panic failed the
// run (it may still be inconclusive or stopped from outside).
func (o outcome) nothingFailed() bool {
	if o.search != nil {
		return o.search.Met || !o.search.Found
	}
	return !o.thFailed && !o.failed && !o.crossed && !strings.HasPrefix(o.aborted, abortPanicPrefix) &&
		!strings.HasPrefix(o.aborted, abortBreakpointPrefix)
}

// reportOutcome reads a report's outcome.
func reportOutcome(rep *Report) outcome {
	o := outcome{failed: len(rep.Verdict.Failed) > 0, crossed: crossed(rep.Events),
		inconclusive: len(rep.Verdict.Inconclusive) > 0, aborted: rep.Verdict.Aborted, search: rep.Search}
	for _, t := range rep.Thresholds {
		o.thFailed = o.thFailed || t.Failed()
	}
	return o
}

// final builds the Final of the run; r.mu held.
func (r *Recorder) final() *Final {
	a := &r.run
	f := &Final{Verdict: r.verdict(), Requests: a.sum.Requests, ErrorRate: rate(a.sum.ErrorCount, a.sum.Requests),
		VUsMax: a.vusMax}
	f.RPS = nan()
	if secs := a.active.Seconds(); secs > 0 {
		f.RPS = Num(float64(a.sum.Requests) / secs)
	}
	d := withStall(&a.lat, &a.stallLat).dist()
	f.P50Ms, f.P95Ms, f.P99Ms = d.Med, d.P95, d.P99
	o := outcome{failed: len(f.Verdict.Failed) > 0, crossed: crossed(r.v.Events),
		inconclusive: len(f.Verdict.Inconclusive) > 0, aborted: f.Verdict.Aborted, search: r.search}
	for _, t := range r.thresholdResults() {
		if t.Failed() {
			o.thFailed = true
			f.FailedThresholds = append(f.FailedThresholds, t.Metric+" "+t.Expr)
		}
	}
	f.Outcome = o.text()
	f.Passed = o.nothingFailed()
	return f
}

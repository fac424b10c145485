package report

// Final is a finished run as a console shows it at the end: the verdict,
// what decided the exit code, and whole-run figures (not the last,
// often partial, window's).
type Final struct {
	Verdict Verdict
	// Outcome says the exit code in words ("Thresholds failed: exit code
	// 99."), "" for a pass; the summary prints the same line.
	Outcome string
	// Passed: nothing failed the run (exit code 0, or 98 inconclusive).
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

// outcomeText is the exit code in words, as the summary ends; "" for a
// pass.
func outcomeText(thFailed, passed, inconclusive, crossed bool) string {
	switch {
	case thFailed:
		return "Thresholds failed: exit code 99."
	case !passed:
		return "The run failed: exit code 99."
	case crossed:
		return "A node or panel crossed its threshold: exit code 99."
	case inconclusive && !crossed:
		return "Inconclusive: exit code 98."
	}
	return ""
}

// final builds the Final of the run; r.mu held.
func (r *Recorder) final() *Final {
	a := &r.run
	f := &Final{Verdict: r.verdict(), Requests: a.requests, ErrorRate: rate(a.errors, a.requests), VUsMax: a.vusMax}
	f.RPS = nan()
	if secs := a.active.Seconds(); secs > 0 {
		f.RPS = Num(float64(a.requests) / secs)
	}
	d := withStall(&a.lat, &a.stallLat).dist()
	f.P50Ms, f.P95Ms, f.P99Ms = d.Med, d.P95, d.P99
	thFailed := false
	for _, t := range r.thresholdResults() {
		if !t.OK {
			thFailed = true
			f.FailedThresholds = append(f.FailedThresholds, t.Metric+" "+t.Expr)
		}
	}
	passed := !thFailed && len(f.Verdict.Failed) == 0
	f.Outcome = outcomeText(thFailed, passed, len(f.Verdict.Inconclusive) > 0, crossed(r.v.Events))
	f.Passed = passed && !crossed(r.v.Events)
	return f
}

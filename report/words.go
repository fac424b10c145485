package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/brink-load/brink/scenarios"
)

// The words and figures other renderings of a report (the HTML page, CSV)
// show, exported so that they say exactly what the terminal summary says.

// OutcomeText is the summary's outcome line under the verdict ("Thresholds
// failed: exit code 99."), "" for a run that passed.
func OutcomeText(rep *Report) string { return reportOutcome(rep).text() }

// ThresholdMark is the summary's mark of a threshold: ✓ held, ✗ failed,
// ? not judged (no data).
func ThresholdMark(t ThresholdResult) string {
	switch {
	case t.NoData:
		return "?"
	case !t.OK:
		return "✗"
	}
	return "✓"
}

// ThresholdValueText is a threshold's whole-run value as the summary says
// it ("312 ms", "2.1 %", "no data"); a failed value never reads as the
// limit.
func ThresholdValueText(t ThresholdResult) string {
	if t.NoData || !t.Value.Valid() {
		return "no data"
	}
	base, _, _ := strings.Cut(t.Metric, "{")
	val := fmtThresholdValue(base, t.Agg, float64(t.Value))
	if th, err := scenarios.ParseThreshold(t.Metric, t.Expr); err == nil && t.Failed() {
		val = fmtFailed(th, float64(t.Value))
	}
	return val
}

// MsText is a latency in ms as the summary prints it ("-" when missing).
func MsText(n Num) string { return msOrDash(n) }

// RateText is a fraction as a percentage ("2.1 %", "-" when missing).
func RateText(n Num) string { return fmtRate(n) }

// CountText is a count with groups of three ("1 840").
func CountText(n int64) string { return group3(n) }

// DurText is a length of time as the summary says it ("7 s", "2m05s").
func DurText(d time.Duration) string { return fmtDur(d) }

// BreakpointText says the breakpoint's load and when, as the comparison
// does ("630 users (…) after 1m12s"), "" without one.
func BreakpointText(rep *Report) string {
	if rep.Verdict.Breakpoint == nil {
		return ""
	}
	return bpLine(rep, rep.Verdict.OpenModel)
}

// ScenarioName is the report's scenario name, "(unnamed)" without one.
func ScenarioName(rep *Report) string { return scenarioName(rep) }

// RunText is when the run started and how long it took.
func RunText(rep *Report) string {
	s := fmt.Sprintf("%s, %s", localTime(rep.Start), fmtDur(time.Duration(rep.DurationS*float64(time.Second))))
	if !rep.Complete {
		s += " (snapshot of a run in progress)"
	}
	return s
}

// OutcomeKind is OutcomeText as one word, by the same precedence:
// "passed", "inconclusive" (98), "stopped" (105) or "failed" (99, 1).
func OutcomeKind(rep *Report) string {
	o := reportOutcome(rep)
	switch {
	case strings.HasPrefix(o.aborted, abortPanicPrefix):
		return "failed"
	case stoppedFromOutside(o.aborted):
		return "stopped"
	case o.thFailed || o.failed || o.crossed || strings.HasPrefix(o.aborted, abortBreakpointPrefix):
		return "failed"
	case o.inconclusive:
		return "inconclusive"
	}
	return "passed"
}

// NumText is a figure with at most prec decimals ("-" when missing).
func NumText(n Num, prec int) string { return fmtNum(n, prec) }

// MatchedLevel is one row of the comparison's matched-load table as
// figures: each run's windows at loads Lo to Hi, up to its peak (mean
// rps, request-weighted mean p95 and p99 in ms); NaN where a run has no
// window at that level.
type MatchedLevel struct {
	Lo, Hi                             float64
	RPSA, RPSB, P95A, P95B, P99A, P99B Num
}

// MatchedLoad is the table `brink report A B` prints under AT MATCHED
// LOAD, as figures, with the unit of its levels ("users", "VUs" or
// "rate/s").
func MatchedLoad(a, b *Report) (string, []MatchedLevel) {
	unit, rows, _ := matchedRows(a, b, a.Verdict.OpenModel && b.Verdict.OpenModel)
	var out []MatchedLevel
	for _, r := range rows {
		l := MatchedLevel{Lo: r.lo, Hi: r.hi}
		l.RPSA, l.P95A, l.P99A = r.a.figures()
		l.RPSB, l.P95B, l.P99B = r.b.figures()
		out = append(out, l)
	}
	return unit, out
}

// figures are a bucket's mean rps and weighted p95 and p99, as cells
// prints them; NaN for an empty bucket.
func (k *bucket) figures() (rps, p95, p99 Num) {
	rps, p95, p99 = nan(), nan(), nan()
	if k == nil || k.windows == 0 {
		return
	}
	rps = Num(k.rpsSum / float64(k.windows))
	if k.latReq > 0 {
		p95, p99 = Num(k.p95w/float64(k.latReq)), Num(k.p99w/float64(k.latReq))
	}
	return
}

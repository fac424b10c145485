package tui

import (
	"strconv"
	"strings"

	"github.com/brink-load/brink/report"
	"github.com/brink-load/brink/termtext"
)

// final is the finished run as the console shows it: the recorder's
// report.Final with its words cleaned (they carry node names, labels and
// scenario names).
type final struct {
	f       report.Final
	text    string
	aborted string   // why the run stopped early ("" when it ran its course)
	reasons []string // failed (✖) and inconclusive (?) reasons, marked
}

func newFinal(f *report.Final) *final {
	out := &final{f: *f, text: termtext.Clean(f.Verdict.Text), aborted: termtext.Clean(f.Verdict.Aborted)}
	out.f.FailedThresholds = nil
	for _, t := range f.FailedThresholds {
		out.f.FailedThresholds = append(out.f.FailedThresholds, termtext.Clean(t))
	}
	for _, r := range f.Verdict.Failed {
		out.reasons = append(out.reasons, "✖ "+termtext.Clean(r.Reason))
	}
	for _, r := range f.Verdict.Inconclusive {
		out.reasons = append(out.reasons, "? "+termtext.Clean(r.Reason))
	}
	out.f.Verdict = report.Verdict{} // only the words above are shown
	return out
}

// numOr is a report number for the console, or "-" without data.
func numOr(n report.Num, f func(float64) string) string {
	if !n.Valid() {
		return "-"
	}
	return f(float64(n))
}

// verdictView is the end-of-run panel: the outcome, the verdict in words,
// what failed or could not be judged, and the whole run in figures. It
// takes the node and event rows (v hides it).
func verdictView(st *Styles, fin *final, find, reportPath string, w, h int) string {
	f := &fin.f
	var outcome string
	switch {
	case f.Outcome == "":
		outcome = st.OK.Render("✓ passed")
	case f.Passed:
		outcome = st.Warn.Render("? " + f.Outcome)
	default:
		outcome = st.Over.Render("✖ " + f.Outcome)
	}
	lines := []string{st.Title.Render("Verdict") + "  " + outcome + st.Dim.Render("  (v: nodes and events)")}
	if fin.aborted != "" {
		lines = append(lines, "  "+st.Warn.Render(truncate("aborted: "+fin.aborted, w-2)))
	}
	text := fin.text
	if find != "" {
		// A find's failed plateaus are part of the search: its answer
		// first, then the run's own verdict, which reads them as
		// breakpoints ("held up to 40 users" where 40 failed).
		for _, l := range report.Wrap("find: max sustainable: "+find, w-2) {
			lines = append(lines, "  "+st.Title.Render(l))
		}
		text = "whole run, every plateau together: " + text
	}
	for _, l := range report.Wrap(text, w-2) {
		lines = append(lines, "  "+st.Value.Render(l))
	}
	if len(f.FailedThresholds) > 0 {
		for i, l := range report.Wrap("thresholds failed: "+strings.Join(f.FailedThresholds, ", "), w-4) {
			ind := "  "
			if i > 0 {
				ind = "    "
			}
			lines = append(lines, ind+st.Over.Render(l))
		}
	}
	for _, r := range fin.reasons {
		for i, l := range report.Wrap(r, w-4) {
			ind := "  "
			if i > 0 {
				ind = "    "
			}
			lines = append(lines, ind+l)
		}
	}
	whole := "whole run: " + strconv.FormatInt(f.Requests, 10) + " requests, " +
		numOr(f.RPS, fmtCount) + " rps, p95 " + numOr(f.P95Ms, fmtMs) + ", p99 " + numOr(f.P99Ms, fmtMs) +
		", errors " + numOr(f.ErrorRate, func(v float64) string { return fmtPct(100 * v) }) +
		", VUs max " + strconv.Itoa(f.VUsMax)
	for _, l := range report.Wrap(whole, w-2) {
		lines = append(lines, "  "+st.Label.Render(l))
	}
	if reportPath != "" {
		lines = append(lines, "  "+st.Dim.Render(truncate("report: "+reportPath, w-2)))
	}
	return fit(strings.Join(lines, "\n"), w, h)
}

package report

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Compare writes a side-by-side comparison of two runs — max stable load,
// breakpoint and first signal, error rate, and RPS and p95/p99 at matched
// load levels — the "verify" step after a change.
func Compare(w io.Writer, a, b *Report) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	open := a.Verdict.OpenModel && b.Verdict.OpenModel
	row := func(label, va, vb string) {
		if utf8.RuneCountInString(va) > 36 {
			// A's value would run into B's ("388 rps ≥ 838 users"): B
			// goes on the next line, in its column.
			p("  %s %s\n  %s %s %s\n", padR(label, 20), va, padR("", 20), padR("", 36), vb)
			return
		}
		p("  %s %s %s\n", padR(label, 20), padR(va, 36), vb)
	}

	p("\n")
	if na, nb := scenarioName(a), scenarioName(b); na != nb {
		p("  warning: comparing different scenarios: %s vs %s\n\n", na, nb)
	}
	row("", "A", "B")
	row("scenario", clip(scenarioName(a), 36), scenarioName(b))
	row("run", runLine(a), runLine(b))
	row("max stable load", stableLine(a, open), stableLine(b, open))
	row("  p95 / p99 there", stableLat(a), stableLat(b))
	row("breakpoint", bpLine(a, open), bpLine(b, open))
	row("first signal", clip(signalLine(a), 36), signalLine(b))
	row("peak load", peakLine(a, open), peakLine(b, open))
	reqs := func(r *Report) string {
		s := group3(r.Summary.Requests)
		if r.Summary.RPS.Valid() {
			s += " (" + group3(int64(float64(r.Summary.RPS)+0.5)) + "/s)"
		}
		return s
	}
	row("requests", reqs(a), reqs(b))
	row("error rate", fmtRate(a.Summary.ErrorRate), fmtRate(b.Summary.ErrorRate))
	row("p95 / p99 (run)", msOrDash(a.Summary.LatencyMs.P95)+" / "+msOrDash(a.Summary.LatencyMs.P99),
		msOrDash(b.Summary.LatencyMs.P95)+" / "+msOrDash(b.Summary.LatencyMs.P99))
	row("thresholds", thresholdLine(a), thresholdLine(b))

	compareLevels(w, a, b, open)

	p("\n  %s\n\n", conclusion(a, b, open))
}

func scenarioName(r *Report) string {
	if r.Scenario == nil || r.Scenario.Name == "" {
		return "(unnamed)"
	}
	return r.Scenario.Name
}

func runLine(r *Report) string {
	return r.Start.Format("2006-01-02 15:04") + ", " + fmtDur(time.Duration(r.DurationS*float64(time.Second)))
}

func stableLine(r *Report, open bool) string {
	ms := r.Verdict.MaxStable
	if ms == nil {
		return "none"
	}
	return atLeast(r) + verdictLoad(open, ms.Groups, ms.VUs, ms.TargetRate, float64(ms.RPS))
}

// atLeast is "≥ " for a run that never broke: its max stable load is the
// most it was asked for, and its limit lies somewhere above.
func atLeast(r *Report) string {
	if r.Verdict.Breakpoint == nil {
		return "≥ "
	}
	return ""
}

// boundedChange is change(a, b) said as a bound when either run never
// broke: B unbroken makes the true change at least that, A unbroken at
// most; both unbroken leave it unknown.
func boundedChange(a, b *Report, va, vb float64) string {
	switch la, lb := atLeast(a) != "", atLeast(b) != ""; {
	case la && lb:
		return "neither limit found"
	case lb:
		return "at least " + change(va, vb)
	case la:
		return "at most " + change(va, vb)
	}
	return change(va, vb)
}

func stableLat(r *Report) string {
	ms := r.Verdict.MaxStable
	if ms == nil {
		return "-"
	}
	return msOrDash(ms.P95Ms) + " / " + msOrDash(ms.P99Ms)
}

func bpLine(r *Report, open bool) string {
	bp := r.Verdict.Breakpoint
	if bp == nil {
		return "none"
	}
	return fmt.Sprintf("%s after %s", verdictLoad(open, bp.Groups, bp.VUs, bp.TargetRate, float64(bp.RPS)),
		fmtDur(time.Duration(bp.ElapsedS*float64(time.Second))))
}

func signalLine(r *Report) string {
	if s := r.Verdict.FirstSignal; s != nil {
		return s.Text
	}
	return "none"
}

func peakLine(r *Report, open bool) string {
	pk := r.Verdict.Peak
	return verdictLoad(open, pk.Groups, pk.VUs, pk.TargetRate, float64(pk.RPS))
}

func thresholdLine(r *Report) string {
	ok, failed := 0, 0
	for _, t := range r.Thresholds {
		switch {
		case t.OK:
			ok++
		case t.Failed():
			failed++
		}
	}
	mark := "✓"
	switch {
	case failed > 0:
		mark = "✗"
	case ok < len(r.Thresholds):
		mark = "?" // some had no data: not judged
	}
	return fmt.Sprintf("%d of %d held %s", ok, len(r.Thresholds), mark)
}

// level is the load level a window ran at.
// Closed-model load is the window's users (LoadUsers), as every other
// report text counts it: an arrival-rate group's VUs are not users.
func level(w *Window, open bool) float64 {
	if open {
		return w.TargetRate
	}
	return float64(LoadUsers(w.Groups, w.VUs))
}

// niceStep rounds a bucket width up to 1, 2 or 5 × 10^k.
func niceStep(x float64) float64 {
	if x <= 1 {
		return 1
	}
	mag := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= x {
			return m * mag
		}
	}
	return 10 * mag
}

// bucket aggregates the windows of one report at one load level; latencies
// are request-weighted means of the windows' quantiles.
type bucket struct {
	windows        int
	requests, errs int64
	rpsSum         float64
	p95w, p99w     float64
	latReq         int64
}

func (k *bucket) add(w *Window) {
	k.windows++
	k.requests += w.Requests
	k.errs += w.Errors
	if w.RPS.Valid() {
		k.rpsSum += float64(w.RPS)
	}
	if w.Latency.P95.Valid() && w.Latency.P99.Valid() && w.Requests > 0 {
		k.p95w += float64(w.Latency.P95) * float64(w.Requests)
		k.p99w += float64(w.Latency.P99) * float64(w.Requests)
		k.latReq += w.Requests
	}
}

func (k *bucket) cells() (rps, p95, p99, errs string) {
	if k == nil || k.windows == 0 {
		return "-", "-", "-", "-"
	}
	rps = group3(int64(k.rpsSum/float64(k.windows) + 0.5))
	p95, p99 = "-", "-"
	if k.latReq > 0 {
		p95 = fmtMs(k.p95w / float64(k.latReq))
		p99 = fmtMs(k.p99w / float64(k.latReq))
	}
	errs = fmtRate(rate(k.errs, k.requests))
	return
}

func buckets(r *Report, open bool, step float64) map[int]*bucket {
	out := map[int]*bucket{}
	ws := rampUp(r, open)
	for i := range ws {
		w := &ws[i]
		if w.Requests == 0 || (w.Generator != nil && w.Generator.Overloaded) {
			// A window where brink was the bottleneck measured brink.
			continue
		}
		k := int(level(w, open) / step)
		if out[k] == nil {
			out[k] = &bucket{}
		}
		out[k].add(w)
	}
	return out
}

// reportWindow is the run's nominal window length in seconds.
func reportWindow(r *Report) float64 {
	if r.Scenario != nil && r.Scenario.Window > 0 {
		return r.Scenario.Window.Seconds()
	}
	return 1
}

// rampUp is the part of the timeline that matched-load rows compare: full
// windows up to the last one at the run's peak load, and none that ended
// after an abort. The ramp-down after the peak (or after an abort) passes
// the same levels on the way down, with the system at its worst.
func rampUp(r *Report, open bool) []Window {
	end := len(r.Timeline)
	for _, e := range r.Events {
		if e.Kind != EventAbort {
			continue
		}
		for i := range r.Timeline {
			if r.Timeline[i].Time.After(e.Time) {
				end = min(end, i)
				break
			}
		}
	}
	peak, last := -1.0, -1
	for i := 0; i < end; i++ {
		if l := level(&r.Timeline[i], open); l >= peak {
			peak, last = l, i
		}
	}
	half := reportWindow(r) / 2
	var out []Window
	for i := 0; i <= last; i++ {
		if w := r.Timeline[i]; w.WindowS >= half {
			out = append(out, w)
		}
	}
	return out
}

// compareLevels prints RPS, p95, p99 and errors of both runs side by side
// at the load levels both reached (about ten buckets).
func compareLevels(w io.Writer, a, b *Report, open bool) {
	unit, rows, ok := matchedRows(a, b, open)
	if !ok {
		return
	}
	fmt.Fprintf(w, "\n  AT MATCHED LOAD (request-weighted means of the windows at each level, up to each run's peak)\n")
	fmt.Fprintf(w, "  %s %s %s %s %s\n", padR(unit, 13), padL("rps A → B", 17), padL("p95 A → B", 21),
		padL("p99 A → B", 21), padL("errors A → B", 17))
	for _, r := range rows {
		ra, p95a, p99a, ea := r.a.cells()
		rb, p95b, p99b, eb := r.b.cells()
		label := trimFloat(r.lo, 1) + "–" + trimFloat(r.hi, 1)
		fmt.Fprintf(w, "  %s %s %s %s %s\n", padR(label, 13), padL(ra+" → "+rb, 17), padL(p95a+" → "+p95b, 21),
			padL(p99a+" → "+p99b, 21), padL(ea+" → "+eb, 17))
	}
}

// conclusion says in one line what changed.
func conclusion(a, b *Report, open bool) string {
	var parts []string
	ma, mb := a.Verdict.MaxStable, b.Verdict.MaxStable
	switch {
	case ma != nil && mb != nil:
		if open {
			parts = append(parts, fmt.Sprintf("max stable rate %s%s/s → %s%s/s (%s)", atLeast(a), trimFloat(ma.TargetRate, 1),
				atLeast(b), trimFloat(mb.TargetRate, 1), boundedChange(a, b, ma.TargetRate, mb.TargetRate)))
		} else {
			unit := "VUs" // a report from before groups counted every VU
			if len(ma.Groups) > 0 && len(mb.Groups) > 0 {
				unit = "users"
			}
			parts = append(parts, fmt.Sprintf("max stable load %s%s → %s%s %s (%s)", atLeast(a), group3(int64(ma.VUs)),
				atLeast(b), group3(int64(mb.VUs)), unit, boundedChange(a, b, float64(ma.VUs), float64(mb.VUs))))
		}
		parts = append(parts, fmt.Sprintf("rps there %s → %s (%s)", group3(int64(float64(ma.RPS)+0.5)),
			group3(int64(float64(mb.RPS)+0.5)), change(float64(ma.RPS), float64(mb.RPS))))
	case mb != nil:
		parts = append(parts, "B held where A never did")
	case ma != nil:
		parts = append(parts, "B never held where A did")
	}
	switch bpA, bpB := a.Verdict.Breakpoint, b.Verdict.Breakpoint; {
	case bpA != nil && bpB == nil:
		parts = append(parts, "B found no breakpoint")
	case bpA == nil && bpB != nil:
		parts = append(parts, "B broke where A held")
	case bpA != nil && bpB != nil && bpA.Signal.Kind == bpB.Signal.Kind && bpA.Signal.Node == bpB.Signal.Node &&
		bpA.Signal.Metric == bpB.Signal.Metric:
		parts = append(parts, "the same signal gave out first")
	case bpA != nil && bpB != nil:
		parts = append(parts, "a different signal gave out first")
	}
	if len(parts) == 0 {
		return "Nothing to compare: neither run recorded load."
	}
	s := strings.Join(parts, "; ") + "."
	return strings.ToUpper(s[:1]) + s[1:]
}

// change prints b relative to a: "+33 %".
func change(a, b float64) string {
	if a == 0 {
		return "n/a"
	}
	d := (b - a) / a * 100
	if math.Abs(d) < 0.5 {
		return "±0 %"
	}
	return fmt.Sprintf("%+.0f %%", d)
}

// padR and padL pad to a width in runes (fmt pads bytes, and "→" is three).
func padR(s string, n int) string {
	if k := n - utf8.RuneCountInString(s); k > 0 {
		return s + strings.Repeat(" ", k)
	}
	return s
}

func padL(s string, n int) string {
	if k := n - utf8.RuneCountInString(s); k > 0 {
		return strings.Repeat(" ", k) + s
	}
	return s
}

// levelRow is one load level of the matched-load table: each run's
// windows at loads lo to hi (nil: none).
type levelRow struct {
	lo, hi float64
	a, b   *bucket
}

// matchedRows is the matched-load table, for the text and the figures
// alike: the levels' unit, and rows about a tenth of the top level either
// run reached up to its peak wide, those where a run has windows; ok is
// false when neither run reached a level.
func matchedRows(a, b *Report, open bool) (unit string, rows []levelRow, ok bool) {
	unit = "VUs" // a report from before groups counted every VU
	switch {
	case open:
		unit = "rate/s"
	case hasGroups(a) && hasGroups(b):
		unit = "users"
	}
	var top float64
	for _, r := range []*Report{a, b} {
		for _, w := range rampUp(r, open) {
			top = max(top, level(&w, open))
		}
	}
	if top <= 0 {
		return unit, nil, false
	}
	step := niceStep(top / 10)
	ba, bb := buckets(a, open, step), buckets(b, open, step)
	for k := 0; float64(k)*step <= top; k++ {
		if x, y := ba[k], bb[k]; x != nil || y != nil {
			lo := float64(k) * step
			rows = append(rows, levelRow{lo: lo, hi: lo + step, a: x, b: y})
		}
	}
	return unit, rows, true
}

// hasGroups reports whether a report's windows carry per-group load.
func hasGroups(r *Report) bool {
	for i := range r.Timeline {
		if len(r.Timeline[i].Groups) > 0 {
			return true
		}
	}
	return false
}

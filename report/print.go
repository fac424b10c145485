package report

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/termtext"
)

// dotted pads a metric name with dots, k6 style.
func dotted(name string, width int) string {
	if n := width - len(name); n > 0 {
		return name + strings.Repeat(".", n) + ":"
	}
	return name + ":"
}

// distLine prints a latency distribution in k6's order.
func distLine(d Dist) string {
	if d.Count == 0 {
		return "no data"
	}
	f := func(n Num) string {
		if !n.Valid() {
			return "-"
		}
		return strings.ReplaceAll(fmtMs(float64(n)), " ", "")
	}
	s := fmt.Sprintf("avg=%s min=%s med=%s max=%s p(90)=%s p(95)=%s p(99)=%s",
		f(d.Mean), f(d.Min), f(d.Med), f(d.Max), f(d.P90), f(d.P95), f(d.P99))
	if d.P999.Valid() && d.P999 > 0 { // a report from before p99.9 reads 0
		s += " p(99.9)=" + f(d.P999)
	}
	if !d.Exact {
		s += " (approx.)"
	}
	return s
}

func fmtNum(n Num, prec int) string {
	if !n.Valid() {
		return "-"
	}
	return trimFloat(float64(n), prec)
}

func fmtRate(n Num) string {
	if !n.Valid() {
		return "-"
	}
	return fmtPct(float64(n))
}

// localTime prints a report time as stored (its own offset), so a report
// reads the same on any machine.
func localTime(t time.Time) string { return t.Format("2006-01-02 15:04:05 MST") }

// PrintSummary writes the end-of-run summary in the k6 manner — per metric
// avg/min/med/max/p90/p95/p99, checks, each threshold ✓/✗ — then groups,
// hottest endpoints and the verdict in plain words.
func PrintSummary(w io.Writer, rep *Report) { PrintSummaryWidth(w, rep, 100) }

// PrintSummaryWidth is PrintSummary for a terminal width columns wide: the
// verdict and the failures' messages wrap at it (never inside a number
// and its unit); fixed tables keep their columns.
func PrintSummaryWidth(w io.Writer, rep *Report, width int) {
	width = max(width, 40)
	printHeader(w, rep)
	printMetrics(w, rep, width)
	printThresholds(w, rep, width)
	printGroups(w, rep, width)
	printEndpoints(w, rep, width)
	printFailures(w, rep, width)
	printAgents(w, rep)
	printEvents(w, rep, width)
	printVerdict(w, rep, width)
	printSearch(w, rep.Search, width)
}

// printHeader names the scenario and the run, so a pasted summary says what it is of.
func printHeader(w io.Writer, rep *Report) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	name := "(unnamed)"
	if rep.Scenario != nil && rep.Scenario.Name != "" {
		name = rep.Scenario.Name
	}
	p("\n  scenario: %s   brink %s on %s\n", name, rep.BrinkVersion, rep.Host)
	status := ""
	if !rep.Complete {
		status = "  (snapshot of a run in progress)"
	}
	p("  run:      %s, %s%s\n", localTime(rep.Start), fmtDur(time.Duration(rep.DurationS*float64(time.Second))), status)
	if rep.Verdict.Aborted != "" {
		p("  aborted:  %s\n", rep.Verdict.Aborted)
	}
	p("\n")
}

// printMetrics writes the k6-style metric rows, the part people compare with k6's own summary.
func printMetrics(w io.Writer, rep *Report, width int) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	s := &rep.Summary
	const dotWidth = 32
	// A value wraps under itself, at spaces: "avg=… p(99)=…" never
	// splits a figure.
	row := func(metric, value string) {
		lines := wrap(value, max(width-(5+dotWidth+2), 20))
		if len(lines) == 0 {
			lines = []string{""}
		}
		p("     %s %s\n", dotted(metric, dotWidth), lines[0])
		for _, l := range lines[1:] {
			p("%*s%s\n", 5+dotWidth+2, "", l)
		}
	}
	if n := s.ChecksPassed + s.ChecksFailed; n > 0 {
		row("checks", fmt.Sprintf("%s ✓ %d ✗ %d", fmtRate(rate(s.ChecksPassed, n)), s.ChecksPassed, s.ChecksFailed))
	}
	row("data_received", fmtBytes(float64(s.BytesIn)))
	row("data_sent", fmtBytes(float64(s.BytesOut)))
	if s.DroppedIterations > 0 {
		row("dropped_iterations", fmt.Sprintf("%d", s.DroppedIterations))
	}
	// A WebSocket-only run has no HTTP metrics to show (k6 shows only
	// metrics that got samples): "http_req_failed 0 %" would read as health.
	if s.Requests > 0 || s.WS == nil {
		row("http_req_duration", distLine(s.LatencyMs))
		// Service time only tells something when arrivals were late (open
		// model): then it is lower than the corrected duration.
		if lm, sm := float64(s.LatencyMs.Mean), float64(s.ServiceMs.Mean); s.ServiceMs.Count > 0 && lm > 0 && math.Abs(lm-sm) > lm*0.005 {
			row("http_req_service_time", distLine(s.ServiceMs))
		}
		row("http_req_failed", rateRow(s.ErrorRate, s.Errors, s.Requests))
		row("http_reqs", fmt.Sprintf("%d %s/s (max %s/s)", s.Requests, fmtNum(s.RPS, 1), fmtNum(s.RPSMax, 1)))
	}
	row("iterations", fmt.Sprintf("%d", s.Iterations))
	if s.TargetVUsMax > 0 {
		row("vus_max", fmt.Sprintf("%d (target %d)", s.VUsMax, s.TargetVUsMax))
	} else { // arrival-rate groups only: no VU target to name
		row("vus_max", fmt.Sprintf("%d", s.VUsMax))
	}
	if pk := rep.Verdict.Peak; len(pk.Groups) > 0 {
		// The highest load each group reached, said as the verdict says load.
		row("load_max", LoadText(pk.Groups, pk.VUs, pk.TargetRate, true))
	}
	if s.TargetRateMax > 0 {
		row("target_rate_max", trimFloat(s.TargetRateMax, 1)+"/s")
	}
	if ws := s.WS; ws != nil {
		row("ws_connecting", distLine(ws.ConnectMs))
		failed := rateRow(ws.FailedRate, ws.Failed, ws.Outcomes)
		if kinds := kindList(ws.FailedByKind); kinds != "" {
			failed += " (" + kinds + ")"
		}
		row("ws_failed", failed)
		row("ws_msg_latency", distLine(ws.ReplyMs))
		row("ws_msgs_received", fmt.Sprintf("%d", ws.Received))
		row("ws_msgs_sent", fmt.Sprintf("%d", ws.Sent))
		row("ws_session_duration", distLine(ws.SessionMs))
		sessions := ws.Sessions
		if sessions == 0 {
			sessions = ws.Opened // a report from before sessions were counted
		}
		row("ws_sessions", fmt.Sprintf("%d (opened %d, max open %d, closed early %d)", sessions, ws.Opened, ws.OpenMax, ws.Closed))
	}
	if len(s.ErrorsByKind) > 0 {
		row("errors_by_kind", kindList(s.ErrorsByKind))
	}
	if g := generatorLine(rep.Timeline); g != "" {
		row("generator", g)
	}
}

// printGroups lists each scenario group's load and latency, to show which group hurt.
func printGroups(w io.Writer, rep *Report, width int) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	if len(rep.Groups) == 0 {
		return
	}
	// WebSocket columns only when a group has sessions: its failures
	// are not HTTP errors, so they get their own.
	ws := false
	for _, g := range rep.Groups {
		ws = ws || g.WSSessions > 0 || g.WSOutcomes > 0
	}
	p("\n  GROUPS\n")
	// Narrow terminals: the executor column gives way first (never a
	// figure's column).
	exW := min(22, max(width-92+22, 10))
	p("    %-16s %-*s %9s %8s %7s %9s %9s", "group", exW, "executor", "requests", "errors", "vus", "p95", "p99")
	if ws {
		p(" %11s %9s", "ws_sessions", "ws_failed")
	}
	p("\n")
	for _, g := range rep.Groups {
		p("    %-16s %-*s %9d %8s %7d %9s %9s", clip(g.Name, 16), exW, clip(g.Executor, exW), g.Requests,
			fmtRate(g.ErrorRate), g.VUsMax, msOrDash(g.LatencyMs.P95), msOrDash(g.LatencyMs.P99))
		if ws {
			failed := "-"
			if g.WSFailedRate != nil {
				failed = fmtRate(*g.WSFailedRate)
			}
			p(" %11d %9s", g.WSSessions, failed)
		}
		p("\n")
	}
}

// printEndpoints lists the hottest endpoints, where the run's waiting time went.
func printEndpoints(w io.Writer, rep *Report, width int) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	if len(rep.Endpoints) == 0 {
		return
	}
	p("\n  HOTTEST ENDPOINTS (requests × mean latency)\n")
	nameW := min(28, max(width-54, 14))
	p("    %-*s %9s %8s %9s %9s %10s\n", nameW, "group/name", "requests", "errors", "p95", "p99", "waiting")
	for i, e := range rep.Endpoints {
		if i == 10 {
			p("    … %d more in the JSON report\n", len(rep.Endpoints)-10)
			break
		}
		hot := "-"
		if e.HotspotS.Valid() {
			hot = fmtDur(time.Duration(float64(e.HotspotS) * float64(time.Second)))
		}
		p("    %-*s %9d %8s %9s %9s %10s\n", nameW, clip(e.Group+"/"+e.Name, nameW), e.Requests, fmtRate(e.ErrorRate),
			msOrDash(e.LatencyMs.P95), msOrDash(e.LatencyMs.P99), hot)
	}
}

// printVerdict ends the summary with the verdict in words and the outcome, the lines people act on.
func printVerdict(w io.Writer, rep *Report, width int) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	if rep.Search != nil {
		// A find's failed plateaus are part of the search: the run's own
		// verdict reads them as breakpoints; the search below decides.
		p("\n  VERDICT (the whole run, every plateau together; the search's answer follows)\n")
	} else {
		p("\n  VERDICT\n")
	}
	for _, line := range wrap(rep.Verdict.Text, width-4) {
		p("    %s\n", line)
	}
	if o := reportOutcome(rep).text(); o != "" {
		p("    %s\n", o)
	}
	p("\n")
}

// printFailures lists the most frequent failures with what the first of
// each said (the JSON report has up to MaxFailureRows), within width
// columns.
func printFailures(w io.Writer, rep *Report, width int) {
	const most = 10
	if len(rep.Failures) == 0 {
		return
	}
	kindW, whereW := 4, 14
	for i, f := range rep.Failures {
		if i < most {
			kindW = max(kindW, len([]rune(FailureKindText(f))))
			whereW = max(whereW, len([]rune(termtext.Clean(FailureWhere(f)))))
		}
	}
	whereW = min(whereW, 28)
	// The sample gets what is left, at least 30 columns; a longer one goes
	// on to a second line, under itself.
	indent := 4 + 8 + 2 + kindW + 1 + whereW + 1
	sampleW := max(width-indent, 30)
	fmt.Fprintf(w, "\n  FAILURES (first message of each)\n")
	fmt.Fprintf(w, "    %8s  %-*s %-*s %s\n", "count", kindW, "kind", whereW, "group/endpoint", "sample")
	for i, f := range rep.Failures {
		if i == most {
			fmt.Fprintf(w, "    … %d more in the JSON report\n", len(rep.Failures)-most)
			break
		}
		lines := wrap(termtext.Clean(f.Sample), sampleW)
		if len(lines) == 0 {
			lines = []string{"-"}
		}
		if len(lines) > 2 {
			lines[1] = clip(strings.Join(lines[1:], " "), sampleW)
			lines = lines[:2]
		}
		fmt.Fprintf(w, "    %8d  %-*s %-*s %s\n", f.Count, kindW, FailureKindText(f), whereW,
			clip(termtext.Clean(FailureWhere(f)), whereW), lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(w, "%*s%s\n", indent, "", l)
		}
	}
}

// FailureKindText is a failure row's kind with its status and the check
// that failed: "status_5xx 503", "check_failed json $.ok".
func FailureKindText(f FailureRow) string {
	s := string(f.Kind)
	if f.Status != 0 {
		s += " " + strconv.Itoa(f.Status)
	}
	if f.Check != "" && f.Kind == measure.ErrCheckFailed {
		s += " " + clip(termtext.Clean(f.Check), 28)
	}
	return s
}

// FailureWhere names where a failure row's requests went: "group/endpoint",
// or the group alone for a group-level row.
func FailureWhere(f FailureRow) string {
	if f.Endpoint == "" {
		return f.Group
	}
	return f.Group + "/" + f.Endpoint
}

// printThresholds lists each threshold over the whole run, ✓ or ✗.
func printThresholds(w io.Writer, rep *Report, width int) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	if len(rep.Thresholds) == 0 {
		return
	}
	p("\n  THRESHOLDS (whole run; bad windows of %d)\n", len(rep.Timeline))
	for _, t := range rep.Thresholds {
		// ? is not judged: no pass, and the run is inconclusive.
		mark, val := ThresholdMark(t), ThresholdValueText(t)
		windows := "windows"
		if t.BadWindows == 1 {
			windows = "window"
		}
		dflt := ""
		if t.Default {
			dflt = " (default)"
		}
		left := ""
		if n := t.GeneratorWindowsLeftOut; n > 0 {
			left = fmt.Sprintf(" (%d %s of brink's own stall left out)", n, plural(n, "window", "windows"))
		}
		line := fmt.Sprintf("%s %s '%s'%s = %s, failed in %d %s%s", mark, t.Metric, t.Expr, dflt, val, t.BadWindows, windows, left)
		for i, l := range wrap(line, max(width-6, 30)) {
			if i > 0 {
				l = "  " + l // under the metric, past the mark
			}
			p("    %s\n", l)
		}
	}
}

// rateRow prints a k6 rate: the rate, then ✓ the events that were true
// (failed) and ✗ those that were not. A count is never negative, even from
// a report whose counts disagree.
func rateRow(r Num, trues, of int64) string {
	return fmt.Sprintf("%s ✓ %d ✗ %d", fmtRate(r), max(trues, 0), max(of-trues, 0))
}

// kindList prints counts by kind, sorted: "status_4xx=3 ws_closed=1".
func kindList(m map[string]int64) string {
	kinds := make([]string, 0, len(m))
	for k, n := range m {
		if n > 0 {
			kinds = append(kinds, k)
		}
	}
	sort.Strings(kinds)
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}

func msOrDash(n Num) string {
	if !n.Valid() {
		return "-"
	}
	return fmtMs(float64(n))
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// wrap breaks text into lines of at most width runes at spaces.
func wrap(text string, width int) []string { return Wrap(text, width) }

// Wrap breaks text into lines of at most width runes at spaces, never
// after a word that ends in a digit: a number stays with its unit and
// with its groups of three ("1 148 rps"). A word (or such a run) longer
// than width gets a line of its own.
func Wrap(text string, width int) []string {
	var lines []string
	var cur strings.Builder
	curLen := 0
	words := strings.Fields(text)
	for i := 0; i < len(words); {
		// The unbreakable run starting at word i.
		j, n := i+1, len([]rune(words[i]))
		for j < len(words) && endsInDigit(words[j-1]) {
			n += 1 + len([]rune(words[j]))
			j++
		}
		if curLen > 0 && curLen+1+n > width {
			lines = append(lines, cur.String())
			cur.Reset()
			curLen = 0
		}
		if curLen > 0 {
			cur.WriteByte(' ')
			curLen++
		}
		cur.WriteString(strings.Join(words[i:j], " "))
		curLen += n
		i = j
	}
	if cur.Len() > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

func endsInDigit(w string) bool {
	c := w[len(w)-1]
	return c >= '0' && c <= '9'
}

// printEvents lists what happened, by time since the start: crossings,
// breaches, rate shortfalls, aborts, notes and controls (stages and the
// source's ups and downs stay in the JSON).
func printEvents(w io.Writer, rep *Report, width int) {
	const most = 15
	var shown []Event
	for _, e := range rep.Events {
		if e.Kind != EventStage && e.Kind != EventSourceError {
			shown = append(shown, e)
		}
	}
	if len(shown) == 0 {
		return
	}
	fmt.Fprintf(w, "\n  EVENTS\n")
	for i, e := range shown {
		if i == most {
			fmt.Fprintf(w, "    … %d more in the JSON report\n", len(shown)-most)
			break
		}
		text := e.Text
		if e.Who != "" && e.Kind == EventNote {
			text = e.Who + ": " + text
		}
		lines := wrap(text, max(width-27, 30))
		if len(lines) == 0 {
			lines = []string{""}
		}
		fmt.Fprintf(w, "    %8s  %-12s %s\n", "+"+fmtDur(e.Time.Sub(rep.Start)), e.Kind, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(w, "%27s%s\n", "", l)
		}
	}
}

// crossed reports whether a node or panel crossed its threshold (sustained)
// in the run: that fails it (exit 99) whatever the thresholds say.
func crossed(events []Event) bool {
	for _, e := range events {
		if e.Kind == EventNodeOver || e.Kind == EventPanelOver {
			return true
		}
	}
	return false
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// generatorLine says how brink itself fared: the windows where it was the
// bottleneck (and the first reason), and its worst send lag; "" when it
// was never overloaded.
func generatorLine(tl []Window) string {
	over, first := 0, ""
	var lag99 float64
	for _, w := range tl {
		g := w.Generator
		if g == nil {
			continue
		}
		if g.SendLagP99Ms.Valid() {
			lag99 = max(lag99, float64(g.SendLagP99Ms))
		}
		if g.Overloaded {
			if over == 0 {
				first = g.Reason
			}
			over++
		}
	}
	if over == 0 {
		return ""
	}
	s := fmt.Sprintf("overloaded in %d of %d windows (first: %s)", over, len(tl), first)
	if lag99 > 0 {
		s += "; worst send lag p99 " + fmtMs(lag99)
	}
	return s
}

package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
)

// Failed reports whether the threshold failed over the whole run (exit
// code 99); one without data did not fail, nor hold.
func (t ThresholdResult) Failed() bool { return !t.OK && !t.NoData }

// ThresholdResult is one SLO over the whole run (it decides the exit code)
// with how often it failed window by window.
type ThresholdResult struct {
	Metric string `json:"metric"` // with its tag filter, e.g. http_req_duration{name:history}
	Expr   string `json:"expr"`
	Agg    string `json:"agg"`
	// OK: the threshold held. A threshold whose metric never got a value
	// is not OK and not failed: NoData, and the run is inconclusive.
	OK bool `json:"ok"`
	// Value is the whole-run value the expression was tested on (ms for
	// durations, a fraction for rates); null without data.
	Value  Num  `json:"value"`
	NoData bool `json:"no_data,omitempty"`
	// BadWindows counts windows in which the expression failed.
	BadWindows int `json:"bad_windows"`
	// FirstBreach is the start of the first sustained breach, if any.
	FirstBreach *time.Time `json:"first_breach,omitempty"`
	// Default: brink applied it because the scenario set none of its
	// kind (http_req_failed: rate<5%).
	Default bool `json:"default,omitempty"`
	// GeneratorWindowsLeftOut counts windows whose latency the whole-run
	// value leaves out because brink itself was the bottleneck there.
	GeneratorWindowsLeftOut int `json:"generator_windows_left_out,omitempty"`
}

// metricLabel is the threshold's metric as k6 writes it, with its tag.
func metricLabel(th scenarios.Threshold) string { return th.Label() }

// isDuration reports whether the metric's values are milliseconds.
func isDuration(metric string) bool {
	switch metric {
	case "http_req_duration", "ws_msg_latency", "iteration_duration", "ws_connecting", "ws_session_duration":
		return true
	}
	return false
}

// isFraction reports whether the metric is a rate of events (0..1),
// printed as a percentage.
func isFraction(metric string) bool {
	switch metric {
	case "http_req_failed", "checks", "ws_failed":
		return true
	}
	return false
}

// wsWindow is a WebSocket metric's latency within one window: its summary
// and mergeable snapshot; ok is false for other metrics.
func wsWindow(metric string, t *measure.Tick) (measure.Latency, *hdrhistogram.Snapshot, bool) {
	switch metric {
	case "ws_msg_latency":
		return t.WS.Reply, t.WS.ReplyHist, true
	case "ws_connecting":
		return t.WS.Connect, t.WS.ConnectHist, true
	case "ws_session_duration":
		return t.WS.Session, t.WS.SessionHist, true
	}
	return measure.Latency{}, nil, false
}

// wsGroupCounts are one window's sessions and ws_failed samples of what a
// threshold's tag filter selects (the run, or one group); found is false
// when the filter names no group in the window.
func wsGroupCounts(th scenarios.Threshold, t *measure.Tick) (c wsCounts, found bool) {
	if th.TagKey == "" {
		return wsRun(&t.WS), true
	}
	for i := range t.Groups {
		if g := &t.Groups[i]; th.TagKey == "group" && g.Name == th.TagValue {
			c.sessions += g.WSSessions
			c.failed += g.WSFailed
			c.outcomes += g.WSOutcomes
			found = true
		}
	}
	return c, found
}

// perWindow reports whether a threshold has a meaning inside one window.
// Counts are run totals in k6, so they only decide the exit code.
func perWindow(th scenarios.Threshold) bool { return th.Agg != "count" }

// tagSelects reports whether a threshold's tag filter (name or group)
// selects the endpoint name of group.
func tagSelects(th scenarios.Threshold, group, name string) bool {
	return (th.TagKey == "name" && name == th.TagValue) || (th.TagKey == "group" && group == th.TagValue)
}

// slice is what a threshold's tag filter selects from one window.
type slice struct {
	lat      measure.Latency
	snap     *hdrhistogram.Snapshot
	requests int64
	errors   int64
	dropped  int64
	found    bool
}

// selectWindow picks the part of the tick a threshold's tag filter names.
// scratch receives merged histograms when several endpoints match.
func selectWindow(th scenarios.Threshold, t *measure.Tick, scratch *snapAcc) slice {
	switch th.TagKey {
	case "":
		return slice{lat: t.Latency, snap: t.Hist, requests: t.Requests, errors: t.ErrorCount, dropped: t.Dropped, found: true}
	case "name", "group":
		var s slice
		var lats []measure.Latency
		allSnaps := true
		scratch.reset()
		for i := range t.Endpoints {
			e := &t.Endpoints[i]
			if !tagSelects(th, e.Group, e.Name) {
				continue
			}
			s.found = true
			s.requests += e.Requests
			s.errors += e.Errors
			lats = append(lats, e.Latency)
			if e.Hist == nil {
				allSnaps = false
			} else {
				scratch.add(e.Hist)
			}
		}
		if th.TagKey == "group" {
			for i := range t.Groups {
				g := &t.Groups[i]
				if g.Name != th.TagValue {
					continue
				}
				s.dropped += g.Dropped
				if !s.found { // a group without endpoints (WebSocket only)
					s.found = true
					s.requests, s.errors = g.Requests, g.Errors
					s.lat = g.Latency
					return s
				}
				// The group's own window histogram is at 3 figures, its
				// endpoints' at 2: judge on the exact one.
				if g.Hist != nil {
					s.lat, s.snap = g.Latency, g.Hist
					return s
				}
			}
		}
		s.lat = combineLatency(lats)
		if allSnaps && len(lats) == 1 {
			for i := range t.Endpoints {
				e := &t.Endpoints[i]
				if tagSelects(th, e.Group, e.Name) {
					s.snap = e.Hist
				}
			}
		} else if allSnaps && !scratch.empty() {
			s.snap = &hdrhistogram.Snapshot{LowestTrackableValue: scratch.lo, HighestTrackableValue: scratch.hi,
				SignificantFigures: scratch.sig, Counts: scratch.counts}
		}
		return s
	}
	return slice{}
}

// combineLatency merges window summaries without histograms: counts and
// means add up exactly; quantiles take the worst endpoint (conservative).
func combineLatency(ls []measure.Latency) measure.Latency {
	if len(ls) == 1 {
		return ls[0]
	}
	var out measure.Latency
	var sum float64
	for _, l := range ls {
		if l.Count == 0 {
			continue
		}
		if out.Count == 0 || l.Min < out.Min {
			out.Min = l.Min
		}
		out.Count += l.Count
		sum += float64(l.Mean) * float64(l.Count)
		out.P50 = max(out.P50, l.P50)
		out.P90 = max(out.P90, l.P90)
		out.P95 = max(out.P95, l.P95)
		out.P99 = max(out.P99, l.P99)
		out.Max = max(out.Max, l.Max)
	}
	if out.Count > 0 {
		out.Mean = time.Duration(sum / float64(out.Count))
	}
	return out
}

// windowLatencyValue aggregates one latency window as the threshold asks.
func windowLatencyValue(th scenarios.Threshold, l measure.Latency, snap *hdrhistogram.Snapshot) (float64, bool) {
	if l.Count == 0 {
		return 0, false
	}
	q := func(p float64) (float64, bool) { return windowQuantile(l, snap, p), true }
	return latencyValue(th, q, ms(l.Mean), ms(l.Min), ms(l.Max))
}

// latencyValue is a latency threshold's aggregate in ms, of a window or of
// the whole run: q reads a percentile (med is p50); mean, lo and hi are
// given. A count is the whole run's only, its caller's.
func latencyValue(th scenarios.Threshold, q func(p float64) (float64, bool), mean, lo, hi float64) (float64, bool) {
	switch th.Agg {
	case "p":
		return q(th.P)
	case "med":
		return q(50)
	case "avg":
		return mean, true
	case "min":
		return lo, true
	case "max":
		return hi, true
	}
	return 0, false
}

// windowValue is the threshold's value within one tick; ok is false when the
// window has no data for it (which neither breaches nor recovers).
func windowValue(th scenarios.Threshold, t *measure.Tick, scratch *snapAcc) (float64, bool) {
	secs := t.Window.Seconds()
	switch th.Metric {
	case "http_req_duration":
		s := selectWindow(th, t, scratch)
		return windowLatencyValue(th, s.lat, s.snap)
	case "ws_msg_latency", "ws_connecting", "ws_session_duration":
		if th.TagKey != "" {
			return 0, false
		}
		l, snap, _ := wsWindow(th.Metric, t)
		return windowLatencyValue(th, l, snap)
	case "ws_failed":
		c, _ := wsGroupCounts(th, t)
		if th.Agg != "rate" {
			return 0, false
		}
		return measure.FailRate(c.failed, c.outcomes)
	case "ws_sessions", "ws_msgs_sent", "ws_msgs_received":
		c, found := wsGroupCounts(th, t)
		if th.Agg != "rate" || !found || secs <= 0 {
			return 0, false
		}
		n := c.sessions
		switch th.Metric {
		case "ws_msgs_sent":
			n = t.WS.Sent
		case "ws_msgs_received":
			n = t.WS.Received
		}
		return float64(n) / secs, true
	case "http_req_failed":
		s := selectWindow(th, t, scratch)
		if th.Agg != "rate" || s.requests == 0 {
			return 0, false
		}
		return float64(s.errors) / float64(s.requests), true
	case "http_reqs":
		s := selectWindow(th, t, scratch)
		if th.Agg != "rate" || !s.found || secs <= 0 {
			return 0, false
		}
		return float64(s.requests) / secs, true
	case "dropped_iterations":
		s := selectWindow(th, t, scratch)
		if th.Agg != "rate" || !s.found || secs <= 0 {
			return 0, false
		}
		return float64(s.dropped) / secs, true
	case "checks":
		n := t.ChecksPassed + t.ChecksFailed
		if th.Agg != "rate" || n == 0 || th.TagKey != "" {
			return 0, false
		}
		return float64(t.ChecksPassed) / float64(n), true
	}
	return 0, false // iteration_duration and unknown metrics: no per-window data
}

// fmtThresholdValue formats a threshold value in its metric's unit.
func fmtThresholdValue(metric, agg string, v float64) string {
	switch {
	case isDuration(metric) && agg != "count" && agg != "rate":
		return fmtMs(v)
	case agg == "rate" && isFraction(metric):
		return fmtPct(v)
	case agg == "rate":
		return trimFloat(v, 1) + "/s"
	}
	return trimFloat(v, 2)
}

// rateLabels name a rate the way people say it, by metric.
var rateLabels = map[string]string{"http_req_failed": "errors", "checks": "checks", "http_reqs": "rps",
	"ws_failed": "ws failed", "ws_sessions": "ws sessions/s", "ws_msgs_sent": "ws sent/s",
	"ws_msgs_received": "ws received/s"}

// aggLabel names the aggregate the way people say it: p95, avg, errors.
func aggLabel(th scenarios.Threshold) string {
	s, isRate := rateLabels[th.Metric]
	switch {
	case th.Agg == "p":
		s = "p" + strconv.FormatFloat(th.P, 'f', -1, 64)
	case isRate && th.Agg == "rate":
	case th.Metric == "dropped_iterations":
		s = "dropped"
	case strings.HasPrefix(th.Metric, "ws_") && th.Agg == "count":
		s = strings.ReplaceAll(th.Metric, "_", " ")
	default:
		s = th.Agg
	}
	switch th.Metric {
	case "ws_msg_latency":
		s = "ws " + s
	case "ws_connecting":
		s = "ws connect " + s
	case "ws_session_duration":
		s = "ws session " + s
	case "iteration_duration":
		s = "iteration " + s
	}
	if th.TagKey != "" {
		s = th.TagValue + " " + s
	}
	return s
}

// negOp is the comparison that failed, as said aloud: "p(95)<500" fails as
// "p95 > 500 ms".
func negOp(op string) string {
	switch op {
	case "<", "<=":
		return ">"
	case ">", ">=":
		return "<"
	}
	return "!" + op
}

// sloShort says a failed SLO without its value: "p95 > 500 ms".
func sloShort(th scenarios.Threshold) string {
	return aggLabel(th) + " " + negOp(th.Op) + " " + fmtThresholdValue(th.Metric, th.Agg, th.Value)
}

// sloWithValue says a failed SLO with what was measured: "p95 612 ms > 500 ms".
func sloWithValue(th scenarios.Threshold, v float64) string {
	return aggLabel(th) + " " + fmtFailed(th, v) + " " + negOp(th.Op) + " " +
		fmtThresholdValue(th.Metric, th.Agg, th.Value)
}

// fmtFailed formats a value that failed th in its metric's unit, with as
// many more decimals as it takes for the printed value to differ from the
// limit on the failing side:
// "99.98/s" against rate>=100, not "100/s"; "1.04 %" against rate<0.01,
// not "1 %". (fmtOver does the same for node values.) A value that holds
// is formatted as usual.
func fmtFailed(th scenarios.Threshold, v float64) string {
	base := fmtThresholdValue(th.Metric, th.Agg, v)
	if math.IsNaN(v) || math.IsInf(v, 0) || th.Holds(v) {
		return base
	}
	// The value and the limit in the printed unit, and the decimals the
	// usual format gives there.
	scale, unit, dec := 1.0, "", 2
	switch {
	case isDuration(th.Metric) && th.Agg != "count" && th.Agg != "rate":
		switch {
		case v >= 10000:
			scale, unit, dec = 0.001, " s", 1
		case v >= 100:
			unit, dec = " ms", 0
		case v >= 10:
			unit, dec = " ms", 1
		default:
			unit, dec = " ms", msDecimals(v)
		}
	case th.Agg == "rate" && isFraction(th.Metric):
		scale, unit = 100, " %"
		switch p := v * 100; {
		case p < 0.1:
			dec = 3
		case p < 10:
			dec = 1
		default:
			dec = 0
		}
	case th.Agg == "rate":
		unit, dec = "/s", 1
	}
	lim := th
	lim.Value = th.Value * scale
	if v*scale == lim.Value {
		return base // it fails at the limit itself ("<500" and 500)
	}
	for d := dec; d <= dec+6; d++ {
		p := math.Pow10(d)
		if shown := math.Round(v*scale*p) / p; shown != lim.Value && !lim.Holds(shown) {
			if d == dec {
				return base
			}
			return trimFloat(v*scale, d) + unit
		}
	}
	return base
}

// fmtMs prints a duration in ms with sensible precision: two significant
// digits below 1 ms ("0.21 ms", "0.001 ms"), never "0 ms" for a value
// that is not 0, and "-" for a missing one.
func fmtMs(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "-"
	case v >= 10000:
		return trimFloat(v/1000, 1) + " s"
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64) + " ms"
	case v >= 10:
		return trimFloat(v, 1) + " ms"
	}
	return trimFloat(v, msDecimals(v)) + " ms"
}

// msDecimals is how many decimals fmtMs shows below 10 ms: 2, or below 1 ms
// as many as two significant digits take (at most 6: one nanosecond).
func msDecimals(v float64) int {
	if v <= 0 || v >= 1 {
		return 2
	}
	return min(max(int(-math.Floor(math.Log10(v)))+1, 2), 6)
}

// fmtPct prints a fraction as a percentage: 0.021 → "2.1 %".
func fmtPct(f float64) string {
	p := f * 100
	switch {
	case math.IsNaN(p) || math.IsInf(p, 0):
		return "-"
	case p == 0:
		return "0 %"
	case p < 0.1:
		// Enough decimals that a failure never reads as 0 %.
		return trimFloat(p, min(max(3, int(math.Ceil(-math.Log10(p)))+1), 9)) + " %"
	case p < 10:
		return trimFloat(p, 1) + " %"
	case p > 99 && p < 100:
		// Truncated, with the decimals the missing part needs: 99.64 %
		// of checks passed is not 100 %.
		dec := min(max(1, int(math.Ceil(-math.Log10(100-p)))), 9)
		scale := math.Pow(10, float64(dec))
		return trimFloat(math.Floor(p*scale)/scale, dec) + " %"
	}
	return strconv.FormatFloat(p, 'f', 0, 64) + " %"
}

// trimFloat prints v with at most prec decimals and no trailing zeros.
func trimFloat(v float64, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// group3 prints an integer with thin groups of three: 1840 → "1 840".
func group3(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return "-" + measure.GroupDigits(s[1:])
	}
	return measure.GroupDigits(s)
}

// fmtNodeValue prints a node metric in its unit (the node-metric table's).
func fmtNodeValue(metric string, v float64) string {
	m, _ := measure.LookupNodeMetric(metric)
	switch {
	case m.Unit == "%":
		return trimFloat(v, 1) + " %"
	case m.Unit == "B/s":
		return fmtBytes(v) + "/s"
	case metric == "load1_per_core":
		return trimFloat(v, 2)
	}
	if v >= 100 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return trimFloat(v, 1)
}

// fmtOver formats a value that crossed a threshold so that it never reads
// as equal to it ("100.4 > 100", not "100 > 100").
func fmtOver(metric string, v, threshold float64) string {
	s := fmtNodeValue(metric, v)
	if s != fmtNodeValue(metric, threshold) || v == threshold {
		return s
	}
	for prec := 1; prec <= 4; prec++ {
		s = trimFloat(v, prec)
		if s != trimFloat(threshold, prec) {
			break
		}
	}
	if p := fmtNodeValue(metric, threshold); strings.HasSuffix(p, " %") {
		s += " %"
	}
	return s
}

func fmtBytes(v float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return trimFloat(v, 1) + " " + units[i]
}

// fmtDur prints a short human duration: 7 s, 2m05s.
func fmtDur(d time.Duration) string {
	if d < time.Minute {
		return trimFloat(d.Seconds(), 0) + " s"
	}
	d = d.Round(time.Second)
	m := int(d / time.Minute)
	s := int((d % time.Minute) / time.Second)
	if m >= 60 {
		return fmt.Sprintf("%dh%02dm", m/60, m%60)
	}
	return fmt.Sprintf("%dm%02ds", m, s)
}

// fmtPanelValue prints a custom panel's value with its unit: "1.9 s",
// "0.0123", "1840 req/s". Three significant digits or so: a panel's unit
// and scale are whatever its query returns.
func fmtPanelValue(unit string, v float64) string {
	s := fmtPanelNum(v)
	if unit != "" {
		s += " " + unit
	}
	return s
}

func fmtPanelNum(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100:
		return trimFloat(v, 0)
	case a >= 10:
		return trimFloat(v, 1)
	case a >= 1:
		return trimFloat(v, 2)
	case a == 0:
		return "0"
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// fmtPanelOver formats a panel value that crossed its threshold so that it
// never reads as equal to it ("1.5003 s > 1.5 s", not "1.5 s > 1.5 s").
func fmtPanelOver(unit string, v, threshold float64) string {
	s := fmtPanelNum(v)
	if v != threshold {
		for prec := 4; prec <= 12 && s == fmtPanelNum(threshold); prec++ {
			s = strconv.FormatFloat(v, 'g', prec, 64)
		}
	}
	if unit != "" {
		s += " " + unit
	}
	return s
}

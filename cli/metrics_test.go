package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brink-load/brink/engine/wstest"
	"github.com/brink-load/brink/promexport"
	"github.com/brink-load/brink/promquery/promtest"
	"github.com/brink-load/brink/report"
	"github.com/brink-load/brink/scenarios"
)

// promSeries is one series of an instant query's answer.
type promSeries = promtest.Series

// promQuery runs an instant query at at.
func promQuery(t *testing.T, base, q string, at time.Time) []promSeries {
	t.Helper()
	return promtest.Query(t, base, q, at)
}

// promRaw runs an instant range-vector query: each series' raw samples
// as (Unix seconds, value).
func promRaw(t *testing.T, base, q string, at time.Time) [][][2]float64 {
	t.Helper()
	var out [][][2]float64
	for _, s := range promtest.Query(t, base, q, at) {
		out = append(out, s.Samples)
	}
	return out
}

// steadyAt is a time at or before the run's start + from (not before
// start + span) whose preceding span of windows all kept time: stretch at
// most 1.1, brink not overloaded.
func steadyAt(r *report.Report, from, span time.Duration) (time.Time, bool) {
	for at := r.Start.Add(from); !at.Before(r.Start.Add(span)); at = at.Add(-500 * time.Millisecond) {
		ok := true
		for _, w := range r.Timeline {
			if w.Time.After(at.Add(-span)) && !w.Time.After(at) && w.Generator != nil &&
				(w.Generator.Stretch > 1.1 || w.Generator.Overloaded) {
				ok = false
			}
		}
		if ok {
			return at, true
		}
	}
	return time.Time{}, false
}

// bucketOf is the classic bucket (lo, hi] that holds v seconds.
func bucketOf(v float64) (lo, hi float64) {
	for _, ub := range promexport.Buckets {
		if v <= ub {
			return lo, ub
		}
		lo = ub
	}
	return lo, math.Inf(1)
}

// one is the value of a query that must give exactly one series.
func one(t *testing.T, base, q string, at time.Time) float64 {
	t.Helper()
	s := promQuery(t, base, q, at)
	if len(s) != 1 {
		t.Fatalf("query %s at %s: %d series, want 1: %+v", q, at.Format(time.RFC3339), len(s), s)
	}
	return s[0].Value
}

// runningTotals is the set of the report's request counts up to each
// window's end (0 before the first), and the run's count: brink's counters
// move a whole window at a time, so every scrape reads one of these.
func runningTotals(r *report.Report) (map[int64]bool, int64) {
	prefix := map[int64]bool{0: true}
	var acc int64
	for _, w := range r.Timeline {
		acc += w.Requests
		prefix[acc] = true
	}
	return prefix, acc
}

func within(got, want, frac float64) bool { return math.Abs(got-want) <= frac*math.Abs(want) }

// TestMetricsScrapedByPrometheus: a real Prometheus scrapes brink's
// --metrics through a bounded run against a loopback target, and what it
// computes — the request rate, p95 from the buckets, per-group VUs and
// arrival rate, the breakpoint — matches brink's own report. Then every
// PromQL expression of the Grafana dashboard runs against that Prometheus
// (with a real node_exporter beside brink) and gives data.
func TestMetricsScrapedByPrometheus(t *testing.T) {
	var loaded atomic.Bool
	var n atomic.Int64
	target := serve(t, func(w http.ResponseWriter, r *http.Request) {
		loaded.Store(true)
		// Uniform 10–125 ms, and one request in 100 a 503: p95 (119 ms)
		// falls in the bucket (100 ms, 125 ms], whose density is flat, so
		// histogram_quantile's linear interpolation inside it adds no error
		// of its own (a late wake-up on a busy box moves a few ms); some
		// failures for the errors.
		time.Sleep(10*time.Millisecond + time.Duration(rand.Int64N(int64(115*time.Millisecond))))
		if n.Add(1)%100 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		w.Write([]byte("ok"))
	})
	// A node whose load1 rises with the load: a crossing, for the
	// annotations.
	rising := risingNode(t, &loaded)

	ws := wstest.Delayed(t, func(int64) time.Duration { return 2 * time.Millisecond })
	nodeURL := promtest.StartNodeExporter(t)
	nu, _ := url.Parse(nodeURL)
	metricsAddr := promtest.FreeAddr(t)
	prom := promtest.StartPrometheus(t, promtest.Target{Addr: nu.Host},
		promtest.Target{Addr: metricsAddr, Job: "brink", Late: true})

	scen := writeScenario(t, fmt.Sprintf(`name: metrics
base_url: %s
groups:
  - {name: browse, executor: constant-vus, vus: 4, duration: 20s, requests: [{name: rooms, url: /rooms}, {name: history, url: /history}]}
  - {name: writes, executor: constant-arrival-rate, rate: 20, duration: 20s, max_vus: 20, requests: [{name: post, method: POST, url: /post, body: x}]}
  - {name: chat, executor: constant-vus, vus: 2, duration: 20s, websocket: {url: %q, send: hi, every: 200ms, expect_reply: true}}
thresholds:
  http_req_duration: ["p(95)<1000"]
nodes:
  scrape: [%q]
  thresholds: [{metric: load1, above: 100}]
`, target.URL, ws, rising.URL+"/nodes/db-3/metrics"))
	rep := filepath.Join(t.TempDir(), "r.json")
	code, _, errb := runBrink("run", scen, "--headless", "--metrics", metricsAddr, "--report", rep)
	if code != exitThreshold && code != exitInconclusive {
		t.Fatalf("exit %d, want 99 (db-3 crossed); stderr: %s", code, errb)
	}
	if !strings.Contains(errb, "serving Prometheus metrics on http://"+metricsAddr+"/metrics") {
		t.Errorf("stderr does not say where /metrics is: %s", errb)
	}
	r := readReport(t, rep)
	// Prometheus may take its last scrape after brink left: wait for the
	// series to go stale (the target down), so every sample is in.
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if n, _ := promtest.QueryCount(context.Background(), http.DefaultClient, prom, `up{job="brink"} == 0`); n == 1 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Each scrape sees whole windows: every sampled total of the request
	// counters is the report's requests up to some window, exactly.
	prefix, acc := runningTotals(r)
	totals := map[float64]float64{} // scrape time → sum over series
	for _, s := range promRaw(t, prom, `brink_http_requests_total[5m]`, r.End.Add(5*time.Second)) {
		for _, p := range s {
			totals[p[0]] += p[1]
		}
	}
	if len(totals) < 10 {
		t.Fatalf("Prometheus has %d scrapes of brink during a 20 s run", len(totals))
	}
	for ts, v := range totals {
		if !prefix[int64(v)] || v != math.Trunc(v) {
			t.Errorf("scrape at %.3f: %v requests, not the report's total up to any window", ts, v)
		}
	}
	// --metrics-linger (default 1m): brink left only once a scrape had read
	// its final state, so Prometheus has the last window and the run's end.
	lastAt := math.Inf(-1)
	for ts := range totals {
		lastAt = max(lastAt, ts)
	}
	if totals[lastAt] != float64(acc) {
		t.Errorf("Prometheus's last scrape: %v requests, the report's %d: the last window never reached Prometheus", totals[lastAt], acc)
	}
	for _, s := range promRaw(t, prom, `brink_run_running[5m]`, r.End.Add(5*time.Second)) {
		if v := s[len(s)-1][1]; v != 0 {
			t.Errorf("Prometheus's last brink_run_running is %v, want 0 (the run ended)", v)
		}
	}

	// The rate over 10 s in the middle of the run, against the report's
	// windows that ended in those 10 s — where brink kept time: a stalled
	// window (a busy box) moves requests across the 10 s edges, which only
	// the exact check above survives.
	at, ok := steadyAt(r, 14*time.Second, 11*time.Second)
	if ok {
		var reqs int64
		var secs float64
		for _, w := range r.Timeline {
			if w.Time.After(at.Add(-10*time.Second)) && !w.Time.After(at) {
				reqs += w.Requests
				secs += w.WindowS
			}
		}
		wantRPS := float64(reqs) / secs
		gotRPS := one(t, prom, `sum(rate(brink_http_requests_total[10s]))`, at)
		// rate() extrapolates over the scrapes in its range, whose times
		// a busy box moves: a sanity check (the totals above are exact).
		if !within(gotRPS, wantRPS, 0.15) {
			t.Errorf("Prometheus rps %.1f, report %.1f over the same 10 s", gotRPS, wantRPS)
		}
	} else {
		t.Logf("no 11 s of the run where brink kept time: the rate is judged by the exact totals only")
	}

	// Per-group VUs and arrival rate: a gauge holds the last window brink
	// had finished at the scrape, so Prometheus's value at a time is one
	// of the report's windows that ended in the 3 s before it (one scrape
	// interval, and slack for a late tick or scrape).
	if !ok {
		at = r.Start.Add(14 * time.Second)
	}
	type gauge struct {
		query string
		of    func(g report.GroupLoad) float64
	}
	for _, g := range r.Scenario.Groups {
		gauges := []gauge{{fmt.Sprintf(`brink_vus{group=%q}`, g.Name), func(l report.GroupLoad) float64 { return float64(l.VUs) }}}
		if g.Executor == scenarios.RampingArrivalRate {
			gauges = append(gauges,
				gauge{fmt.Sprintf(`brink_arrival_rate{group=%q}`, g.Name), func(l report.GroupLoad) float64 { return float64(l.Rate) }},
				gauge{fmt.Sprintf(`brink_arrival_rate_target{group=%q}`, g.Name), func(l report.GroupLoad) float64 { return l.TargetRate }})
		}
		for _, gg := range gauges {
			got := one(t, prom, gg.query, at)
			var seen []float64
			match := false
			for _, w := range r.Timeline {
				if w.Time.After(at.Add(-3*time.Second)) && !w.Time.After(at) {
					for _, l := range w.Groups {
						if l.Name == g.Name {
							seen = append(seen, gg.of(l))
							match = match || within(got, gg.of(l), 0.001)
						}
					}
				}
			}
			if !match {
				t.Errorf("%s at %s: %v, the report's windows then: %v", gg.query, at.Format("15:04:05.000"), got, seen)
			}
		}
	}
	if got := one(t, prom, `brink_vus{group="browse"}`, at); got != 4 {
		t.Errorf("browse VUs %v, want 4", got)
	}
	// WebSocket sessions open, the same way.
	wsOpen := one(t, prom, `brink_ws_sessions_open`, at)
	var opens []int
	for _, w := range r.Timeline {
		if w.Time.After(at.Add(-3*time.Second)) && !w.Time.After(at) {
			opens = append(opens, w.WSOpen)
		}
	}
	if !slices.Contains(opens, int(wsOpen)) || wsOpen != 2 {
		t.Errorf("brink_ws_sessions_open %v, the report's windows then: %v (2 chat VUs)", wsOpen, opens)
	}

	// p95 of each group over the whole run from the classic buckets,
	// against the report's whole-run p95 of the group (brink's first second
	// may precede Prometheus's first scrape). The export's buckets are
	// exact (promexport's tests), so Prometheus's answer lies in the bucket
	// of the report's p95 (or the next, for values within 0.8 % of a
	// bound); inside it, linear interpolation is as good as the density is
	// flat: within 5 % in (100 ms, 125 ms], where the target puts p95 —
	// unless a busy box stretched brink's own timing past that bucket.
	end := r.End.Add(5 * time.Second)
	rng := fmt.Sprintf("%ds", int(end.Sub(r.Start).Seconds())+5)
	for _, g := range r.Groups {
		if g.Requests == 0 { // the WebSocket group
			continue
		}
		got := one(t, prom, fmt.Sprintf(`histogram_quantile(0.95, sum by (le) (rate(brink_http_request_duration_seconds_bucket{group=%q}[%s])))`, g.Name, rng), end)
		want := float64(g.LatencyMs.P95) / 1000
		lo, hi := bucketOf(want)
		if got <= lo || got > hi*1.34 {
			t.Errorf("%s p95: Prometheus %.2f ms, outside the bucket (%g, %g] s of the report's %.2f ms", g.Name, got*1000, lo, hi, want*1000)
		}
		if want > 0.100 && want <= 0.124 && !within(got, want, 0.05) {
			t.Errorf("%s p95: Prometheus %.2f ms, report %.2f ms", g.Name, got*1000, want*1000)
		}
		t.Logf("%s p95: Prometheus %.2f ms, report %.2f ms", g.Name, got*1000, want*1000)
	}
	// Failures: the 1 % of 503s, by endpoint, kind and status.
	fails := one(t, prom, fmt.Sprintf(`sum(increase(brink_http_request_failures_total[%s]))`, rng), end)
	if fails <= 0 || r.Summary.Errors <= 0 || fails > 1.2*float64(r.Summary.Errors) {
		t.Errorf("failures: Prometheus %.0f, report %d", fails, r.Summary.Errors)
	}
	if s := promQuery(t, prom, `brink_failures_total{kind="status_5xx", status="503"}`, end.Add(-5*time.Second)); len(s) == 0 {
		t.Errorf("no brink_failures_total series for the 503s")
	}

	// The breakpoint: its time and load as the report has them.
	if bp := r.Verdict.Breakpoint; bp != nil {
		got := one(t, prom, `brink_breakpoint_timestamp_seconds`, end.Add(-5*time.Second))
		if math.Abs(got-float64(bp.Time.UnixNano())/1e9) > 0.001 {
			t.Errorf("breakpoint at %.3f, report %s", got, bp.Time)
		}
		if got := one(t, prom, `brink_breakpoint_users`, end.Add(-5*time.Second)); got != float64(bp.VUs) {
			t.Errorf("breakpoint users %v, report %d", got, bp.VUs)
		}
		for _, g := range bp.Groups { // an arrival-rate group by the rate the verdict names: its target
			if !g.Open {
				continue
			}
			q := fmt.Sprintf(`brink_breakpoint_arrival_rate{group=%q}`, g.Name)
			if got := one(t, prom, q, end.Add(-5*time.Second)); got != g.TargetRate {
				t.Errorf("%s %v, the verdict's %v/s", q, got, g.TargetRate)
			}
		}
		if got := one(t, prom, `brink_event_timestamp_seconds{kind="node_over", node="db-3", metric="load1"}`, end.Add(-5*time.Second)); got <= 0 {
			t.Errorf("no node_over time for db-3")
		}
	} else if selfBound(r) {
		t.Logf("no breakpoint (brink was the bottleneck): %s", r.Verdict.Text)
	} else {
		t.Errorf("no breakpoint: %s", r.Verdict.Text)
	}

	// Every expression of the dashboard gives data at the run's end (the
	// breakpoint's time and per-group load, and the crossings'
	// annotations, once there was one: a crossing while brink itself
	// stalled is none).
	crossed := false
	for _, ev := range r.Events {
		crossed = crossed || ev.Kind == report.EventNodeOver || ev.Kind == report.EventSLOBreach
	}
	exprs := dashboardExprs(t, promexport.Dashboard)
	if len(exprs) < 15 {
		t.Fatalf("dashboard: %d expressions, want the panels' and the annotations'", len(exprs))
	}
	for _, e := range exprs {
		q := substituteDashboardVars(e)
		atBreakpoint := strings.Contains(q, "brink_breakpoint_timestamp_seconds") ||
			strings.Contains(q, "brink_breakpoint_vus") || strings.Contains(q, "brink_breakpoint_arrival_rate")
		if atBreakpoint && r.Verdict.Breakpoint == nil ||
			strings.Contains(q, "brink_event_timestamp_seconds") && !crossed {
			t.Logf("not judged (no breakpoint or crossing in this run): %s", q)
			continue
		}
		if len(promQuery(t, prom, q, r.End)) == 0 {
			t.Errorf("dashboard expression gives no data at the run's end: %s", q)
		}
	}
}

// dashboardExprs collects every PromQL expression of a dashboard: panel
// targets, annotations, and the metric of each label_values variable.
func dashboardExprs(t *testing.T, dash []byte) []string {
	t.Helper()
	var doc any
	if err := json.Unmarshal(dash, &doc); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	labelValues := regexp.MustCompile(`^label_values\((.+),\s*\w+\)$`)
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "expr" {
					out = append(out, s)
				}
				if s, ok := x.(string); ok && k == "definition" {
					if m := labelValues.FindStringSubmatch(s); m != nil {
						out = append(out, m[1])
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	return out
}

// substituteDashboardVars puts what Grafana would for the variables: every
// group and node, a 10 s rate interval.
func substituteDashboardVars(e string) string {
	return strings.NewReplacer("$__rate_interval", "10s", "$__interval", "5s",
		"${group}", ".*", "$group", ".*", "${instance}", ".*", "$instance", ".*").Replace(e)
}

// TestMetricsAddressRefusedUpFront: an address that cannot be bound stops
// brink before any load, with one line and exit 2.
func TestMetricsAddressRefusedUpFront(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var hits atomic.Int64
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
	for _, addr := range []string{ln.Addr().String(), "127.0.0.1:notaport", "256.1.1.1:9464"} {
		var out, errb bytes.Buffer
		code := runMain([]string{"probe", srv.URL, "--vus", "1", "--duration", "1s", "--headless",
			"--report", filepath.Join(t.TempDir(), "r.json"), "--metrics", addr}, &out, &errb)
		msg := errb.String()
		if code != exitUsage || strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "brink: --metrics "+addr+": ") {
			t.Errorf("--metrics %s: exit %d, stderr %q; want 2 and one line", addr, code, msg)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("%d requests sent despite the refusal", hits.Load())
	}
}

// TestMetricsLingerUnscraped: with no scraper, brink leaves once
// --metrics-linger has passed since /metrics began serving (nothing
// scraping at most every linger watches it: a CI job is not kept
// waiting), the report written, and says Prometheus lacks the run; once a
// scrape came, it waits the whole linger after the run for one that reads
// the final state, and says Prometheus lacks the last window when none did.
func TestMetricsLingerUnscraped(t *testing.T) {
	t.Run("never_scraped", func(t *testing.T) {
		srv := serve(t, func(w http.ResponseWriter, r *http.Request) {})
		addr := promtest.FreeAddr(t)
		msg := lingerRun(t, srv.URL, addr)
		if !strings.Contains(msg, "brink: --metrics: nothing scraped http://"+addr+"/metrics in the ") ||
			!strings.Contains(msg, " it served (--metrics-linger 300ms): Prometheus lacks the run (the report has it)") ||
			strings.Contains(msg, "serving the final state") {
			t.Errorf("stderr does not say nothing scraped the run, or waited for a scrape:\n%s", msg)
		}
	})
	t.Run("scraped_during_the_run", func(t *testing.T) {
		// The first request is held until a scrape of /metrics has been
		// served, so that scrape came while the load ran.
		addr := promtest.FreeAddr(t)
		scraped := make(chan struct{})
		srv := serve(t, func(w http.ResponseWriter, r *http.Request) { <-scraped })
		go func() {
			defer close(scraped)
			for range 200 {
				if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
					resp.Body.Close()
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
		msg := lingerRun(t, srv.URL, addr)
		if !strings.Contains(msg, "no scrape read the final state in 300ms: Prometheus lacks the last window (the report has it)") {
			t.Errorf("stderr does not say the last window was not scraped:\n%s", msg)
		}
		if i, j := strings.Index(msg, "report written to "), strings.Index(msg, "--metrics: serving the final state"); i < 0 || j < 0 || i > j {
			t.Errorf("the report was not written before the linger:\n%s", msg)
		}
	})
}

// lingerRun runs a 1 s probe of target serving --metrics on addr with
// --metrics-linger 300ms and returns its stderr.
func lingerRun(t *testing.T, target, addr string) string {
	t.Helper()
	rep := filepath.Join(t.TempDir(), "r.json")
	var out, errb bytes.Buffer
	code := runMain([]string{"probe", target, "--vus", "1", "--duration", "1s", "--headless", "--report", rep,
		"--metrics", addr, "--metrics-linger", "300ms"}, &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d, want 0: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "report written to "+rep) {
		t.Errorf("no report written:\n%s", errb.String())
	}
	return errb.String()
}

// TestGrafanaDashboardCommand: the command prints the embedded dashboard,
// valid JSON with a uid and the brink metrics; an argument is refused.
func TestGrafanaDashboardCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runMain([]string{"grafana-dashboard"}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !bytes.Equal(out.Bytes(), promexport.Dashboard) {
		t.Fatal("printed dashboard differs from the embedded one")
	}
	var d struct {
		UID    string            `json:"uid"`
		Panels []json.RawMessage `json:"panels"`
	}
	if err := json.Unmarshal(out.Bytes(), &d); err != nil || d.UID == "" || len(d.Panels) < 8 {
		t.Fatalf("dashboard: %v, uid %q, %d panels", err, d.UID, len(d.Panels))
	}
	out.Reset()
	errb.Reset()
	if code := runMain([]string{"grafana-dashboard", "x"}, &out, &errb); code != exitUsage || out.Len() != 0 {
		t.Fatalf("an argument: exit %d, stdout %d bytes", code, out.Len())
	}
}

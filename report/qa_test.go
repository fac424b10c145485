package report

// Regression tests for the acceptance tester's findings. Reports from their
// runs are in testdata/qa (node samples stripped from the two demo runs).

import (
	"bytes"
	"math"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
)

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// replay plays a report's timeline back into a new Recorder as an older
// engine would have sent it (no Started, no histograms), with its abort,
// and returns the new report.
func replay(t *testing.T, name string) *Report {
	t.Helper()
	old, err := ReadFile(filepath.Join("testdata", "qa", name))
	if err != nil {
		t.Fatal(err)
	}
	sc := old.Scenario
	r := NewRecorder(sc, old.Start, Options{Version: "replay", Host: "h"})
	var aborts []Event
	for _, e := range old.Events {
		if e.Kind == EventAbort {
			aborts = append(aborts, e)
		}
	}
	d := func(v Num) time.Duration {
		if !v.Valid() {
			return 0
		}
		return time.Duration(float64(v) * float64(time.Millisecond))
	}
	for _, w := range old.Timeline {
		for len(aborts) > 0 && !aborts[0].Time.After(w.Time) {
			r.Abort(strings.TrimPrefix(aborts[0].Text, "aborted: "), aborts[0].Time)
			aborts = aborts[1:]
		}
		tk := measure.Tick{Time: w.Time, Elapsed: secs(w.ElapsedS), Window: secs(w.WindowS), Stage: w.Stage,
			VUs: w.VUs, TargetVUs: w.TargetVUs, TargetRate: w.TargetRate, Requests: w.Requests,
			Iterations: w.Iterations, ErrorCount: w.Errors, Dropped: w.Dropped, Errors: map[measure.ErrorKind]int64{}}
		for k, n := range w.ErrorKinds {
			tk.Errors[measure.ErrorKind(k)] = n
		}
		if w.Latency.P95.Valid() {
			tk.Latency = measure.Latency{Count: w.Requests - w.Errors, Min: d(w.Latency.P50), Mean: d(w.Latency.Mean),
				P50: d(w.Latency.P50), P90: d(w.Latency.P90), P95: d(w.Latency.P95), P99: d(w.Latency.P99),
				Max: d(w.Latency.Max)}
			tk.Service = tk.Latency
		}
		if len(sc.Groups) == 1 {
			g := sc.Groups[0]
			tk.Groups = []measure.GroupStats{{Name: g.Name, Executor: string(g.Executor), VUs: w.VUs,
				TargetVUs: w.TargetVUs, TargetRate: w.TargetRate, Requests: w.Requests, Iterations: w.Iterations,
				Errors: w.Errors, Dropped: w.Dropped, Started: w.Started, Latency: tk.Latency}}
		}
		r.AddTick(tk)
	}
	r.Finish(old.End)
	return r.Report()
}

func okWindows(rep *Report) (bad []float64) {
	for _, w := range rep.Timeline {
		if !w.OK {
			bad = append(bad, math.Round(w.ElapsedS))
		}
	}
	return bad
}

// Finding 1: slow responses are not "could not sustain the rate"; the
// arrivals the engine started (and dropped) decide.
func TestRateJudgedOnStarts(t *testing.T) {
	open := scenario(true, nil)
	run := func(ws []win) *Report {
		r := NewRecorder(open, t0, Options{})
		feed(t, r, ws, nil)
		r.Finish(at(float64(len(ws)) + 1))
		return r.Report()
	}
	t.Run("slow responses, every arrival started", func(t *testing.T) {
		// /slow (3 s) at 20/s: nothing completes for three windows.
		ws := make([]win, 12)
		for i := range ws {
			ws[i] = win{vus: 60, rate: 20, started: 20, rps: 20, p95: 3000}
			if i < 3 {
				ws[i].rps = 0
			}
		}
		rep := run(ws)
		if rep.Verdict.Breakpoint != nil || len(kinds(rep.Events, EventRateShort)) > 0 {
			t.Errorf("slow responses read as a shortfall: %q", rep.Verdict.Text)
		}
		if bad := okWindows(rep); len(bad) > 0 {
			t.Errorf("windows at %v s marked failed", bad)
		}
	})
	t.Run("window-edge jitter", func(t *testing.T) {
		ws := make([]win, 10)
		for i := range ws {
			ws[i] = win{vus: 30, rate: 300, started: 300, rps: 300, p95: 25}
		}
		ws[0].started, ws[0].rps = 294, 294 // the pacer started 20 ms after the run
		ws[1].started, ws[1].rps = 306, 306
		ws[5].started, ws[5].rps = 295, 295 // a late tick
		ws[6].started, ws[6].rps = 305, 305
		if bad := okWindows(run(ws)); len(bad) > 0 {
			t.Errorf("jitter marks windows at %v s failed", bad)
		}
	})
	t.Run("starts fall short though iterations complete", func(t *testing.T) {
		// From the 6th window the generator cannot keep up; a backlog still
		// completes.
		ws := steady(12, win{vus: 30, rate: 100, started: 100, rps: 100, p95: 25}, 5, func(w *win) { w.started = 90 })
		rep := run(ws)
		bp := rep.Verdict.Breakpoint
		if bp == nil || bp.Signal.Kind != SignalRate || !bp.Time.Equal(at(6)) {
			t.Fatalf("breakpoint %+v, want a rate shortfall from the 6th window; %q", bp, rep.Verdict.Text)
		}
		if !strings.Contains(bp.Signal.Text, "g could not sustain 100/s (achieved 90/s)") {
			t.Errorf("signal %q", bp.Signal.Text)
		}
		if bad := okWindows(rep); len(bad) == 0 || bad[0] != 6 {
			t.Errorf("failed windows %v, want from 6 s on (no earlier: the shortfall does not spread back)", bad)
		}
	})
	t.Run("older engine: completed iterations still count", func(t *testing.T) {
		ws := steady(12, win{vus: 30, rate: 100, rps: 100, p95: 25}, 5, func(w *win) { w.rps = 90 })
		if bp := run(ws).Verdict.Breakpoint; bp == nil || bp.Signal.Kind != SignalRate || !bp.Time.Equal(at(6)) {
			t.Fatalf("breakpoint %+v, want a rate shortfall from the 6th window", bp)
		}
	})
	t.Run("dropped arrivals", func(t *testing.T) {
		ws := steady(12, win{vus: 30, rate: 100, started: 100, rps: 100, p95: 25}, 4, func(w *win) { w.started, w.drop = 97, 3 })
		if bp := run(ws).Verdict.Breakpoint; bp == nil || !bp.Time.Equal(at(5)) ||
			!strings.Contains(bp.Signal.Text, "9 dropped") {
			t.Fatalf("breakpoint %+v, want dropped arrivals from the 5th window", bp)
		}
	})
}

// Finding 1 on the tester's reports (an engine without Started): window 1
// of a 300/s run (294 completed) held, and /slow at 20/s with nothing
// completed for 3 s found no breakpoint.
func TestRateOlderEngineReports(t *testing.T) {
	rep := replay(t, "rate2.json")
	if bad := okWindows(rep); len(bad) > 0 {
		t.Errorf("rate2: windows at %v s failed", bad)
	}
	rep = replay(t, "slow2.json")
	if rep.Verdict.Breakpoint != nil || len(kinds(rep.Events, EventRateShort)) > 0 {
		t.Errorf("slow2: %q", rep.Verdict.Text)
	}
	// rate.json dropped arrivals in windows 4, 5 and 7 (the pool growing),
	// never three in a row; window 3 (295 completed in a 1.005 s window) is
	// jitter.
	rep = replay(t, "rate.json")
	if bad := okWindows(rep); len(bad) != 3 || bad[0] != 4 || bad[1] != 5 || bad[2] != 7 {
		t.Errorf("rate: failed windows %v, want [4 5 7]", bad)
	}
	if rep.Verdict.Breakpoint != nil {
		t.Errorf("rate: %q", rep.Verdict.Text)
	}
}

// Finding 2: matched-load rows leave out the ramp-down after the peak and
// anything after an abort.
func TestCompareLeavesOutRampDown(t *testing.T) {
	a, err := ReadFile(filepath.Join("testdata", "qa", "demo.json"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ReadFile(filepath.Join("testdata", "qa", "tui.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	Compare(&out, a, b)
	row := ""
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "0–100 ") {
			row = l
		}
	}
	// Both ran at p95 ≈ 31 ms below 100 VUs on the way up; the ramp-down
	// window at 98 VUs had 685 ms.
	if !strings.Contains(row, "31 ms → 31.1 ms") {
		t.Errorf("0–100 VU row %q, want the ramp-up only:\n%s", row, out.String())
	}

	// An abort: the windows after it stay out even at a level reached
	// before (an open-model target does not drop).
	mk := func(abort bool) *Report {
		r := NewRecorder(scenario(true, []scenarios.Threshold{p95lt500}), t0, Options{})
		for i := 0; i < 10; i++ {
			w := win{vus: 10, rate: 100, started: 100, rps: 100, p95: 40}
			if i >= 6 && abort {
				w.p95 = 2000
			}
			r.AddTick(tick(i, w))
			if i == 5 && abort {
				r.Abort("signal", at(6.2))
			}
		}
		r.Finish(at(11))
		return r.Report()
	}
	out.Reset()
	Compare(&out, mk(false), mk(true))
	if s := out.String(); !strings.Contains(s, "40 ms → 40 ms") || strings.Contains(s, "2000") || strings.Contains(s, " s →") {
		t.Errorf("windows after the abort are compared:\n%s", s)
	}
}

// Finding 3: the run's last, partial window sets no peak.
func TestPeakIgnoresPartialWindow(t *testing.T) {
	r := NewRecorder(scenario(true, nil), t0, Options{})
	for i := 0; i < 5; i++ {
		r.AddTick(tick(i, win{vus: 30, rate: 300, started: 300, rps: 300, p95: 25}))
	}
	last := tick(5, win{vus: 0, rps: 6, p95: 25})
	last.Time, last.Window = at(5.0158), 15800*time.Microsecond // 6 requests in 15.8 ms: 380/s
	r.AddTick(last)
	r.Finish(at(5.02))
	rep := r.Report()
	if rep.Summary.RPSMax != 300 || rep.Verdict.Peak.RPS != 300 {
		t.Errorf("rps_max %v, peak %v, want 300", rep.Summary.RPSMax, rep.Verdict.Peak.RPS)
	}
	if rep.Summary.Requests != 1506 {
		t.Errorf("requests %d, want 1506 (the short window still counts)", rep.Summary.Requests)
	}
	if ms := rep.Verdict.MaxStable; ms == nil || ms.RPS != 300 {
		t.Errorf("max stable %+v, want 300 rps", ms)
	}

	// Reports from an older brink: redone from the timeline on reading.
	for name, want := range map[string]float64{"rate2.json": 301, "thr.json": 102} {
		rep, err := ReadFile(filepath.Join("testdata", "qa", name))
		if err != nil {
			t.Fatal(err)
		}
		if got := float64(rep.Summary.RPSMax); math.Abs(got-want) > 1 || float64(rep.Verdict.Peak.RPS) > want+1 {
			t.Errorf("%s: rps_max %.1f, peak %.1f, want about %.0f", name, got, float64(rep.Verdict.Peak.RPS), want)
		}
	}
}

// Finding 4: no NaN ever, and without thresholds nothing "held".
func TestNoThresholdsVerdict(t *testing.T) {
	// Connection refused, 100 % errors, no thresholds: the default
	// http_req_failed rate<5% fails it (it once passed, exit 0).
	rep := replay(t, "refused.json")
	want := "errors 100 % > 5 % at 20/s probe, 20 rps. No window before it held every threshold."
	if rep.Verdict.Text != want || rep.Passed {
		t.Errorf("passed %v, verdict %q\nwant      %q", rep.Passed, rep.Verdict.Text, want)
	}
	if len(rep.Thresholds) != 1 || !rep.Thresholds[0].Default || rep.Thresholds[0].OK {
		t.Errorf("thresholds %+v, want the default http_req_failed, failed", rep.Thresholds)
	}
	var out bytes.Buffer
	PrintSummary(&out, rep)
	if s := out.String(); strings.Contains(s, "NaN") || !strings.Contains(s, "✗ http_req_failed 'rate<5%' (default) = 100 %") ||
		!strings.Contains(s, "exit code 99") {
		t.Errorf("summary:\n%s", s)
	}

	r := NewRecorder(scenario(false, nil), t0, Options{})
	feed(t, r, ramp(10, 10, func(int) float64 { return 100 }), nil)
	r.Finish(at(11))
	if v := r.Verdict().Text; v != "No thresholds of its own were set; the default held (http_req_failed rate<5%): reached 100 users, 300 rps with 0 % errors (p95 100 ms, p99 100 ms over the run)." {
		t.Errorf("verdict %q", v)
	}
	for _, v := range []float64{math.NaN(), math.Inf(1)} {
		if fmtMs(v) != "-" || fmtPct(v) != "-" {
			t.Errorf("fmtMs %q, fmtPct %q", fmtMs(v), fmtPct(v))
		}
	}
}

// Finding 5: a failed value never reads as its limit, and sub-millisecond
// values never as 0 ms.
func TestFailedValueReadsFailed(t *testing.T) {
	rps100 := th("http_reqs", "rate>=100", "rate", 0, ">=", 100)
	p95us := th("http_req_duration", "p(95)<0.001", "p", 95, "<", 0.001)
	cases := []struct{ got, want string }{
		{fmtFailed(rps100, 99.977), "99.98/s"},
		{fmtFailed(rps100, 97.2), "97.2/s"},
		{fmtFailed(errLt1pct, 0.0104), "1.04 %"},
		{fmtFailed(errLt1pct, 0.15), "15 %"},
		{fmtFailed(p95lt500, 500.4), "500.4 ms"},
		{fmtFailed(p95lt500, 612), "612 ms"},
		{fmtFailed(th("http_req_duration", "p(95)<10s", "p", 95, "<", 10000), 10020), "10.02 s"},
		{fmtFailed(th("checks", "rate>0.99", "rate", 0, ">", 0.99), 0.98996), "98.996 %"},
		{fmtFailed(p95lt500, 100), "100 ms"}, // holds: as usual
		{fmtMs(0.001), "0.001 ms"},
		{fmtMs(0.0123), "0.012 ms"},
		{fmtMs(0.214), "0.21 ms"},
		{fmtMs(0), "0 ms"},
		{sloShort(p95us), "p95 > 0.001 ms"},
		{sloWithValue(p95us, 0.04), "p95 0.04 ms > 0.001 ms"},
		{sloWithValue(errLt1pct, 0.0104), "errors 1.04 % > 1 %"},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("case %d: got %q, want %q", i, c.got, c.want)
		}
	}
	rep, err := ReadFile(filepath.Join("testdata", "qa", "thr.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	PrintSummary(&out, rep)
	if s := out.String(); !strings.Contains(s, "✗ http_reqs 'rate>=100' = 99.98/s") {
		t.Errorf("summary:\n%s", s)
	}
}

// Finding 6: the error rate is said once.
func TestVerdictSaysErrorsOnce(t *testing.T) {
	r := NewRecorder(scenario(false, []scenarios.Threshold{errLt1pct}), t0, Options{})
	ws := ramp(12, 10, func(int) float64 { return 100 })
	for i := 5; i < len(ws); i++ {
		ws[i].errs = ws[i].rps * 15 / 100
	}
	feed(t, r, ws, nil)
	r.Finish(at(13))
	v := r.Verdict().Text
	if !strings.HasPrefix(v, "errors 15 % > 1 % at 60 users") || strings.Count(v, "errors") != 2 { // and max stable's
		t.Errorf("verdict %q", v)
	}
}

// Finding 7: comparing two different scenarios says so first.
func TestCompareWarnsDifferentScenarios(t *testing.T) {
	a, _ := ReadFile(filepath.Join("testdata", "qa", "rate2.json"))
	b, _ := ReadFile(filepath.Join("testdata", "qa", "slow2.json"))
	var out bytes.Buffer
	Compare(&out, a, b)
	first := strings.TrimSpace(strings.SplitN(strings.TrimLeft(out.String(), "\n"), "\n", 2)[0])
	if first != "warning: comparing different scenarios: probe 127.0.0.1:18081/d20 vs slow-ok" {
		t.Errorf("first line %q", first)
	}
	out.Reset()
	Compare(&out, a, a)
	if strings.Contains(out.String(), "warning") {
		t.Errorf("warning for the same scenario:\n%s", out.String())
	}
}

// Finding 8: the service time, rebuilt from window quantiles, never
// exceeds the latency at the same quantile.
func TestServiceNeverAboveLatency(t *testing.T) {
	r := NewRecorder(scenario(false, nil), t0, Options{})
	// Window 1: all at 10 ms. Window 2: 85 at 10 ms and 15 at 1 s, so its
	// p90 is 1 s; the whole run's exact p90 is 10 ms, but a rebuild from
	// window quantiles puts 40 % of window 2 at its p90.
	for i, slow := range []int64{0, 15} {
		tk := tick(i, win{vus: 10, rps: 100, p95: 10})
		tk.Hist, tk.Latency = histOf(100-slow, 10, slow, 1000)
		_, tk.Service = histOf(100-slow, 10, slow, 1000)
		r.AddTick(tk)
	}
	r.Finish(at(3))
	s := r.Report().Summary
	lat, svc := s.LatencyMs, s.ServiceMs
	for _, q := range [][2]Num{{svc.Med, lat.Med}, {svc.P90, lat.P90}, {svc.P95, lat.P95}, {svc.P99, lat.P99}, {svc.Max, lat.Max}} {
		if q[0] > q[1] {
			t.Errorf("service %v > latency %v (service %+v, latency %+v)", q[0], q[1], svc, lat)
		}
	}
	if svc.Exact {
		t.Error("service time marked exact")
	}
}

// Finding 9: a stale node sample keeps its reason in the report.
func TestStaleReasonKept(t *testing.T) {
	r := NewRecorder(scenario(false, nil), t0, Options{})
	s := load1("db-3", 50)
	s.Stale, s.StaleReason = true, "target down"
	r.AddPoll(measure.Poll{Time: at(1), Samples: []measure.Sample{func() measure.Sample { s.Time = at(1); return s }()}})
	r.Finish(at(2))
	var buf bytes.Buffer
	rep := r.Report()
	if len(rep.Nodes) != 1 || len(rep.Nodes[0].Samples) != 1 || rep.Nodes[0].Samples[0].StaleReason != "target down" {
		t.Fatalf("nodes %+v", rep.Nodes)
	}
	data, err := encode(rep)
	if err != nil {
		t.Fatal(err)
	}
	buf.Write(data)
	if !strings.Contains(buf.String(), `"stale":true,"stale_reason":"target down"`) {
		t.Errorf("JSON lacks the stale reason:\n%s", buf.String())
	}
	back, err := Parse("x", data)
	if err != nil || back.Nodes[0].Samples[0].StaleReason != "target down" {
		t.Errorf("read back: %v %+v", err, back)
	}
}

// histOf is a window of n1 requests at ms1 and n2 at ms2.
func histOf(n1 int64, ms1 float64, n2 int64, ms2 float64) (*hdrhistogram.Snapshot, measure.Latency) {
	h := hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 3)
	_ = h.RecordValues(int64(ms1*1000), n1)
	if n2 > 0 {
		_ = h.RecordValues(int64(ms2*1000), n2)
	}
	d := func(us int64) time.Duration { return time.Duration(us) * time.Microsecond }
	return h.Export(), measure.Latency{Count: h.TotalCount(), Min: d(h.Min()), Mean: d(int64(h.Mean())),
		P50: d(h.ValueAtPercentile(50)), P90: d(h.ValueAtPercentile(90)), P95: d(h.ValueAtPercentile(95)),
		P99: d(h.ValueAtPercentile(99)), Max: d(h.Max())}
}

// steady is n windows of w, with change applied to each from index from
// on: a load that holds, then one thing about it changes.
func steady(n int, w win, from int, change func(*win)) []win {
	ws := make([]win, n)
	for i := range ws {
		ws[i] = w
		if i >= from {
			change(&ws[i])
		}
	}
	return ws
}

// A signal that recovered and broke again is said once in the verdict,
// at its first breach ("p95 > 500 ms 3 s later; p95 > 500 ms 11 s later"
// said nothing new).
func TestVerdictSaysEachFollowedOnce(t *testing.T) {
	r := NewRecorder(scenario(false, []scenarios.Threshold{p95lt500, errLt1pct}), t0, Options{})
	ws := ramp(26, 10, func(i int) float64 {
		if i >= 7 && i < 12 || i >= 17 {
			return 900
		}
		return 100
	})
	for i := 4; i < len(ws); i++ {
		ws[i].errs = ws[i].rps * 15 / 100
	}
	feed(t, r, ws, nil)
	r.Finish(at(27))
	v := r.Verdict()
	if len(v.Followed) < 2 {
		t.Fatalf("followed %+v: want the p95 breach twice (the test's premise)", v.Followed)
	}
	if !strings.HasPrefix(v.Text, "errors 15 % > 1 %") || strings.Count(v.Text, "p95 > 500 ms") != 1 {
		t.Errorf("verdict %q", v.Text)
	}
}

// The summary's vus_max names a target only when closed-model groups set
// one: an arrival-rate run read "vus_max 60 (target 0)", as if no VUs
// had been wanted.
func TestVUsMaxTarget(t *testing.T) {
	for _, c := range []struct {
		open bool
		want string
	}{{false, "60 (target 60)\n"}, {true, "60\n"}} {
		r := NewRecorder(scenario(c.open, nil), t0, Options{})
		w := win{vus: 60, rps: 20, p95: 25}
		if c.open {
			w.rate, w.started = 20, 20
		}
		feed(t, r, []win{w, w, w}, nil)
		r.Finish(at(4))
		var out bytes.Buffer
		PrintSummary(&out, r.Report())
		if !regexp.MustCompile(`vus_max\.+: ` + regexp.QuoteMeta(c.want)).MatchString(out.String()) {
			t.Errorf("open %v: want vus_max %q in\n%s", c.open, c.want, out.String())
		}
	}
}

package report

import (
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
)

func TestNodeEventText(t *testing.T) {
	r := NewRecorder(scenario(false, nil, scenarios.NodeThreshold{Metric: "load1", Above: 100}), t0, Options{})
	polls := map[int][]measure.Sample{}
	for s := 1; s <= 12; s++ {
		v := 50.0
		if s >= 4 && s < 8 {
			v = 100 + float64(s)
		}
		polls[s] = []measure.Sample{load1("db-3", v)}
	}
	feed(t, r, ramp(12, 200, func(int) float64 { return 212 }), polls)
	var evs []Event
	r.View(func(v *View) { evs = append(evs, v.Events...) })
	over, clear := kinds(evs, EventNodeOver), kinds(evs, EventNodeClear)
	if len(over) != 1 || len(clear) != 1 {
		t.Fatalf("events %+v", evs)
	}
	if want := "db-3 load1 104 > 100 — 610 users, 1830 rps, p95 212 ms"; over[0].Text != want {
		t.Errorf("over text %q, want %q", over[0].Text, want)
	}
	if !over[0].Time.Equal(at(4)) || over[0].Load.VUs != 610 {
		t.Errorf("over stamped %v with %d VUs, want 4s and the load then", over[0].Time.Sub(t0), over[0].Load.VUs)
	}
	if !clear[0].Time.Equal(at(8)) || clear[0].Text != "db-3 load1 back under 100 (50) — 1 410 users, 4230 rps, p95 212 ms" {
		t.Errorf("clear %v %q", clear[0].Time.Sub(t0), clear[0].Text)
	}
}

func TestWindowValues(t *testing.T) {
	tk := tick(0, win{vus: 10, rps: 200, p95: 300, errs: 4, checks: 10})
	tk.Endpoints = append(tk.Endpoints, measure.EndpointStats{Group: "g", Name: "post", Requests: 100, Errors: 50})
	tk.Endpoints[1].Hist, tk.Endpoints[1].Latency = hist(100, 900)
	tk.WS.Reply = measure.Latency{Count: 10, P50: 5 * time.Millisecond, P90: 8 * time.Millisecond,
		P95: 9 * time.Millisecond, P99: 20 * time.Millisecond, Max: 30 * time.Millisecond, Mean: 6 * time.Millisecond}
	tag := func(x scenarios.Threshold, k, v string) scenarios.Threshold { x.TagKey, x.TagValue = k, v; return x }
	cases := []struct {
		name string
		th   scenarios.Threshold
		want float64
		ok   bool
	}{
		{"p95", p95lt500, 300, true},
		{"p99.9", th("http_req_duration", "p(99.9)<1", "p", 99.9, "<", 1), 300, true},
		{"med", th("http_req_duration", "med<1", "med", 0, "<", 1), 150, true},
		{"max", th("http_req_duration", "max<1", "max", 0, "<", 1), 300, true},
		{"error rate", errLt1pct, 0.02, true},
		{"rps", th("http_reqs", "rate>1", "rate", 0, ">", 1), 200, true},
		{"count is whole-run only", th("http_reqs", "count>1", "count", 0, ">", 1), 0, false},
		{"checks", th("checks", "rate>0.99", "rate", 0, ">", 0.99), 0.95, true},
		{"ws p95", th("ws_msg_latency", "p(95)<100", "p", 95, "<", 100), 9, true},
		{"name tag p95", tag(p95lt500, "name", "post"), 900, true},
		{"name tag errors", tag(errLt1pct, "name", "post"), 0.5, true},
		{"group tag merges endpoints", tag(th("http_req_duration", "p(99)<1", "p", 99, "<", 1), "group", "g"), 900, true},
		{"unknown name", tag(p95lt500, "name", "nope"), 0, false},
		{"iteration_duration has no data", th("iteration_duration", "p(95)<1", "p", 95, "<", 1), 0, false},
	}
	var scratch snapAcc
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := windowValue(c.th, &tk, &scratch)
			if ok != c.ok || (ok && math.Abs(got-c.want) > c.want*0.002) {
				t.Errorf("got %v, %v; want %v, %v", got, ok, c.want, c.ok)
			}
		})
	}
}

// TestWholeRunPercentiles: merged window histograms give the whole run's
// percentiles within 1 % of the exact ones, and old windows lose their
// histograms.
func TestWholeRunPercentiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	r := NewRecorder(scenario(false, []scenarios.Threshold{th("http_req_duration", "p(99)<250", "p", 99, "<", 250)}), t0, Options{})
	var all []float64
	for i := 0; i < 60; i++ {
		h := hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 3)
		shift := float64(i) // the distribution drifts, so windows differ
		for k := 0; k < 500; k++ {
			v := 20 + shift + rng.ExpFloat64()*40 // ms
			all = append(all, v)
			_ = h.RecordValue(int64(v * 1000))
		}
		tk := tick(i, win{vus: 10, rps: 500, p95: 100})
		tk.Hist = h.Export()
		tk.Latency.Count = 500
		r.AddTick(tk)
	}
	rep := r.Report()
	for _, c := range []struct {
		p   float64
		got Num
	}{{50, rep.Summary.LatencyMs.Med}, {95, rep.Summary.LatencyMs.P95}, {99, rep.Summary.LatencyMs.P99}} {
		if e := nearestRank(all, c.p); math.Abs(float64(c.got)-e) > e*0.01 {
			t.Errorf("p%v = %v, exact %v", c.p, c.got, e)
		}
	}
	if !rep.Summary.LatencyMs.Exact {
		t.Error("whole-run latency not marked exact")
	}
	if v := rep.Thresholds[0].Value; math.Abs(float64(v)-nearestRank(all, 99)) > nearestRank(all, 99)*0.01 {
		t.Errorf("threshold value %v, exact p99 %v", v, nearestRank(all, 99))
	}
	r.View(func(v *View) {
		for i := range v.Ticks[:len(v.Ticks)-1] {
			if v.Ticks[i].Hist != nil || v.Ticks[i].Endpoints[0].Hist != nil {
				t.Fatalf("tick %d keeps its histogram", i)
			}
		}
		if v.Ticks[len(v.Ticks)-1].Hist == nil {
			t.Error("the latest tick lost its histogram")
		}
	})
}

// TestAbortBeforeBreakpoint: violations that start after an abort belong to
// the ramp-down and never become the breakpoint.
func TestAbortBeforeBreakpoint(t *testing.T) {
	r := NewRecorder(scenario(false, []scenarios.Threshold{p95lt500}), t0, Options{})
	feed(t, r, ramp(5, 10, func(int) float64 { return 100 }), nil)
	r.Abort("key q by local", at(5.5))
	for i := 5; i < 10; i++ {
		r.AddTick(tick(i, win{vus: 10, rps: 30, p95: 900}))
	}
	r.Finish(at(11))
	v := r.Verdict()
	if v.Breakpoint != nil || v.Aborted == "" {
		t.Fatalf("verdict %+v", v)
	}
	if want := "No breakpoint before the run was aborted (key q by local): it held up to 50 users, 150 rps"; !strings.Contains(v.Text, want) {
		t.Errorf("text %q lacks %q", v.Text, want)
	}
}

// TestConcurrentUse: the engine, the poller, consoles and the autosaver use
// one recorder at once (run with -race).
func TestConcurrentUse(t *testing.T) {
	r := NewRecorder(scenario(false, []scenarios.Threshold{p95lt500}, scenarios.NodeThreshold{Metric: "load1", Above: 100}), t0, Options{})
	var wg sync.WaitGroup
	wg.Add(4)
	go func() {
		defer wg.Done()
		for i := 0; i < 200; i++ {
			r.AddTick(tick(i, win{vus: i, rps: 10 * i, p95: float64(i * 5)}))
		}
	}()
	go func() {
		defer wg.Done()
		for s := 1; s <= 200; s++ {
			r.AddPoll(poll(float64(s), load1("db-3", float64(s))))
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 100; i++ {
			r.View(func(v *View) { _ = len(v.Ticks) + len(v.Events) })
			_ = r.Verdict()
			r.Note("bob", "x", at(float64(i)))
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 20; i++ {
			_ = r.Report()
		}
	}()
	wg.Wait()
	r.Finish(at(300))
	if r.Verdict().Breakpoint == nil {
		t.Error("no breakpoint in a run that broke")
	}
}

// TestSnapQuantileMatchesLibrary: the allocation-free quantile agrees with
// hdrhistogram's ValueAtPercentile across layouts and distributions.
func TestSnapQuantileMatchesLibrary(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	layouts := []struct{ lo, hi, sig int64 }{{1, 60_000_000, 3}, {1, 3_600_000_000, 2}, {1000, 10_000_000, 3}, {1, 1000, 1}}
	for _, l := range layouts {
		h := hdrhistogram.New(l.lo, l.hi, int(l.sig))
		for k := 0; k < 5000; k++ {
			v := int64(rng.ExpFloat64() * float64(l.hi) / 50)
			_ = h.RecordValue(min(max(v, l.lo), l.hi))
		}
		s := h.Export()
		for _, p := range []float64{0, 1, 25, 50, 90, 95, 99, 99.9, 100} {
			got, ok := snapQuantile(s, p)
			want := h.ValueAtPercentile(p)
			if p == 0 {
				want = h.Min() // the library answers 0 for p0; the minimum is meant
			}
			if !ok || got != want {
				t.Errorf("layout %v p%v: got %d, library %d", l, p, got, want)
			}
		}
	}
	if _, ok := snapQuantile(hdrhistogram.New(1, 1000, 3).Export(), 50); ok {
		t.Error("empty histogram has a quantile")
	}
}

// TestMaxStableAveragesTheLevel: a stage that holds 100 VUs for several
// windows gives its mean figures, not one window's.
func TestMaxStableAveragesTheLevel(t *testing.T) {
	r := NewRecorder(scenario(false, []scenarios.Threshold{p95lt500}), t0, Options{})
	wins := []win{{vus: 50, rps: 100, p95: 50}, {vus: 100, rps: 200, p95: 100}, {vus: 100, rps: 300, p95: 200},
		{vus: 100, rps: 100, p95: 600}, // failed: not part of the held level
		{vus: 100, rps: 400, p95: 300}}
	feed(t, r, wins, nil)
	r.Finish(at(6))
	ms := r.Verdict().MaxStable
	if ms == nil || ms.VUs != 100 || ms.Windows != 3 || float64(ms.RPS) != 300 || !ms.Time.Equal(at(5)) {
		t.Fatalf("max stable %+v", ms)
	}
	// request-weighted: (200×100 + 300×200 + 400×300) / 900
	if want := 222.22; math.Abs(float64(ms.P95Ms)-want) > 0.5 {
		t.Errorf("p95 %v, want %v", ms.P95Ms, want)
	}
}

func TestHeadlineState(t *testing.T) {
	node := scenarios.NodeThreshold{Metric: "load1", Above: 100}
	cases := []struct {
		name  string
		p95s  []float64
		load1 float64
		want  State
	}{
		{"far from every limit", []float64{100, 120, 110}, 50, StateOK},
		{"p95 near its limit", []float64{100, 120, 460}, 50, StateWarn},
		{"node near its limit", []float64{100, 120, 110}, 95, StateWarn},
		{"one bad window", []float64{100, 120, 600}, 50, StateWarn},
		{"recovered", []float64{600, 600, 100}, 50, StateOK},
		{"sustained", []float64{600, 600, 600}, 50, StateBreakpoint},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := NewRecorder(scenario(false, []scenarios.Threshold{p95lt500}, node), t0, Options{})
			for i, p := range c.p95s {
				r.AddTick(tick(i, win{vus: 10, rps: 30, p95: p}))
				r.AddPoll(poll(float64(i+1), load1("db-1", c.load1)))
			}
			r.View(func(v *View) {
				if v.State != c.want {
					t.Errorf("state %s, want %s", v.State, c.want)
				}
			})
		})
	}
}

// TestMaxStableBelowNodeBreakpoint: a crossing stamped inside a window
// reports the load of the window that contains it (not of the last one
// ended before it, which held, and is the max stable load).
func TestMaxStableBelowNodeBreakpoint(t *testing.T) {
	r := NewRecorder(scenario(false, nil, scenarios.NodeThreshold{Metric: "load1", Above: 100}), t0, Options{})
	for i := 0; i < 12; i++ {
		r.AddTick(tick(i, win{vus: 10 * (i + 1), rps: 30 * (i + 1), p95: 50}))
		v := 50.0
		if i >= 5 {
			v = 120
		}
		r.AddPoll(poll(float64(i)+1.5, load1("db-3", v))) // half-way through the next window
	}
	r.Finish(at(13))
	v := r.Verdict()
	if v.Breakpoint == nil || !v.Breakpoint.Time.Equal(at(6.5)) || v.Breakpoint.VUs != 70 {
		t.Fatalf("breakpoint %+v, want 70 VUs (the window (6 s, 7 s])", v.Breakpoint)
	}
	if v.MaxStable == nil || v.MaxStable.VUs != 60 {
		t.Errorf("max stable %+v, want 60 VUs (below the breakpoint's 70)", v.MaxStable)
	}
}

// TestRampDownAfterAbort: once aborted, stopped arrivals are not a rate
// shortfall, and later violations do not count as "followed".
func TestRampDownAfterAbort(t *testing.T) {
	r := NewRecorder(scenario(true, []scenarios.Threshold{p95lt500}), t0, Options{})
	for i := 0; i < 10; i++ {
		w := win{vus: 10, rate: 100, rps: 100, p95: 600} // SLO breaks from the start
		if i >= 5 {
			w.rps, w.iters, w.p95 = 2, 2, 900 // ramping down
		}
		r.AddTick(tick(i, w))
		if i == 4 {
			r.Abort("abort_on_breakpoint", at(5.5))
		}
	}
	r.Finish(at(11))
	v := r.Verdict()
	if v.Breakpoint == nil || len(v.Followed) != 0 {
		t.Fatalf("breakpoint %+v, followed %+v", v.Breakpoint, v.Followed)
	}
	r.View(func(vw *View) {
		if n := len(kinds(vw.Events, EventRateShort)); n != 0 {
			t.Errorf("%d rate_short events during the ramp-down", n)
		}
	})
}

// FuzzAddTick: malformed ticks and histogram snapshots (a remote
// generator's bug) never panic the recorder, and the report still builds.
func FuzzAddTick(f *testing.F) {
	f.Add(int64(1), int64(60_000_000), int64(3), 100, int64(10), int64(1), int64(1000), int64(0))
	f.Add(int64(1), int64(1000), int64(1), 3, int64(-5), int64(0), int64(0), int64(-1))
	f.Add(int64(0), int64(0), int64(9), 0, int64(0), int64(0), int64(-3), int64(1<<40))
	f.Fuzz(func(t *testing.T, lo, hi, sig int64, n int, req, errs, window, val int64) {
		n = min(max(n, 0), 4096)
		counts := make([]int64, n)
		for i := range counts {
			counts[i] = val
		}
		r := NewRecorder(scenario(false, []scenarios.Threshold{p95lt500, errLt1pct,
			{Metric: "http_req_duration", TagKey: "group", TagValue: "g", Agg: "p", P: 99, Op: "<", Value: 1}}), t0, Options{})
		for i := 0; i < 3; i++ {
			snap := &hdrhistogram.Snapshot{LowestTrackableValue: lo, HighestTrackableValue: hi, SignificantFigures: sig, Counts: counts}
			tk := measure.Tick{Time: at(float64(i)), Window: time.Duration(window), Requests: req, ErrorCount: errs,
				Latency: measure.Latency{Count: req, P95: time.Duration(val)}, Hist: snap,
				Endpoints: []measure.EndpointStats{{Group: "g", Name: "x", Requests: req, Hist: snap}, {Group: "g", Name: "y", Hist: snap}},
				Groups:    []measure.GroupStats{{Name: "g", TargetRate: float64(val), Iterations: req}}}
			r.AddTick(tk)
		}
		_ = r.Report()
	})
}

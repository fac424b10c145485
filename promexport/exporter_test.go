package promexport

import (
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/report"
	"github.com/brink-load/brink/scenarios"
)

// testScenario has a closed group (browse: rooms, history) and an
// arrival-rate one (writes: post).
func testScenario() *scenarios.Scenario {
	return &scenarios.Scenario{Name: "t", Groups: []scenarios.Group{
		{Name: "browse", Executor: scenarios.RampingVUs, Requests: []scenarios.Request{{Name: "rooms"}, {Name: "history"}}},
		{Name: "writes", Executor: scenarios.RampingArrivalRate, Requests: []scenarios.Request{{Name: "post"}}},
		{Name: "chat", Executor: scenarios.RampingVUs, WebSocket: &scenarios.WebSocket{}},
	}}
}

// The engine's per-endpoint precision: µs, 2 significant figures.
func epHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, 3_600_000_000, 2) }

func family(t *testing.T, e *Exporter, name string) *dto.MetricFamily {
	t.Helper()
	mfs, err := e.Gatherer().Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf
		}
	}
	t.Fatalf("no family %s", name)
	return nil
}

func metricWith(t *testing.T, mf *dto.MetricFamily, labels ...string) *dto.Metric {
	t.Helper()
	for _, m := range mf.GetMetric() {
		got := map[string]string{}
		for _, lp := range m.GetLabel() {
			got[lp.GetName()] = lp.GetValue()
		}
		ok := true
		for i := 0; i+1 < len(labels); i += 2 {
			ok = ok && got[labels[i]] == labels[i+1]
		}
		if ok {
			return m
		}
	}
	t.Fatalf("%s: no series %v", mf.GetName(), labels)
	return nil
}

// TestLatencyBucketsFromHDR feeds three windows of known latencies and
// judges every classic bucket against the true counts (off only by the
// samples within one HDR bar below a bound), the native buckets' total and
// their p95 against HDR's.
func TestLatencyBucketsFromHDR(t *testing.T) {
	e := New(testScenario(), "test", time.Unix(1000, 0))
	rng := rand.New(rand.NewPCG(1, 2))
	var all []float64 // seconds
	whole := epHist()
	for w := 0; w < 3; w++ {
		h := epHist()
		n := 5000 + w*1000
		for i := 0; i < n; i++ {
			// log-uniform over 200 µs … 20 s: every bucket gets some
			us := math.Exp(math.Log(200) + rng.Float64()*math.Log(1e5))
			v := int64(us)
			h.RecordValue(v)
			whole.RecordValue(v)
			all = append(all, float64(v)*1e-6)
		}
		e.AddTick(&measure.Tick{Endpoints: []measure.EndpointStats{{Group: "browse", Name: "rooms", Requests: int64(n),
			Latency: measure.Latency{Count: int64(n)}, Hist: h.Export()}}})
	}
	sort.Float64s(all)
	m := metricWith(t, family(t, e, "brink_http_request_duration_seconds"), "group", "browse", "endpoint", "rooms")
	hist := m.GetHistogram()
	if got := hist.GetSampleCount(); got != uint64(len(all)) {
		t.Fatalf("count %d, want %d", got, len(all))
	}
	var trueSum float64
	for _, v := range all {
		trueSum += v
	}
	if s := hist.GetSampleSum(); math.Abs(s-trueSum)/trueSum > 0.005 {
		t.Errorf("sum %.3f, true %.3f", s, trueSum)
	}
	if len(hist.GetBucket()) != len(Buckets) {
		t.Fatalf("%d classic buckets, want %d", len(hist.GetBucket()), len(Buckets))
	}
	for _, b := range hist.GetBucket() {
		ub := b.GetUpperBound()
		exact := sort.SearchFloat64s(all, math.Nextafter(ub, math.Inf(1))) // values ≤ ub
		band := exact - sort.SearchFloat64s(all, ub*(1-1.0/128))           // within one bar below ub
		if got := int(b.GetCumulativeCount()); got > exact || got < exact-band {
			t.Errorf("le=%g: %d, true %d (band %d)", ub, got, exact, band)
		}
	}
	// Native: every sample in some bucket, and p95 read from the buckets
	// (upper bound of the bucket holding rank 0.95) within one bucket of
	// HDR's.
	var total int64
	idx := int(hist.GetPositiveSpan()[0].GetOffset())
	var cur int64
	rank := int64(math.Ceil(0.95 * float64(len(all))))
	var p95 float64
	i := 0
	for _, sp := range hist.GetPositiveSpan() {
		if i > 0 {
			idx += int(sp.GetOffset())
		}
		for j := 0; j < int(sp.GetLength()); j++ {
			cur += hist.GetPositiveDelta()[i]
			total += cur
			if p95 == 0 && total >= rank {
				p95 = math.Exp2(float64(idx) / 8)
			}
			i++
			idx++
		}
	}
	if total != int64(len(all)) {
		t.Errorf("native buckets hold %d, want %d", total, len(all))
	}
	want := float64(whole.ValueAtQuantile(95)) * 1e-6
	if p95 < want || p95 > want*math.Exp2(1.0/8)*1.01 {
		t.Errorf("native p95 bound %.6f s, HDR p95 %.6f s", p95, want)
	}
	if hist.GetSchema() != NativeSchema {
		t.Errorf("schema %d", hist.GetSchema())
	}
}

// TestNativeIndex: bucket i holds (2^((i-1)/8), 2^(i/8)], bounds included
// on the right.
func TestNativeIndex(t *testing.T) {
	for i := -200; i <= 60; i++ {
		ub := math.Exp2(float64(i) / 8)
		if got := nativeIndex(ub); got != i {
			t.Errorf("nativeIndex(2^(%d/8)) = %d", i, got)
		}
		if got := nativeIndex(math.Nextafter(ub, math.Inf(1))); got != i+1 {
			t.Errorf("nativeIndex(just over 2^(%d/8)) = %d", i, got)
		}
	}
}

// TestTickCounters: a window's figures land in the counters and gauges
// with bounded labels, and the whole registry passes promlint.
func TestTickCounters(t *testing.T) {
	e := New(testScenario(), "test", time.Unix(1000, 0))
	tick := measure.Tick{
		Groups: []measure.GroupStats{
			{Name: "browse", Executor: string(scenarios.RampingVUs), VUs: 7, TargetVUs: 10, Iterations: 30},
			{Name: "writes", Executor: string(scenarios.RampingArrivalRate), VUs: 4, BusyVUs: 2, Rate: 19.5, TargetRate: 20, Dropped: 1, Iterations: 19},
		},
		Endpoints: []measure.EndpointStats{{Group: "browse", Name: "rooms", Requests: 30, Errors: 2}, {Group: "writes", Name: "post", Requests: 19}},
		Failures: []measure.Failure{{Group: "browse", Endpoint: "rooms", Kind: measure.ErrStatus5xx, Status: 503, Count: 2},
			{Group: "writes", Kind: measure.ErrDropped, Count: 1}},
		Errors:    map[measure.ErrorKind]int64{measure.ErrStatus5xx: 2, measure.ErrDropped: 1},
		Generator: measure.GeneratorStats{CPUPercent: 150, Cores: 2, Stretch: 1, Overloaded: true},
		WS:        measure.WSStats{Open: 9, Sent: 40, Received: 38},
	}
	tick.Groups = append(tick.Groups, measure.GroupStats{Name: "chat", Executor: string(scenarios.RampingVUs), VUs: 9,
		WSSessions: 10, WSFailed: 1, WSOutcomes: 12})
	e.AddTick(&tick)
	e.AddTick(&tick)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"brink_vus", []string{"group", "browse"}, 7},
		{"brink_vus_target", []string{"group", "browse"}, 10},
		{"brink_arrival_rate", []string{"group", "writes"}, 19.5},
		{"brink_arrival_rate_target", []string{"group", "writes"}, 20},
		{"brink_vus_busy", []string{"group", "writes"}, 2},
		{"brink_http_requests_total", []string{"group", "browse", "endpoint", "rooms"}, 60},
		{"brink_http_requests_total", []string{"group", "browse", "endpoint", "history"}, 0},
		{"brink_http_request_failures_total", []string{"group", "browse", "endpoint", "rooms"}, 4},
		{"brink_failures_total", []string{"group", "browse", "endpoint", "rooms", "kind", "status_5xx", "status", "503"}, 4},
		{"brink_failures_total", []string{"group", "writes", "endpoint", "", "kind", "dropped", "status", ""}, 2},
		{"brink_errors_total", []string{"kind", "dropped"}, 2},
		{"brink_dropped_iterations_total", []string{"group", "writes"}, 2},
		{"brink_iterations_total", []string{"group", "writes"}, 38},
		{"brink_generator_cpu_ratio", nil, 1.5},
		{"brink_generator_overloaded", nil, 1},
		{"brink_generator_overloaded_windows_total", nil, 2},
		{"brink_run_running", nil, 1},
		{"brink_ws_sessions_open", nil, 9},
		{"brink_ws_sessions_total", []string{"group", "chat"}, 20},
		{"brink_ws_failed_total", []string{"group", "chat"}, 2},
		{"brink_ws_outcomes_total", []string{"group", "chat"}, 24},
		{"brink_ws_messages_sent_total", nil, 80},
		{"brink_ws_messages_received_total", nil, 76},
	} {
		m := metricWith(t, family(t, e, c.name), c.labels...)
		got := m.GetGauge().GetValue() + m.GetCounter().GetValue()
		if got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	problems, err := promlint.NewWithMetricFamilies(mustGather(t, e)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	for _, mf := range mustGather(t, e) {
		if !strings.HasPrefix(mf.GetName(), "brink_") {
			t.Errorf("%s lacks the brink_ prefix", mf.GetName())
		}
	}
}

func mustGather(t *testing.T, e *Exporter) []*dto.MetricFamily {
	t.Helper()
	mfs, err := e.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

// TestEachBarMatchesHDR: reading a snapshot's counts in place gives the
// bars hdrhistogram's own Distribution gives, at 2 and 3 significant
// figures and a lowest value above 1.
func TestEachBarMatchesHDR(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, c := range []struct {
		lo, hi int64
		sf     int
	}{{1, 3_600_000_000, 2}, {1, 3_600_000_000, 3}, {1, 60_000_000, 3}, {16, 1 << 40, 2}} {
		h := hdrhistogram.New(c.lo, c.hi, c.sf)
		for i := 0; i < 20000; i++ {
			h.RecordValue(int64(math.Exp(rng.Float64() * math.Log(float64(c.hi)/2))))
		}
		var want [][3]int64
		for _, b := range hdrhistogram.Import(h.Export()).Distribution() {
			if b.Count > 0 {
				want = append(want, [3]int64{b.From, b.To, b.Count})
			}
		}
		var got [][3]int64
		eachBar(h.Export(), func(lo, hi, n int64) { got = append(got, [3]int64{lo, hi, n}) })
		if len(got) != len(want) {
			t.Fatalf("%+v: %d bars, HDR %d", c, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%+v: bar %d is %v, HDR %v", c, i, got[i], want[i])
			}
		}
	}
}

// TestFinalReadAfterFinish: FinalRead (what --metrics-linger waits for)
// is closed by the first scrape served after Finish, never by one before
// it (which read a window that may not be the last).
func TestFinalReadAfterFinish(t *testing.T) {
	e := New(testScenario(), "test", time.Now())
	srv := httptest.NewServer(e.Handler())
	defer srv.Close()
	scrape := func() string {
		resp, err := http.Get(srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	closed := func() bool {
		select {
		case <-e.FinalRead():
			return true
		default:
			return false
		}
	}
	e.AddTick(&measure.Tick{})
	if scrape(); closed() {
		t.Fatal("FinalRead closed by a scrape before Finish")
	}
	e.Finish()
	if closed() {
		t.Fatal("FinalRead closed by Finish alone, before any scrape")
	}
	if body := scrape(); !strings.Contains(body, "brink_run_running 0") {
		t.Fatalf("the scrape after Finish does not read brink_run_running 0:\n%s", body)
	}
	if !closed() {
		t.Fatal("FinalRead still open after a scrape of the final state")
	}
	scrape() // a second one after it closes nothing twice
}

// TestBreakpointGaugesAreTheVerdicts: the breakpoint's gauges carry the
// load the verdict names — an arrival-rate group's target rate, not the
// rate it managed to start (the started one has its own gauge) — and the
// closed group's users.
func TestBreakpointGaugesAreTheVerdicts(t *testing.T) {
	sc := testScenario()
	sc.Window, sc.Sustain = time.Second, 3*time.Second
	sc.Nodes = &scenarios.Nodes{Prometheus: "http://127.0.0.1:9090",
		Thresholds: []scenarios.NodeThreshold{{Metric: "load1", Above: 100}}}
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	rec := report.NewRecorder(sc, start, report.Options{})
	e := New(sc, "test", start)
	nan := math.NaN()
	for i := range 10 {
		at := start.Add(time.Duration(i+1) * time.Second)
		// The target climbs by 7.5/s a window (halves: the verdict's one
		// decimal says them exactly); the engine starts only 80 % of it
		// (arrivals dropped), so the two rates differ.
		target := 42.5 + 7.5*float64(i)
		tk := measure.Tick{Time: at, Elapsed: at.Sub(start), Window: time.Second, Groups: []measure.GroupStats{
			{Name: "browse", Executor: string(scenarios.RampingVUs), VUs: 10 + i, TargetVUs: 10 + i},
			{Name: "writes", Executor: string(scenarios.RampingArrivalRate), VUs: 50, TargetRate: target,
				Rate: 0.8 * target, Started: int64(0.8 * target)},
		}}
		rec.AddTick(tk)
		e.AddTick(&tk)
		e.Sync(rec)
		load := 50.0
		if i >= 3 {
			load = 150
		}
		rec.AddPoll(measure.Poll{Time: at, Samples: []measure.Sample{{Node: "db-3", Instance: "db-3:9100", Time: at,
			Load1: load, CPU: 50, IOWait: nan, DiskUtil: nan, ReadBps: nan, WriteBps: nan, Load1PerCore: load / 4, Cores: 4,
			Mem: nan, NetRxBps: nan, NetTxBps: nan}}})
	}
	rec.Finish(start.Add(11 * time.Second))
	e.Sync(rec)
	v := rec.Verdict()
	if v.Breakpoint == nil {
		t.Fatalf("no breakpoint: %s", v.Text)
	}
	gauge := func(name, group string) float64 {
		return metricWith(t, family(t, e, name), "group", group).GetGauge().GetValue()
	}
	for _, g := range v.Breakpoint.Groups {
		if !g.Open {
			if got := gauge("brink_breakpoint_vus", g.Name); got != float64(g.VUs) {
				t.Errorf("brink_breakpoint_vus{group=%q} %v, the verdict's %d", g.Name, got, g.VUs)
			}
			continue
		}
		got := gauge("brink_breakpoint_arrival_rate", g.Name)
		if got != g.TargetRate || got == float64(g.Rate) {
			t.Errorf("brink_breakpoint_arrival_rate{group=%q} %v, the verdict's target %v (started %v)", g.Name, got, g.TargetRate, g.Rate)
		}
		if said := strconv.FormatFloat(got, 'f', -1, 64) + "/s " + g.Name; !strings.Contains(v.Text, said) {
			t.Errorf("the verdict does not say the gauge's %q: %s", said, v.Text)
		}
		if got := gauge("brink_breakpoint_arrival_rate_started", g.Name); got != float64(g.Rate) {
			t.Errorf("brink_breakpoint_arrival_rate_started{group=%q} %v, the window's started %v", g.Name, got, g.Rate)
		}
	}
}

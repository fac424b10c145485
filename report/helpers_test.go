package report

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/brink-load/brink/engine"
	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// win describes one synthetic window.
type win struct {
	vus   int
	rate  float64 // open-model target (iterations/s); 0 for closed
	rps   int     // requests in the (1 s) window
	p95   float64 // ms; the window's p95 and p99
	errs  int
	iters int // arrival-rate iterations (default rps)
	// started: arrivals handed to a VU (GroupStats.Started); 0 is an
	// engine that does not count them.
	started int
	drop    int
	stage   int
	checks  int // failed checks
}

// hist builds a window histogram whose p95 and p99 are p95ms and whose
// median is half of it.
func hist(n int, p95ms float64) (*hdrhistogram.Snapshot, measure.Latency) {
	h := hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 3)
	hi := int64(p95ms * 1000)
	lo := hi / 2
	tail := max(int64(math.Ceil(float64(n)*0.06)), 1)
	_ = h.RecordValues(lo, int64(n)-tail)
	_ = h.RecordValues(hi, tail)
	d := func(us int64) time.Duration { return time.Duration(us) * time.Microsecond }
	l := measure.Latency{Count: h.TotalCount(), Min: d(h.Min()), Mean: d(int64(h.Mean())), P50: d(h.ValueAtPercentile(50)),
		P90: d(h.ValueAtPercentile(90)), P95: d(h.ValueAtPercentile(95)), P99: d(h.ValueAtPercentile(99)), Max: d(h.Max())}
	return h.Export(), l
}

// tick makes window i (ending at t0+i+1 s).
func tick(i int, w win) measure.Tick {
	t := measure.Tick{Time: at(float64(i + 1)), Elapsed: time.Duration(i+1) * time.Second, Window: time.Second,
		Stage: w.stage, VUs: w.vus, TargetVUs: w.vus, TargetRate: w.rate, Requests: int64(w.rps),
		ErrorCount: int64(w.errs), Dropped: int64(w.drop), Errors: map[measure.ErrorKind]int64{},
		ChecksPassed: int64(w.rps - w.checks), ChecksFailed: int64(w.checks)}
	if w.errs > 0 {
		t.Errors[measure.ErrStatus5xx] = int64(w.errs)
	}
	t.Iterations = int64(w.rps)
	if w.iters > 0 {
		t.Iterations = int64(w.iters)
	}
	if w.rps > 0 {
		t.Hist, t.Latency = hist(w.rps, w.p95)
		t.Service = t.Latency
	}
	exec := string(scenarios.RampingVUs)
	if w.rate > 0 {
		exec = string(scenarios.RampingArrivalRate)
		t.TargetVUs = 0
	}
	t.Groups = []measure.GroupStats{{Name: "g", Executor: exec, VUs: w.vus, TargetVUs: t.TargetVUs, TargetRate: w.rate,
		Requests: t.Requests, Iterations: t.Iterations, Errors: t.ErrorCount, Dropped: t.Dropped, Started: int64(w.started),
		Latency: t.Latency}}
	h2, l2 := hist(w.rps, w.p95)
	if w.rps == 0 {
		h2 = nil
	}
	t.Endpoints = []measure.EndpointStats{{Group: "g", Name: "home", Requests: t.Requests, Errors: t.ErrorCount,
		Latency: l2, Hist: h2}}
	return t
}

func th(metric, expr, agg string, p float64, op string, v float64) scenarios.Threshold {
	return scenarios.Threshold{Metric: metric, Expr: expr, Agg: agg, P: p, Op: op, Value: v}
}

var (
	p95lt500  = th("http_req_duration", "p(95)<500", "p", 95, "<", 500)
	errLt1pct = th("http_req_failed", "rate<0.01", "rate", 0, "<", 0.01)
)

func scenario(open bool, ths []scenarios.Threshold, nodes ...scenarios.NodeThreshold) *scenarios.Scenario {
	g := scenarios.Group{Name: "g", Executor: scenarios.RampingVUs,
		Stages:   []scenarios.Stage{{Duration: time.Minute, Target: 100}, {Duration: time.Minute, Target: 800}},
		Requests: []scenarios.Request{{Name: "home", Method: "GET", URL: scenarios.MustTemplate("http://127.0.0.1:1/")}}}
	if open {
		g.Executor = scenarios.RampingArrivalRate
		g.MaxVUs = 100
	}
	sc := &scenarios.Scenario{Name: "synthetic", Groups: []scenarios.Group{g}, Thresholds: ths,
		Window: time.Second, Sustain: 3 * time.Second}
	if len(nodes) > 0 {
		sc.Nodes = &scenarios.Nodes{Prometheus: "http://127.0.0.1:9090", Thresholds: nodes}
	}
	return sc
}

func poll(s float64, samples ...measure.Sample) measure.Poll {
	for i := range samples {
		samples[i].Time = at(s)
	}
	return measure.Poll{Time: at(s), Samples: samples}
}

func load1(node string, v float64) measure.Sample {
	nan := math.NaN()
	return measure.Sample{Node: node, Role: "db", Instance: node + ":9100", Load1: v, CPU: 50, IOWait: nan,
		DiskUtil: nan, ReadBps: nan, WriteBps: nan, Load1PerCore: v / 4, Cores: 4, Mem: nan, NetRxBps: nan, NetTxBps: nan}
}

// feed plays windows and polls in time order: polls at whole seconds s are
// delivered right after the tick that ends at s.
func feed(t *testing.T, r *Recorder, wins []win, polls map[int][]measure.Sample) {
	t.Helper()
	for i, w := range wins {
		r.AddTick(tick(i, w))
		if ps, ok := polls[i+1]; ok {
			r.AddPoll(poll(float64(i+1), ps...))
		}
	}
}

// runRecorded validates sc, runs it through the real engine (at most 10 s)
// into a recorder, and returns the finished report. Each tick goes to the
// taps first, then to the recorder.
func runRecorded(t *testing.T, sc *scenarios.Scenario, taps ...func(measure.Tick)) *Report {
	t.Helper()
	if err := scenarios.Validate(sc); err != nil {
		t.Fatal(err)
	}
	r := NewRecorder(sc, time.Now(), Options{Version: "test"})
	eng, err := engine.New(sc, engine.Options{GracefulStop: time.Second, Logf: t.Logf, OnTick: func(tk measure.Tick) {
		for _, tap := range taps {
			tap(tk)
		}
		r.AddTick(tk)
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := eng.Run(ctx); err != nil && ctx.Err() == nil {
		t.Fatal(err)
	}
	r.Finish(time.Now())
	return r.Report()
}

// roundTrip writes rep with WriteFile to a temporary run.json and reads it
// back: the file's bytes and the report ReadFile makes of them.
func roundTrip(t *testing.T, rep *Report) (raw []byte, back *Report) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "run.json")
	if err := WriteFile(path, rep); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if back, err = ReadFile(path); err != nil {
		t.Fatal(err)
	}
	return raw, back
}

// nearestRank is percentile p of samples by nearest rank: the exact answer
// merged histograms are judged against.
func nearestRank[T int64 | float64](samples []T, p float64) T {
	s := slices.Clone(samples)
	slices.Sort(s)
	return s[max(int(math.Ceil(p/100*float64(len(s))))-1, 0)]
}

package report

import (
	"fmt"
	"runtime"
	"slices"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
)

// BenchmarkAddTick: one engine window (total + 1 endpoint histogram, two
// SLOs, one of them tagged) into a recorder that already holds 1 000 windows.
func BenchmarkAddTick(b *testing.B) {
	sc := scenario(false, []scenarios.Threshold{p95lt500, errLt1pct,
		{Metric: "http_req_duration", TagKey: "name", TagValue: "home", Expr: "p(99)<900", Agg: "p", P: 99, Op: "<", Value: 900}})
	r := NewRecorder(sc, t0, Options{})
	ticks := make([]win, 1000)
	for i := range ticks {
		ticks[i] = win{vus: 100, rps: 3000, p95: 120}
	}
	feed(&testing.T{}, r, ticks, nil)
	tk := tick(1000, win{vus: 100, rps: 3000, p95: 120})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.AddTick(tk)
	}
}

// BenchmarkAddPoll: 20 nodes against 3 node thresholds.
func BenchmarkAddPoll(b *testing.B) {
	sc := scenario(false, nil, scenarios.NodeThreshold{Metric: "load1", Above: 100},
		scenarios.NodeThreshold{Metric: "cpu", Above: 90}, scenarios.NodeThreshold{Metric: "load1_per_core", Above: 4})
	r := NewRecorder(sc, t0, Options{})
	samples := make([]measure.Sample, 20)
	for i := range samples {
		samples[i] = load1(string(rune('a'+i)), 50)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := poll(float64(i), samples...)
		r.AddPoll(p)
	}
}

// BenchmarkReport: building the JSON document of a 30-minute run.
func BenchmarkReport(b *testing.B) {
	r := NewRecorder(scenario(false, []scenarios.Threshold{p95lt500}), t0, Options{})
	ticks := make([]win, 1800)
	for i := range ticks {
		ticks[i] = win{vus: i, rps: 3 * i, p95: 120}
	}
	feed(&testing.T{}, r, ticks, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = r.Report()
	}
}

// BenchmarkRetainedPerWindow: heap growth per window once the whole-run
// accumulators exist — a real tick shape with 10 endpoints and 3 groups,
// plus one 20-node poll — so a 30-minute run's growth can be read off
// (×1 800).
func BenchmarkRetainedPerWindow(b *testing.B) {
	const n = 600
	base := tick(0, win{vus: 100, rps: 3000, p95: 120})
	for k := 1; k < 10; k++ {
		e := base.Endpoints[0]
		e.Name = fmt.Sprintf("ep%d", k)
		base.Endpoints = append(base.Endpoints, e)
	}
	base.Groups = append(base.Groups, base.Groups[0], base.Groups[0])
	samples := make([]measure.Sample, 20)
	for i := range samples {
		samples[i] = load1(fmt.Sprintf("node-%02d", i), 50)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r := NewRecorder(scenario(false, []scenarios.Threshold{p95lt500}, scenarios.NodeThreshold{Metric: "load1", Above: 100}), t0, Options{})
		var before, after runtime.MemStats
		for k := 0; k < 2*n; k++ {
			if k == n/2 { // past the fixed whole-run accumulators
				runtime.GC()
				runtime.ReadMemStats(&before)
			}
			tk := base
			tk.Time = at(float64(k + 1))
			for j := range tk.Endpoints { // each window brings fresh histograms
				tk.Endpoints = slices.Clone(tk.Endpoints)
				tk.Endpoints[j].Hist = &hdrhistogram.Snapshot{LowestTrackableValue: base.Hist.LowestTrackableValue,
					HighestTrackableValue: base.Hist.HighestTrackableValue, SignificantFigures: base.Hist.SignificantFigures,
					Counts: slices.Clone(base.Hist.Counts)}
			}
			r.AddTick(tk)
			p := poll(float64(k+1), slices.Clone(samples)...)
			r.AddPoll(p)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(2*n-n/2), "B/window")
		runtime.KeepAlive(r)
	}
}

package engine

import (
	"fmt"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/brink-load/brink/measure"
)

// BenchmarkOpenModelLateness measures how much of brink's own lateness an
// open-model latency carries: an arrival-rate group at 200/s and 2000/s for 3 s
// against the raw loopback server, then the whole run's latency p50 (from
// the intended start) minus its service-time p50 (from the actual send),
// and the send lag. Run with -benchtime=1x; the figures are per run:
//
//	go test ./engine -run '^$' -bench OpenModelLateness -benchtime=1x
func BenchmarkOpenModelLateness(b *testing.B) {
	for _, rate := range []float64{200, 2000} {
		b.Run(fmt.Sprintf("rate=%v", rate), func(b *testing.B) { benchLateness(b, rate) })
	}
}

func benchLateness(b *testing.B, rate float64) {
	u := rawServer(b)
	for b.Loop() {
		lat, svc := newHist(), newHist()
		var lagP50, lagP99 time.Duration // request-weighted p50, worst window's p99
		var lagN int64
		var cpu float64
		var windows int
		g := constRate(get("open", u+"/"), rate, 3*time.Second, 200)
		runEngine(b, scenario(time.Second, g), Options{OnTick: func(t measure.Tick) {
			if t.Hist != nil {
				lat.Merge(hdrhistogram.Import(t.Hist))
			}
			if t.ServiceHist != nil {
				svc.Merge(hdrhistogram.Import(t.ServiceHist))
			}
			if t.Window >= time.Second/2 {
				cpu += t.Generator.CPUPercent
				windows++
			}
			if l := t.Generator.SendLag; l.Count > 0 {
				lagP50 += l.P50 * time.Duration(l.Count)
				lagN += l.Count
				lagP99 = max(lagP99, l.P99)
			}
		}}, 20*time.Second)
		p50 := func(h *hdrhistogram.Histogram) float64 { return float64(h.ValueAtQuantile(50)) }
		b.ReportMetric(p50(lat), "lat-p50-µs")
		b.ReportMetric(p50(svc), "svc-p50-µs")
		b.ReportMetric(p50(lat)-p50(svc), "late-p50-µs")
		b.ReportMetric(float64(lat.ValueAtQuantile(99)-svc.ValueAtQuantile(99)), "late-p99-µs")
		if lagN > 0 {
			b.ReportMetric(float64(lagP50/time.Duration(lagN))/1e3, "sendlag-p50-µs")
			b.ReportMetric(float64(lagP99)/1e3, "sendlag-p99-µs")
		}
		b.ReportMetric(float64(lat.TotalCount()), "requests")
		if windows > 0 {
			b.ReportMetric(cpu/float64(windows), "gen-cpu-%")
		}
	}
}

package promexport

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
)

// bigRun is 3 groups × 20 endpoints (one group arrival-rate), and a window
// in which every endpoint answered 500 requests spread over 1 ms … 2 s.
func bigRun() (*Exporter, *measure.Tick) {
	sc := &scenarios.Scenario{Name: "bench"}
	tick := &measure.Tick{Errors: map[measure.ErrorKind]int64{}}
	rng := rand.New(rand.NewPCG(3, 4))
	for g := 0; g < 3; g++ {
		grp := scenarios.Group{Name: fmt.Sprintf("group-%d", g), Executor: scenarios.RampingVUs}
		if g == 2 {
			grp.Executor = scenarios.RampingArrivalRate
		}
		gs := measure.GroupStats{Name: grp.Name, Executor: string(grp.Executor), VUs: 210, TargetVUs: 210, Requests: 10000}
		for i := 0; i < 20; i++ {
			name := fmt.Sprintf("endpoint-%02d", i)
			grp.Requests = append(grp.Requests, scenarios.Request{Name: name})
			h := epHist()
			for j := 0; j < 500; j++ {
				h.RecordValue(1000 + rng.Int64N(2_000_000))
			}
			tick.Endpoints = append(tick.Endpoints, measure.EndpointStats{Group: grp.Name, Name: name, Requests: 500, Errors: 3,
				Latency: measure.Latency{Count: 500}, Hist: h.Export()})
			tick.Failures = append(tick.Failures, measure.Failure{Group: grp.Name, Endpoint: name, Kind: measure.ErrStatus5xx, Status: 503, Count: 3})
		}
		sc.Groups = append(sc.Groups, grp)
		tick.Groups = append(tick.Groups, gs)
	}
	e := New(sc, "bench", time.Now())
	return e, tick
}

// BenchmarkScrape is one /metrics scrape of 3 groups × 20 endpoints in the
// text format Prometheus 2.x asks for: gather and encode. It reports the
// body's size, plain and gzipped (promhttp gzips when asked, as
// Prometheus does).
func BenchmarkScrape(b *testing.B) {
	e, tick := bigRun()
	for range 5 {
		e.AddTick(tick)
	}
	var buf bytes.Buffer
	var size, series int
	b.ReportAllocs()
	defer cpuPerOp(b)()
	for b.Loop() {
		buf.Reset()
		mfs, err := e.Gatherer().Gather()
		if err != nil {
			b.Fatal(err)
		}
		enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
		series = 0
		for _, mf := range mfs {
			if err := enc.Encode(mf); err != nil {
				b.Fatal(err)
			}
			for _, m := range mf.GetMetric() {
				series++
				if h := m.GetHistogram(); h != nil {
					series += len(h.GetBucket()) + 2 // _bucket (+Inf among them), _sum, _count
				}
			}
		}
		size = buf.Len()
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(buf.Bytes())
	zw.Close()
	b.ReportMetric(float64(size), "bytes/scrape")
	b.ReportMetric(float64(z.Len()), "gzip-bytes/scrape")
	b.ReportMetric(float64(series), "series")
}

// BenchmarkAddTick is folding one window of 3 groups × 20 endpoints in
// (per-window cost on the tick goroutine, never on the request path).
func BenchmarkAddTick(b *testing.B) {
	e, tick := bigRun()
	b.ReportAllocs()
	defer cpuPerOp(b)()
	for b.Loop() {
		e.AddTick(tick)
	}
}

// cpuPerOp reports the process's CPU time (user + system, GC included) per
// operation: on a shared, busy box the wall time per op measures the
// neighbours too.
func cpuPerOp(b *testing.B) func() {
	start := cpuTime()
	return func() { b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op") }
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkScrapeHTTP is the scrape as Prometheus makes it: GET /metrics
// through the handler, gzip accepted.
func BenchmarkScrapeHTTP(b *testing.B) {
	e, tick := bigRun()
	for range 5 {
		e.AddTick(tick)
	}
	h := e.Handler()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "text/plain;version=0.0.4;q=1,*/*;q=0.1")
	req.Header.Set("Accept-Encoding", "gzip")
	var size int
	b.ReportAllocs()
	defer cpuPerOp(b)()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
		size = w.Body.Len()
	}
	b.ReportMetric(float64(size), "body-bytes")
}

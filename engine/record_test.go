package engine

import (
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brink-load/brink/scenarios"
	"github.com/brink-load/brink/tabletest"
)

func TestRecordAllocatesNothing(t *testing.T) {
	r := newRecorder(4, 3, 2, true)
	sh := r.shard(1)
	allocs := testing.AllocsPerRun(1000, func() {
		sh.request(2, 1, kind5xx, checkFail, 12*time.Millisecond, 11*time.Millisecond, 3*time.Millisecond, 300, 120)
		sh.iteration(1)
		sh.wsReceived(1, 20, time.Millisecond)
		sh.wsOpened(1, time.Millisecond)
		sh.wsEnded(1, kindWSClosed, time.Minute)
		sh.wsReplyTimedOut(1)
		sh.wsRefused(1, kind4xx)
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per record", allocs)
	}
}

// The double buffer: what was recorded before a swap is in the swapped-out
// windows, what comes after lands in the fresh ones, and released windows
// come back empty.
func TestRecordSwap(t *testing.T) {
	r := newRecorder(2, 1, 1, false)
	r.shard(0).request(0, 0, kindNone, checkPass, time.Millisecond, time.Millisecond, 0, 10, 5)
	r.shard(1).request(0, 0, kindTimeout, checkNone, 0, 0, 0, 0, 5)
	ws := r.swap(nil)
	r.shard(0).request(0, 0, kindNone, checkNone, time.Millisecond, time.Millisecond, 0, 1, 1)
	var req, errs, hist int64
	for _, w := range ws {
		req += w.requests
		errs += w.errors[kindTimeout]
		if w.groupHist[0] != nil {
			hist += w.groupHist[0].TotalCount()
		}
	}
	eh := newEndpointHist()
	r.eps[0].drain(ws[0].parity, eh)
	if eh.TotalCount() != 1 {
		t.Fatalf("endpoint histogram has %d, want 1", eh.TotalCount())
	}
	if req != 2 || errs != 1 || hist != 1 {
		t.Fatalf("swapped: requests %d timeouts %d hist %d, want 2 1 1 (a failure without response stays out of the histogram)", req, errs, hist)
	}
	r.release(ws)
	ws = r.swap(ws)
	req = 0
	for _, w := range ws {
		req += w.requests
	}
	if req != 1 {
		t.Fatalf("second window has %d requests, want 1", req)
	}
	r.release(ws)
	ws = r.swap(ws)
	for _, w := range ws {
		if w.requests != 0 || w.endpoints[0].requests != 0 || (w.groupHist[0] != nil && w.groupHist[0].TotalCount() != 0) || w.service.TotalCount() != 0 {
			t.Fatalf("released window not reset: %+v", w)
		}
	}
}

func TestToMicrosClamps(t *testing.T) {
	tabletest.Run(t, "toMicros", toMicros, []struct {
		In   time.Duration
		Want int64
	}{{0, 1}, {500 * time.Nanosecond, 1}, {1500 * time.Microsecond, 1500}, {2 * time.Minute, histMax}})
}

// BenchmarkRecord is the hot path of every request: one lock, two HDR
// records and a few counters. Must stay at 0 allocs/op, well under 100 ns.
func BenchmarkRecord(b *testing.B) {
	r := newRecorder(shardCount(), 4, 2, false)
	sh := r.shard(3)
	lat := []time.Duration{900 * time.Microsecond, 4 * time.Millisecond, 52 * time.Millisecond, 3 * time.Second}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d := lat[i&3]
		sh.request(i&3, i&1, kindNone, checkPass, d, d, d/2, 512, 128)
	}
}

// BenchmarkRecordParallel records from every P at once, each into its own
// shard as VUs do.
func BenchmarkRecordParallel(b *testing.B) {
	r := newRecorder(shardCount(), 4, 2, false)
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		sh := r.shard(int(next.Add(1)))
		i := 0
		for pb.Next() {
			sh.request(i&3, i&1, kindNone, checkNone, time.Millisecond, time.Millisecond, time.Millisecond, 512, 128)
			i++
		}
	})
}

// epIndex and epValue are the HDR library's own layout at 2 significant
// figures: a value lands where the library puts it, and the value read
// back from an index lands there again.
func TestEndpointLayout(t *testing.T) {
	h := newEndpointHist()
	if n := len(h.Export().Counts); n != epCountsLen {
		t.Fatalf("library counts length %d, epCountsLen %d", n, epCountsLen)
	}
	var mine [epCountsLen]int64
	record := func(v int64) {
		_ = h.RecordValue(v)
		mine[epIndex(v)]++
		if !h.ValuesAreEquivalent(epValue(epIndex(v)), v) {
			t.Fatalf("value %d: epValue(%d) = %d is another bucket", v, epIndex(v), epValue(epIndex(v)))
		}
	}
	for v := int64(histMin); v <= 10_000; v++ {
		record(v)
	}
	for v := int64(10_000); v <= histMax; v = v*1001/1000 + 1 {
		record(v - 1)
		record(v)
	}
	record(histMax)
	for i, c := range h.Export().Counts {
		if c != mine[i] {
			t.Fatalf("index %d (value %d): library counts %d, epIndex %d", i, epValue(i), c, mine[i])
		}
	}
	for i := range epCountsLen {
		if epIndex(epValue(i)) != i && epValue(i) >= histMin {
			t.Fatalf("epIndex(epValue(%d)) = %d", i, epIndex(epValue(i)))
		}
	}
}

// BenchmarkEndpointMemory is the cost of many request names: 5 000
// endpoints, each used by VUs on every shard over two windows, with the
// merger's share. Reports heap bytes per endpoint before use and after.
func BenchmarkEndpointMemory(b *testing.B) {
	const n = 5000
	var before, unused, used runtime.MemStats
	for i := 0; i < b.N; i++ {
		runtime.GC()
		runtime.ReadMemStats(&before)
		sc := scenario(time.Second, constVUs(get("g", "http://127.0.0.1:1/"), 1, time.Second))
		reqs := make([]scenarios.Request, n)
		for j := range reqs {
			reqs[j] = scenarios.Request{Name: "r" + strconv.Itoa(j), Method: "GET", URL: scenarios.MustTemplate("http://127.0.0.1:1/" + strconv.Itoa(j))}
		}
		sc.Groups[0].Requests = reqs
		e, err := New(sc, Options{})
		if err != nil {
			b.Fatal(err)
		}
		e.start = time.Now()
		m := newMerger(e)
		runtime.GC()
		runtime.ReadMemStats(&unused)
		for range 2 { // both window parities
			for s := range e.rec.shards {
				for j := range n {
					e.rec.shard(s).request(j, 0, kindNone, checkNone, time.Duration(j+1)*time.Millisecond, time.Millisecond, 0, 0, 0)
				}
			}
			_ = e.collect(m, e.start, time.Now())
		}
		runtime.GC()
		runtime.ReadMemStats(&used)
		runtime.KeepAlive(m)
		runtime.KeepAlive(e)
	}
	b.ReportMetric(float64(unused.HeapAlloc-before.HeapAlloc)/n, "B/endpoint-unused")
	b.ReportMetric(float64(used.HeapAlloc-before.HeapAlloc)/n, "B/endpoint")
}

// A group's window histogram is exported exact (3 figures) beside its
// endpoints' 2-figure ones, and holds every response of the group.
func TestGroupHistExported(t *testing.T) {
	var hits atomic.Int64
	srv := okServer(t, &hits)
	g := constVUs(get("g", srv.URL), 2, 300*time.Millisecond)
	g.Requests = append(g.Requests, scenarios.Request{Name: "other", Method: "GET", URL: scenarios.MustTemplate(srv.URL + "/x")})
	_, tk := run(t, scenario(100*time.Millisecond, g), Options{}, 10*time.Second)
	var n, hn int64
	for _, x := range tk.All() {
		gs := x.Groups[0]
		n += gs.Latency.Count
		if gs.Hist != nil {
			if gs.Hist.SignificantFigures != histSigFigs {
				t.Fatalf("group histogram at %d figures", gs.Hist.SignificantFigures)
			}
			for _, c := range gs.Hist.Counts {
				hn += c
			}
		}
	}
	if n == 0 || hn != n || n != hits.Load() {
		t.Fatalf("group latency count %d, histogram %d, server saw %d", n, hn, hits.Load())
	}
}

// An endpoint's counts, kept by bucket, drain to what the library records
// for the same values, over the whole range and in both parities, and
// drain empty after.
func TestEndpointCountsDrainExact(t *testing.T) {
	var el epLat
	want := newEndpointHist()
	for parity := range uint8(2) {
		c := el.alloc(parity)
		want.Reset()
		for v := int64(histMin); v <= histMax; v = v*3/2 + 1 {
			c.add(epIndex(v))
			_ = want.RecordValue(v)
		}
		got := newEndpointHist()
		if !el.drain(parity, got) {
			t.Fatal("nothing drained")
		}
		if !got.Equals(want) {
			t.Fatalf("parity %d: drained %v, want %v", parity, got.Export().Counts, want.Export().Counts)
		}
		if got.Reset(); el.drain(parity, got) {
			t.Fatalf("parity %d: drained twice", parity)
		}
	}
}

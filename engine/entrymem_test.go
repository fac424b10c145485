package engine

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
)

// BenchmarkRequestEntryMemory is what each request entry of a group costs
// in a real run: 5 000 entries (sharing one name, or each its own) and 2
// VUs against a loopback server for 2 s, beside a one-entry run. The live
// heap (after GC) is read in the ticks after the first second; the most of
// it, less the one-entry run's, over the entries is the cost of one.
//
//	go test -run '^$' -bench RequestEntryMemory -benchtime 1x ./engine
func BenchmarkRequestEntryMemory(b *testing.B) {
	u := rawServer(b)
	const n = 5000
	live := func(entries int, names bool) (heap uint64, reqs int64) {
		g := constVUs(get("g", u+"/"), 2, 2*time.Second)
		g.Requests = make([]scenarios.Request, entries)
		for j := range g.Requests {
			name := "same"
			if names {
				name = "r" + strconv.Itoa(j)
			}
			g.Requests[j] = scenarios.Request{Name: name, Method: "GET", URL: scenarios.MustTemplate(u + "/" + strconv.Itoa(j))}
		}
		var mu sync.Mutex
		e, err := New(scenario(250*time.Millisecond, g), Options{GracefulStop: time.Second, OnTick: func(tk measure.Tick) {
			mu.Lock()
			defer mu.Unlock()
			reqs += tk.Requests
			if tk.Elapsed < time.Second {
				return
			}
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			heap = max(heap, ms.HeapAlloc)
		}})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := e.Run(ctx); err != nil {
			b.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		return heap, reqs
	}
	for range b.N {
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		one, _ := live(1, false)
		same, reqSame := live(n, false)
		named, reqNamed := live(n, true)
		if reqSame < n || reqNamed < n {
			b.Fatalf("%d and %d requests: not every entry was used", reqSame, reqNamed)
		}
		b.ReportMetric(float64(one-base.HeapAlloc)/(1<<20), "MiB-1-entry")
		b.ReportMetric(float64(same-base.HeapAlloc)/(1<<20), "MiB-5000-same")
		b.ReportMetric(float64(int64(same)-int64(one))/n, "B/entry-same")
		b.ReportMetric(float64(int64(named)-int64(one))/n, "B/entry-named")
	}
}

// Request entries that share a name are one Tick.Endpoints row (with one
// histogram) per window, holding all their requests; another name is a
// row of its own.
func TestEndpointRowsByName(t *testing.T) {
	var hits atomic.Int64
	srv := okServer(t, &hits)
	g := constVUs(get("g", srv.URL+"/a"), 2, 300*time.Millisecond)
	for _, r := range []struct{ name, path string }{{"g", "/b"}, {"other", "/c"}, {"g", "/d"}} {
		g.Requests = append(g.Requests, scenarios.Request{Name: r.name, Method: "GET", URL: scenarios.MustTemplate(srv.URL + r.path)})
	}
	_, tk := run(t, scenario(100*time.Millisecond, g), Options{}, 10*time.Second)
	var total int64
	for _, x := range tk.all() {
		if len(x.Endpoints) != 2 || x.Endpoints[0].Name == x.Endpoints[1].Name {
			t.Fatalf("window at %s: rows %+v, want one for g and one for other", x.Elapsed, x.Endpoints)
		}
		for _, es := range x.Endpoints {
			var hn int64
			for _, c := range es.Hist.Counts {
				hn += c
			}
			if es.Latency.Count != es.Requests || hn != es.Requests {
				t.Fatalf("row %s: requests %d, latency count %d, histogram %d", es.Name, es.Requests, es.Latency.Count, hn)
			}
			total += es.Requests
		}
	}
	if s := tk.sum(); total == 0 || total != s.Requests || total != hits.Load() {
		t.Fatalf("rows hold %d requests, the run %d, the server saw %d", total, s.Requests, hits.Load())
	}
}

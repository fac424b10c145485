package engine

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/brink-load/brink/engine/wstest"
	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
)

// TestMain doubles as a WebSocket echo server in a child process, so a
// memory benchmark measures the client side alone.
func TestMain(m *testing.M) {
	if os.Getenv("BRINK_ENGINE_WS_SERVER") == "1" {
		serveWSEcho()
		return
	}
	os.Exit(m.Run())
}

func serveWSEcho() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println(l.Addr().String())
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); os.Exit(0) }() // parent gone: exit
	up := &websocket.Upgrader{ReadBufferSize: 256, WriteBufferSize: 256}
	_ = http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wstest.Echo(w, r, up, nil)
	}))
}

func rssBytes() int64 { return procStatusKiB("VmRSS") << 10 }

// procStatusKiB is one "Name:  N kB" field of /proc/self/status (VmRSS,
// VmHWM …) in KiB, or 0 where there is none (not Linux).
func procStatusKiB(name string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == name+":" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb
		}
	}
	return 0
}

// BenchmarkWSVUMemory opens BRINK_WS_VUS (default 2000) WebSocket VUs that
// hold their connection and send every 5 s, against an echo server in a
// child process, and reports the RSS, heap and stack each VU costs once all
// are open. Run with -benchtime=1x; the design aims at ≤ 16 KiB per VU.
//
//	BRINK_WS_VUS=10000 go test -run '^$' -bench WSVUMemory -benchtime 1x ./engine
func BenchmarkWSVUMemory(b *testing.B) {
	n := 2000
	if s := os.Getenv("BRINK_WS_VUS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "BRINK_ENGINE_WS_SERVER=1")
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { stdin.Close(); _ = cmd.Wait() }()
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	addr = addr[:len(addr)-1]

	for i := 0; i < b.N; i++ {
		debug.FreeOSMemory()
		var m0 runtime.MemStats
		runtime.ReadMemStats(&m0)
		rss0 := rssBytes()
		g := scenarios.Group{
			Name: "ws", Executor: scenarios.RampingVUs, Start: float64(n),
			Stages:    []scenarios.Stage{{Duration: time.Minute, Target: float64(n)}},
			WebSocket: &scenarios.WebSocket{URL: scenarios.MustTemplate("ws://" + addr + "/"), Send: scenarios.MustTemplate("hi"), Every: 5 * time.Second, ExpectReply: true},
		}
		e, err := New(scenario(time.Second, g), Options{DialTimeout: 10 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		go e.Run(context.Background())
		deadline := time.Now().Add(60 * time.Second)
		for e.wsOpen.Load() < int64(n) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		open := e.wsOpen.Load()
		time.Sleep(500 * time.Millisecond)
		// Hand back what the connect burst (10 000 handshakes at once)
		// freed, as the background scavenger would over the next minutes:
		// the figure is what an open connection holds, steady state.
		debug.FreeOSMemory()
		var m1 runtime.MemStats
		runtime.ReadMemStats(&m1)
		rss1 := rssBytes()
		e.Stop()
		if open < int64(n) {
			b.Fatalf("only %d of %d connections opened", open, n)
		}
		b.ReportMetric(float64(rss1-rss0)/float64(n), "rss-B/vu")
		b.ReportMetric(float64(int64(m1.HeapInuse)-int64(m0.HeapInuse))/float64(n), "heap-B/vu")
		b.ReportMetric(float64(int64(m1.StackInuse)-int64(m0.StackInuse))/float64(n), "stack-B/vu")
	}
}

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
		runEngine(b, scenario(250*time.Millisecond, g), Options{GracefulStop: time.Second, OnTick: func(tk measure.Tick) {
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
		}}, 20*time.Second)
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
	for _, x := range tk.All() {
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

package engine

import (
	"bufio"
	"bytes"
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
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/brink-load/brink/engine/wstest"
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

func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if f := bytes.Fields(line); len(f) >= 2 && string(f[0]) == "VmRSS:" {
			kb, _ := strconv.ParseInt(string(f[1]), 10, 64)
			return kb << 10
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

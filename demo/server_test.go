package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func startDemo(t *testing.T, opts Options) *Server {
	t.Helper()
	s, err := Start(context.Background(), "127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestHTTPAPI(t *testing.T) {
	s := startDemo(t, Options{})
	tests := []struct {
		method, path, body string
		status             int
		contains           string
	}{
		{"GET", "/", "", 200, "/nodes/db-3/metrics"},
		{"GET", "/api/rooms", "", 200, `"name":"room-50"`},
		{"GET", "/api/rooms/7/messages", "", 200, `"room":7`},
		{"GET", "/api/rooms/0/messages", "", 404, "no such room"},
		{"GET", "/api/rooms/51/messages", "", 404, "no such room"},
		{"GET", "/api/rooms/x/messages", "", 404, "no such room"},
		{"POST", "/api/rooms/9/messages", `{"from":"ann","text":"first!"}`, 201, `"text":"first!"`},
		{"GET", "/api/rooms/9/messages", "", 200, `"from":"ann","text":"first!"`},
		{"POST", "/api/rooms/9/messages", "plain words", 201, `"text":"plain words"`},
		{"POST", "/api/messages", `{"room":12,"text":"via body"}`, 201, `"room":12`},
		{"POST", "/api/messages", `{"text":"no room"}`, 201, `"room":1,`},
		{"POST", "/api/messages", `{"room":77,"text":"bad room"}`, 404, "no such room"},
		{"GET", "/nodes/db-3/metrics", "", 200, "node_load1 "},
		{"GET", "/nodes/db-9/metrics", "", 404, "no such node"},
	}
	for _, tc := range tests {
		req, _ := http.NewRequest(tc.method, s.BaseURL()+tc.path, strings.NewReader(tc.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.method, tc.path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.contains) {
			t.Errorf("%s %s: %d %.200q, want %d containing %q", tc.method, tc.path, resp.StatusCode, b, tc.status, tc.contains)
		}
	}
	if got := len(s.NodeURLs()); got != 6 {
		t.Errorf("NodeURLs has %d nodes, want 6", got)
	}
}

// twoInRoom dials two WebSocket clients into room and waits until the hub
// lists both: the second must be in the room before the first speaks, and
// the hub joins before the first read.
func twoInRoom(t *testing.T, s *Server, room int) (a, b *websocket.Conn) {
	t.Helper()
	u := "ws" + strings.TrimPrefix(s.BaseURL(), "http") + "/ws?room=" + strconv.Itoa(room)
	dial := func() *websocket.Conn {
		c, _, err := websocket.DefaultDialer.Dial(u, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	a, b = dial(), dial()
	waitFor(t, func() bool { return s.hub.members()[room] == 2 })
	return a, b
}

func TestWebSocketAckAndBroadcast(t *testing.T) {
	s := startDemo(t, Options{})
	a, b := twoInRoom(t, s, 5)

	if err := a.WriteMessage(websocket.TextMessage, []byte(`{"text":"hello room"}`)); err != nil {
		t.Fatal(err)
	}
	a.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, ack, err := a.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	var got wsAck
	if json.Unmarshal(ack, &got) != nil || got.Type != "ack" || got.Room != 5 || got.ID == 0 || got.Err != "" {
		t.Errorf("sender got %s, want an ack for room 5", ack)
	}
	b.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, msg, err := b.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(msg), `"type":"message"`) || !strings.Contains(string(msg), "hello room") {
		t.Errorf("room member got %s, want the broadcast", msg)
	}
	// A message naming another room moves the socket there.
	a.WriteMessage(websocket.TextMessage, []byte(`{"room":6,"text":"moving"}`))
	a.ReadMessage()
	if m := s.hub.members(); m[5] != 1 || m[6] != 1 {
		t.Errorf("members after move: %v, want one in 5 and one in 6", m)
	}
	// Close ends every socket's goroutines (checked by Close returning).
	s.Close()
}

type nodeMetrics struct {
	busy, all, load1, diskIO, readBytes, written, rx, tx, memUsed float64 // memUsed is a fraction
}

func scrape(t *testing.T, url string) nodeMetrics {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("%s: content type %q", url, ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("%s: expfmt: %v", url, err)
	}
	for _, name := range []string{"node_cpu_seconds_total", "node_load1", "node_load5", "node_load15",
		"node_disk_io_time_seconds_total", "node_disk_read_bytes_total", "node_disk_written_bytes_total",
		"node_memory_MemTotal_bytes", "node_memory_MemAvailable_bytes",
		"node_network_receive_bytes_total", "node_network_transmit_bytes_total"} {
		if fams[name] == nil {
			t.Fatalf("%s: no %s", url, name)
		}
	}
	label := func(m *dto.Metric, k string) string {
		for _, l := range m.GetLabel() {
			if l.GetName() == k {
				return l.GetValue()
			}
		}
		return ""
	}
	var nm nodeMetrics
	for _, m := range fams["node_cpu_seconds_total"].GetMetric() {
		v := m.GetCounter().GetValue()
		nm.all += v
		if mode := label(m, "mode"); mode == "user" || mode == "system" {
			nm.busy += v
		}
	}
	first := func(name string) float64 {
		f := fams[name]
		ms := f.GetMetric()
		if f.GetType() == dto.MetricType_GAUGE {
			return ms[0].GetGauge().GetValue()
		}
		var sum float64
		for _, m := range ms {
			sum += m.GetCounter().GetValue()
		}
		return sum
	}
	nm.load1 = first("node_load1")
	nm.diskIO = first("node_disk_io_time_seconds_total")
	nm.readBytes = first("node_disk_read_bytes_total")
	nm.written = first("node_disk_written_bytes_total")
	nm.rx = first("node_network_receive_bytes_total")
	nm.tx = first("node_network_transmit_bytes_total")
	nm.memUsed = 1 - first("node_memory_MemAvailable_bytes")/first("node_memory_MemTotal_bytes")
	return nm
}

// drive runs a bounded closed-loop load: workers × at most perWorker
// requests, stopping at the deadline or when ctx ends.
func drive(ctx context.Context, t *testing.T, base string, workers, perWorker int, d time.Duration, path func(w, i int) (method, p string)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	cl := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	defer cl.CloseIdleConnections()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWorker && ctx.Err() == nil; i++ {
				m, p := path(w, i)
				var body io.Reader
				if m == "POST" {
					body = strings.NewReader(`{"text":"load"}`)
				}
				req, _ := http.NewRequestWithContext(ctx, m, base+p, body)
				resp, err := cl.Do(req)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
}

// TestNodeMetricsRiseWithLoad: every node's text parses with expfmt, and a
// read-heavy burst makes db-3's counters and load rise past db-2's, while
// writes show on db-1's disk. Load1 follows the run queue, which drains
// within a second of the burst's end at Speed 100, so it is judged while
// the burst runs, as soon as it shows (the burst lasts until then, 30 s at
// most): on a busy machine the burst may take longer to build.
func TestNodeMetricsRiseWithLoad(t *testing.T) {
	s := startDemo(t, Options{Speed: 100})
	urls := s.NodeURLs()
	before := map[string]nodeMetrics{}
	for name, u := range urls {
		before[name] = scrape(t, u)
	}
	ctx, stop := context.WithCancel(context.Background())
	burst := make(chan struct{})
	go func() {
		defer close(burst)
		drive(ctx, t, s.BaseURL(), 48, 10000, 30*time.Second, func(w, i int) (string, string) {
			if w%8 == 0 {
				return "POST", fmt.Sprintf("/api/rooms/%d/messages", 1+(w+i)%Rooms)
			}
			return "GET", fmt.Sprintf("/api/rooms/%d/messages", 1+(w+i)%Rooms)
		})
	}()
	var d2, d3 float64
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		d2, d3 = scrape(t, urls["db-2"]).load1, scrape(t, urls["db-3"]).load1
		if d3 > 2*d2 && d3 >= 10 || time.Now().After(deadline) {
			break
		}
	}
	stop()
	<-burst
	after := map[string]nodeMetrics{}
	for name, u := range urls {
		after[name] = scrape(t, u)
	}
	for name := range before {
		b, a := before[name], after[name]
		if a.all <= b.all {
			t.Errorf("%s: cpu seconds did not advance (%v -> %v)", name, b.all, a.all)
		}
		if a.busy <= b.busy || a.rx <= b.rx || a.tx <= b.tx {
			t.Errorf("%s: busy/rx/tx did not rise: %+v -> %+v", name, b, a)
		}
	}
	for _, name := range []string{"db-2", "db-3"} {
		b, a := before[name], after[name]
		if a.readBytes <= b.readBytes || a.diskIO <= b.diskIO || a.written <= b.written {
			t.Errorf("%s: disk counters did not rise: %+v -> %+v", name, b, a)
		}
	}
	if a, b := after["db-1"].written, before["db-1"].written; a <= b {
		t.Errorf("db-1: writes did not show on its disk (%v -> %v)", b, a)
	}
	t.Logf("load1 under the burst: db-3 %.1f db-2 %.1f", d3, d2)
	if d3 <= 2*d2 || d3 < 10 {
		t.Errorf("db-3 load1 %.1f, db-2 %.1f: want db-3 well past db-2 under read-heavy load", d3, d2)
	}
}

// TestStartStopsWithContext: cancelling Start's context closes the server.
func TestStartStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Start(ctx, "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(s.BaseURL() + "/api/rooms"); err != nil {
		t.Fatal(err)
	}
	cancel()
	waitFor(t, func() bool {
		_, err := http.Get(s.BaseURL() + "/api/rooms")
		return err != nil
	})
	if err := s.Close(); err != nil {
		t.Errorf("Close after cancel: %v", err)
	}
	if _, err := Start(context.Background(), "127.0.0.1:99999", Options{}); err == nil {
		t.Error("bad address: no error")
	}
	if _, err := Start(context.Background(), "", Options{Nodes: []NodeSpec{{Name: "db-1"}}}); err == nil {
		t.Error("missing nodes: no error")
	}
}

// TestReadShareSplitsReads: reads go to db-3 with ReadShare, the rest to
// db-2 — 0.8 by default (the story), 0.5 when the replicas are balanced.
func TestReadShareSplitsReads(t *testing.T) {
	// No read may time out or fail, however busy the machine: every one is
	// served and counted, and the pages end when all 80 are done.
	nodes := DefaultNodes()
	for i := range nodes {
		nodes[i].Timeout, nodes[i].QueueCap = 0, 0
	}
	for _, share := range []float64{0, 0.5} {
		s := startDemo(t, Options{ReadShare: share, Nodes: nodes})
		drive(context.Background(), t, s.BaseURL(), 8, 10, time.Minute, func(w, i int) (string, string) {
			return "GET", fmt.Sprintf("/api/rooms/%d/messages", 1+(w+i)%Rooms)
		})
		d3, d2 := s.Node("db-3").Stats().Served, s.Node("db-2").Stats().Served
		want := share
		if want == 0 {
			want = 0.8
		}
		// 80 pages × 8 reads = 640 reads: the share is within a few percent.
		if got := float64(d3) / float64(d2+d3); d2+d3 != 8*80 || got < want-0.07 || got > want+0.07 {
			t.Errorf("ReadShare %v: db-3 served %d of %d reads (%.2f), want %.2f", share, d3, d2+d3, got, want)
		}
	}
}

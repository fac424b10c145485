package promquery

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeNode is the state a fake node_exporter exposes.
type fakeNode struct {
	cpus               int
	idle, user, iowait float64 // seconds per cpu, counters
	steal              float64
	ioTime             map[string]float64 // device → seconds
	read, written      float64
	rx, tx             float64
	load1              float64
	memAvail, memTotal float64
	filler             int // extra unrelated series, to make the text realistic in size
	cached             string
}

func newFakeNode() *fakeNode {
	return &fakeNode{cpus: 4, idle: 1000, user: 100, iowait: 10, steal: 1,
		ioTime: map[string]float64{"sda": 50, "sdb": 20}, read: 1e6, written: 2e6, rx: 5e6, tx: 3e6,
		load1: 1.5, memAvail: 6e9, memTotal: 8e9, filler: 400}
}

// advance moves the counters as if dt seconds passed at the given busy
// share (0..1) of each cpu, with iowait share iow.
func (n *fakeNode) advance(dt, busy, iow float64) {
	n.cached = ""
	n.user += dt * busy
	n.iowait += dt * iow
	n.idle += dt * (1 - busy - iow)
	n.ioTime["sda"] += dt * 0.25
	n.ioTime["sdb"] += dt * 0.75
	n.read += dt * 1000
	n.written += dt * 2000
	n.rx += dt * 300
	n.tx += dt * 400
}

// text renders the exposition, cached until the counters move, so
// benchmarks measure brink's side rather than the fake's fmt calls.
func (n *fakeNode) text() string {
	if n.cached == "" {
		n.cached = n.render()
	}
	return n.cached
}

func (n *fakeNode) render() string {
	var b strings.Builder
	b.WriteString("# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.\n# TYPE node_cpu_seconds_total counter\n")
	for c := 0; c < n.cpus; c++ {
		for _, m := range []struct {
			mode string
			v    float64
		}{{"idle", n.idle}, {"iowait", n.iowait}, {"irq", 0}, {"nice", 0}, {"softirq", 0}, {"steal", n.steal}, {"system", 0}, {"user", n.user}} {
			fmt.Fprintf(&b, "node_cpu_seconds_total{cpu=\"%d\",mode=\"%s\"} %g\n", c, m.mode, m.v)
		}
	}
	b.WriteString("# TYPE node_disk_io_time_seconds_total counter\n")
	for _, d := range []string{"sda", "sdb"} {
		fmt.Fprintf(&b, "node_disk_io_time_seconds_total{device=%q} %g\n", d, n.ioTime[d])
	}
	fmt.Fprintf(&b, "# TYPE node_disk_read_bytes_total counter\nnode_disk_read_bytes_total{device=\"sda\"} %g\nnode_disk_read_bytes_total{device=\"sdb\"} 0\n", n.read)
	fmt.Fprintf(&b, "# TYPE node_disk_written_bytes_total counter\nnode_disk_written_bytes_total{device=\"sda\"} %g\n", n.written)
	fmt.Fprintf(&b, "# TYPE node_network_receive_bytes_total counter\nnode_network_receive_bytes_total{device=\"eth0\"} %g\nnode_network_receive_bytes_total{device=\"lo\"} %g\n", n.rx, n.rx*100)
	fmt.Fprintf(&b, "# TYPE node_network_transmit_bytes_total counter\nnode_network_transmit_bytes_total{device=\"eth0\"} %g\nnode_network_transmit_bytes_total{device=\"lo\"} %g\n", n.tx, n.tx*100)
	fmt.Fprintf(&b, "# TYPE node_load1 gauge\nnode_load1 %g\n", n.load1)
	fmt.Fprintf(&b, "# TYPE node_memory_MemAvailable_bytes gauge\nnode_memory_MemAvailable_bytes %g\n", n.memAvail)
	fmt.Fprintf(&b, "# TYPE node_memory_MemTotal_bytes gauge\nnode_memory_MemTotal_bytes %g\n", n.memTotal)
	b.WriteString("# TYPE node_filler gauge\n")
	for i := 0; i < n.filler; i++ {
		fmt.Fprintf(&b, "node_filler{i=\"%d\",kind=\"something\"} %d\n", i, i*7)
	}
	return b.String()
}

// fakeExporters serves n fake nodes at /nodes/db-N/metrics on one server.
type fakeExporters struct {
	srv   *httptest.Server
	mu    sync.Mutex
	nodes map[string]*fakeNode
	hits  atomic.Int64
	// status, when non-zero, is returned instead of metrics; delay is
	// slept before answering; truncate cuts the body in half.
	status   atomic.Int32
	delay    atomic.Int64
	truncate atomic.Bool
}

func newFakeExporters(t testing.TB, n int) *fakeExporters {
	f := &fakeExporters{nodes: map[string]*fakeNode{}}
	for i := 1; i <= n; i++ {
		f.nodes[fmt.Sprintf("db-%d", i)] = newFakeNode()
	}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		if !stall(r, &f.delay) {
			return
		}
		if s := f.status.Load(); s != 0 {
			http.Error(w, "nope", int(s))
			return
		}
		m := nodesPath.FindStringSubmatch(r.URL.Path)
		f.mu.Lock()
		var node *fakeNode
		if m != nil {
			node = f.nodes[m[1]]
		}
		var body string
		if node != nil {
			body = node.text()
		}
		f.mu.Unlock()
		if node == nil {
			http.NotFound(w, r)
			return
		}
		if f.truncate.Load() {
			// Cut inside a label set, as a connection dropped mid-line would.
			body = body[:strings.Index(body, `node_cpu_seconds_total{cpu="1",mo`)+len(`node_cpu_seconds_total{cpu="1",mo`)]
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprint(w, body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeExporters) urls() []string {
	var out []string
	for i := 1; i <= len(f.nodes); i++ {
		out = append(out, fmt.Sprintf("%s/nodes/db-%d/metrics", f.srv.URL, i))
	}
	return out
}

func (f *fakeExporters) advance(dt, busy, iow float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.nodes {
		n.advance(dt, busy, iow)
	}
}

// fakeProm answers the Prometheus HTTP API for n nodes with canned values,
// recognising brink's node queries by the metric they name.
type fakeProm struct {
	srv     *httptest.Server
	n       int
	queries atomic.Int64
	targets atomic.Int64
	// Knobs for error paths.
	status   atomic.Int32 // HTTP status instead of an answer
	delay    atomic.Int64
	garbage  atomic.Bool  // answer 200 with broken JSON
	empty    atomic.Bool  // no series match
	merged   atomic.Bool  // several exporters share one instance label
	age      atomic.Int64 // how old node_load1's timestamp is, ns
	down     atomic.Int32 // node number whose up is 0 (and no samples)
	interval string       // scrapeInterval in the targets API
	mu       sync.Mutex   // guards seen, at
	seen     []string     // queries received
	at       []string     // their time parameters ("" for none), in the same order
	warn     atomic.Bool  // add a warning and an info
	body     atomic.Value // raw body override (string)
	noTgts   atomic.Bool  // targets API 404
	memo     atomic.Bool  // answer each distinct query from a cache (benchmarks)
	memoed   sync.Map     // query → encoded body
}

func newFakeProm(t testing.TB, n int) *fakeProm {
	f := &fakeProm{n: n, interval: "15s"}
	f.srv = httptest.NewServer(http.HandlerFunc(f.handle))
	t.Cleanup(f.srv.Close)
	return f
}

// handle answers repeated queries from a cache when memo is on, so a
// benchmark measures brink rather than the fake's JSON encoding.
func (f *fakeProm) handle(w http.ResponseWriter, r *http.Request) {
	if !f.memo.Load() || r.URL.Path != "/api/v1/query" {
		f.serve(w, r)
		return
	}
	r.ParseForm()
	q := r.Form.Get("query")
	if b, ok := f.memoed.Load(q); ok {
		f.queries.Add(1)
		w.Write(b.([]byte))
		return
	}
	rec := httptest.NewRecorder()
	f.serve(rec, r)
	f.memoed.Store(q, rec.Body.Bytes())
	w.Write(rec.Body.Bytes())
}

func (f *fakeProm) serve(w http.ResponseWriter, r *http.Request) {
	if !stall(r, &f.delay) {
		return
	}
	if s := f.status.Load(); s != 0 {
		w.WriteHeader(int(s))
		fmt.Fprint(w, "upstream trouble")
		return
	}
	if f.garbage.Load() {
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":`)
		return
	}
	switch r.URL.Path {
	case "/api/v1/targets":
		f.targets.Add(1)
		if f.noTgts.Load() {
			http.NotFound(w, r)
			return
		}
		var ts []map[string]any
		for i := 1; i <= f.n; i++ {
			ts = append(ts, map[string]any{"labels": map[string]string{"job": "node", "instance": f.inst(i)},
				"scrapeInterval": f.interval, "health": "up"})
		}
		json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{"activeTargets": ts}})
		return
	case "/api/v1/query":
	default:
		http.NotFound(w, r)
		return
	}
	r.ParseForm()
	q := r.Form.Get("query")
	f.queries.Add(1)
	f.mu.Lock()
	f.seen = append(f.seen, q)
	f.at = append(f.at, r.Form.Get("time"))
	f.mu.Unlock()
	if b, ok := f.body.Load().(string); ok && b != "" {
		fmt.Fprint(w, b)
		return
	}
	evalAt := float64(time.Now().UnixMilli()) / 1000
	if t := r.Form.Get("time"); t != "" {
		fmt.Sscanf(t, "%g", &evalAt)
	}
	var result []map[string]any
	add := func(i int, extra map[string]string, v float64) {
		m := map[string]string{"instance": f.inst(i), "node": fmt.Sprintf("db-%d", i), "role": "db"}
		if strings.Contains(q, "job,instance") {
			m = map[string]string{"instance": f.inst(i), "job": "node"}
		}
		for k, x := range extra {
			m[k] = x
		}
		result = append(result, map[string]any{"metric": m, "value": []any{evalAt, fmt.Sprintf("%g", v)}})
	}
	for i := 1; i <= f.n && !f.empty.Load(); i++ {
		isDown := int(f.down.Load()) == i
		switch {
		case strings.HasPrefix(q, "max by") && strings.Contains(q, "(up{"):
			if isDown {
				add(i, nil, 0)
			} else {
				add(i, nil, 1)
			}
		case strings.HasSuffix(q, ") > 1"): // the merged-nodes check
			if f.merged.Load() {
				add(i, nil, 3)
			}
		case isDown:
		case strings.Contains(q, "timestamp("):
			add(i, nil, time.Duration(f.age.Load()).Seconds())
		case strings.Contains(q, "node_load1"):
			add(i, nil, float64(i))
		case strings.Contains(q, "count by"):
			add(i, nil, 4)
		case strings.Contains(q, `mode=~"idle|iowait|steal"`):
			// What Prometheus answers to node-mixin's busy: 1 - avg per cpu of idle+iowait+steal.
			add(i, nil, 0.35)
		case strings.Contains(q, `mode="iowait"`):
			add(i, nil, 0.1)
		case strings.Contains(q, "node_disk_io_time_seconds_total"):
			add(i, map[string]string{"device": "sdb"}, 0.5)
		case strings.Contains(q, "node_disk_read_bytes_total"):
			add(i, nil, 1000)
		case strings.Contains(q, "node_disk_written_bytes_total"):
			add(i, nil, 2000)
		case strings.Contains(q, "node_memory"):
			add(i, nil, 0.25)
		case strings.Contains(q, "node_network_receive"):
			add(i, nil, 300)
		case strings.Contains(q, "node_network_transmit"):
			add(i, nil, 400)
		default: // a custom panel
			if i == 1 {
				add(i, map[string]string{"uri": "/api/rooms"}, 42)
			}
		}
	}
	resp := map[string]any{"status": "success", "data": map[string]any{"resultType": "vector", "result": result}}
	if result == nil {
		resp["data"].(map[string]any)["result"] = []any{}
	}
	if f.warn.Load() {
		resp["warnings"] = []string{"partial response"}
		resp["infos"] = []string{"metric might not be a counter"}
	}
	json.NewEncoder(w).Encode(resp)
}

func (f *fakeProm) inst(i int) string { return fmt.Sprintf("10.0.0.%d:9100", i) }

// stall holds a fake's answer for the delay set (ns), as a slow server
// does; false when the client gave up first.
func stall(r *http.Request, delay *atomic.Int64) bool {
	if d := time.Duration(delay.Load()); d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return false
		}
	}
	return true
}

package demo

import (
	"io"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkWriteMetrics is one scrape of a 4-core node: what promquery's
// direct-scrape source (or Prometheus) costs the demo per node per second.
func BenchmarkWriteMetrics(b *testing.B) {
	n := newNode(DefaultNodes()[5], time.Now())
	start := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		n.WriteMetrics(io.Discard, start)
	}
}

// BenchmarkStep is one integrator slice of one node (run every 10–250 ms
// per node).
func BenchmarkStep(b *testing.B) {
	n := newNode(DefaultNodes()[5], time.Now())
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(50 * time.Millisecond)
		n.cpuWork.Add(int64(time.Millisecond))
		n.step(now, 20)
	}
}

// BenchmarkRoomsHandler is the demo's own CPU for one GET /api/rooms (no
// simulated waits on this path), the cheapest request of the scenario.
func BenchmarkRoomsHandler(b *testing.B) {
	s := &Server{opts: Options{Speed: 1, ReadShare: 0.8}, byName: map[string]*Node{}, chat: newChat(time.Now()), hub: newHub()}
	for _, sp := range DefaultNodes() {
		n := newNode(sp, time.Now())
		s.nodes = append(s.nodes, n)
		s.byName[sp.Name] = n
	}
	s.web, s.redis = s.pick("web-1", "web-2"), s.byName["redis-1"]
	h := s.routes()
	req := httptest.NewRequest("GET", "/api/rooms", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
	}
}

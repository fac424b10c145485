package engine

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestClosedModelSmoke(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("hello"))
	}))
	defer srv.Close()
	g := constVUs(get("home", srv.URL+"/"), 4, 1500*time.Millisecond)
	g.Think.Min, g.Think.Max = 5*time.Millisecond, 5*time.Millisecond
	_, tk := run(t, scenario(500*time.Millisecond, g), Options{}, 10*time.Second)
	s := tk.sum()
	if s.Requests == 0 || s.Requests != hits.Load() {
		t.Fatalf("requests %d, server saw %d", s.Requests, hits.Load())
	}
	if s.ErrorCount != 0 {
		t.Fatalf("errors: %v", s.Errors)
	}
	if s.BytesIn < 5*s.Requests || s.BytesOut == 0 {
		t.Fatalf("bytes in %d out %d for %d requests", s.BytesIn, s.BytesOut, s.Requests)
	}
	all := tk.All()
	if len(all) < 3 {
		t.Fatalf("%d ticks, want ≥ 3", len(all))
	}
	mid := all[1]
	if mid.VUs != 4 || mid.TargetVUs != 4 || mid.Latency.Count == 0 || mid.Hist == nil || len(mid.Endpoints) != 1 {
		t.Fatalf("mid tick: %+v", mid)
	}
	if mid.TTFB.Count == 0 || mid.TTFB.Max > mid.Service.Max {
		t.Fatalf("ttfb %+v vs service %+v", mid.TTFB, mid.Service)
	}
	if c := all[0].Connect.Count; c != 4 {
		t.Fatalf("%d connections opened in the first window, want 4 (one per VU, kept alive)", c)
	}
	if mid.Generator.Goroutines == 0 || mid.Generator.OpenFiles == 0 || mid.Generator.MaxFiles == 0 {
		t.Fatalf("generator: %+v", mid.Generator)
	}
}

package report

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brink-load/brink/engine"
	"github.com/brink-load/brink/promquery/promtest"
	"github.com/brink-load/brink/scenarios"
	"github.com/brink-load/brink/testout"
)

// TestWithEngine drives the real engine against a loopback target whose
// latency jumps after a while, and checks the recorder finds the breakpoint
// from real ticks, stops the load through OnBreakpoint (abort_on_breakpoint)
// and writes a report that reads back. Bounded: at most 4 s and 10 VUs with
// think time.
func TestWithEngine(t *testing.T) {
	promtest.Long(t, "runs load for a few seconds")
	var served atomic.Int64
	slowAfter := time.Now().Add(1500 * time.Millisecond)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		if time.Now().After(slowAfter) {
			time.Sleep(40 * time.Millisecond)
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()

	sc := &scenarios.Scenario{Name: "engine-breakpoint", Window: 200 * time.Millisecond, Sustain: 600 * time.Millisecond,
		AbortOnBreakpoint: true,
		Groups: []scenarios.Group{{Name: "web", Executor: scenarios.RampingVUs,
			Stages:   []scenarios.Stage{{Duration: 4 * time.Second, Target: 10}},
			Think:    scenarios.Think{Min: 20 * time.Millisecond, Max: 20 * time.Millisecond},
			Timeout:  2 * time.Second,
			Requests: []scenarios.Request{{Name: "home", Method: "GET", URL: scenarios.MustTemplate(srv.URL + "/")}}}},
		Thresholds: []scenarios.Threshold{th("http_req_duration", "p(95)<25", "p", 95, "<", 25)},
	}
	if err := scenarios.Validate(sc); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := NewRecorder(sc, start, Options{Version: "test"})
	eng, err := engine.New(sc, engine.Options{OnTick: r.AddTick, GracefulStop: time.Second, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan struct{})
	r.OnBreakpoint(func(v Verdict) {
		r.Abort("abort_on_breakpoint", time.Now())
		eng.Stop()
		close(stopped)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := eng.Run(ctx); err != nil && ctx.Err() == nil {
		t.Fatal(err)
	}
	testout.Recv(t, stopped, 5*time.Second, "the breakpoint never stopped the engine")
	r.Finish(time.Now())
	rep := r.Report()
	v := rep.Verdict
	if v.Breakpoint == nil || v.Breakpoint.Signal.Kind != SignalSLO {
		t.Fatalf("verdict %q", v.Text)
	}
	if bpAfter := v.Breakpoint.Time.Sub(start); bpAfter < time.Second {
		t.Errorf("breakpoint at %v, before the target slowed down", bpAfter)
	}
	if v.MaxStable == nil || v.MaxStable.VUs == 0 {
		t.Errorf("no max stable load: %q", v.Text)
	}
	if rep.Summary.Requests == 0 || rep.Summary.Requests > served.Load() || !rep.Summary.LatencyMs.Exact {
		t.Errorf("summary %d requests (served %d), exact=%v", rep.Summary.Requests, served.Load(), rep.Summary.LatencyMs.Exact)
	}
	if len(rep.Endpoints) != 1 || rep.Endpoints[0].Requests != rep.Summary.Requests {
		t.Errorf("endpoints %+v", rep.Endpoints)
	}
	_, back := roundTrip(t, rep)
	if back.Verdict.Text != v.Text || len(back.Timeline) != len(rep.Timeline) {
		t.Errorf("report did not read back")
	}
	t.Logf("%s (%d windows, %d requests)", v.Text, len(rep.Timeline), rep.Summary.Requests)
}

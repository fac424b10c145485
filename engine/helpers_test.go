package engine

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
	"github.com/brink-load/brink/testout"
)

// get is a one-request GET group.
func get(name, url string) scenarios.Group {
	return scenarios.Group{
		Name:     name,
		Executor: scenarios.RampingVUs,
		Requests: []scenarios.Request{{Name: name, Method: "GET", URL: scenarios.MustTemplate(url)}},
	}
}

func constVUs(g scenarios.Group, vus float64, d time.Duration) scenarios.Group {
	g.Start = vus
	g.Stages = []scenarios.Stage{{Duration: d, Target: vus}}
	return g
}

func constRate(g scenarios.Group, rate float64, d time.Duration, maxVUs int) scenarios.Group {
	g.Executor = scenarios.RampingArrivalRate
	g.Start = rate
	g.Stages = []scenarios.Stage{{Duration: d, Target: rate}}
	g.MaxVUs = maxVUs
	return g
}

func scenario(window time.Duration, groups ...scenarios.Group) *scenarios.Scenario {
	return &scenarios.Scenario{Name: "test", Groups: groups, Window: window}
}

// ticks collects every Tick of a run.
type ticks struct{ testout.List[measure.Tick] }

// sum adds up the run's counters over all ticks (measure.Tick.AddCounts).
func (t *ticks) sum() (s measure.Tick) {
	s.Errors = map[measure.ErrorKind]int64{}
	s.WS.Errors = map[measure.ErrorKind]int64{}
	for _, tk := range t.All() {
		s.AddCounts(&tk)
	}
	return s
}

// run runs sc to completion (bounded by limit) and returns its ticks.
func run(t *testing.T, sc *scenarios.Scenario, opts Options, limit time.Duration) (*Engine, *ticks) {
	t.Helper()
	tk := &ticks{}
	opts.OnTick = tk.Add
	if opts.GracefulStop == 0 {
		opts.GracefulStop = 2 * time.Second
	}
	return runEngine(t, sc, opts, limit), tk
}

// runEngine builds an engine for sc and runs it to its end, bounded by limit.
func runEngine(tb testing.TB, sc *scenarios.Scenario, opts Options, limit time.Duration) *Engine {
	tb.Helper()
	e, err := New(sc, opts)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	if err := e.Run(ctx); err != nil {
		tb.Fatalf("Run: %v", err)
	}
	return e
}

// settleGoroutines waits for the goroutine count to fall back to base
// (timers and net/http idle readers take a moment), failing after 5 s.
func settleGoroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines left, want ≤ %d:\n%s", n, base, buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// soloVU builds an engine for sc and one VU of its first group, to be set
// up and iterated by hand (no ramp, no ticker); its context ends with the
// test.
func soloVU(tb testing.TB, sc *scenarios.Scenario) (*Engine, *vu) {
	tb.Helper()
	e, err := New(sc, Options{})
	if err != nil {
		tb.Fatal(err)
	}
	e.start = time.Now()
	e.vuCtx, e.vuCancel = context.WithCancel(context.Background())
	tb.Cleanup(e.vuCancel)
	v := e.newVU(e.groups[0], 0)
	e.vuWG.Add(1)
	return e, v
}

// eachClient runs f as a subtest named name with the fasthttp client
// (h2 false) and as name/net_http with net/http's (h2 true: a group's
// http2 setting), so a rule is judged on both.
func eachClient(t *testing.T, name string, f func(t *testing.T, h2 bool)) {
	t.Helper()
	for _, h2 := range []bool{false, true} {
		sub := name
		if h2 {
			sub += "/net_http"
		}
		t.Run(sub, func(t *testing.T) { f(t, h2) })
	}
}

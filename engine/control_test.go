package engine

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brink-load/brink/engine/wstest"
	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
)

// echoServer echoes every message after 2 ms, a measurable reply latency.
func echoServer(t *testing.T) string {
	t.Helper()
	return wstest.Delayed(t, func(int64) time.Duration { return 2 * time.Millisecond })
}

// Three VUs hold a connection each and send every 50 ms for 1 s: every
// message is echoed, reply latency is the echo's 2 ms delay or more, and the
// connections close politely at the end (no ws_closed errors).
func TestWebSocketEcho(t *testing.T) {
	u := echoServer(t)
	g := scenarios.Group{
		Name: "chat", Executor: scenarios.RampingVUs, Start: 3,
		Stages:    []scenarios.Stage{{Duration: time.Second, Target: 3}},
		WebSocket: &scenarios.WebSocket{URL: scenarios.MustTemplate(u), Send: scenarios.MustTemplate(`{"vu":{{vu}},"n":{{iter}}}`), Every: 50 * time.Millisecond, ExpectReply: true},
	}
	var open int
	_, tk := run(t, scenario(400*time.Millisecond, g), Options{}, 10*time.Second)
	s := tk.sum()
	for _, x := range tk.All()[:2] {
		open = max(open, x.WS.Open)
	}
	if s.WS.Opened != 3 || open != 3 {
		t.Fatalf("opened %d, open at a tick %d, want 3", s.WS.Opened, open)
	}
	// ~20 sends per VU; allow a tick of jitter at either end.
	if s.WS.Sent < 45 || s.WS.Sent > 63 {
		t.Fatalf("sent %d, want ~60", s.WS.Sent)
	}
	if d := s.WS.Sent - s.WS.Received; d < 0 || d > 3 {
		t.Fatalf("sent %d received %d: every message but the last in flight is echoed", s.WS.Sent, s.WS.Received)
	}
	if s.ErrorCount != 0 || s.WS.Closed != 0 {
		t.Fatalf("errors %v closed %d", s.Errors, s.WS.Closed)
	}
	var reply measure.Latency
	for _, x := range tk.All() {
		if x.WS.Reply.Count > 0 {
			reply = x.WS.Reply
			break
		}
	}
	if reply.Count == 0 || reply.P50 < 2*time.Millisecond || reply.P50 > 50*time.Millisecond {
		t.Fatalf("reply latency %+v, want ≥ 2 ms", reply)
	}
	if s.BytesOut == 0 || s.BytesIn == 0 {
		t.Fatalf("bytes in %d out %d", s.BytesIn, s.BytesOut)
	}
}

// target polls ticks until the tick's target satisfies ok.
func waitTick(t *testing.T, ch <-chan measure.Tick, what string, ok func(measure.Tick) bool) measure.Tick {
	t.Helper()
	deadline := time.After(5 * time.Second)
	var last measure.Tick
	for {
		select {
		case tk := <-ch:
			if ok(tk) {
				return tk
			}
			last = tk
		case <-deadline:
			t.Fatalf("timed out waiting for %s; last tick at %v: target %d, VUs %d, held %v", what, last.Elapsed, last.TargetVUs, last.VUs, last.Held)
		}
	}
}

// Hold freezes a ramp, Scale multiplies it, SetTarget overrides one group
// until Resume, and Stop ends the run early with no goroutine left behind.
func TestHoldScaleSetTargetStop(t *testing.T) {
	srv := okServer(t, nil)
	base := runtime.NumGoroutine() // the server's accept loop stays
	g := get("ramp", srv.URL)
	g.Stages = []scenarios.Stage{{Duration: 20 * time.Second, Target: 200}} // 10 VUs/s
	g.Think = scenarios.Think{Min: 50 * time.Millisecond, Max: 50 * time.Millisecond}
	ch := make(chan measure.Tick, 100)
	e, err := New(scenario(100*time.Millisecond, g), Options{OnTick: func(tk measure.Tick) { ch <- tk }, GracefulStop: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- e.Run(context.Background()) }()

	waitTick(t, ch, "3 VUs", func(tk measure.Tick) bool { return tk.TargetVUs >= 3 })
	e.Hold()
	if !e.Held() {
		t.Fatal("not held")
	}
	// The ramp may still apply the target of the moment of the hold after
	// the first held tick: judge the hold from a tick taken once a window
	// and a ramp step have passed since.
	waitTick(t, ch, "held tick", func(tk measure.Tick) bool { return tk.Held })
	time.Sleep(300 * time.Millisecond)
	for len(ch) > 0 {
		<-ch
	}
	held := waitTick(t, ch, "held tick", func(tk measure.Tick) bool { return tk.Held })
	time.Sleep(500 * time.Millisecond)
	later := waitTick(t, ch, "held tick", func(tk measure.Tick) bool { return tk.Held })
	if later.TargetVUs != held.TargetVUs {
		t.Fatalf("held target moved %d → %d", held.TargetVUs, later.TargetVUs)
	}
	// Ticks carry the planned length, which grows while held.
	if later.Planned <= held.Planned || held.Planned <= 20*time.Second || later.Scale != 1 {
		t.Fatalf("held ticks: planned %v then %v (want above 20s and growing), scale %v", held.Planned, later.Planned, later.Scale)
	}
	if p := e.Planned(); p < 20*time.Second+400*time.Millisecond {
		t.Fatalf("planned %v does not include the hold", p)
	}
	e.Scale(2)
	// The held target is floor(v) of a fractional v; scaled it is
	// floor(2v): twice the held count, or one more.
	waitTick(t, ch, "scaled", func(tk measure.Tick) bool {
		return tk.Scale == 2 && (tk.TargetVUs == 2*held.TargetVUs || tk.TargetVUs == 2*held.TargetVUs+1) && tk.VUs == tk.TargetVUs
	})
	if err := e.SetTarget("ramp", 1); err != nil {
		t.Fatal(err)
	}
	waitTick(t, ch, "override to 1 VU", func(tk measure.Tick) bool { return tk.TargetVUs == 1 && tk.VUs == 1 })
	if err := e.SetTarget("nope", 1); err == nil {
		t.Fatal("SetTarget on an unknown group should fail")
	}
	e.Resume()
	if e.Held() {
		t.Fatal("still held")
	}
	// Resumed from where it was held (stage time ≈ 0.3 s → 3 VUs), doubled.
	waitTick(t, ch, "resumed", func(tk measure.Tick) bool { return !tk.Held && tk.TargetVUs >= 2*held.TargetVUs })

	stopAt := time.Now()
	stopped := make(chan struct{})
	go func() { e.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not return")
	}
	if err := <-runErr; err != nil {
		t.Fatalf("Run: %v", err)
	}
	returned := time.Now()
	e.Stop() // twice is fine
	// Drain ticks; the last one is the final partial window, ending
	// between the stop and Run's return (not at a later window's end).
	var last measure.Tick
	for len(ch) > 0 {
		last = <-ch
	}
	if last.Time.Before(stopAt) || last.Time.After(returned) {
		t.Fatalf("final tick ends at %v, stop at %v, Run returned at %v", last.Time, stopAt, returned)
	}
	srv.CloseClientConnections()
	settleGoroutines(t, base)
}

// Cancelling Run's context cuts in-flight requests at once: a handler that
// would take 10 s does not hold the run.
func TestContextCancelCutsRequests(t *testing.T) {
	base := runtime.NumGoroutine()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
	}))
	g := constVUs(get("slow", srv.URL), 3, time.Minute)
	e, err := New(scenario(time.Second, g), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	if err := e.Run(ctx); err == nil {
		t.Fatal("Run should report the cancellation")
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Fatalf("Run took %v after cancel", d)
	}
	close(release)
	srv.Close()
	settleGoroutines(t, base)
}

// Arrival-rate groups follow Hold and SetTarget too: the rate shown in
// ticks and the arrivals themselves.
func TestOpenModelSetTarget(t *testing.T) {
	srv := okServer(t, nil)
	g := constRate(get("rate", srv.URL), 50, 10*time.Second, 20)
	ch := make(chan measure.Tick, 100)
	e, err := New(scenario(250*time.Millisecond, g), Options{OnTick: func(tk measure.Tick) { ch <- tk }, GracefulStop: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	go e.Run(context.Background())
	defer e.Stop()
	waitTick(t, ch, "rate 50", func(tk measure.Tick) bool { return tk.TargetRate == 50 && tk.Iterations > 0 })
	if err := e.SetTarget("rate", 200); err != nil {
		t.Fatal(err)
	}
	waitTick(t, ch, "rate 200", func(tk measure.Tick) bool { return tk.TargetRate == 200 })
	// Four windows at 200/s hold 200 arrivals (started or dropped, not
	// only completed) a second of their actual length. A busy machine
	// stretches windows and wakes the pacer late, moving arrivals across
	// a window's edge: allow one nominal window's worth, plus 10 %.
	var got, secs float64
	for range 4 {
		tk := <-ch
		secs += tk.Window.Seconds()
		for _, g := range tk.Groups {
			got += float64(g.Started + g.Dropped)
		}
	}
	want := 200 * secs
	if slack := 200*0.25 + 0.1*want; got < want-slack || got > want+slack {
		t.Fatalf("%.0f arrivals in %.2fs at 200/s, want %.0f", got, secs, want)
	}
	e.Stop()
}

// Graceful: VUs above the target finish the iteration they are in. A ramp
// 4 → 0 and a Stop while every VU is inside a 150 ms request both end with
// every started request answered and none counted as an error.
func TestGracefulRampDownAndStop(t *testing.T) {
	var started, finished atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started.Add(1)
		time.Sleep(150 * time.Millisecond)
		finished.Add(1)
	}))
	defer srv.Close()

	g := get("down", srv.URL)
	g.Start = 4
	g.Stages = []scenarios.Stage{{Duration: 400 * time.Millisecond, Target: 4}, {Duration: 100 * time.Millisecond, Target: 0}}
	_, tk := run(t, scenario(time.Second, g), Options{}, 10*time.Second)
	s := tk.sum()
	if s.ErrorCount != 0 || s.Requests != started.Load() || started.Load() != finished.Load() {
		t.Fatalf("ramp-down: recorded %d, server started %d finished %d, errors %v", s.Requests, started.Load(), finished.Load(), s.Errors)
	}

	started.Store(0)
	finished.Store(0)
	g = constVUs(get("stop", srv.URL), 4, time.Minute)
	var total atomic.Int64
	e, err := New(scenario(time.Second, g), Options{OnTick: func(tk measure.Tick) { total.Add(tk.Requests) }})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(200 * time.Millisecond) // every VU is mid-request
		e.Stop()
	}()
	if err := e.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if total.Load() != started.Load() || started.Load() != finished.Load() || started.Load() < 4 {
		t.Fatalf("stop: recorded %d, server started %d finished %d", total.Load(), started.Load(), finished.Load())
	}
}

// A VU thinking for 10 s leaves as soon as the target drops below its slot:
// the run ends with its stages, not with the longest think.
func TestRampDownCutsThink(t *testing.T) {
	srv := okServer(t, nil)
	g := constVUs(get("thinker", srv.URL), 3, 300*time.Millisecond)
	g.Think = scenarios.Think{Min: 10 * time.Second, Max: 10 * time.Second}
	t0 := time.Now()
	_, tk := run(t, scenario(time.Second, g), Options{GracefulStop: 30 * time.Second}, 20*time.Second)
	if d := time.Since(t0); d > 3*time.Second {
		t.Fatalf("run took %v", d)
	}
	if s := tk.sum(); s.Requests != 3 || s.Iterations != 3 {
		t.Fatalf("%d requests %d iterations, want 3 (one per VU)", s.Requests, s.Iterations)
	}
}

// A server that accepts messages but never answers: with expect_reply each
// overdue reply is a ws_reply_timeout failure, and the connection stays
// open.
func TestWebSocketReplyTimeout(t *testing.T) {
	u := wstest.Mute(t)
	g := scenarios.Group{
		Name: "mute", Executor: scenarios.RampingVUs, Start: 1, Timeout: 100 * time.Millisecond,
		Stages:    []scenarios.Stage{{Duration: 700 * time.Millisecond, Target: 1}},
		WebSocket: &scenarios.WebSocket{URL: scenarios.MustTemplate(u), Send: scenarios.MustTemplate("ping"), Every: 50 * time.Millisecond, ExpectReply: true},
	}
	_, tk := run(t, scenario(time.Second, g), Options{}, 10*time.Second)
	s := tk.sum()
	if s.Errors[measure.ErrWSReplyTimeout] < 2 || s.WS.Errors[measure.ErrWSReplyTimeout] != s.Errors[measure.ErrWSReplyTimeout] ||
		s.WS.Closed != 0 || s.WS.Opened != 1 || s.WS.Received != 0 || s.ErrorCount != 0 {
		t.Fatalf("errors %v ws errors %v closed %d opened %d received %d", s.Errors, s.WS.Errors, s.WS.Closed, s.WS.Opened, s.WS.Received)
	}
}

// Stop with WebSocket VUs connected: each closes politely (no ws_closed
// error) and no goroutine of the engine is left, timers and kicks included.
func TestWebSocketStopLeavesNothing(t *testing.T) {
	u := echoServer(t)
	base := runtime.NumGoroutine()
	g := scenarios.Group{
		Name: "chat", Executor: scenarios.RampingVUs, Start: 5,
		Stages:    []scenarios.Stage{{Duration: time.Minute, Target: 5}},
		WebSocket: &scenarios.WebSocket{URL: scenarios.MustTemplate(u), Send: scenarios.MustTemplate("hi"), Every: 20 * time.Millisecond, ExpectReply: true},
	}
	tk := &ticks{}
	e, err := New(scenario(time.Second, g), Options{OnTick: tk.Add, GracefulStop: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		e.Stop()
	}()
	t0 := time.Now()
	if err := e.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Fatalf("stop took %v", d)
	}
	s := tk.sum()
	if s.WS.Opened != 5 || s.WS.Closed != 0 || s.ErrorCount != 0 || s.WS.Sent == 0 {
		t.Fatalf("opened %d closed %d errors %v sent %d", s.WS.Opened, s.WS.Closed, s.Errors, s.WS.Sent)
	}
	if last := tk.All()[len(tk.All())-1]; last.WS.Open != 0 {
		t.Fatalf("%d connections open at the end", last.WS.Open)
	}
	settleGoroutines(t, base+5) // the echo server's 5 handlers may still be returning
	settleGoroutines(t, base)
}

// A WebSocket ramp-down 4 → 1 closes the three connections above the
// target politely: open drops to 1, nothing counts as an unexpected close.
func TestWebSocketRampDown(t *testing.T) {
	u := echoServer(t)
	g := scenarios.Group{
		Name: "chat", Executor: scenarios.RampingVUs, Start: 4,
		Stages: []scenarios.Stage{{Duration: 300 * time.Millisecond, Target: 4}, {Duration: 10 * time.Millisecond, Target: 1},
			{Duration: 500 * time.Millisecond, Target: 1}},
		WebSocket: &scenarios.WebSocket{URL: scenarios.MustTemplate(u), Every: time.Hour},
	}
	_, tk := run(t, scenario(100*time.Millisecond, g), Options{}, 10*time.Second)
	s := tk.sum()
	if s.WS.Opened != 4 || s.WS.Closed != 0 || s.ErrorCount != 0 {
		t.Fatalf("opened %d closed %d errors %v", s.WS.Opened, s.WS.Closed, s.Errors)
	}
	sawOne := false
	for _, x := range tk.All() {
		if x.Elapsed > 600*time.Millisecond && x.Elapsed < 800*time.Millisecond {
			if x.WS.Open != 1 || x.VUs != 1 {
				t.Fatalf("at %v: %d open, %d VUs, want 1", x.Elapsed, x.WS.Open, x.VUs)
			}
			sawOne = true
		}
	}
	if !sawOne {
		t.Fatal("no tick after the ramp-down")
	}
}

// A group with requests and a websocket: each VU slot loops the requests
// and holds a connection, both following the group's target, counted in
// one GroupStats.
func TestGroupWithRequestsAndWebSocket(t *testing.T) {
	u := echoServer(t)
	g := get("user", "http"+u[len("ws"):]+"/")
	g.Start = 3
	g.Stages = []scenarios.Stage{{Duration: 1500 * time.Millisecond, Target: 3}}
	g.Think = scenarios.Think{Min: 20 * time.Millisecond, Max: 20 * time.Millisecond}
	g.WebSocket = &scenarios.WebSocket{URL: scenarios.MustTemplate(u), Send: scenarios.MustTemplate("hi"), Every: 50 * time.Millisecond, ExpectReply: true}
	_, tk := run(t, scenario(200*time.Millisecond, g), Options{}, 10*time.Second)
	s := tk.sum()
	if s.WS.Opened != 3 || s.WS.Sent == 0 || s.Requests == 0 {
		t.Fatalf("opened %d sent %d requests %d", s.WS.Opened, s.WS.Sent, s.Requests)
	}
	// Every window that ends while the target holds at 3 (after the first,
	// which may end before all three connections are up) shows 3 of 3. A
	// stalled machine may stretch windows past the stage's end: those are
	// not judged, and at least one window must be.
	judged := 0
	for i, x := range tk.All() {
		if i == 0 || x.Elapsed >= 1400*time.Millisecond {
			continue
		}
		judged++
		if len(x.Groups) != 1 || x.Groups[0].VUs != 3 || x.VUs != 3 || x.TargetVUs != 3 || x.WS.Open != 3 {
			t.Fatalf("tick at %v: vus %d target %d open %d groups %+v", x.Elapsed, x.VUs, x.TargetVUs, x.WS.Open, x.Groups)
		}
	}
	if judged == 0 {
		t.Fatal("no window ended while the target held")
	}
	// The echo server answers plain GETs with 400 (not an upgrade): those
	// are the only errors.
	if s.Errors[measure.ErrStatus4xx] != s.Requests || s.ErrorCount != s.Requests {
		t.Fatalf("errors %v for %d requests", s.Errors, s.Requests)
	}
}

package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/brink-load/brink/engine/wstest"
	"github.com/brink-load/brink/scenarios"
	"github.com/brink-load/brink/testout"
)

// jitterServer serves HTTP and WebSocket with the rough edges of a busy
// target: replies after a random delay, slow handshakes, and sockets that
// sometimes break mid-session (so VUs reconnect and back off).
func jitterServer(t *testing.T, dropEvery int) (httpURL, wsURL string) {
	t.Helper()
	var mu sync.Mutex
	rnd := rand.New(rand.NewPCG(1, 2))
	jit := func(d time.Duration) time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return time.Duration(rnd.Int64N(int64(d)))
	}
	chance := func(n int) bool {
		if n <= 0 {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		return rnd.IntN(n) == 0
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ws" {
			time.Sleep(jit(20 * time.Millisecond))
			w.WriteHeader(http.StatusOK)
			return
		}
		time.Sleep(jit(30 * time.Millisecond)) // a slow handshake
		wstest.Echo(w, r, nil, func(*websocket.Conn, []byte) bool {
			if chance(dropEvery) {
				return false // the socket breaks: the VU reconnects
			}
			time.Sleep(jit(10 * time.Millisecond))
			return true
		})
	}))
	t.Cleanup(srv.Close)
	return srv.URL, "ws" + srv.URL[len("http"):] + "/ws"
}

// runEnds runs sc and fails unless Run returns within slack of the stages'
// end without the graceful stop timing out. The grace is long (30 s), so
// a VU that waits for anything but its in-flight request is far outside
// any slack, while a busy 2-core machine's stalls (seconds under -race)
// stay inside it.
func runEnds(t *testing.T, sc *scenarios.Scenario, slack time.Duration) {
	t.Helper()
	var lg testout.Logs
	e, err := New(sc, Options{Logf: lg.Logf, GracefulStop: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), sc.Duration()+40*time.Second)
	defer cancel()
	t0 := time.Now()
	if err := e.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	over := time.Since(t0) - sc.Duration()
	if lg.Contains("graceful stop timed out") || over > slack {
		for _, g := range e.groups {
			t.Logf("group %s (ws %v): %d VUs active", g.cfg.Name, g.isWS, g.active.Load())
		}
		t.Fatalf("Run returned %v after the stages ended (want < %v); log %q", over, slack, lg.Lines())
	}
}

// wsGroup is a chat group: every VU holds a socket and sends every 20 ms,
// expecting a reply.
func wsGroup(u string, stages ...scenarios.Stage) scenarios.Group {
	return scenarios.Group{
		Name: "chat", Executor: scenarios.RampingVUs, Stages: stages,
		WebSocket: &scenarios.WebSocket{URL: scenarios.MustTemplate(u), Send: scenarios.MustTemplate(`{"vu":{{vu}},"n":{{iter}}}`),
			Every: 20 * time.Millisecond, ExpectReply: true},
	}
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// The demo's shape in miniature, run many times with jittered stage
// lengths: closed HTTP VUs in think time, WebSocket VUs mid-session (some
// reconnecting) and open-model VUs all leave as soon as the stages end,
// including ramps that go down and back up (slots are reused).
func TestStagesEndPromptly(t *testing.T) {
	hu, wu := jitterServer(t, 15)
	rnd := rand.New(rand.NewPCG(3, 4))
	j := func(n int) time.Duration { return ms(n + rnd.IntN(n)) }
	for i := range 8 {
		chat := wsGroup(wu,
			scenarios.Stage{Duration: j(100), Target: 12},
			scenarios.Stage{Duration: j(40), Target: 3},  // down…
			scenarios.Stage{Duration: j(40), Target: 10}, // …and up: slots are reused
			scenarios.Stage{Duration: j(100), Target: 10})
		browse := get("browse", hu+"/rooms")
		browse.Stages = chat.Stages
		browse.Think = scenarios.Think{Min: ms(5), Max: ms(60)}
		browse.Timeout = 2 * time.Second
		writes := constRate(get("writes", hu+"/post"), 40, j(250), 20)
		writes.Timeout = 2 * time.Second
		sc := scenario(100*time.Millisecond, chat, browse, writes)
		t.Run(fmt.Sprint(i), func(t *testing.T) { runEnds(t, sc, 10*time.Second) })
	}
}

// slowServer answers every request after d.
func slowServer(t *testing.T, d time.Duration) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(d)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// A closed VU whose request is in flight when the stages end must not
// then sit out its whole think time: the ramp-down already happened, so
// its think is cut at once (the run ends with the slowest request, not
// with the longest think).
func TestStagesEndCutsThinkAfterInFlightRequest(t *testing.T) {
	u := slowServer(t, 150*time.Millisecond)
	g := get("browse", u)
	// A VU joins every 20 ms: the last few are mid-request at the end.
	g.Stages = []scenarios.Stage{{Duration: 900 * time.Millisecond, Target: 45}}
	g.Think = scenarios.Think{Min: 20 * time.Second, Max: 25 * time.Second}
	g.Timeout = 2 * time.Second
	// Slack well under the 20 s think: a VU that sat out its think would
	// miss it, a busy machine does not.
	runEnds(t, scenario(time.Second, g), 10*time.Second)
}

// A WebSocket VU backing off after a failed handshake leaves when the
// stages end, even if the ramp-down came while it was still dialling.
func TestStagesEndCutsWebSocketBackoff(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(250 * time.Millisecond)
		http.Error(w, "busy", http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	// VUs join over 600 ms, so by the end (backoffs of 0.8-1.6 s) some
	// are mid-handshake.
	g := wsGroup("ws"+srv.URL[len("http"):], scenarios.Stage{Duration: 600 * time.Millisecond, Target: 30},
		scenarios.Stage{Duration: 2 * time.Second, Target: 30})
	// A VU that sat out its backoff (0.8-1.6 s) would mostly miss this.
	runEnds(t, scenario(time.Second, g), 1500*time.Millisecond)
}

// A server that stops reading: the VU's send blocks on a full socket
// (up to the group timeout). The ramp-down must still cut the connection
// within its close grace, not wait for the blocked write.
func TestStagesEndCutsBlockedWebSocketSend(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		<-r.Context().Done() // never reads
	}))
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() })
	g := wsGroup("ws"+srv.URL[len("http"):], scenarios.Stage{Duration: 700 * time.Millisecond, Target: 2})
	g.Start = 2
	g.Timeout = 8 * time.Second
	g.WebSocket.Send = scenarios.MustTemplate(strings.Repeat("x", 256<<10))
	g.WebSocket.Every = time.Millisecond
	g.WebSocket.ExpectReply = false
	runEnds(t, scenario(time.Second, g), 2*time.Second)
}

// Slot reuse: a VU leaving slot 0 (ramp-down) unregisters its session
// after a new VU on the same slot (ramp back up) registered its own. The
// newer session must stay registered, or the next ramp-down cannot reach
// it and it holds its socket until the graceful stop times out.
func TestWSRegistryKeepsNewerSession(t *testing.T) {
	e, err := New(scenario(time.Second, wsGroup("ws://127.0.0.1:1/")), Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := e.groups[0]
	old, cur := &wsSess{}, &wsSess{}
	g.setWS(0, old)
	g.setWS(0, cur) // the slot's new VU
	g.unsetWS(0, old)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ws[0] != cur {
		t.Fatal("the leaving VU unregistered the slot's new session")
	}
}

// Targets that jump down and up (the TUI's Scale and SetTarget) keep
// releasing and reusing slots while sessions connect, send and close; when
// the stages end, every VU of every kind still leaves at once.
func TestStagesEndAfterTargetChurn(t *testing.T) {
	hu, wu := jitterServer(t, 10)
	chat := wsGroup(wu, scenarios.Stage{Duration: 800 * time.Millisecond, Target: 8})
	chat.Start = 8
	browse := constVUs(get("browse", hu+"/rooms"), 8, 800*time.Millisecond)
	browse.Think = scenarios.Think{Min: ms(5), Max: ms(40)}
	browse.Timeout = 2 * time.Second
	writes := constRate(get("writes", hu+"/post"), 50, 800*time.Millisecond, 10)
	writes.Timeout = 2 * time.Second
	sc := scenario(100*time.Millisecond, chat, browse, writes)
	for i := range 4 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			var lg testout.Logs
			e, err := New(sc, Options{Logf: lg.Logf, GracefulStop: 30 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			rnd := rand.New(rand.NewPCG(uint64(i), 5))
			churn := make(chan struct{})
			go func() {
				defer close(churn)
				for end := time.Now().Add(700 * time.Millisecond); time.Now().Before(end); {
					for _, name := range []string{"chat", "browse", "writes"} {
						_ = e.SetTarget(name, float64(rnd.IntN(9)))
					}
					if rnd.IntN(4) == 0 {
						e.Resume() // back to the stages
					}
					time.Sleep(ms(2 + rnd.IntN(15)))
				}
				e.Resume()
			}()
			t0 := time.Now()
			if err := e.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			<-churn
			if over := time.Since(t0) - sc.Duration(); over > 10*time.Second || lg.Contains("graceful stop timed out") {
				t.Fatalf("Run returned %v after the stages ended; log %q", over, lg.Lines())
			}
		})
	}
}

// Open-model VUs parked idle (a low rate, many pre-allocated) and one
// busy with a slow arrival all leave when the arrivals end.
func TestStagesEndReleasesIdleOpenVUs(t *testing.T) {
	u := slowServer(t, 300*time.Millisecond)
	g := constRate(get("writes", u), 5, 600*time.Millisecond, 50)
	g.PreAllocatedVUs = 40
	g.Timeout = 2 * time.Second
	// Slack well under the 30 s graceful stop an idle VU would wait out.
	for range 3 {
		runEnds(t, scenario(time.Second, g), 10*time.Second)
	}
}

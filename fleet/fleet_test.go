package fleet

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/brink-load/brink/engine/wstest"
	"github.com/brink-load/brink/fleet/proto"
	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
	"github.com/brink-load/brink/testout"
)

var agentCmd = regexp.MustCompile(`brink agent --nats (nats://\S+)`)

// agentURL waits for the controller to print the agent command.
func agentURL(t *testing.T, say *testout.Buffer) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := agentCmd.FindStringSubmatch(say.String()); m != nil {
			return m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no agent command printed:\n%s", say.String())
	return ""
}

func rateScenario(t *testing.T, url string, rate float64, d time.Duration) *scenarios.Scenario {
	t.Helper()
	sc := &scenarios.Scenario{Name: "fleet", Window: time.Second, Groups: []scenarios.Group{{
		Name: "writes", Executor: scenarios.RampingArrivalRate, Start: rate,
		Stages:          []scenarios.Stage{{Duration: d, Target: rate}},
		PreAllocatedVUs: 20, MaxVUs: 200,
		Requests: []scenarios.Request{
			{Name: "a", Method: "GET", URL: scenarios.MustTemplate(url + "/a")},
			{Name: "b", Method: "GET", URL: scenarios.MustTemplate(url + "/b")},
		},
	}}}
	return sc
}

// fleetRun runs sc over n in-process agents on an embedded server and
// returns the merged windows and each agent's own.
func fleetRun(t *testing.T, sc *scenarios.Scenario, n int) (merged []measure.Tick, own [][]measure.Tick, c *Controller) {
	return fleetRunHook(t, sc, n, nil, nil)
}

// fleetRunHook is fleetRun with hook called on each merged window (on the
// controller's run loop: it must not block).
func fleetRunHook(t *testing.T, sc *scenarios.Scenario, n int, hook func(*Controller, measure.Tick), logs *testout.Buffer) (merged []measure.Tick, own [][]measure.Tick, c *Controller) {
	t.Helper()
	say := &testout.Buffer{}
	c, err := NewController(sc, ControllerOptions{Agents: n, Listen: "127.0.0.1:0", Wait: 30 * time.Second, Say: say})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	prep := make(chan error, 1)
	go func() { prep <- c.Prepare(ctx) }()
	url := agentURL(t, say)
	own = make([][]measure.Tick, n)
	var mu sync.Mutex
	agentCtx, stopAgents := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { stopAgents(); wg.Wait() }()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			logf := t.Logf
			if logs != nil {
				logf = func(f string, a ...any) { fmt.Fprintf(logs, f+"\n", a...) }
			}
			err := RunAgent(agentCtx, AgentOptions{URL: url, Name: string(rune('a' + i)), Logf: logf,
				OnTick: func(tk measure.Tick) { mu.Lock(); own[i] = append(own[i], tk); mu.Unlock() }})
			if err != nil {
				t.Errorf("agent %d: %v", i, err)
			}
		}()
	}
	if err := <-prep; err != nil {
		t.Fatalf("prepare: %v\n%s", err, say.String())
	}
	defer c.Close()
	c.Bind(func(tk measure.Tick) {
		merged = append(merged, tk)
		if hook != nil {
			hook(c, tk)
		}
	}, t.Logf, nil)
	if err := c.Run(ctx); err != nil {
		t.Fatalf("run: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	return merged, own, c
}

func TestFleetSplitsArrivalsExactlyAndMergesExactly(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/b" {
			time.Sleep(2 * time.Millisecond)
		}
	}))
	defer srv.Close()
	merged, own, c := fleetRun(t, rateScenario(t, srv.URL, 100, 3*time.Second), 3)

	var req, iter, dropped int64
	all := hdrhistogram.New(1, 60_000_000, 3)
	for _, tk := range merged {
		req += tk.Requests
		iter += tk.Iterations
		dropped += tk.Dropped
		if tk.Hist != nil {
			all.Merge(hdrhistogram.Import(tk.Hist))
		}
	}
	if iter+dropped != 300 {
		t.Errorf("merged windows hold %d iterations + %d dropped, want 300 arrivals", iter, dropped)
	}
	if req != hits.Load() {
		t.Errorf("merged %d requests, the target saw %d", req, hits.Load())
	}
	union := hdrhistogram.New(1, 60_000_000, 3)
	for i, ticks := range own {
		var n int64
		for _, tk := range ticks {
			n += tk.Iterations + tk.Dropped
			if tk.Hist != nil {
				union.Merge(hdrhistogram.Import(tk.Hist))
			}
		}
		if n < 90 || n > 110 {
			t.Errorf("agent %d sent %d of 300 arrivals, want about a third", i, n)
		}
	}
	if !all.Equals(union) {
		t.Errorf("merged histogram differs from the union of the agents': p50 %d/%d p99 %d/%d",
			all.ValueAtQuantile(50), union.ValueAtQuantile(50), all.ValueAtQuantile(99), union.ValueAtQuantile(99))
	}
	for _, s := range c.Agents() {
		if s.Host == "" || s.Cores < 1 || !s.LostAt.IsZero() || s.Share < 0.33 || s.Share > 0.34 {
			t.Errorf("agent status %+v", s)
		}
	}
}

// Hold, resume and a target change reach every agent and are answered; a
// change an agent refuses comes back as an error naming it.
func TestFleetControlFansOutAndIsAcknowledged(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	sc := &scenarios.Scenario{Name: "ctl", Window: time.Second, Groups: []scenarios.Group{{
		Name: "browse", Executor: scenarios.RampingVUs, Start: 6,
		Stages:   []scenarios.Stage{{Duration: 4 * time.Second, Target: 6}},
		Think:    scenarios.Think{Min: 20 * time.Millisecond, Max: 20 * time.Millisecond},
		Requests: []scenarios.Request{{Name: "a", Method: "GET", URL: scenarios.MustTemplate(srv.URL + "/a")}},
	}}}
	errs := make(chan error, 3)
	var once sync.Once
	logs := &testout.Buffer{}
	merged, _, _ := fleetRunHook(t, sc, 2, func(c *Controller, tk measure.Tick) {
		once.Do(func() {
			go func() {
				c.Hold()
				if !c.Held() {
					errs <- fmt.Errorf("Held() false after Hold")
				} else {
					errs <- nil
				}
				errs <- c.SetTarget("nope", 3)
				c.Note("local", "db-3 looks busy")
				time.Sleep(1500 * time.Millisecond)
				c.Resume()
				errs <- nil
			}()
		})
	}, logs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if err := <-errs; err == nil || !strings.Contains(err.Error(), "agent a") || !strings.Contains(err.Error(), "agent b") {
		t.Errorf("an unknown group's target: %v, want both agents' refusals", err)
	}
	<-errs
	held := 0
	for _, tk := range merged {
		if tk.Held {
			held++
		}
	}
	if held == 0 {
		t.Errorf("no merged window is held after Hold was acknowledged")
	}
	if last := merged[len(merged)-1]; last.Held {
		t.Errorf("the run ended held after Resume was acknowledged")
	}
	if n := strings.Count(logs.String(), "note: local: db-3 looks busy"); n != 2 {
		t.Errorf("the note reached %d of 2 agents:\n%s", n, logs.String())
	}
}

// Controller and agent each refuse a peer of another protocol version,
// saying so and answering it in their own.
func TestFleetRefusesAnotherProtocolVersion(t *testing.T) {
	say := &testout.Buffer{}
	sc := rateScenario(t, "http://127.0.0.1:1", 1, time.Second)
	c, err := NewController(sc, ControllerOptions{Agents: 1, Listen: "127.0.0.1:0", Wait: 3 * time.Second, Say: say})
	if err != nil {
		t.Fatal(err)
	}
	prep := make(chan error, 1)
	go func() { prep <- c.Prepare(context.Background()) }()
	url := agentURL(t, say)
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()

	// An agent of protocol 2 says hello: refused by name, and told.
	told := make(chan *nats.Msg, 1)
	if _, err := nc.Subscribe(proto.Agent("future"), func(m *nats.Msg) { told <- m }); err != nil {
		t.Fatal(err)
	}
	// Said again until told, as an agent does: the command is printed
	// before the controller listens for hellos, and one sent before that
	// is lost.
	again := time.NewTicker(200 * time.Millisecond)
	defer again.Stop()
	for waited := time.After(10 * time.Second); ; {
		_ = nc.Publish(proto.Hello, []byte(`{"v":2,"t":"hello","a":"future","hello":{"id":"future","name":"next"}}`))
		select {
		case m := <-told:
			r, err := proto.Decode(m.Data)
			if err != nil || r.Type != proto.TypeRefused || !strings.Contains(r.Refused, "protocol 1") {
				t.Errorf("the agent was told %s (%v)", m.Data, err)
			}
		case <-again.C:
			continue
		case <-waited:
			t.Fatal("the other version's agent was not told")
		}
		break
	}
	// The timeout names the refused agent and why, in one line.
	if err := <-prep; err == nil || strings.Contains(err.Error(), "\n") ||
		!strings.Contains(err.Error(), "0 joined, 1 refused (next speaks fleet protocol 2; this brink speaks 1: run the same brink version") {
		t.Errorf("prepare with only a refused agent: %v", err)
	}
	if !strings.Contains(say.String(), "agent next refused") || !strings.Contains(say.String(), "protocol 2, this brink 1") {
		t.Errorf("the refusal is not said:\n%s", say.String())
	}
	c.Close()

	// An agent of this version asked by a controller of protocol 2.
	srvURL := startNATS(t)
	hello := make(chan *nats.Msg, 4)
	nc2, err := nats.Connect(srvURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc2.Close()
	if _, err := nc2.ChanSubscribe(proto.Hello, hello); err != nil {
		t.Fatal(err)
	}
	_ = nc2.Flush()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var logs testout.Logs
	go func() {
		defer close(done)
		_ = RunAgent(ctx, AgentOptions{URL: srvURL, Name: "now", Logf: logs.Logf})
	}()
	defer func() { cancel(); <-done }()
	h, err := proto.Decode(testout.Recv(t, hello, 10*time.Second, "no hello").Data)
	if err != nil {
		t.Fatal(err)
	}
	id := h.Hello.ID
	reply, err := nc2.Request(proto.Agent(id), []byte(`{"v":2,"t":"assign","assign":{}}`), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	r, err := proto.Decode(reply.Data)
	if err != nil || r.Type != proto.TypeRefused || !strings.Contains(r.Refused, "protocol 1") {
		t.Errorf("the agent answered %s (%v)", reply.Data, err)
	}
	if !logs.Contains("protocol 2, this brink 1") {
		t.Errorf("the agent does not say why: %q", logs.Lines())
	}
}

// startNATS starts an embedded NATS server on loopback for one test and
// returns its client URL.
func startNATS(t *testing.T) string {
	t.Helper()
	return startNATSServer(t).ClientURL()
}

// startNATSServer starts an embedded NATS server on loopback, shut down
// when the test ends (a test may shut it down earlier).
func startNATSServer(t *testing.T) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server did not start")
	}
	t.Cleanup(s.Shutdown)
	return s
}

// An agent whose pings all take 250 ms has a clock offset unsure by more
// than 100 ms: the run is refused before any load, naming it.
func TestFleetRefusesAnUnboundedClock(t *testing.T) {
	say := &testout.Buffer{}
	c, err := NewController(rateScenario(t, "http://127.0.0.1:1", 1, time.Second),
		ControllerOptions{Agents: 1, Listen: "127.0.0.1:0", Wait: 20 * time.Second, Say: say})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	prep := make(chan error, 1)
	go func() { prep <- c.Prepare(context.Background()) }()
	nc, err := nats.Connect(agentURL(t, say))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// A slow agent on the wire: every answer 250 ms late.
	if _, err := nc.Subscribe(proto.Agent("slow"), func(m *nats.Msg) {
		time.Sleep(250 * time.Millisecond)
		b, _ := proto.Encode(&proto.Msg{Type: proto.TypeReply, Agent: "slow", Reply: &proto.ReplyMsg{Now: time.Now().UnixNano()}})
		_ = m.Respond(b)
	}); err != nil {
		t.Fatal(err)
	}
	hello, _ := proto.Encode(&proto.Msg{Type: proto.TypeHello, Agent: "slow",
		Hello: &proto.HelloMsg{ID: "slow", Name: "slow", Host: "h", Cores: 1, Proto: proto.Version}})
	// Announced until heard, as an idle agent does.
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	limit := time.After(30 * time.Second)
	for {
		_ = nc.Publish(proto.Hello, hello)
		select {
		case err := <-prep:
			if err == nil || !strings.Contains(err.Error(), "agent slow: its clock offset cannot be bounded within 100ms") {
				t.Fatalf("prepare: %v", err)
			}
			return
		case <-tick.C:
		case <-limit:
			t.Fatal("prepare did not end")
		}
	}
}

// A scenario with a data file and extracted variables runs on agents that
// have no copy of the file: its rows travel with the assignment, and the
// agents bind the groups' variables as the loader does.
func TestFleetShipsDataFilesAndVariables(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"token":"tok-%s"}`, r.URL.Query().Get("user"))
			return
		}
		mu.Lock()
		seen[r.URL.Path+" "+r.Header.Get("Authorization")]++
		mu.Unlock()
	}))
	defer srv.Close()
	dir := t.TempDir()
	users := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(users, []byte("user\nann\nbob\ncid\ndee\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(file, []byte(fmt.Sprintf(`name: data
base_url: %s
groups:
  - name: buyers
    executor: constant-vus
    vus: 4
    duration: 2s
    think: 50ms
    data: {file: users.csv, mode: per-vu}
    setup:
      - {name: login, url: "/login?user={{.user}}", extract: {token: {json: "$.token"}}}
    requests:
      - {name: me, url: "/me/{{.user}}", headers: {Authorization: "Bearer {{.token}}"}}
`, srv.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	// The agents must not read it: only the controller has the file.
	if err := os.Remove(users); err != nil {
		t.Fatal(err)
	}
	merged, _, _ := fleetRun(t, sc, 2)
	var req int64
	for _, tk := range merged {
		req += tk.Requests
	}
	mu.Lock()
	defer mu.Unlock()
	for _, u := range []string{"ann", "bob", "cid", "dee"} {
		if seen["/me/"+u+" Bearer tok-"+u] == 0 {
			t.Errorf("no request as %s with its own token: %v", u, seen)
		}
	}
	if len(seen) != 4 || req == 0 {
		t.Errorf("requests %v (%d merged), want the four users' only", seen, req)
	}
}

// WebSocket figures merge like HTTP's: sessions and messages add up over
// the agents, and the reply histogram is the union of theirs.
func TestFleetMergesWebSocketWindows(t *testing.T) {
	url := wstest.Delayed(t, func(int64) time.Duration { return time.Millisecond })
	sc := &scenarios.Scenario{Name: "ws", Window: time.Second, Groups: []scenarios.Group{{
		Name: "chat", Executor: scenarios.RampingVUs, Start: 6,
		Stages: []scenarios.Stage{{Duration: 2 * time.Second, Target: 6}},
		WebSocket: &scenarios.WebSocket{URL: scenarios.MustTemplate(url), Send: scenarios.MustTemplate("hi"),
			Every: 100 * time.Millisecond, ExpectReply: true},
	}}}
	merged, own, _ := fleetRun(t, sc, 2)
	sum := func(ticks []measure.Tick) (sessions, sent int64, reply *hdrhistogram.Histogram) {
		reply = hdrhistogram.New(1, 60_000_000, 3)
		for _, tk := range ticks {
			sessions += tk.WS.Sessions
			sent += tk.WS.Sent
			if tk.WS.ReplyHist != nil {
				reply.Merge(hdrhistogram.Import(tk.WS.ReplyHist))
			}
		}
		return
	}
	ms, msent, mreply := sum(merged)
	var as, asent int64
	union := hdrhistogram.New(1, 60_000_000, 3)
	for _, ticks := range own {
		s, n, r := sum(ticks)
		as, asent = as+s, asent+n
		union.Merge(r)
	}
	if ms != 6 || ms != as || msent != asent || msent == 0 {
		t.Errorf("merged %d sessions / %d sent, agents %d / %d; want 6 sessions in all", ms, msent, as, asent)
	}
	if !mreply.Equals(union) || mreply.TotalCount() == 0 {
		t.Errorf("reply histogram: merged %d values p99 %d, union %d p99 %d", mreply.TotalCount(), mreply.ValueAtQuantile(99),
			union.TotalCount(), union.ValueAtQuantile(99))
	}
}

// An agent whose bus goes away (a controller's embedded bus ends with its
// run) says so once, and what to do, rather than wait in silence.
func TestAgentSaysWhenItsBusIsGone(t *testing.T) {
	s := startNATSServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var logs testout.Logs
	go func() {
		defer close(done)
		_ = RunAgent(ctx, AgentOptions{URL: s.ClientURL(), Name: "solo", Logf: logs.Logf})
	}()
	defer func() { cancel(); <-done }()
	logs.WaitFor(t, "waiting for work", 10*time.Second) // connected
	s.Shutdown()
	logs.WaitFor(t, "agent solo: bus ", 10*time.Second)
	if l := strings.Join(logs.Lines(), "\n"); !strings.Contains(l, "lost") || !strings.Contains(l, "start the next run's printed command") || strings.Count(l, " lost (") != 1 {
		t.Errorf("lost-bus line:\n%s", l)
	}
}

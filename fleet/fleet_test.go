package fleet

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
)

// syncBuf is a writer the test reads while the controller writes.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var agentCmd = regexp.MustCompile(`brink agent --nats (nats://\S+)`)

// agentURL waits for the controller to print the agent command.
func agentURL(t *testing.T, say *syncBuf) string {
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
	t.Helper()
	say := &syncBuf{}
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
			err := RunAgent(agentCtx, AgentOptions{URL: url, Name: string(rune('a' + i)), Logf: t.Logf,
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
	c.Bind(func(tk measure.Tick) { merged = append(merged, tk) }, t.Logf, nil)
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

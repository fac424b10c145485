package cli

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/nats-io/nats.go"

	"github.com/brink-load/brink/fleet/proto"
	"github.com/brink-load/brink/report"
)

// busTap listens to every agent → controller window on the bus, so a test
// can compare the controller's merge with the agents' own histograms.
type busTap struct {
	mu    sync.Mutex
	union *hdrhistogram.Histogram
	iters map[string]int64 // agent id → iterations + dropped
	errs  []error
}

func tapBus(t *testing.T, url string) *busTap {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	b := &busTap{union: hdrhistogram.New(1, 60_000_000, 3), iters: map[string]int64{}}
	if _, err := nc.Subscribe("brink.fleet.run.*", func(m *nats.Msg) {
		msg, err := proto.Decode(m.Data)
		b.mu.Lock()
		defer b.mu.Unlock()
		if err != nil {
			b.errs = append(b.errs, err)
			return
		}
		if msg.Type != proto.TypeTick {
			return
		}
		b.iters[msg.Agent] += msg.Tick.Iterations + msg.Tick.Dropped
		if msg.Tick.Hist != "" {
			h, err := hdrhistogram.Decode([]byte(msg.Tick.Hist))
			if err != nil {
				b.errs = append(b.errs, err)
				return
			}
			b.union.Merge(h)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return b
}

// Three `brink agent` processes on the embedded NATS server: an
// arrival-rate run of 300/s for 10 s reaches the target as exactly 3 000
// requests, each agent sends about a third, and the report's p50/p99 are
// those of the union of the agents' own histograms.
func TestFleetEmbeddedSplitsExactlyAndMergesExactly(t *testing.T) {
	target := newCountingTarget(t)
	file := writeScenario(t, fmt.Sprintf(`name: fleet-rate
base_url: %s
groups:
  - name: writes
    executor: constant-arrival-rate
    rate: 300
    duration: 10s
    pre_allocated_vus: 60
    max_vus: 600
    requests: [{name: post, url: /post}]
`, target.URL))
	rep := filepath.Join(t.TempDir(), "r.json")
	ctl := startBrink(t, "run", file, "--headless", "--agents", "3", "--nats-listen", "127.0.0.1:0", "--report", rep)
	url := ctl.waitFor(t, agentLine, 20*time.Second)[1]
	tap := tapBus(t, url)
	for _, n := range []string{"a1", "a2", "a3"} {
		startBrink(t, "agent", "--nats", url, "--name", n)
	}
	// The counts are the subject: a stall of a busy box may mark windows
	// (98) or cut the rate short in one (99), never lose a request.
	code := ctl.wait(t, 60*time.Second)
	if code != exitOK && code != exitInconclusive && code != exitThreshold {
		t.Fatalf("exit %d:\n%s", code, ctl.stderr.String())
	}
	r := readReport(t, rep)
	if got := target.n.Load(); got != 3000 || r.Summary.Requests != 3000 || r.Summary.DroppedIterations != 0 {
		t.Fatalf("target counted %d requests, report %d (+%d dropped); want exactly 3000", got, r.Summary.Requests, r.Summary.DroppedIterations)
	}
	tap.mu.Lock()
	defer tap.mu.Unlock()
	if len(tap.errs) > 0 {
		t.Fatalf("bus: %v", tap.errs)
	}
	if len(tap.iters) != 3 {
		t.Fatalf("windows from %d agents, want 3", len(tap.iters))
	}
	for id, n := range tap.iters {
		if n < 900 || n > 1100 {
			t.Errorf("agent %s sent %d of 3000, want about a third", id, n)
		}
	}
	for _, q := range []struct {
		p   float64
		got report.Num
	}{{50, r.Summary.LatencyMs.Med}, {99, r.Summary.LatencyMs.P99}} {
		want := float64(tap.union.ValueAtPercentile(q.p)) / 1000
		if math.Abs(float64(q.got)-want) > 1e-9 {
			t.Errorf("p%g: report %v ms, union of the agents' histograms %v ms", q.p, q.got, want)
		}
	}
	if !r.Summary.LatencyMs.Exact || r.Summary.LatencyMs.Count != 3000 {
		t.Errorf("latency not exact over 3000: %+v", r.Summary.LatencyMs)
	}
}

// The Debian nats-server as the bus, three agents serving one run after
// another: a closed ramp whose VUs add up to the stage formula; a node
// crossing that gives the breakpoint one process gives; then one
// agent killed with SIGKILL mid-run (the run goes on, the report says who
// and when); then the controller killed (every agent's load stops within
// 5 s).
func TestFleetExternalNATS(t *testing.T) {
	inLane(t, heavy)
	bin := natsServerBinary(t)
	port := freePort(t)
	token := "t" + strconv.FormatInt(time.Now().UnixNano(), 36)
	srv := exec.Command(bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "--auth", token)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
	url := fmt.Sprintf("nats://%s@127.0.0.1:%d", token, port)
	waitNATS(t, url)
	target := newCountingTarget(t)
	agents := map[string]*proc{}
	for _, n := range []string{"b1", "b2", "b3"} {
		agents[n] = startBrink(t, "agent", "--nats", url, "--name", n)
	}

	t.Run("closed ramp adds up", func(t *testing.T) {
		file := writeScenario(t, fmt.Sprintf(`name: fleet-ramp
base_url: %s
groups:
  - name: browse
    executor: ramping-vus
    stages: [{duration: 2s, target: 30}, {duration: 3s, target: 30}]
    think: 20ms
    requests: [{name: get, url: /get}]
`, target.URL))
		rep := filepath.Join(t.TempDir(), "r.json")
		ctl := startBrink(t, "run", file, "--headless", "--agents", "3", "--nats", url, "--report", rep)
		if code := ctl.wait(t, 60*time.Second); code != exitOK {
			t.Fatalf("exit %d:\n%s", code, ctl.stderr.String())
		}
		r := readReport(t, rep)
		held := 0
		for _, w := range r.Timeline {
			// Past the ramp every agent's share of 30 is whole: the
			// windows there add up to 30 exactly.
			if w.ElapsedS >= 2.5 && w.ElapsedS <= 4.5 {
				held++
				if w.TargetVUs != 30 || w.VUs != 30 {
					t.Errorf("window at %.1fs: %d VUs of target %d, want 30 of 30", w.ElapsedS, w.VUs, w.TargetVUs)
				}
			}
		}
		if held == 0 || r.Summary.VUsMax != 30 {
			t.Fatalf("%d held windows, vus_max %d", held, r.Summary.VUsMax)
		}
	})

	t.Run("node crossing gives the breakpoint of one process", func(t *testing.T) {
		// db-3 goes over 3 s after the first request reaches its target,
		// whoever sends it.
		type run struct {
			target, node *httptest.Server
			file         string
		}
		mk := func() run {
			var first atomic.Int64
			tg := serve(t, func(w http.ResponseWriter, r *http.Request) {
				first.CompareAndSwap(0, time.Now().UnixNano())
				w.Write([]byte("ok"))
			})
			nd := serve(t, func(w http.ResponseWriter, r *http.Request) {
				load := 2.0
				if f := first.Load(); f != 0 && time.Since(time.Unix(0, f)) > 3*time.Second {
					load = 150
				}
				fmt.Fprintf(w, "# TYPE node_load1 gauge\nnode_load1 %g\n", load)
			})
			return run{tg, nd, writeScenario(t, fmt.Sprintf(`name: fleet-node
base_url: %s
sustain: 1s
groups:
  - name: browse
    executor: ramping-vus
    stages: [{duration: 8s, target: 16}]
    think: 50ms
    requests: [{name: get, url: /get}]
nodes:
  scrape: [%q]
  roles: {db: "db-.*"}
  thresholds: [{metric: load1, above: 100, role: db}]
`, tg.URL, nd.URL+"/nodes/db-3/metrics"))}
		}
		one, many := mk(), mk()
		rep1 := filepath.Join(t.TempDir(), "one.json")
		single := startBrink(t, "run", one.file, "--headless", "--report", rep1)
		rep2 := filepath.Join(t.TempDir(), "many.json")
		fl := startBrink(t, "run", many.file, "--headless", "--agents", "3", "--nats", url, "--report", rep2)
		for _, p := range []*proc{single, fl} {
			if code := p.wait(t, 60*time.Second); code != exitThreshold && code != exitInconclusive {
				t.Fatalf("exit %d, want 99:\n%s", code, p.stderr.String())
			}
		}
		r1, r2 := readReport(t, rep1), readReport(t, rep2)
		if selfBound(r1) || selfBound(r2) {
			t.Skipf("brink itself was the bottleneck (a busy box): %s / %s", r1.Verdict.Text, r2.Verdict.Text)
		}
		b1, b2 := r1.Verdict.Breakpoint, r2.Verdict.Breakpoint
		if b1 == nil || b2 == nil || b1.Signal.Node != "db-3" || b2.Signal.Node != "db-3" || b1.Signal.Metric != b2.Signal.Metric {
			t.Fatalf("breakpoints %+v and %+v, want db-3's load1 in both", b1, b2)
		}
		// The same moment of the ramp, give or take a window of timing.
		if d := b1.VUs - b2.VUs; d < -3 || d > 3 {
			t.Errorf("breakpoint at %d VUs in one process, %d over three agents", b1.VUs, b2.VUs)
		}
	})

	// writes is a scenario of posts to the target at a constant rate.
	writes := func(name string, rate int, duration string) string {
		return writeScenario(t, fmt.Sprintf(`name: %s
base_url: %s
groups:
  - name: writes
    executor: constant-arrival-rate
    rate: %d
    duration: %s
    requests: [{name: post, url: /post}]
`, name, target.URL, rate, duration))
	}

	t.Run("agent killed mid-run", func(t *testing.T) {
		file := writes("fleet-kill", 60, "8s")
		rep := filepath.Join(t.TempDir(), "r.json")
		before := target.n.Load()
		ctl := startBrink(t, "run", file, "--headless", "--progress", "1s", "--agents", "3", "--nats", url, "--report", rep)
		// Two seconds of this run's load (60/s) reach the target first.
		target.reach(t, before+120, ctl)
		killed := time.Now()
		_ = agents["b3"].cmd.Process.Signal(syscall.SIGKILL)
		code := ctl.wait(t, 60*time.Second)
		if code != exitOK && code != exitInconclusive {
			t.Fatalf("exit %d, want 0 or 98:\n%s", code, ctl.stderr.String())
		}
		if !strings.Contains(ctl.stderr.String(), "agent b3 (") || !strings.Contains(ctl.stderr.String(), "lost at") ||
			!strings.Contains(ctl.stderr.String(), "agents=2/3 (b3 lost)") {
			t.Errorf("the loss is not named:\n%s", ctl.stderr.String())
		}
		r := readReport(t, rep)
		marked := 0
		for _, w := range r.Timeline {
			if strings.Contains(w.Generator.Reason, "agent b3 lost at") {
				marked++
			}
		}
		if marked == 0 {
			t.Errorf("no window after the loss is marked")
		}
		assertAgentLost(t, r, "b3", killed)
		if !strings.Contains(r.Verdict.Text, "Agent b3 was lost at") || !strings.Contains(r.Verdict.Text, "short by its share, 33 %") {
			t.Errorf("the verdict does not say the load was short: %s", r.Verdict.Text)
		}
		// b3's last window never reached the controller: the target got
		// those requests, the report does not count them, and says so.
		got := target.n.Load() - before
		if got < r.Summary.Requests || !strings.Contains(r.Verdict.Text, "requests after its last window reached the controller are not counted") {
			t.Errorf("the target got %d requests, the report counts %d; verdict: %s", got, r.Summary.Requests, r.Verdict.Text)
		}
		t.Logf("the target got %d requests, the report counts %d: %d were b3's unsent last window", got, r.Summary.Requests, got-r.Summary.Requests)
	})

	t.Run("controller killed", func(t *testing.T) {
		file := writes("fleet-orphan", 50, "60s")
		ctl := startBrink(t, "run", file, "--headless", "--agents", "2", "--nats", url, "--report", filepath.Join(t.TempDir(), "r.json"))
		target.reach(t, target.n.Load()+50, ctl)
		killed := time.Now()
		_ = ctl.cmd.Process.Signal(syscall.SIGKILL)
		<-ctl.done
		time.Sleep(6 * time.Second)
		n := target.n.Load()
		time.Sleep(time.Second)
		if target.n.Load() != n {
			t.Fatalf("load still reaches the target 7 s after the controller was killed")
		}
		if last := time.Unix(0, target.last.Load()); last.Sub(killed) > 5*time.Second {
			t.Errorf("last request %s after the controller was killed, want within 5 s", last.Sub(killed))
		}
		for _, n := range []string{"b1", "b2"} {
			if !strings.Contains(agents[n].stderr.String(), "controller lost") {
				t.Errorf("agent %s does not say the controller was lost:\n%s", n, agents[n].stderr.String())
			}
		}
	})
}

// natsServerBinary is Debian's nats-server, which lives in /usr/sbin
// (not on every user's PATH).
func natsServerBinary(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("nats-server"); err != nil {
		if _, err := os.Stat("/usr/sbin/nats-server"); err == nil {
			return "/usr/sbin/nats-server"
		}
	}
	return requireBinary(t, "nats-server")
}

// waitNATS waits until the server takes connections.
func waitNATS(t *testing.T, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if nc, err := nats.Connect(url); err == nil {
			nc.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nats-server on %s did not start", url)
}

// assertAgentLost finds name in report.agents[] lost within a few seconds
// of killed (it is stamped when it was last heard), and the event log
// naming it.
func assertAgentLost(t *testing.T, r *report.Report, name string, killed time.Time) {
	t.Helper()
	found := false
	for _, a := range r.Agents {
		if a.Name != name {
			if a.LostAt != nil {
				t.Errorf("agent %s lost too: %s", a.Name, *a.LostAt)
			}
			continue
		}
		found = true
		if a.LostAt == nil {
			t.Fatalf("agent %s has no lost_at: %+v", name, a)
		}
		at, err := time.Parse(time.RFC3339Nano, *a.LostAt)
		if err != nil {
			t.Fatal(err)
		}
		if d := at.Sub(killed); d < -2*time.Second || d > 2*time.Second {
			t.Errorf("lost_at %s is %s from the kill", *a.LostAt, d)
		}
		if a.Requests == 0 || a.Host == "" || a.Cores < 1 {
			t.Errorf("agent row %+v", a)
		}
	}
	if !found || len(r.Agents) != 3 {
		t.Fatalf("report.agents = %+v, want 3 with %s", r.Agents, name)
	}
	named := false
	for _, e := range r.Events {
		named = named || strings.Contains(e.Text, "agent "+name+" (") && strings.Contains(e.Text, "lost at")
	}
	if !named {
		t.Errorf("no event names the lost agent: %+v", r.Events)
	}
}

package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/brink-load/brink/promquery/promtest"
)

// requireBinary skips when a server/tool binary is missing, or fails when
// BRINK_REQUIRE_SERVERS=1 (CI).
func requireBinary(t *testing.T, name string) string {
	t.Helper()
	return promtest.Binary(t, name)
}

// fakeNode serves node_exporter text for one node whose load1 jumps from
// 2 to 150 after `after`.
func fakeNode(t *testing.T, after time.Duration) *httptest.Server {
	start := time.Now()
	var cpu atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		load := 2.0
		if time.Since(start) > after {
			load = 150
		}
		busy := float64(cpu.Add(1))
		fmt.Fprintf(w, "# TYPE node_load1 gauge\nnode_load1 %g\n", load)
		fmt.Fprintf(w, "# TYPE node_cpu_seconds_total counter\nnode_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} %g\nnode_cpu_seconds_total{cpu=\"0\",mode=\"user\"} %g\n", 1000+busy*0.5, busy*0.5)
		fmt.Fprintf(w, "# TYPE node_memory_MemTotal_bytes gauge\nnode_memory_MemTotal_bytes 8e9\n# TYPE node_memory_MemAvailable_bytes gauge\nnode_memory_MemAvailable_bytes 4e9\n")
	}))
	t.Cleanup(s.Close)
	return s
}

// risingNode serves node_exporter text for one node whose load1 is 2
// until loaded is set (the target has seen load), then 150: a crossing
// from below.
func risingNode(t *testing.T, loaded *atomic.Bool) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		load := 2.0
		if loaded.Load() {
			load = 150
		}
		fmt.Fprintf(w, "# TYPE node_load1 gauge\nnode_load1 %g\n", load)
	}))
	t.Cleanup(s.Close)
	return s
}

// privateTmux is a tmux command bound to a server of the test's own (a
// socket in a temporary directory, no config file): never the user's tmux,
// nor one busy with other tests' sessions. The server is killed when the
// test ends; without tmux the test skips (fails under
// BRINK_REQUIRE_SERVERS=1).
func privateTmux(t *testing.T) func(args ...string) string {
	t.Helper()
	tmux := requireBinary(t, "tmux")
	sock := filepath.Join(t.TempDir(), "tmux.sock")
	t.Cleanup(func() { exec.Command(tmux, "-S", sock, "kill-server").Run() })
	return func(args ...string) string {
		t.Helper()
		out, err := exec.Command(tmux, append([]string{"-S", sock, "-f", "/dev/null"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v: %s", args, err, out)
		}
		return string(out)
	}
}

type tmuxSession struct {
	t    *testing.T
	name string
}

func (s tmuxSession) run(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", args...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v: %s", args, err, out)
	}
	return string(out)
}

func (s tmuxSession) capture() string { return s.run("capture-pane", "-p", "-t", s.name) }

// waitFor polls the screen until every want appears, or fails with the
// last screen.
func (s tmuxSession) waitFor(d time.Duration, want ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(d)
	var screen string
	for time.Now().Before(deadline) {
		screen = s.capture()
		ok := true
		for _, w := range want {
			if !strings.Contains(screen, w) {
				ok = false
				break
			}
		}
		if ok {
			return screen
		}
		time.Sleep(300 * time.Millisecond)
	}
	s.t.Fatalf("screen never showed %q; last screen:\n%s", want, screen)
	return ""
}

// The real console in a real terminal: charts, node row, crossing marker
// and event line; a resize to 80×24 and back; q writes the report.
func TestConsoleInTmux(t *testing.T) {
	requireBinary(t, "tmux")
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond)
		w.Write([]byte("ok"))
	}))
	defer target.Close()
	node := fakeNode(t, 3*time.Second)
	dir := t.TempDir()
	scen := filepath.Join(dir, "s.yaml")
	rep := filepath.Join(dir, "r.json")
	os.WriteFile(scen, []byte(fmt.Sprintf(`name: tmux-test
base_url: %s
sustain: 1s
groups:
  - name: browse
    executor: ramping-vus
    stages: [{duration: 60s, target: 4}]
    think: 20ms
    requests: [{name: home, url: /}]
thresholds:
  http_req_duration: ["p(95)<2000"]
nodes:
  scrape: ["%s/nodes/db-3/metrics"]
  roles: {db: "db-.*"}
  thresholds:
    - {metric: load1, above: 100, role: db}
`, target.URL, node.URL)), 0o644)

	s := tmuxSession{t: t, name: fmt.Sprintf("brinktest%d", os.Getpid())}
	s.run("new-session", "-d", "-s", s.name, "-x", "120", "-y", "40",
		"env", "TERM=xterm-256color", brinkBin, "run", scen, "--report", rep)
	defer exec.Command("tmux", "kill-session", "-t", s.name).Run()

	screen := s.waitFor(25*time.Second, "Latency", "Throughput", "db-3", "load1 150 > 100")
	// The event can come before the chart's next point: the marker shows
	// once a window has ended past the crossing. Its line is ┊, or ┃ where
	// the breakpoint is drawn over it, labelled by the node or as the
	// breakpoint.
	for deadline := time.Now().Add(10 * time.Second); ; {
		// Chart labels, not the event log's words ("db-3 load1 150 > 100",
		// "✖ breakpoint: …").
		if strings.ContainsAny(screen, "┊┃") && (strings.Contains(screen, "db-3 load1>100") || strings.Contains(screen, "┃✖ breakpoint")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no crossing marker (┊ or ┃, labelled) on the charts:\n%s", screen)
		}
		time.Sleep(300 * time.Millisecond)
		screen = s.capture()
	}

	s.run("resize-window", "-t", s.name, "-x", "80", "-y", "24")
	screen = s.waitFor(5*time.Second, "db-3")
	if strings.Contains(screen, "too small") {
		t.Fatalf("80×24 must be usable:\n%s", screen)
	}
	s.run("resize-window", "-t", s.name, "-x", "60", "-y", "20")
	s.waitFor(5*time.Second, "terminal too small")
	s.run("resize-window", "-t", s.name, "-x", "120", "-y", "40")
	s.waitFor(5*time.Second, "Latency", "Throughput")

	s.run("send-keys", "-t", s.name, "q")
	s.waitFor(5*time.Second, "Quit?")
	s.run("send-keys", "-t", s.name, "y")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(rep); err == nil {
			if b, _ := os.ReadFile(rep); strings.Contains(string(b), `"complete": true`) || strings.Contains(string(b), `"complete":true`) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no complete report at %s after q; screen:\n%s", rep, s.capture())
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Quitting while the load ran is a stop from outside: recorded as such.
	var r struct {
		Events []struct{ Kind, Text string } `json:"events"`
	}
	b, _ := os.ReadFile(rep)
	json.Unmarshal(b, &r)
	var aborted bool
	for _, e := range r.Events {
		aborted = aborted || (e.Kind == "abort" && strings.Contains(e.Text, "quit"))
	}
	if !aborted {
		t.Fatalf("no abort event for the quit: %+v", r.Events)
	}
}

// Once the load has ended the console stays up to show the verdict; if its
// terminal then goes away (SIGHUP), brink must exit, not linger.
func TestConsoleExitsWhenTerminalCloses(t *testing.T) {
	requireBinary(t, "tmux")
	target := okServer(t, time.Millisecond)
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	s := tmuxSession{t: t, name: fmt.Sprintf("brinkhup%d", os.Getpid())}
	s.run("new-session", "-d", "-s", s.name, "-x", "100", "-y", "30", "sh", "-c",
		fmt.Sprintf("echo $$ > %s; exec env TERM=xterm-256color %s probe %s --vus 1 --duration 2s --report %s",
			pidFile, brinkBin, target.URL, filepath.Join(dir, "r.json")))
	defer exec.Command("tmux", "kill-session", "-t", s.name).Run()
	s.waitFor(20*time.Second, "DONE")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	fmt.Sscan(string(b), &pid)
	exec.Command("tmux", "kill-session", "-t", s.name).Run()
	for deadline := time.Now().Add(10 * time.Second); syscall.Kill(pid, 0) == nil; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("brink (pid %d) still running 10 s after its terminal closed", pid)
		}
	}
}

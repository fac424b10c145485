package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The real console in a real terminal: charts, node row, crossing marker
// and event line; a resize to 80×24 and back; q writes the report.
func TestConsoleInTmux(t *testing.T) {
	inLane(t, waiting)
	requireBinary(t, "tmux")
	target := okServer(t, 2*time.Millisecond)
	node := fakeNode(t, 3*time.Second)
	rep := filepath.Join(t.TempDir(), "r.json")
	scen := writeScenario(t, fmt.Sprintf(`name: tmux-test
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
`, target.URL, node.URL))

	s := newTmuxSession(t, "brinktest", 120, 40,
		"env", "TERM=xterm-256color", brinkBin, "run", scen, "--report", rep)

	s.waitFor(25*time.Second, "Latency", "Throughput", "db-3", "load1 150 > 100")
	// The event can come before the chart's next point: the marker shows
	// once a window has ended past the crossing. Its line is ┊, or ┃ where
	// the breakpoint is drawn over it, labelled by the node or as the
	// breakpoint.
	s.waitUntil(10*time.Second, func() string { return "a crossing marker (┊ or ┃, labelled) on the charts" }, func(screen string) bool {
		// Chart labels, not the event log's words ("db-3 load1 150 > 100",
		// "✖ breakpoint: …").
		return strings.ContainsAny(screen, "┊┃") && (strings.Contains(screen, "db-3 load1>100") || strings.Contains(screen, "┃✖ breakpoint"))
	})

	s.run("resize-window", "-t", s.name, "-x", "80", "-y", "24")
	screen := s.waitFor(5*time.Second, "db-3")
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
	inLane(t, waiting)
	requireBinary(t, "tmux")
	target := okServer(t, time.Millisecond)
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	s := newTmuxSession(t, "brinkhup", 100, 30, "sh", "-c",
		fmt.Sprintf("echo $$ > %s; exec env TERM=xterm-256color %s probe %s --vus 1 --duration 2s --report %s",
			pidFile, brinkBin, target.URL, filepath.Join(dir, "r.json")))
	s.waitFor(20*time.Second, "DONE")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	fmt.Sscan(string(b), &pid)
	s.hangUp()
	for deadline := time.Now().Add(10 * time.Second); syscall.Kill(pid, 0) == nil; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("brink (pid %d) still running 10 s after its terminal closed", pid)
		}
	}
}

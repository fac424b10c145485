package cli

// The harness every brink command test shares: the brink binary, loopback
// targets and node stand-ins, brink processes and what they say, tmux and
// report files. Each test file keeps only its own topic.

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brink-load/brink/promquery/promtest"
	"github.com/brink-load/brink/report"
	"github.com/brink-load/brink/testout"
)

// brinkBin is the binary built once for the subprocess tests.
var brinkBin string

func TestMain(m *testing.M) {
	flag.Parse()
	// The lanes below bound what runs at once, not -parallel (GOMAXPROCS,
	// 2 on CI, by default), unless it is given.
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		flag.Set("test.parallel", "64")
	}
	dir, err := os.MkdirTemp("", "brink-bin")
	if err != nil {
		panic(err)
	}
	brinkBin = filepath.Join(dir, "brink")
	if out, err := exec.Command("go", "build", "-o", brinkBin, "..").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// The tests that wait (a search's holds, a run of fixed length, a signal
// or a screen awaited, an agent joining) and use little CPU run beside each
// other, after the serial ones. Serial stay those that set the environment
// or brink's hooks, signal the test process, need a core (the demo, a real
// Prometheus under load), or judge an in-process run's exit code by its
// thresholds: brink judges its own health by the CPU of the whole test
// process (getrusage), so a busy neighbour in the process makes such a run
// "could not judge" (exit 98). Each parallel test enters one lane, which
// bounds how many of its kind run at once.
type lane chan struct{}

var (
	// waiting: judged on what brink guarantees however busy the box (an
	// exit 105, a screen, what stderr says, what is redacted), with little
	// CPU in this process; time limits only end a hang.
	waiting = make(lane, 3)
	// capacity: in-process searches judged against a sleep-bound target's
	// capacity (W workers × S), each a few % of a core: a busy process
	// would make them generator-bound (the check then says so and returns),
	// so two at once, beside nothing heavier than the waiting lane.
	capacity = make(lane, 2)
	// heavy: brink processes under load whose checks allow seconds of
	// timing (an autosave, a loss seen, brink's own stall) or want every
	// request: one at a time.
	heavy = make(lane, 1)
)

// inLane makes t a parallel test that starts once l has room.
func inLane(t *testing.T, l lane) {
	t.Helper()
	t.Parallel()
	l <- struct{}{}
	t.Cleanup(func() { <-l })
}

// serve starts a loopback target with handler h, closed when the test
// ends.
func serve(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

// refusedURL is an http://127.0.0.1:port on which nothing listens:
// connections to it are refused.
func refusedURL(t *testing.T) string { return "http://" + promtest.FreeAddr(t) }

// okServer answers "ok" to everything after delay.
func okServer(t *testing.T, delay time.Duration) *httptest.Server {
	t.Helper()
	return serve(t, func(w http.ResponseWriter, r *http.Request) {
		if delay > 0 {
			time.Sleep(delay)
		}
		w.Write([]byte("ok"))
	})
}

// runBrink runs brink in-process with args (the command and its
// arguments) and returns its exit code, stdout and stderr.
func runBrink(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = runMain(args, &out, &errb)
	return code, out.String(), errb.String()
}

// headlessReport runs brink (args: the command and its arguments)
// headless with a report, wants exit code want, and returns the report and
// stdout.
func headlessReport(t *testing.T, want int, args ...string) (*report.Report, *bytes.Buffer) {
	t.Helper()
	rep := filepath.Join(t.TempDir(), "r.json")
	var out, errb bytes.Buffer
	code := runMain(append(slices.Clip(args), "--headless", "--report", rep), &out, &errb)
	if code != want {
		t.Fatalf("exit %d, want %d; stderr: %s\n%s", code, want, errb.String(), out.String())
	}
	return readReport(t, rep), &out
}

// waitFor polls until s() contains want, or fails after limit (a bound for
// a stuck run, not a timing judgement).
func waitFor(t *testing.T, what string, s func() string, want string, limit time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(limit); !strings.Contains(s(), want); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in %s after %s:\n%s", want, what, limit, s())
		}
	}
}

// selfBound reports whether the verdict says brink itself was the
// bottleneck when the first signal came.
func selfBound(r *report.Report) bool {
	for _, x := range r.Verdict.Inconclusive {
		if x.Kind == report.InconclusiveGenerator {
			return true
		}
	}
	return false
}

// proc is a brink process started by a test, killed (by its own pid) when
// the test ends; stderr collects its stdout and stderr.
type proc struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan struct{}
	code   int
}

func startBrink(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(brinkBin, args...), stderr: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Stderr = p.stderr
	p.cmd.Stdout = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("brink %s:\n%s", strings.Join(args[:1], " "), p.stderr.String())
		}
	})
	return p
}

// wait returns the exit code, failing the test past limit.
func (p *proc) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	// Its output is logged when the test fails (startBrink).
	testout.Recv(t, p.done, limit, fmt.Sprintf("brink still running after %s", limit))
	return p.code
}

// waitFor waits until re matches p's output and returns the match.
func (p *proc) waitFor(t *testing.T, re *regexp.Regexp, limit time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(p.stderr.String()); m != nil {
			return m
		}
		select {
		case <-p.done:
			t.Fatalf("brink exited %d before %s:\n%s", p.code, re, p.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("no %s within %s:\n%s", re, limit, p.stderr.String())
	return nil
}

// writeScenario writes a scenario file of its own and returns its path.
func writeScenario(t *testing.T, body string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "scenario.yaml")
	if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func readReport(t *testing.T, path string) *report.Report {
	t.Helper()
	r, err := report.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// syncBuffer collects output written by another goroutine (a viewer, a
// command run in the background) while the test reads it.
type syncBuffer = testout.Buffer

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

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
	return serve(t, func(w http.ResponseWriter, r *http.Request) {
		load := 2.0
		if time.Since(start) > after {
			load = 150
		}
		busy := float64(cpu.Add(1))
		fmt.Fprintf(w, "# TYPE node_load1 gauge\nnode_load1 %g\n", load)
		fmt.Fprintf(w, "# TYPE node_cpu_seconds_total counter\nnode_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} %g\nnode_cpu_seconds_total{cpu=\"0\",mode=\"user\"} %g\n", 1000+busy*0.5, busy*0.5)
		fmt.Fprintf(w, "# TYPE node_memory_MemTotal_bytes gauge\nnode_memory_MemTotal_bytes 8e9\n# TYPE node_memory_MemAvailable_bytes gauge\nnode_memory_MemAvailable_bytes 4e9\n")
	})
}

// risingNode serves node_exporter text for one node whose load1 is 2
// until loaded is set (the target has seen load), then 150: a crossing
// from below.
func risingNode(t *testing.T, loaded *atomic.Bool) *httptest.Server {
	return serve(t, func(w http.ResponseWriter, r *http.Request) {
		load := 2.0
		if loaded.Load() {
			load = 150
		}
		fmt.Fprintf(w, "# TYPE node_load1 gauge\nnode_load1 %g\n", load)
	})
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

// tmuxSession is one session of a private tmux server (privateTmux):
// run is that server's tmux command.
type tmuxSession struct {
	t    *testing.T
	name string
	run  func(args ...string) string
}

// newTmuxSession starts cmd in a detached w×h session named name, on a
// tmux server of the test's own.
func newTmuxSession(t *testing.T, name string, w, h int, cmd ...string) tmuxSession {
	t.Helper()
	s := tmuxSession{t: t, name: name, run: privateTmux(t)}
	s.run(append([]string{"new-session", "-d", "-s", name, "-x", strconv.Itoa(w), "-y", strconv.Itoa(h)}, cmd...)...)
	return s
}

// hangUp kills the session: its terminal goes away (SIGHUP).
func (s tmuxSession) hangUp() { s.run("kill-session", "-t", s.name) }

func (s tmuxSession) capture() string { return s.run("capture-pane", "-p", "-t", s.name) }

// waitFor polls the screen until every want appears, or fails with the
// last screen.
func (s tmuxSession) waitFor(d time.Duration, want ...string) string {
	s.t.Helper()
	return s.waitUntil(d, func() string { return fmt.Sprintf("%q", want) }, func(screen string) bool {
		for _, w := range want {
			if !strings.Contains(screen, w) {
				return false
			}
		}
		return true
	})
}

// waitUntil polls the screen until ok holds for it and returns it, or
// fails after d saying what (asked then) it never showed, and the last
// screen.
func (s tmuxSession) waitUntil(d time.Duration, what func() string, ok func(screen string) bool) string {
	s.t.Helper()
	var screen string
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		if screen = s.capture(); ok(screen) {
			return screen
		}
	}
	s.t.Fatalf("screen never showed %s; last screen:\n%s", what(), screen)
	return ""
}

// countingTarget counts requests and when the last one came.
type countingTarget struct {
	*httptest.Server
	n    atomic.Int64
	last atomic.Int64 // Unix ns
}

func newCountingTarget(t *testing.T) *countingTarget {
	c := &countingTarget{}
	c.Server = serve(t, func(w http.ResponseWriter, r *http.Request) {
		c.n.Add(1)
		c.last.Store(time.Now().UnixNano())
		w.Write([]byte("ok"))
	})
	return c
}

// reach waits until n requests in all have reached the target, failing
// after 30 s with the output of ctl, the run that sends them.
func (c *countingTarget) reach(t *testing.T, n int64, ctl *proc) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); c.n.Load() < n; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no load reached the target:\n%s", ctl.stderr.String())
		}
	}
}

var agentLine = regexp.MustCompile(`brink agent --nats (nats://\S+)`)

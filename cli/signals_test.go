package cli

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/promquery/promtest"
	"github.com/brink-load/brink/report"
	"github.com/brink-load/brink/run"
	"github.com/brink-load/brink/testout"
)

// Stopping brink from outside (signals, kill -9, quitting the console) and
// ending on a panic: the run stops, exits as documented and its report is
// written.

// startHeadless starts brink as a subprocess loading srv for up to 60 s.
func startHeadless(t *testing.T, srvURL, rep string) *proc {
	t.Helper()
	return startBrink(t, "probe", srvURL, "--vus", "3", "--duration", "60s", "--think", "10ms",
		"--headless", "--progress", "1s", "--report", rep)
}

// A signal mid-run stops the load, writes the whole timeline so far, and
// exits with k6's external-abort code 105.
func TestSignalsWriteReport(t *testing.T) {
	inLane(t, waiting)
	srv := okServer(t, time.Millisecond)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			rep := filepath.Join(t.TempDir(), "r.json")
			p := startHeadless(t, srv.URL, rep)
			time.Sleep(2500 * time.Millisecond)
			p.cmd.Process.Signal(sig)
			if code := p.wait(t, 20*time.Second); code != exitExternalAbort {
				t.Fatalf("exit %d, want %d; stderr: %s", code, exitExternalAbort, p.stderr.String())
			}
			r, err := report.ReadFile(rep)
			if err != nil {
				t.Fatalf("report after %v: %v", sig, err)
			}
			if len(r.Timeline) < 1 || r.Summary.Requests == 0 {
				t.Fatalf("report after %v has %d windows, %d requests", sig, len(r.Timeline), r.Summary.Requests)
			}
		})
	}
}

// kill -9 cannot be caught: the autosave every 10 s bounds what is lost.
func TestKill9LeavesSnapshot(t *testing.T) {
	promtest.Long(t, "12 s")
	inLane(t, heavy)
	srv := okServer(t, time.Millisecond)
	rep := filepath.Join(t.TempDir(), "r.json")
	p := startHeadless(t, srv.URL, rep)
	time.Sleep(12 * time.Second)
	p.cmd.Process.Kill()
	<-p.done
	r, err := report.ReadFile(rep)
	if err != nil {
		t.Fatalf("snapshot after kill -9: %v", err)
	}
	if len(r.Timeline) < 5 {
		t.Fatalf("snapshot has %d windows, want ≥ 5", len(r.Timeline))
	}
}

// After the first Ctrl-C brink says what it waits for and for how long at
// most; a second Ctrl-C cuts the in-flight requests and still prints the
// summary and where the report went, exit 105. The target holds every
// request until the client goes away, so without the second Ctrl-C the
// wait would last the whole graceful stop.
func TestSecondCtrlCCutsAndStillReports(t *testing.T) {
	inLane(t, waiting)
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)

	rep := filepath.Join(t.TempDir(), "r.json")
	cmd := exec.Command(brinkBin, "probe", srv.URL, "--vus", "2", "--duration", "60s", "--timeout", "60s",
		"--headless", "--report", rep)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer cmd.Process.Kill()

	select {
	case <-arrived: // a request is in flight and will stay so
	case <-time.After(30 * time.Second):
		t.Fatalf("no request reached the target; stderr:\n%s", stderr.String())
	}
	cmd.Process.Signal(syscall.SIGINT)
	waitFor(t, "stderr", stderr.String, "brink: Ctrl-C: stopping; waiting for in-flight requests to finish (at most 30s); Ctrl-C again cuts them and writes the report now", 30*time.Second)
	select {
	case err := <-done:
		t.Fatalf("brink ended (%v) while a request was still held; stderr:\n%s", err, stderr.String())
	default:
	}
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("brink did not stop after the second Ctrl-C; stderr:\n%s", stderr.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != exitExternalAbort {
		t.Errorf("exit %d, want %d; stderr:\n%s", code, exitExternalAbort, stderr.String())
	}
	errs := stderr.String()
	for _, want := range []string{"brink: Ctrl-C: cutting in-flight requests, writing the report\n", "brink: report written to " + rep + "\n"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	if out := stdout.String(); !strings.Contains(out, "scenario: ") || !strings.Contains(out, "second signal interrupt: in-flight requests cut") {
		t.Errorf("no summary on stdout after the second Ctrl-C:\n%s", out)
	}
	if _, err := report.ReadFile(rep); err != nil {
		t.Errorf("report: %v", err)
	}
}

// The same under the console: quitting while requests are held closes the
// console and says, on the terminal, what brink waits for; Ctrl-C then
// cuts them and the summary and the report's path still come, exit 105.
// The test has a tmux server of its own: a shared one, busy with other
// sessions, can be slow to notice that the pane's process ended.
func TestConsoleQuitSaysWhatItWaitsFor(t *testing.T) {
	inLane(t, waiting)
	requireBinary(t, "tmux")
	release := make(chan struct{})
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	dir := t.TempDir()
	rep, errFile := filepath.Join(dir, "r.json"), filepath.Join(dir, "stderr")
	statusFile := filepath.Join(dir, "status")
	tmux := privateTmux(t)
	screen := func() string { return tmux("capture-pane", "-p", "-t", "q") }
	// Ctrl-C reaches brink and the shell (whose trap keeps it alive to
	// write brink's status; brink gets the default action back on exec);
	// the pane stays after it exits, showing the summary.
	tmux("new-session", "-d", "-s", "q", "-x", "120", "-y", "50", "sh", "-c",
		fmt.Sprintf("trap : INT; env TERM=xterm-256color %s probe %s --vus 2 --duration 60s --timeout 60s --report %s 2>%s; echo $? >%s",
			brinkBin, srv.URL, rep, errFile, statusFile), ";", "set-option", "-t", "q", "remain-on-exit", "on")
	waitFor(t, "the console", screen, "Throughput", 25*time.Second)
	tmux("send-keys", "-t", "q", "q")
	waitFor(t, "the console", screen, "Quit?", 5*time.Second)
	tmux("send-keys", "-t", "q", "y")
	stderr := func() string { b, _ := os.ReadFile(errFile); return string(b) }
	waitFor(t, "stderr", stderr, "brink: stopping; waiting for in-flight requests to finish (at most 30s); Ctrl-C cuts them and writes the report now", 20*time.Second)
	tmux("send-keys", "-t", "q", "C-c")
	// Cutting, writing the report and printing the summary take a moment
	// on a busy box under -race; the limit only has to end a hang. The
	// shell writes brink's exit status to a file: tmux's own pane status
	// (#{pane_dead_status}, the "Pane is dead" line) was left empty by
	// tmux 3.3a for a pane whose process ended within a second.
	status := func() string { b, _ := os.ReadFile(statusFile); return string(b) }
	waitFor(t, "the exit status file", status, "\n", 45*time.Second)
	if st := strings.TrimSpace(status()); st != "105" {
		t.Errorf("exit status %s, want 105 after Ctrl-C; stderr:\n%s", st, stderr())
	}
	if sc := screen(); !strings.Contains(sc, "VERDICT") {
		t.Errorf("want the summary after Ctrl-C:\n%s", sc)
	}
	waitFor(t, "stderr", stderr, "brink: report written to "+rep, 5*time.Second)
	if _, err := report.ReadFile(rep); err != nil {
		t.Errorf("report: %v", err)
	}
}

// A panic in an engine goroutine mid-run still leaves a complete report
// with the timeline so far, and exits 1.
func TestPanicMidRunWritesReport(t *testing.T) {
	srv := okServer(t, time.Millisecond)
	rep := filepath.Join(t.TempDir(), "r.json")
	var ticks atomic.Int32
	run.TickHook = func(measure.Tick) {
		if ticks.Add(1) == 3 {
			panic("injected in the tick path")
		}
	}
	exited := make(chan int, 1)
	run.ExitProcess = func(code int) { exited <- code; select {} }
	defer func() { run.TickHook = func(measure.Tick) {}; run.ExitProcess = os.Exit }()

	var out, errb syncBuffer
	go runMain([]string{"probe", srv.URL, "--vus", "1", "--duration", "4s", "--think", "10ms", "--headless", "--report", rep}, &out, &errb)
	if code := testout.Recv(t, exited, 15*time.Second, "no exit after the panic"); code != exitFailure {
		t.Fatalf("exit %d, want 1", code)
	}
	r := readReport(t, rep)
	if !r.Complete || len(r.Timeline) < 2 {
		t.Fatalf("report complete=%v with %d windows", r.Complete, len(r.Timeline))
	}
	if !strings.Contains(errb.String(), "injected in the tick path") {
		t.Fatalf("stderr does not name the panic: %s", errb.String())
	}
}

// TestMetricsLingerCutByCtrlC: Ctrl-C while brink waits for the final
// scrape leaves at once, with the run's exit code, and says Prometheus
// lacks the last window.
func TestMetricsLingerCutByCtrlC(t *testing.T) {
	srv := okServer(t, 0)
	p := startBrink(t, "probe", srv.URL, "--vus", "1", "--duration", "1s", "--headless",
		"--report", filepath.Join(t.TempDir(), "r.json"), "--metrics", promtest.FreeAddr(t), "--metrics-linger", "10m")
	waitFor(t, "stderr", p.stderr.String, "--metrics: serving the final state", 60*time.Second)
	p.cmd.Process.Signal(syscall.SIGINT)
	if code := p.wait(t, 30*time.Second); code != exitOK {
		t.Fatalf("exit %d, want the run's 0:\n%s", code, p.stderr.String())
	}
	if !strings.Contains(p.stderr.String(), "brink: Ctrl-C: --metrics stopped before a scrape read the final state: Prometheus lacks the last window") {
		t.Errorf("the cut is not said:\n%s", p.stderr.String())
	}
}

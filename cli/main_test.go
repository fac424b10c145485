package cli

import (
	"bytes"
	"fmt"
	"net"
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

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/promquery/promtest"
	"github.com/brink-load/brink/report"
	"github.com/brink-load/brink/run"
	"github.com/brink-load/brink/scenarios"
)

// brinkBin is the binary built once for the subprocess tests.
var brinkBin string

func TestMain(m *testing.M) {
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

func okServer(t *testing.T, delay time.Duration) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if delay > 0 {
			time.Sleep(delay)
		}
		w.Write([]byte("ok"))
	}))
	t.Cleanup(s.Close)
	return s
}

func TestBadScenarioExits2WithPosition(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "bad.yaml")
	os.WriteFile(file, []byte("name: x\ngroups:\n  - name: g\n    executor: ramping-vus\n    stagez: []\n"), 0o644)
	var out, errb bytes.Buffer
	code := runMain([]string{"run", "--headless", file}, &out, &errb)
	if code != exitUsage {
		t.Fatalf("exit %d, want %d; stderr: %s", code, exitUsage, errb.String())
	}
	line := strings.TrimSpace(errb.String())
	if !strings.HasPrefix(line, file+":5:5:") || strings.Count(line, "\n") != 0 {
		t.Fatalf("want one line starting %s:5:5:, got %q", file, line)
	}
}

func TestUnknownCommandAndHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runMain([]string{"frobnicate"}, &out, &errb); code != exitUsage {
		t.Fatalf("unknown command exit %d", code)
	}
	for _, c := range []string{"run", "probe", "version"} {
		out.Reset()
		errb.Reset()
		if code := runMain([]string{c, "--help"}, &out, &errb); code != exitOK {
			t.Fatalf("%s --help exit %d: %s", c, code, errb.String())
		}
	}
}

func TestProbeFlagErrorsExit2(t *testing.T) {
	cases := [][]string{
		{"probe"},
		{"probe", "ftp://127.0.0.1/"},
		{"probe", "http://127.0.0.1:1/", "--vus", "3", "--rate", "10"},
		{"probe", "http://127.0.0.1:1/", "--header", "nocolon"},
		{"probe", "http://127.0.0.1:1/", "--max-error-rate", "lots"},
		{"probe", "http://127.0.0.1:1/", "--body", "{{nope}}"},
		{"probe", "http://127.0.0.1:1/", "--max-body", "lots"},
		{"probe", "http://127.0.0.1:1/", "--max-body", "2GiB"},
		{"probe", "http://127.0.0.1:1/", "--max-body", "0"},
	}
	for _, args := range cases {
		var out, errb bytes.Buffer
		if code := runMain(args, &out, &errb); code != exitUsage {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", args, code, errb.String())
		}
		if n := strings.Count(strings.TrimSpace(errb.String()), "\n"); n > 0 && !strings.Contains(errb.String(), "Usage") {
			t.Errorf("%v: want one error line, got %q", args, errb.String())
		}
	}
}

func TestFailedThresholdExits99(t *testing.T) {
	srv := okServer(t, 5*time.Millisecond)
	r, _ := probeReport(t, exitThreshold, srv.URL, "--vus", "2", "--duration", "2s", "--p95", "1ms")
	// The p95 the probe set, and the default http_req_failed beside it.
	if len(r.Thresholds) != 2 || r.Thresholds[0].OK || r.Thresholds[0].Default || !r.Thresholds[1].Default {
		t.Fatalf("thresholds in report: %+v", r.Thresholds)
	}
}

func TestPassingProbeExits0(t *testing.T) {
	srv := okServer(t, 0)
	r, _ := probeReport(t, exitOK, srv.URL, "--vus", "2", "--duration", "2s", "--p95", "2s", "--max-error-rate", "1%")
	if r.Summary.Requests == 0 {
		t.Fatalf("no requests in summary")
	}
	// Service time is merged from per-window histograms, as latency is.
	if !r.Summary.ServiceMs.Exact || !r.Summary.LatencyMs.Exact {
		t.Fatalf("whole-run percentiles not exact: service %+v latency %+v", r.Summary.ServiceMs, r.Summary.LatencyMs)
	}
}

// startHeadless starts brink as a subprocess loading srv for up to 60 s.
func startHeadless(t *testing.T, srvURL, rep string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(brinkBin, "probe", srvURL, "--vus", "3", "--duration", "60s", "--think", "10ms",
		"--headless", "--progress", "1s", "--report", rep)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, &errb
}

// A signal mid-run stops the load, writes the whole timeline so far, and
// exits with k6's external-abort code 105.
func TestSignalsWriteReport(t *testing.T) {
	srv := okServer(t, time.Millisecond)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			rep := filepath.Join(t.TempDir(), "r.json")
			cmd, errb := startHeadless(t, srv.URL, rep)
			time.Sleep(2500 * time.Millisecond)
			cmd.Process.Signal(sig)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Fatalf("brink did not stop within 20s of %v; stderr: %s", sig, errb.String())
			}
			if code := cmd.ProcessState.ExitCode(); code != exitExternalAbort {
				t.Fatalf("exit %d, want %d; stderr: %s", code, exitExternalAbort, errb.String())
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
	srv := okServer(t, time.Millisecond)
	rep := filepath.Join(t.TempDir(), "r.json")
	cmd, _ := startHeadless(t, srv.URL, rep)
	time.Sleep(12 * time.Second)
	cmd.Process.Kill()
	cmd.Wait()
	r, err := report.ReadFile(rep)
	if err != nil {
		t.Fatalf("snapshot after kill -9: %v", err)
	}
	if len(r.Timeline) < 5 {
		t.Fatalf("snapshot has %d windows, want ≥ 5", len(r.Timeline))
	}
}

func TestExamplesCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runMain([]string{"examples"}, &out, &errb); code != exitOK || !strings.Contains(out.String(), "chat") {
		t.Fatalf("examples: exit %d, %q", code, out.String())
	}
	out.Reset()
	if code := runMain([]string{"examples", "smoke"}, &out, &errb); code != exitOK || !strings.Contains(out.String(), "groups:") {
		t.Fatalf("examples smoke: exit %d, %q", code, out.String())
	}
	if code := runMain([]string{"examples", "nope"}, &out, &errb); code != exitUsage {
		t.Fatalf("unknown example: exit %d", code)
	}
	for _, name := range []string{"smoke", "chat", "arrival-rate"} {
		if _, err := loadScenario("example:" + name); err != nil {
			t.Errorf("example:%s does not load: %v", name, err)
		}
	}
}

// A report path that cannot be written is refused before any load starts.
func TestUnwritableReportRefusedUpFront(t *testing.T) {
	var out, errb bytes.Buffer
	code := runMain([]string{"probe", "http://127.0.0.1:1/", "--vus", "1", "--duration", "1s", "--headless",
		"--report", "/nonexistent-dir/brink/r.json"}, &out, &errb)
	if code != exitUsage || !strings.Contains(errb.String(), "--report /nonexistent-dir/brink/r.json") {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
}

// The report directory vanishing mid-run (as a full or unmounted disk
// would) must not lose the run: the report lands in the temp dir.
func TestReportDirLostMidRunFallsBack(t *testing.T) {
	srv := okServer(t, 0)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dir := filepath.Join(t.TempDir(), "reports")
	os.Mkdir(dir, 0o755)
	time.AfterFunc(500*time.Millisecond, func() { os.RemoveAll(dir) })
	var out, errb bytes.Buffer
	code := runMain([]string{"probe", srv.URL, "--vus", "1", "--duration", "2s", "--headless",
		"--report", filepath.Join(dir, "r.json")}, &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	alt := filepath.Join(tmp, fmt.Sprintf("brink-%d-r.json", os.Getpid()))
	if _, err := report.ReadFile(alt); err != nil {
		t.Fatalf("fallback report: %v; stderr: %s", err, errb.String())
	}
	if !strings.Contains(errb.String(), "written to "+alt) {
		t.Fatalf("stderr does not say where the report went: %s", errb.String())
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

// A node that crosses its threshold from below under load fails the run
// for CI (exit 99); one already over before the load is said so and is no
// breakpoint (exit 98: it could not be judged); a node source that cannot
// be reached is said on stderr, not only in the report.
func TestNodeCrossingExits99AndNodeTroubleIsSaid(t *testing.T) {
	var loaded atomic.Bool // the target has seen load
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		loaded.Store(true)
		time.Sleep(time.Millisecond)
		w.Write([]byte("ok"))
	}))
	t.Cleanup(target.Close)
	rising := risingNode(t, &loaded)
	node := fakeNode(t, 0) // load1 150 from the start
	dir := t.TempDir()
	write := func(name, scrape string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(fmt.Sprintf(`name: nodes
base_url: %s
sustain: 1s
groups:
  - {name: g, executor: constant-vus, vus: 1, duration: 4s, think: 20ms, requests: [{url: /}]}
nodes:
  scrape: [%q]
  roles: {db: "db-.*"}
  thresholds: [{metric: load1, above: 100, role: db}]
`, target.URL, scrape)), 0o644)
		return p
	}
	var out, errb bytes.Buffer
	code := runMain([]string{"run", write("rising.yaml", rising.URL+"/nodes/db-3/metrics"), "--headless",
		"--report", filepath.Join(dir, "r0.json")}, &out, &errb)
	if code != exitThreshold {
		t.Fatalf("node crossing under load: exit %d, want 99; stderr: %s", code, errb.String())
	}
	r, err := report.ReadFile(filepath.Join(dir, "r0.json"))
	if err != nil {
		t.Fatal(err)
	}
	// A crossing while brink itself stalled (a busy machine) is no
	// breakpoint: the verdict then says the generator was the bottleneck.
	if bp := r.Verdict.Breakpoint; bp == nil && selfBound(r) {
		t.Logf("no breakpoint: %s", r.Verdict.Text)
	} else if bp == nil || bp.Signal.Node != "db-3" || bp.ElapsedS < 0 || bp.VUs != 1 {
		t.Fatalf("breakpoint %+v, want db-3 under load", bp)
	}
	if len(r.Nodes) != 1 || r.Nodes[0].Baseline == nil || float64(r.Nodes[0].Baseline.Load1) != 2 {
		t.Fatalf("nodes %+v, want db-3 with its baseline load1 2", r.Nodes)
	}

	out.Reset()
	errb.Reset()
	code = runMain([]string{"run", write("over.yaml", node.URL+"/nodes/db-3/metrics"), "--headless",
		"--report", filepath.Join(dir, "r1.json")}, &out, &errb)
	if code != exitInconclusive {
		t.Fatalf("node over before the load: exit %d, want 98; stderr: %s", code, errb.String())
	}
	r, err = report.ReadFile(filepath.Join(dir, "r1.json"))
	if err != nil {
		t.Fatal(err)
	}
	before := 0
	for _, e := range r.Events {
		if e.Kind == report.EventNodeOverBefore {
			before++
		}
	}
	if r.Verdict.Breakpoint != nil || before != 1 || len(r.Verdict.Inconclusive) != 1 ||
		r.Verdict.Inconclusive[0].Kind != report.InconclusiveOverBefore {
		t.Fatalf("breakpoint %+v, %d over-before events, inconclusive %+v", r.Verdict.Breakpoint, before, r.Verdict.Inconclusive)
	}
	if !strings.Contains(out.String(), "db-3 load1 150 > 100 before the load") {
		t.Fatalf("summary does not say db-3 was over before the load:\n%s", out.String())
	}
	out.Reset()
	errb.Reset()
	code = runMain([]string{"run", write("dead.yaml", "http://127.0.0.1:1/nodes/db-3/metrics"), "--headless",
		"--report", filepath.Join(dir, "r2.json")}, &out, &errb)
	// Node thresholds never judged: the run is inconclusive, not a pass.
	if code != exitInconclusive || !strings.Contains(errb.String(), "brink: nodes: ") {
		t.Fatalf("dead node source: exit %d, want 98; stderr %q", code, errb.String())
	}
	r, err = report.ReadFile(filepath.Join(dir, "r2.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Verdict.Inconclusive) != 1 || r.Verdict.Inconclusive[0].Kind != report.InconclusiveNodesDown {
		t.Fatalf("verdict.inconclusive %+v, want nodes_down", r.Verdict.Inconclusive)
	}
	if !strings.Contains(out.String(), "node metrics were missing") || !strings.Contains(out.String(), "exit code 98") {
		t.Fatalf("summary does not say what could not be judged:\n%s", out.String())
	}
}

// A threshold whose metric never got a value is no pass: exit 98, and the
// verdict says which.
func TestThresholdWithoutDataExits98(t *testing.T) {
	target := okServer(t, 0)
	dir := t.TempDir()
	file := filepath.Join(dir, "s.yaml")
	os.WriteFile(file, []byte(fmt.Sprintf(`name: nodata
base_url: %s
groups:
  - {name: g, executor: constant-vus, vus: 1, duration: 2s, think: 20ms, requests: [{url: /}]}
thresholds:
  http_req_duration: ["p(95)<2000"]
  ws_msg_latency: ["p(95)<300"]
`, target.URL)), 0o644)
	var out, errb bytes.Buffer
	code := runMain([]string{"run", file, "--headless", "--report", filepath.Join(dir, "r.json")}, &out, &errb)
	if code != exitInconclusive {
		t.Fatalf("exit %d, want 98; stderr: %s", code, errb.String())
	}
	r, err := report.ReadFile(filepath.Join(dir, "r.json"))
	if err != nil {
		t.Fatal(err)
	}
	inc := r.Verdict.Inconclusive
	if len(inc) != 1 || inc[0].Kind != report.InconclusiveNoData || !strings.Contains(inc[0].Reason, "ws_msg_latency") {
		t.Fatalf("verdict.inconclusive %+v, want ws_msg_latency without data", inc)
	}
	// Not judged is no pass: the report's passed (exit code 0) is false,
	// and the summary marks the threshold '?', never '✓'.
	if r.Passed || !strings.Contains(out.String(), "Could not judge: ws_msg_latency") ||
		!strings.Contains(out.String(), "? ws_msg_latency") || strings.Contains(out.String(), "✓ ws_msg_latency") {
		t.Fatalf("passed %v; summary:\n%s", r.Passed, out.String())
	}
	for _, th := range r.Thresholds {
		if th.Metric == "ws_msg_latency" && (th.OK || !th.NoData) {
			t.Fatalf("threshold %+v: no data is neither ok nor failed", th)
		}
	}
}

// A self-signed https target fails as tls without --insecure, and works
// with it.
func TestInsecureFlag(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	for _, c := range []struct {
		insecure bool
		wantErr  bool
	}{{false, true}, {true, false}} {
		rep := filepath.Join(t.TempDir(), "r.json")
		args := []string{"probe", srv.URL, "--vus", "1", "--duration", "1s", "--headless", "--report", rep}
		if c.insecure {
			args = append(args, "--insecure")
		}
		var out, errb bytes.Buffer
		runMain(args, &out, &errb)
		r, err := report.ReadFile(rep)
		if err != nil {
			t.Fatal(err)
		}
		tlsErrs := r.Summary.ErrorsByKind["tls"]
		if c.wantErr != (tlsErrs > 0) || (!c.wantErr && r.Summary.Requests == 0) {
			t.Errorf("insecure=%v: %d tls errors of %d requests", c.insecure, tlsErrs, r.Summary.Requests)
		}
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
	select {
	case code := <-exited:
		if code != exitFailure {
			t.Fatalf("exit %d, want 1", code)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no exit after the panic")
	}
	r, err := report.ReadFile(rep)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Complete || len(r.Timeline) < 2 {
		t.Fatalf("report complete=%v with %d windows", r.Complete, len(r.Timeline))
	}
	if !strings.Contains(errb.String(), "injected in the tick path") {
		t.Fatalf("stderr does not name the panic: %s", errb.String())
	}
}

// The progress line keeps closed-model VUs against their target and puts
// an arrival-rate group's VUs beside its rate.
func TestProgressLine(t *testing.T) {
	mk := func(groups ...measure.GroupStats) string {
		rec := report.NewRecorder(&scenarios.Scenario{Name: "p", Window: time.Second}, time.Now(), report.Options{})
		tk := measure.Tick{Time: time.Now(), Elapsed: 65 * time.Second, Window: time.Second, Requests: 1843,
			Latency: measure.Latency{Count: 1843, P95: 212 * time.Millisecond, P99: 480 * time.Millisecond}, Groups: groups}
		for _, g := range groups {
			tk.VUs += g.VUs
			tk.TargetVUs += g.TargetVUs
			tk.TargetRate += g.TargetRate
		}
		rec.AddTick(tk)
		return run.ProgressLine(rec)
	}
	closed := measure.GroupStats{Name: "c", Executor: "ramping-vus", VUs: 210, TargetVUs: 300}
	open := measure.GroupStats{Name: "o", Executor: "ramping-arrival-rate", VUs: 20, BusyVUs: 3, TargetRate: 70}
	cases := []struct {
		groups []measure.GroupStats
		want   string
	}{
		{[]measure.GroupStats{closed}, "t=1m05s vus=210/300 rps=1843 p95=212ms p99=480ms err=0.0%"},
		{[]measure.GroupStats{open}, "t=1m05s vus=20 rate=70/s (3 busy) rps=1843 p95=212ms p99=480ms err=0.0%"},
		{[]measure.GroupStats{closed, open}, "t=1m05s vus=210/300 rate=70/s (3 of 20 VUs busy) rps=1843 p95=212ms p99=480ms err=0.0% — 210 users + 70/s o"},
	}
	for _, c := range cases {
		if got := mk(c.groups...); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}

	// WebSocket: sessions' failures over the last 5 s, never hidden
	// behind the HTTP err=.
	rec := report.NewRecorder(&scenarios.Scenario{Name: "p", Window: time.Second}, time.Now(), report.Options{})
	for i := range 6 {
		ws := measure.WSStats{Open: 0, Sessions: 2, Failed: 2, Outcomes: 2, Errors: map[measure.ErrorKind]int64{measure.ErrStatus4xx: 2}}
		if i == 0 {
			ws = measure.WSStats{Open: 3, Sessions: 3, Outcomes: 10}
		}
		rec.AddTick(measure.Tick{Time: time.Now(), Elapsed: time.Duration(i+1) * time.Second, Window: time.Second,
			Groups: []measure.GroupStats{{Name: "chat", Executor: "ramping-vus", VUs: 3, TargetVUs: 3}}, VUs: 3, TargetVUs: 3, WS: ws})
	}
	// Five windows of refused sessions breach the default ws_failed rate<5%.
	if got, want := run.ProgressLine(rec), "t=6s vus=3/3 rps=0 p95=0.00ms p99=0.00ms err=0.0% ws_open=0 ws_failed=100.0% state=BREAKPOINT"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// brink check validates without load, and the scenario README shows is a
// valid one (so the README cannot drift from the format).
func TestCheckCommandAndREADMEScenario(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "```yaml\n")
	if !ok {
		t.Fatal("README has no yaml block")
	}
	block, _, _ := strings.Cut(rest, "```")
	file := filepath.Join(t.TempDir(), "readme.yaml")
	os.WriteFile(file, []byte(block), 0o644)
	var out, errb bytes.Buffer
	if code := runMain([]string{"check", file, "example:smoke"}, &out, &errb); code != exitOK {
		t.Fatalf("README scenario: exit %d: %s", code, errb.String())
	}
	for _, want := range []string{`"chat-breakpoint", 6m0s, 3 group(s)`, "peak 800 VUs", "peak 300 iterations/s", "p(95)<500", `"smoke"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, out.String())
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("name: a\nname: b\n"), 0o644)
	out.Reset()
	errb.Reset()
	if code := runMain([]string{"check", bad}, &out, &errb); code != exitUsage || !strings.HasPrefix(errb.String(), bad+":2:1: name: ") {
		t.Fatalf("bad file: exit %d, %q", code, errb.String())
	}
}

// --max-body: a response over it is a body_too_large error in the report,
// and the run goes on.
func TestProbeMaxBody(t *testing.T) {
	big := strings.Repeat("x", 8<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(big)) }))
	t.Cleanup(srv.Close)
	rep := filepath.Join(t.TempDir(), "r.json")
	var out, errb bytes.Buffer
	code := runMain([]string{"probe", srv.URL, "--vus", "1", "--duration", "1s", "--think", "50ms", "--max-body", "4KiB",
		"--headless", "--report", rep}, &out, &errb)
	if code == exitUsage {
		t.Fatalf("exit %d; stderr: %s", code, errb.String())
	}
	r, err := report.ReadFile(rep)
	if err != nil {
		t.Fatal(err)
	}
	var tooLarge int64
	for _, w := range r.Timeline {
		tooLarge += w.ErrorKinds["body_too_large"]
	}
	if r.Summary.Requests < 2 || tooLarge != r.Summary.Requests {
		t.Fatalf("%d requests, %d body_too_large", r.Summary.Requests, tooLarge)
	}
}

// An arrival rate the target cannot keep up with drops arrivals (no VU is
// free): more than 1 % of those scheduled fails the run, and the verdict
// names it.
func TestDroppedArrivalsExit99(t *testing.T) {
	slow := okServer(t, 100*time.Millisecond) // one VU starts at most 10/s
	r, out := probeReport(t, exitThreshold, slow.URL, "--rate", "50", "--duration", "2s", "--max-vus", "1")
	if r.Passed || len(r.Verdict.Failed) != 1 || r.Verdict.Failed[0].Kind != report.FailedDropped {
		t.Fatalf("passed %v, verdict.failed %+v", r.Passed, r.Verdict.Failed)
	}
	if r.Summary.DroppedIterations == 0 || !strings.Contains(out.String(), "of its scheduled arrivals") {
		t.Fatalf("dropped %d; summary:\n%s", r.Summary.DroppedIterations, out.String())
	}
}

// Most requests failing is never a pass: with no failure threshold set,
// brink applies http_req_failed rate<5% (marked default). A probe at a
// closed port once said "reached 2 VUs with 100 % errors", exit 0.
func TestProbeAtClosedPortFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/"
	ln.Close()
	r, out := probeReport(t, exitThreshold, closed, "--vus", "2", "--duration", "2s")
	if len(r.Thresholds) != 1 || !r.Thresholds[0].Default || r.Thresholds[0].OK || r.Thresholds[0].Metric != "http_req_failed" {
		t.Fatalf("thresholds %+v, want the default http_req_failed, failed", r.Thresholds)
	}
	// Whether 2 s hold 3 windows of the sustain rule (a breakpoint) or
	// not (the whole-run default failed) is the box's timing: either way
	// the verdict names the failed default.
	if r.Passed || !strings.Contains(out.String(), "'rate<5%' (default)") ||
		!strings.Contains(r.Verdict.Text, "errors 100 % > 5 %") {
		t.Fatalf("passed %v; summary:\n%s", r.Passed, out.String())
	}
}

// A WebSocket server that refuses every handshake is no pass either: with
// no ws_failed threshold set, brink applies ws_failed rate<5%.
func TestRefusedWebSocketFailsByDefault(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "forbidden", http.StatusForbidden)
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	file := filepath.Join(dir, "ws.yaml")
	os.WriteFile(file, []byte(fmt.Sprintf(`name: ws-refused
base_url: %s
groups:
  - {name: chat, executor: constant-vus, vus: 2, duration: 2s, think: 50ms, websocket: {url: /ws, send: hi, every: 100ms}}
`, srv.URL)), 0o644)
	var out, errb bytes.Buffer
	code := runMain([]string{"run", file, "--headless", "--report", filepath.Join(dir, "r.json")}, &out, &errb)
	if code != exitThreshold {
		t.Fatalf("exit %d, want 99; stderr: %s\n%s", code, errb.String(), out.String())
	}
	r, err := report.ReadFile(filepath.Join(dir, "r.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ws *report.ThresholdResult
	for i := range r.Thresholds {
		if r.Thresholds[i].Metric == "ws_failed" {
			ws = &r.Thresholds[i]
		}
	}
	if ws == nil || !ws.Default || ws.OK || r.Passed || !strings.Contains(out.String(), "ws_failed 'rate<5%' (default)") {
		t.Fatalf("ws_failed threshold %+v, passed %v; summary:\n%s", ws, r.Passed, out.String())
	}
}

// probeReport runs brink probe headless with args, wants exit code want,
// and returns its report and its stdout.
func probeReport(t *testing.T, want int, args ...string) (*report.Report, *bytes.Buffer) {
	t.Helper()
	rep := filepath.Join(t.TempDir(), "r.json")
	var out, errb bytes.Buffer
	code := runMain(append(append([]string{"probe"}, args...), "--headless", "--report", rep), &out, &errb)
	if code != want {
		t.Fatalf("exit %d, want %d; stderr: %s", code, want, errb.String())
	}
	r, err := report.ReadFile(rep)
	if err != nil {
		t.Fatal(err)
	}
	return r, &out
}

func TestSignalName(t *testing.T) {
	for s, want := range map[os.Signal]string{os.Interrupt: "Ctrl-C", syscall.SIGTERM: "SIGTERM", syscall.SIGHUP: "SIGHUP"} {
		if got := run.SignalName(s); got != want {
			t.Errorf("run.SignalName(%v) = %q, want %q", s, got, want)
		}
	}
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

// After the first Ctrl-C brink says what it waits for and for how long at
// most; a second Ctrl-C cuts the in-flight requests and still prints the
// summary and where the report went, exit 105. The target holds every
// request until the client goes away, so without the second Ctrl-C the
// wait would last the whole graceful stop.
func TestSecondCtrlCCutsAndStillReports(t *testing.T) {
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
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
	requireBinary(t, "tmux")
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
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

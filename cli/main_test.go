package cli

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brink-load/brink/report"
)

func TestBadScenarioExits2WithPosition(t *testing.T) {
	file := writeScenario(t, "name: x\ngroups:\n  - name: g\n    executor: ramping-vus\n    stagez: []\n")
	code, _, errb := runBrink("run", "--headless", file)
	if code != exitUsage {
		t.Fatalf("exit %d, want %d; stderr: %s", code, exitUsage, errb)
	}
	line := strings.TrimSpace(errb)
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
	r, _ := headlessReport(t, exitThreshold, "probe", srv.URL, "--vus", "2", "--duration", "2s", "--p95", "1ms")
	// The p95 the probe set, and the default http_req_failed beside it.
	if len(r.Thresholds) != 2 || r.Thresholds[0].OK || r.Thresholds[0].Default || !r.Thresholds[1].Default {
		t.Fatalf("thresholds in report: %+v", r.Thresholds)
	}
}

func TestPassingProbeExits0(t *testing.T) {
	srv := okServer(t, 0)
	r, _ := headlessReport(t, exitOK, "probe", srv.URL, "--vus", "2", "--duration", "2s", "--p95", "2s", "--max-error-rate", "1%")
	if r.Summary.Requests == 0 {
		t.Fatalf("no requests in summary")
	}
	// Service time is merged from per-window histograms, as latency is.
	if !r.Summary.ServiceMs.Exact || !r.Summary.LatencyMs.Exact {
		t.Fatalf("whole-run percentiles not exact: service %+v latency %+v", r.Summary.ServiceMs, r.Summary.LatencyMs)
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

// A threshold whose metric never got a value is no pass: exit 98, and the
// verdict says which.
func TestThresholdWithoutDataExits98(t *testing.T) {
	target := okServer(t, 0)
	r, out := headlessReport(t, exitInconclusive, "run", writeScenario(t, fmt.Sprintf(`name: nodata
base_url: %s
groups:
  - {name: g, executor: constant-vus, vus: 1, duration: 2s, think: 20ms, requests: [{url: /}]}
thresholds:
  http_req_duration: ["p(95)<2000"]
  ws_msg_latency: ["p(95)<300"]
`, target.URL)))
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
		r := readReport(t, rep)
		tlsErrs := r.Summary.ErrorsByKind["tls"]
		if c.wantErr != (tlsErrs > 0) || (!c.wantErr && r.Summary.Requests == 0) {
			t.Errorf("insecure=%v: %d tls errors of %d requests", c.insecure, tlsErrs, r.Summary.Requests)
		}
	}
}

// --max-body: a response over it is a body_too_large error in the report,
// and the run goes on.
func TestProbeMaxBody(t *testing.T) {
	inLane(t, waiting)
	big := strings.Repeat("x", 8<<10)
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(big)) })
	rep := filepath.Join(t.TempDir(), "r.json")
	var out, errb bytes.Buffer
	code := runMain([]string{"probe", srv.URL, "--vus", "1", "--duration", "1s", "--think", "50ms", "--max-body", "4KiB",
		"--headless", "--report", rep}, &out, &errb)
	if code == exitUsage {
		t.Fatalf("exit %d; stderr: %s", code, errb.String())
	}
	r := readReport(t, rep)
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
	r, out := headlessReport(t, exitThreshold, "probe", slow.URL, "--rate", "50", "--duration", "2s", "--max-vus", "1")
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
	closed := refusedURL(t) + "/"
	r, out := headlessReport(t, exitThreshold, "probe", closed, "--vus", "2", "--duration", "2s")
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
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "forbidden", http.StatusForbidden)
	})
	r, out := headlessReport(t, exitThreshold, "run", writeScenario(t, fmt.Sprintf(`name: ws-refused
base_url: %s
groups:
  - {name: chat, executor: constant-vus, vus: 2, duration: 2s, think: 50ms, websocket: {url: /ws, send: hi, every: 100ms}}
`, srv.URL)))
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

package cli

import (
	"bytes"
	"encoding/base64"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/brink-load/brink/promquery/promtest"
	"github.com/brink-load/brink/report"
)

// TestNodeSourcePasswordNeverShown runs a probe whose --prom URL carries a
// password, against a Prometheus that refuses it and echoes the
// credentials and a screen-clearing escape back: neither reaches stderr,
// the report file or its events.
func TestNodeSourcePasswordNeverShown(t *testing.T) {
	inLane(t, waiting)
	const user, pw, token = "brinkuser", "S3cretPW-xyz", "T0kenValue-abc"
	basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + pw))
	prom := serve(t, func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"status":"error","errorType":"bad_data","error":"no\u001b[2J %s %s"}`, r.Header.Get("Authorization"), r.URL.RawQuery)
	})
	target := okServer(t, 0)

	for _, promURL := range []string{
		strings.Replace(prom.URL, "http://", "http://"+user+":"+pw+"@", 1) + "/?token=" + token,
		strings.Replace(prom.URL, "http://", "http://"+pw+"@", 1), // a bare user-info is a token
	} {
		probeAndLook(t, target.URL, promURL, []string{pw, token, basic})
	}
}

var escInJSON = regexp.MustCompile(`(^|[^\\])\\u001[bB]`)

func probeAndLook(t *testing.T, targetURL, promURL string, secrets []string) {
	t.Helper()
	rep := filepath.Join(t.TempDir(), "r.json")
	var out, errb bytes.Buffer
	code := runMain([]string{"probe", targetURL, "--vus", "1", "--duration", "2s", "--think", "100ms",
		"--prom", promURL, "--headless", "--progress", "1s", "--report", rep}, &out, &errb)
	if code == exitUsage {
		t.Fatalf("exit %d; stderr: %s", code, errb.String())
	}
	data, err := os.ReadFile(rep)
	if err != nil {
		t.Fatal(err)
	}
	r := readReport(t, rep)
	var failed []string
	for _, e := range r.Events {
		if e.Kind == report.EventSourceError {
			failed = append(failed, e.Text)
		}
	}
	if len(failed) == 0 {
		t.Fatalf("no source_error event; events %+v", r.Events)
	}
	t.Logf("event: %s", failed[0])
	for what, text := range map[string]string{"stdout": out.String(), "stderr": errb.String(), "report": string(data),
		"event": strings.Join(failed, "\n")} {
		for _, sec := range append(secrets, "\x1b") {
			if strings.Contains(text, sec) {
				t.Errorf("%s shows %q:\n%s", what, sec, text)
			}
		}
		// An ESC in the report file would be JSON's \u001b (the server's
		// own text "\u001b" is harmless, and written \\u001b).
		if what == "report" && escInJSON.MatchString(text) {
			t.Errorf("%s holds an escaped ESC:\n%s", what, text)
		}
	}
	if !strings.Contains(failed[0], "[redacted]") {
		t.Errorf("event %q does not say what was redacted", failed[0])
	}

	// brink nodes: the same failure, one line on stderr.
	code, stdout, stderr := runBrink("nodes", "--prom", promURL)
	for _, sec := range append(secrets, "\x1b") {
		if strings.Contains(stdout+stderr, sec) {
			t.Errorf("brink nodes (exit %d) shows %q: %s%s", code, sec, stdout, stderr)
		}
	}
}

func TestNodesUsageErrors(t *testing.T) {
	deadURL := refusedURL(t)
	// A Prometheus that knows no series at all.
	empty := serve(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
	})
	emptyToken := filepath.Join(t.TempDir(), "token")
	os.WriteFile(emptyToken, nil, 0o600)

	failing := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	})

	// README: 2 for what is wrong with the command (flags, URL, selector,
	// credential files), 1 when the source itself fails.
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no source", nil, exitUsage, "need a Prometheus URL or node_exporter URLs"},
		{"bad URL", []string{"--prom", "ftp://127.0.0.1/"}, exitUsage, "bad URL"},
		{"bad credentials file", []string{"--prom", empty.URL, "--prom-credentials-file", "/nonexistent/token"}, exitUsage, "credentials file /nonexistent/token: no such file or directory"},
		{"empty credentials file", []string{"--prom", empty.URL, "--prom-credentials-file", emptyToken}, exitUsage, "empty"},
		{"bad password file", []string{"--prom", empty.URL, "--prom-user", "u", "--prom-password-file", "/nonexistent/pw"}, exitUsage, "password file /nonexistent/pw"},
		{"bad prom-config", []string{"--prom", empty.URL, "--prom-config", "/nonexistent.yml"}, exitUsage, "prom config /nonexistent.yml"},
		{"bad names", []string{"--prom", empty.URL, "--names", "x"}, exitUsage, "--names: want key=value"},
		{"bad roles", []string{"--prom", empty.URL, "--roles", "db=("}, exitUsage, "bad regexp"},
		{"bad selector", []string{"--prom", empty.URL, "--match", "{job=}"}, exitUsage, "label matchers"},
		{"stray argument", []string{"--prom", empty.URL, "extra"}, exitUsage, `unexpected argument "extra"`},
		{"unreachable prometheus", []string{"--prom", deadURL}, exitFailure, "unreachable: connection refused"},
		{"unreachable exporter", []string{"--scrape", deadURL + "/metrics"}, exitFailure, "unreachable: connection refused"},
		{"prometheus HTTP 500", []string{"--prom", failing.URL}, exitFailure, "HTTP 500"},
		{"exporter HTTP 500", []string{"--scrape", failing.URL + "/metrics"}, exitFailure, "HTTP 500"},
		{"matches nothing", []string{"--prom", empty.URL, "--match", `{job="nope"}`}, exitFailure, `selector {job="nope"} matches no targets`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runBrink(append([]string{"nodes"}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			if out != "" {
				t.Errorf("stdout %q", out)
			}
			if strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.want) || !strings.HasPrefix(errOut, "brink nodes: ") {
				t.Errorf("stderr %q, want one line containing %q", errOut, tc.want)
			}
		})
	}
}

func TestNodesRealServers(t *testing.T) {
	promtest.Long(t, "starts real servers")
	inLane(t, waiting)
	neURL := promtest.StartNodeExporter(t)
	u, _ := url.Parse(neURL)
	promURL := promtest.StartPrometheus(t, promtest.Target{Addr: u.Host, Labels: map[string]string{"node": "db-3", "role": "db"}})

	tests := []struct {
		name string
		args []string
	}{
		{"prometheus", []string{"--prom", promURL, "--name-label", "node", "--role-label", "role"}},
		{"direct scrape", []string{"--scrape", neURL, "--names", u.Host + "=db-3", "--roles", "db=db-.*"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runBrink(append([]string{"nodes"}, tc.args...)...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 2 || !strings.HasPrefix(lines[0], "NODE") {
				t.Fatalf("table:\n%s", out)
			}
			f := strings.Fields(lines[1])
			if f[0] != "db-3" || f[1] != "db" || f[2] != u.Host || f[3] == "-" || strings.Contains(lines[1], "stale") {
				t.Errorf("row %q", lines[1])
			}
			t.Logf("\n%s", out)
		})
	}
	t.Run("matches nothing on a real server", func(t *testing.T) {
		code, _, errOut := runBrink("nodes", "--prom", promURL, "--match", `{job="nope"}`)
		if code != exitFailure || !strings.Contains(errOut, "matches no targets") {
			t.Errorf("exit %d, %q", code, errOut)
		}
	})
}

// TestNodesInterrupted: Ctrl-C while the poll waits is exit 105, as for a
// run stopped from outside. The server sends the signal once the request
// is in, so brink's handler is surely installed by then.
func TestNodesInterrupted(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		syscall.Kill(os.Getpid(), syscall.SIGINT)
		select { // until brink gives up, at most 10 s
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	code, out, errOut := runBrink("nodes", "--scrape", srv.URL+"/metrics", "--timeout", "20s")
	if code != exitExternalAbort || out != "" || !strings.Contains(errOut, "interrupted") {
		t.Errorf("exit %d, stdout %q, stderr %q; want 105", code, out, errOut)
	}
}

// TestNodeFlagsEverywhere: every command that watches nodes takes the same
// node-source flags (README lists them once).
func TestNodeFlagsEverywhere(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	addNodeFlags(fs, &nodeFlags{})
	var want []string
	fs.VisitAll(func(f *flag.Flag) { want = append(want, f.Name) })
	if len(want) < 17 {
		t.Fatalf("only %d node flags: %v", len(want), want)
	}
	for _, cmd := range []string{"run", "probe", "demo", "nodes"} {
		var o, e strings.Builder
		if code := runMain([]string{cmd, "--help"}, &o, &e); code != exitOK {
			t.Errorf("%s --help: exit %d", cmd, code)
		}
		for _, name := range want {
			if !strings.Contains(e.String(), "  -"+name+" ") && !strings.Contains(e.String(), "  -"+name+"\n") {
				t.Errorf("%s has no -%s", cmd, name)
			}
		}
	}
}

// TestRunNodeAuthFlags: --prom-user and --prom-password-file reach the
// node source of a run: a Prometheus that wants basic auth sees them.
func TestRunNodeAuthFlags(t *testing.T) {
	inLane(t, waiting)
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("hunter2-long\n"), 0o600)
	var authed atomic.Int32
	prom := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); ok && u == "watcher" && p == "hunter2-long" {
			authed.Add(1)
		}
		w.WriteHeader(http.StatusUnauthorized)
	})
	target := okServer(t, 0)
	var o, e strings.Builder
	code := runMain([]string{"probe", target.URL, "--vus", "1", "--duration", "1s", "--think", "100ms", "--headless",
		"--report", filepath.Join(t.TempDir(), "r.json"), "--prom", prom.URL, "--prom-user", "watcher",
		"--prom-password-file", pwFile}, &o, &e)
	if code == exitUsage || authed.Load() == 0 {
		t.Errorf("exit %d, %d authenticated requests; stderr %s", code, authed.Load(), e.String())
	}
}

// A node that crosses its threshold from below under load fails the run
// for CI (exit 99); one already over before the load is said so and is no
// breakpoint (exit 98: it could not be judged); a node source that cannot
// be reached is said on stderr, not only in the report.
func TestNodeCrossingExits99AndNodeTroubleIsSaid(t *testing.T) {
	var loaded atomic.Bool // the target has seen load
	target := serve(t, func(w http.ResponseWriter, r *http.Request) {
		loaded.Store(true)
		time.Sleep(time.Millisecond)
		w.Write([]byte("ok"))
	})
	rising := risingNode(t, &loaded)
	node := fakeNode(t, 0) // load1 150 from the start
	dir := t.TempDir()
	write := func(scrape string) string {
		return writeScenario(t, fmt.Sprintf(`name: nodes
base_url: %s
sustain: 1s
groups:
  - {name: g, executor: constant-vus, vus: 1, duration: 4s, think: 20ms, requests: [{url: /}]}
nodes:
  scrape: [%q]
  roles: {db: "db-.*"}
  thresholds: [{metric: load1, above: 100, role: db}]
`, target.URL, scrape))
	}
	var out, errb bytes.Buffer
	code := runMain([]string{"run", write(rising.URL + "/nodes/db-3/metrics"), "--headless",
		"--report", filepath.Join(dir, "r0.json")}, &out, &errb)
	if code != exitThreshold {
		t.Fatalf("node crossing under load: exit %d, want 99; stderr: %s", code, errb.String())
	}
	r := readReport(t, filepath.Join(dir, "r0.json"))
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
	code = runMain([]string{"run", write(node.URL + "/nodes/db-3/metrics"), "--headless",
		"--report", filepath.Join(dir, "r1.json")}, &out, &errb)
	if code != exitInconclusive {
		t.Fatalf("node over before the load: exit %d, want 98; stderr: %s", code, errb.String())
	}
	r = readReport(t, filepath.Join(dir, "r1.json"))
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
	code = runMain([]string{"run", write("http://127.0.0.1:1/nodes/db-3/metrics"), "--headless",
		"--report", filepath.Join(dir, "r2.json")}, &out, &errb)
	// Node thresholds never judged: the run is inconclusive, not a pass.
	if code != exitInconclusive || !strings.Contains(errb.String(), "brink: nodes: ") {
		t.Fatalf("dead node source: exit %d, want 98; stderr %q", code, errb.String())
	}
	r = readReport(t, filepath.Join(dir, "r2.json"))
	if len(r.Verdict.Inconclusive) != 1 || r.Verdict.Inconclusive[0].Kind != report.InconclusiveNodesDown {
		t.Fatalf("verdict.inconclusive %+v, want nodes_down", r.Verdict.Inconclusive)
	}
	if !strings.Contains(out.String(), "node metrics were missing") || !strings.Contains(out.String(), "exit code 98") {
		t.Fatalf("summary does not say what could not be judged:\n%s", out.String())
	}
}

// Package promtest starts real node_exporter and Prometheus servers for
// tests, on free loopback ports, and stops them when the test ends. The
// Debian packages' own services (ports 9090/9100) are never used.
//
// A missing binary skips the test, unless BRINK_REQUIRE_SERVERS=1 (set by
// CI), which makes it fail. Long opens every test, in any package, that
// -short leaves out.
package promtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/brink-load/brink/testout"
)

// Binaries are looked up on PATH by these names (Debian's), then by the
// upstream names.
var (
	NodeExporterNames = []string{"prometheus-node-exporter", "node_exporter"}
	PrometheusNames   = []string{"prometheus"}
)

// Long opens a test that runs for seconds or starts real servers: it skips
// in -short mode (also under BRINK_REQUIRE_SERVERS=1, which only judges
// missing binaries), saying why the test is long.
func Long(t testing.TB, why string) {
	t.Helper()
	if testing.Short() {
		t.Skip(why)
	}
}

// RequireServers reports whether a missing server binary must fail tests.
func RequireServers() bool { return os.Getenv("BRINK_REQUIRE_SERVERS") == "1" }

// Binary finds a server binary, or skips (fails under BRINK_REQUIRE_SERVERS=1).
func Binary(t testing.TB, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("%s not installed (apt-get install -y %s)", names[0], names[0])
	if RequireServers() {
		t.Fatal(msg + "; BRINK_REQUIRE_SERVERS=1")
	} else {
		t.Skip(msg)
	}
	return ""
}

// FreeAddr returns a 127.0.0.1:port that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// Target is one scrape target for StartPrometheus.
type Target struct {
	Addr        string            // host:port
	MetricsPath string            // default /metrics
	Labels      map[string]string // target labels, e.g. node, role
	Job         string            // default "node"
	// Late: the target comes up after Prometheus (a run's --metrics), so
	// StartPrometheus does not wait for it to be scraped.
	Late bool
}

// NodeExporterArgs are the flags StartNodeExporter passes besides the
// listen address: only the collectors brink reads, so a scrape stays a few
// milliseconds and the output small.
var NodeExporterArgs = []string{
	"--collector.disable-defaults",
	"--no-collector.systemd",
	"--collector.cpu", "--collector.diskstats", "--collector.loadavg",
	"--collector.meminfo", "--collector.netdev", "--collector.stat",
}

// StartNodeExporter starts node_exporter on a free loopback port and
// returns its metrics URL (http://127.0.0.1:PORT/metrics) once it answers.
func StartNodeExporter(t testing.TB) string {
	t.Helper()
	bin := Binary(t, NodeExporterNames...)
	var u string
	for attempt := 0; attempt < 3; attempt++ {
		addr := FreeAddr(t)
		args := append([]string{"--web.listen-address=" + addr}, NodeExporterArgs...)
		p := start(t, bin, args...)
		u = "http://" + addr + "/metrics"
		if waitHTTP(u, 10*time.Second, p.exited) {
			return u
		}
		p.stop()
		t.Logf("node_exporter on %s did not come up (attempt %d):\n%s", addr, attempt+1, p.log())
	}
	t.Fatalf("node_exporter did not start")
	return ""
}

// StartPrometheus starts Prometheus scraping targets every second (job
// "node" unless a target says otherwise) with a temporary TSDB, waits until
// it is ready and every target has been scraped successfully at least
// twice (so rate() has two points), and returns its base URL.
func StartPrometheus(t testing.TB, targets ...Target) string {
	t.Helper()
	return StartPrometheusArgs(t, nil, targets...)
}

// StartPrometheusArgs is StartPrometheus with more command-line flags
// (e.g. --enable-feature=native-histograms).
func StartPrometheusArgs(t testing.TB, args []string, targets ...Target) string {
	t.Helper()
	bin := Binary(t, PrometheusNames...)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(PrometheusConfig(targets...)), 0o644); err != nil {
		t.Fatal(err)
	}
	for attempt := 0; attempt < 3; attempt++ {
		addr := FreeAddr(t)
		p := start(t, bin, append([]string{
			"--config.file=" + cfg,
			"--storage.tsdb.path=" + filepath.Join(dir, fmt.Sprintf("data%d", attempt)),
			"--web.listen-address=" + addr,
			"--storage.tsdb.retention.time=1h",
			"--log.level=warn",
		}, args...)...)
		base := "http://" + addr
		if !waitHTTP(base+"/-/ready", 30*time.Second, p.exited) {
			p.stop()
			t.Logf("prometheus on %s did not become ready (attempt %d):\n%s", addr, attempt+1, p.log())
			continue
		}
		if err := waitScraped(base, onTime(targets), 30*time.Second); err != nil {
			t.Fatalf("prometheus: %v\n%s", err, p.log())
		}
		return base
	}
	t.Fatalf("prometheus did not start")
	return ""
}

// onTime counts the targets StartPrometheus waits for (all but Late ones).
func onTime(targets []Target) int {
	n := 0
	for _, tg := range targets {
		if !tg.Late {
			n++
		}
	}
	return n
}

// PrometheusConfig is the prometheus.yml StartPrometheus writes: 1s scrape
// interval and timeout, targets grouped by job.
func PrometheusConfig(targets ...Target) string {
	var b strings.Builder
	b.WriteString("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n")
	jobs := map[string][]Target{}
	var names []string
	for _, tg := range targets {
		j := tg.Job
		if j == "" {
			j = "node"
		}
		if _, ok := jobs[j]; !ok {
			names = append(names, j)
		}
		jobs[j] = append(jobs[j], tg)
	}
	for _, j := range names {
		fmt.Fprintf(&b, "  - job_name: %q\n", j)
		// A target's own path goes in its __metrics_path__ label, which
		// Prometheus honours per target (the demo serves /nodes/NAME/metrics).
		b.WriteString("    static_configs:\n")
		for _, tg := range jobs[j] {
			fmt.Fprintf(&b, "      - targets: [%q]\n", tg.Addr)
			labels := map[string]string{}
			for k, v := range tg.Labels {
				labels[k] = v
			}
			if tg.MetricsPath != "" && tg.MetricsPath != "/metrics" {
				labels["__metrics_path__"] = tg.MetricsPath
			}
			if len(labels) > 0 {
				keys := make([]string, 0, len(labels))
				for k := range labels {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				b.WriteString("        labels:\n")
				for _, k := range keys {
					fmt.Fprintf(&b, "          %s: %q\n", k, labels[k])
				}
			}
		}
	}
	return b.String()
}

// process is a started server with its combined output kept for failure
// messages.
type process struct {
	cmd    *exec.Cmd
	out    *SyncBuffer
	exited chan struct{}
	once   sync.Once
}

func start(t testing.TB, bin string, args ...string) *process {
	t.Helper()
	p := &process{out: &SyncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	// Own process group, so a stop reaches only what this test started.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(bin), p.log())
		}
	})
	return p
}

// stop asks the server to exit, and kills it after 5s.
func (p *process) stop() {
	p.once.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
}

func (p *process) log() string {
	s := p.out.String()
	if len(s) > 4000 {
		s = "…" + s[len(s)-4000:]
	}
	return s
}

// SyncBuffer collects output that another goroutine writes while a test
// reads it (testout.Buffer, under the name this harness's callers use).
type SyncBuffer = testout.Buffer

// waitHTTP polls u until it answers 200, the process exits, or the time is up.
func waitHTTP(u string, limit time.Duration, exited <-chan struct{}) bool {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		resp, err := client.Get(u)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// waitScraped waits until every target is up and has at least two samples
// of node_load1 in the last minute, so rates and timestamps exist.
func waitScraped(base string, targets int, limit time.Duration) error {
	if targets == 0 {
		return nil
	}
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: 2 * time.Second}
	var last string
	for time.Now().Before(deadline) {
		n, err := QueryCount(context.Background(), client, base, `count_over_time(up[1m]) >= 3 and up == 1`)
		if err == nil && n >= targets {
			return nil
		}
		last = fmt.Sprintf("%d of %d targets scraped (err %v)", n, targets, err)
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("targets not scraped in %s: %s", limit, last)
}

// QueryCount runs an instant query and returns how many series it gave.
func QueryCount(ctx context.Context, client *http.Client, base, q string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/query?query="+url.QueryEscape(q), nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
		Error string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, err
	}
	if r.Status != "success" {
		return 0, fmt.Errorf("query %s: %s", q, r.Error)
	}
	return len(r.Data.Result), nil
}

// Series is one series of an instant query's answer: its labels, and its
// value (an instant vector) or its raw samples as (Unix seconds, value) (a
// range vector).
type Series struct {
	Labels  map[string]string
	Value   float64
	Samples [][2]float64
}

// Query runs an instant query against the Prometheus at base, at the time
// at (now when at is zero), and fails t on any error.
func Query(t testing.TB, base, q string, at time.Time) []Series {
	t.Helper()
	u := base + "/api/v1/query?query=" + url.QueryEscape(q)
	if !at.IsZero() {
		u += "&time=" + strconv.FormatFloat(float64(at.UnixNano())/1e9, 'f', 3, 64)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  *[2]any           `json:"value"`
				Values [][2]any          `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Status != "success" {
		t.Fatalf("query %s: %v %s", q, err, r.Error)
	}
	var out []Series
	for _, s := range r.Data.Result {
		se := Series{Labels: s.Metric}
		if s.Value != nil {
			str, _ := s.Value[1].(string)
			v, err := strconv.ParseFloat(str, 64)
			if err != nil {
				t.Fatalf("query %s: value %v", q, *s.Value)
			}
			se.Value = v
		}
		for _, p := range s.Values {
			ts, _ := p[0].(float64)
			str, _ := p[1].(string)
			v, err := strconv.ParseFloat(str, 64)
			if err != nil {
				t.Fatalf("query %s: sample %v", q, p)
			}
			se.Samples = append(se.Samples, [2]float64{ts, v})
		}
		out = append(out, se)
	}
	return out
}

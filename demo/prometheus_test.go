package demo

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/promquery"
	"github.com/brink-load/brink/promquery/promtest"
)

// TestRealPrometheusScrapesDemo points a real Prometheus at the demo (as
// `brink demo --listen` invites) and reads the nodes back through
// promquery's Prometheus source: six nodes named and roled by label, and
// db-3's load1 past db-2's under a read burst. Skips without prometheus
// unless BRINK_REQUIRE_SERVERS=1.
func TestRealPrometheusScrapesDemo(t *testing.T) {
	promtest.Long(t, "starts Prometheus")
	s := startDemo(t, Options{Speed: 100})
	u, _ := url.Parse(s.BaseURL())
	var targets []promtest.Target
	for _, n := range DefaultNodes() {
		targets = append(targets, promtest.Target{Addr: u.Host, MetricsPath: "/nodes/" + n.Name + "/metrics",
			Labels: map[string]string{"node": n.Name, "role": n.Role}})
	}
	prom := promtest.StartPrometheus(t, targets...)
	src, err := promquery.New(promquery.Config{Prometheus: prom, NameLabel: "node", RoleLabel: "role", Interval: time.Second})
	if err != nil {
		t.Fatal(err)
	}

	// The burst lasts until Prometheus has seen it on db-3 (scrapes are 1 s
	// apart; a busy machine may need many), 30 s at most.
	burstCtx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		drive(burstCtx, t, s.BaseURL(), 48, 10000, 30*time.Second, func(w, i int) (string, string) {
			return "GET", fmt.Sprintf("/api/rooms/%d/messages", 1+(w+i)%Rooms)
		})
	}()
	defer wg.Wait()
	defer stop()

	deadline := time.Now().Add(30 * time.Second)
	var last measure.Poll
	for time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		p, err := src.Poll(ctx)
		cancel()
		if err != nil {
			continue
		}
		last = p
		by := map[string]measure.Sample{}
		for _, smp := range p.Samples {
			by[smp.Node] = smp
		}
		// db-3 takes the reads: its load, its reads and its CPU time
		// (busy by node-mixin's rule, plus the iowait that rule leaves
		// out: db-3 is disk-bound) pass db-2's. The rates lag the load
		// average by their window, so wait until all show it.
		d3, d2 := by["db-3"], by["db-2"]
		if d3.Load1 > 10 && d3.Load1 > 2*d2.Load1 && d3.ReadBps > d2.ReadBps && d3.CPU+d3.IOWait > d2.CPU+d2.IOWait {
			if len(by) != 6 || by["db-3"].Role != "db" || by["web-1"].Role != "web" || by["redis-1"].Role != "cache" {
				t.Errorf("nodes %v: want 6 named by label with roles", by)
			}
			t.Logf("through Prometheus: db-3 load1 %.1f cpu %.1f%% iowait %.1f%% disk %.1f%%, db-2 load1 %.1f cpu %.1f%%",
				d3.Load1, d3.CPU, d3.IOWait, d3.DiskUtil, d2.Load1, d2.CPU)
			return
		}
	}
	t.Fatalf("db-3 never showed load, reads and CPU time past db-2 through Prometheus; last poll: %+v", last)
}

// TestPrometheusConfigValid checks the config `brink demo --listen
// --prometheus-config` writes with promtool, when it is installed.
func TestPrometheusConfigValid(t *testing.T) {
	cfg, err := PrometheusConfig("http://127.0.0.1:8080", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := PrometheusConfig("::bad", nil); err == nil {
		t.Error("bad base URL: no error")
	}
	// One instance per machine: the dashboard's node panels group and
	// match by instance, which the shared address would make one.
	var doc struct {
		ScrapeConfigs []struct {
			StaticConfigs []struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal([]byte(cfg), &doc); err != nil || len(doc.ScrapeConfigs) != 1 {
		t.Fatalf("config: %v\n%s", err, cfg)
	}
	seen := map[string]bool{}
	for _, sc := range doc.ScrapeConfigs[0].StaticConfigs {
		in := sc.Labels["instance"]
		if in == "" || seen[in] || in != sc.Labels["node"] {
			t.Errorf("target %v: want its own instance, the node's name", sc.Labels)
		}
		seen[in] = true
	}
	bin := promtest.Binary(t, "promtool")
	path := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "check", "config", path).CombinedOutput(); err != nil {
		t.Fatalf("promtool check config: %v\n%s\n%s", err, out, cfg)
	}
}

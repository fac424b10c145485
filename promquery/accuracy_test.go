package promquery

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/promquery/promtest"
)

// clockExporter serves node_exporter text whose counters grow at known,
// constant rates in real time, so both sources' arithmetic (and the PromQL
// the Prometheus source sends) can be checked against exact answers.
func clockExporter(t *testing.T) *httptest.Server {
	start := time.Now()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if nodesPath.FindStringSubmatch(r.URL.Path) == nil {
			http.NotFound(w, r)
			return
		}
		el := time.Since(start).Seconds() + 1000
		f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
		var b strings.Builder
		b.WriteString("# TYPE node_cpu_seconds_total counter\n")
		for cpu := 0; cpu < 2; cpu++ {
			// Per cpu-second: user .4, iowait .1, idle .25, steal .05 — .8
			// in all, as on a VM whose idle accounting lags — → node-mixin
			// busy 1-(.25+.1+.05) = 60 %, iowait 10 % (not 1-.4/.8 = 50 %
			// busy and 12.5 % iowait, shares of all modes).
			for _, m := range []struct {
				mode string
				rate float64
			}{{"user", .4}, {"iowait", .1}, {"idle", .25}, {"steal", .05}, {"system", 0}} {
				fmt.Fprintf(&b, "node_cpu_seconds_total{cpu=\"%d\",mode=%q} %s\n", cpu, m.mode, f(m.rate*el))
			}
		}
		fmt.Fprintf(&b, "# TYPE node_disk_io_time_seconds_total counter\nnode_disk_io_time_seconds_total{device=\"sda\"} %s\nnode_disk_io_time_seconds_total{device=\"sdb\"} %s\n", f(.25*el), f(.75*el))
		fmt.Fprintf(&b, "# TYPE node_disk_read_bytes_total counter\nnode_disk_read_bytes_total{device=\"sda\"} %s\n", f(1000*el))
		fmt.Fprintf(&b, "# TYPE node_disk_written_bytes_total counter\nnode_disk_written_bytes_total{device=\"sda\"} %s\nnode_disk_written_bytes_total{device=\"sdb\"} %s\n", f(1500*el), f(500*el))
		fmt.Fprintf(&b, "# TYPE node_network_receive_bytes_total counter\nnode_network_receive_bytes_total{device=\"eth0\"} %s\nnode_network_receive_bytes_total{device=\"lo\"} %s\n", f(300*el), f(1e6*el))
		fmt.Fprintf(&b, "# TYPE node_network_transmit_bytes_total counter\nnode_network_transmit_bytes_total{device=\"eth0\"} %s\nnode_network_transmit_bytes_total{device=\"lo\"} %s\n", f(400*el), f(1e6*el))
		b.WriteString("# TYPE node_load1 gauge\nnode_load1 3.5\n")
		b.WriteString("# TYPE node_memory_MemAvailable_bytes gauge\nnode_memory_MemAvailable_bytes 2e+09\n")
		b.WriteString("# TYPE node_memory_MemTotal_bytes gauge\nnode_memory_MemTotal_bytes 8e+09\n")
		fmt.Fprint(w, b.String())
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestAccuracyRealPrometheus has a real Prometheus scrape two clock
// exporters through /nodes/NAME/metrics paths (as the demo serves them) and
// checks both sources against the exact rates.
func TestAccuracyRealPrometheus(t *testing.T) {
	promtest.Long(t, "starts a real Prometheus")
	exp := clockExporter(t)
	addr := strings.TrimPrefix(exp.URL, "http://")
	promURL := promtest.StartPrometheus(t,
		promtest.Target{Addr: addr, MetricsPath: "/nodes/db-7/metrics", Labels: map[string]string{"node": "db-7", "role": "db"}, Job: "demo-db7"},
		promtest.Target{Addr: addr, MetricsPath: "/nodes/web-12/metrics", Labels: map[string]string{"node": "web-12", "role": "web"}, Job: "demo-web12"},
	)
	wantSample := measure.Sample{CPU: 60, IOWait: 10, DiskUtil: 75, DiskDevice: "sdb", ReadBps: 1000, WriteBps: 2000,
		Load1: 3.5, Cores: 2, Load1PerCore: 1.75, Mem: 75, NetRxBps: 300, NetTxBps: 400}

	// Two jobs on one host:port: instance is the same, so the name label
	// must be part of the grouping to keep them apart.
	prom := mustNew(t, Config{Prometheus: promURL, Match: `{job=~"demo-.*"}`, NameLabel: "node", RoleLabel: "role"})
	direct := mustNew(t, Config{Scrape: []string{exp.URL + "/nodes/db-7/metrics", exp.URL + "/nodes/web-12/metrics"},
		Roles: []Role{{"db", "db-.*"}, {"web", "web-.*"}}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	direct.Poll(ctx)
	time.Sleep(time.Second)
	for name, src := range map[string]Source{"prometheus": prom, "direct": direct} {
		var p measure.Poll
		var err error
		for ctx.Err() == nil {
			p, err = src.Poll(ctx)
			if err == nil && len(p.Samples) == 2 && !math.IsNaN(p.Samples[0].CPU) && !math.IsNaN(p.Samples[1].CPU) {
				break
			}
			time.Sleep(300 * time.Millisecond)
		}
		if len(p.Samples) != 2 {
			t.Fatalf("%s: poll %+v, %v", name, p, err)
		}
		for i, node := range []struct{ name, role string }{{"db-7", "db"}, {"web-12", "web"}} {
			s := p.Samples[i]
			t.Logf("%s: %+v", name, s)
			if s.Node != node.name || s.Role != node.role || s.Instance != addr || s.Stale {
				t.Errorf("%s: node %q role %q instance %q stale %v", name, s.Node, s.Role, s.Instance, s.Stale)
			}
			if s.DiskDevice != "sdb" || s.Cores != 2 {
				t.Errorf("%s: device %q cores %d", name, s.DiskDevice, s.Cores)
			}
			for _, m := range measure.MetricNames {
				got, _ := s.Metric(m)
				wantV, _ := wantSample.Metric(m)
				// Scrape timing jitter (ms per 1s step) is the only error.
				if math.IsNaN(got) || math.Abs(got-wantV) > 0.05*wantV+0.5 {
					t.Errorf("%s %s %s = %.3f, want %.3f", name, s.Node, m, got, wantV)
				}
			}
		}
	}
	if prom.Interval() != time.Second {
		t.Errorf("interval %s, want 1s", prom.Interval())
	}

	// The exporter dies: Prometheus marks the target down and its series
	// stale; both sources keep the last values, marked stale with why.
	exp.Close()
	for src, reason := range map[Source]string{prom: "target down", direct: "unreachable"} {
		var p measure.Poll
		for ctx.Err() == nil {
			p, _ = src.Poll(ctx)
			if len(p.Samples) == 2 && p.Samples[0].Stale && p.Samples[1].Stale {
				break
			}
			time.Sleep(300 * time.Millisecond)
		}
		for _, s := range p.Samples {
			if !s.Stale || !strings.Contains(s.StaleReason, reason) || s.Load1 != 3.5 {
				t.Errorf("%s after the exporter died: %+v", src.Describe(), s)
			}
		}
	}
}

package measure

import (
	"math"
	"testing"
)

// Every row of the node-metric table is whole: a field of Sample of its
// own, a scrape formula, and a Prometheus query unless it is derived
// (load1_per_core), so no metric validates as a threshold and is never
// computed by one of the two sources.
func TestNodeMetricTable(t *testing.T) {
	seen := map[string]bool{}
	for i, m := range NodeMetrics {
		if m.Name == "" || seen[m.Name] {
			t.Errorf("row %d: name %q empty or repeated", i, m.Name)
		}
		seen[m.Name] = true
		if m.field == nil || m.Scrape == nil {
			t.Errorf("%s: no Sample field or no scrape formula", m.Name)
			continue
		}
		if (m.PromQL == nil) != (m.Name == "load1_per_core") || (m.Key == "") != (m.PromQL == nil) {
			t.Errorf("%s: query %v, key %q: every metric but load1_per_core has a keyed query", m.Name, m.PromQL != nil, m.Key)
		}
		switch m.Unit {
		case "%", "B/s", "":
		default:
			t.Errorf("%s: unit %q", m.Name, m.Unit)
		}
	}
	// Each row reads and writes its own field.
	s := NaNSample()
	for i, m := range NodeMetrics {
		m.Set(&s, float64(i))
	}
	for i, m := range NodeMetrics {
		if v, ok := s.Metric(m.Name); !ok || v != float64(i) {
			t.Errorf("%s = %v (ok %v), want %d: rows share a field", m.Name, v, ok, i)
		}
	}
	if _, ok := s.Metric("nope"); ok {
		t.Error("an unknown metric has a value")
	}
}

// The scrape formulas read a node's rates and gauges as the queries have
// Prometheus do: busy is node-mixin's 1 - avg over cpus of
// (idle+iowait+steal); no series of a kind leaves its metric unknown.
func TestNodeMetricScrape(t *testing.T) {
	n := NodeRates{
		CPU: map[string]map[string]float64{
			"0": {"idle": 0.5, "iowait": 0.1, "steal": 0, "user": 0.4},
			"1": {"idle": 0.3, "iowait": 0.1, "user": 0.6},
		},
		DiskIO:   map[string]float64{"sda": 0.2, "sdb": 0.7, "sdc": 0.7},
		DiskRead: map[string]float64{"sda": 100, "sdb": 50},
		NetRx:    map[string]float64{"eth0": 10},
		Load1:    3, Cores: 2, MemAvail: 1, MemTotal: 4,
	}
	want := map[string]float64{"cpu": 1 - 0.5, "iowait": 0.1, "disk_util": 0.7, "load1": 3,
		"load1_per_core": 1.5, "mem": 0.75, "read_bps": 150, "net_rx_bps": 10}
	for _, m := range NodeMetrics {
		got := m.Scrape(&n)
		w, ok := want[m.Name]
		if !ok {
			if !math.IsNaN(got) {
				t.Errorf("%s = %v with no series, want NaN", m.Name, got)
			}
			continue
		}
		if math.Abs(got-w) > 1e-9 {
			t.Errorf("%s = %v, want %v", m.Name, got, w)
		}
	}
	if dev, _ := n.BusiestDisk(); dev != "sdb" {
		t.Errorf("busiest disk %q, want sdb (ties go to the smaller name)", dev)
	}
}

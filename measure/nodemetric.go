package measure

import (
	"math"
	"slices"
)

// NodeMetric is one row of the node-metric table: everything brink knows
// of one node metric. The Prometheus source's queries, the direct
// scraper's formulas, the names scenarios accept in node thresholds and
// the console's columns all come from NodeMetrics, so a metric is added or
// removed in one place.
type NodeMetric struct {
	// Name is the threshold name and the JSON field: a contract.
	Name string
	// Unit is "%", "B/s", or "" for a plain number (load).
	Unit string
	// Key names the metric's query in a poll's warnings ("query disk: …").
	Key string
	// Column is the console's node-panel title; "" when not a column.
	Column string
	// PromQL is the Prometheus expression, one series per node; nil for a
	// metric derived from others (load1_per_core = load1 / cores). A "%"
	// metric's query gives a ratio (0..1).
	PromQL func(q PromQL) string
	// Scrape computes the metric from node_exporter counters' rates and
	// gauges, as PromQL has Prometheus compute it: the same rule.
	Scrape func(n *NodeRates) float64
	// BusiestDevice: the value is that of the busiest device, whose name
	// the series' device label (or NodeRates.BusiestDisk) gives.
	BusiestDevice bool

	field func(*Sample) *float64
}

// The node selector and name label when none is given: node_exporter's
// usual job, and the instance label. scenarios (the nodes section's
// defaults) and promquery (a Config left empty) both take them from here.
const (
	DefaultNodeMatch = `{job="node"}`
	DefaultNameLabel = "instance"
)

// PromQL builds a node query for one configured source.
type PromQL struct {
	By   string                            // the node labels to aggregate by
	With func(metric, extra string) string // a selector with the source's matchers and extra ones
	Rate func(sel string) string           // rate(sel[window])
}

// NodeRates is what two scrapes of one node_exporter give: counter rates
// per second and the latest gauges. A map with no series makes a metric
// built from it unknown (NaN).
type NodeRates struct {
	CPU                       map[string]map[string]float64 // cpu → mode → cpu-seconds/s
	DiskIO, DiskRead, DiskWrt map[string]float64            // device → seconds/s, bytes/s
	NetRx, NetTx              map[string]float64            // device → bytes/s, loopback left out
	Load1, MemAvail, MemTotal float64
	Cores                     int
}

// NodeMetrics is the table, in display order (MetricNames' order).
var NodeMetrics = []NodeMetric{
	{Name: "cpu", Unit: "%", Key: "cpu", Column: "cpu",
		// node-mixin's rule: 1 - avg over cpus of (idle+iowait+steal).
		PromQL: func(q PromQL) string {
			return "1 - avg by (" + q.By + ") (sum by (" + q.By + ",cpu) (" +
				q.Rate(q.With("node_cpu_seconds_total", `mode=~"idle|iowait|steal"`)) + "))"
		},
		Scrape: func(n *NodeRates) float64 { return 1 - n.cpuAvg("idle", "iowait", "steal") },
		field:  func(s *Sample) *float64 { return &s.CPU }},
	{Name: "iowait", Unit: "%", Key: "iowait", Column: "iowait",
		PromQL: func(q PromQL) string {
			return "avg by (" + q.By + ") (sum by (" + q.By + ",cpu) (" +
				q.Rate(q.With("node_cpu_seconds_total", `mode="iowait"`)) + "))"
		},
		Scrape: func(n *NodeRates) float64 { return n.cpuAvg("iowait") },
		field:  func(s *Sample) *float64 { return &s.IOWait }},
	{Name: "disk_util", Unit: "%", Key: "disk", Column: "disk", BusiestDevice: true,
		PromQL: func(q PromQL) string {
			return "topk by (" + q.By + ") (1, " + q.Rate(q.With("node_disk_io_time_seconds_total", "")) + ")"
		},
		Scrape: func(n *NodeRates) float64 { _, v := n.BusiestDisk(); return v },
		field:  func(s *Sample) *float64 { return &s.DiskUtil }},
	{Name: "load1", Key: "load1", Column: "load1/core",
		PromQL: func(q PromQL) string { return "max by (" + q.By + ") (" + q.With("node_load1", "") + ")" },
		Scrape: func(n *NodeRates) float64 { return n.Load1 },
		field:  func(s *Sample) *float64 { return &s.Load1 }},
	{Name: "load1_per_core",
		Scrape: func(n *NodeRates) float64 {
			if n.Cores > 0 {
				return n.Load1 / float64(n.Cores)
			}
			return math.NaN()
		},
		field: func(s *Sample) *float64 { return &s.Load1PerCore }},
	{Name: "mem", Unit: "%", Key: "mem", Column: "mem",
		PromQL: func(q PromQL) string {
			return "1 - sum by (" + q.By + ") (" + q.With("node_memory_MemAvailable_bytes", "") +
				") / sum by (" + q.By + ") (" + q.With("node_memory_MemTotal_bytes", "") + ")"
		},
		Scrape: func(n *NodeRates) float64 {
			if n.MemTotal > 0 {
				return 1 - n.MemAvail/n.MemTotal
			}
			return math.NaN()
		},
		field: func(s *Sample) *float64 { return &s.Mem }},
	{Name: "read_bps", Unit: "B/s", Key: "read", PromQL: sumRate("node_disk_read_bytes_total", ""),
		Scrape: func(n *NodeRates) float64 { return sum(n.DiskRead) },
		field:  func(s *Sample) *float64 { return &s.ReadBps }},
	{Name: "write_bps", Unit: "B/s", Key: "write", PromQL: sumRate("node_disk_written_bytes_total", ""),
		Scrape: func(n *NodeRates) float64 { return sum(n.DiskWrt) },
		field:  func(s *Sample) *float64 { return &s.WriteBps }},
	{Name: "net_rx_bps", Unit: "B/s", Key: "rx", PromQL: sumRate("node_network_receive_bytes_total", `device!="lo"`),
		Scrape: func(n *NodeRates) float64 { return sum(n.NetRx) },
		field:  func(s *Sample) *float64 { return &s.NetRxBps }},
	{Name: "net_tx_bps", Unit: "B/s", Key: "tx", PromQL: sumRate("node_network_transmit_bytes_total", `device!="lo"`),
		Scrape: func(n *NodeRates) float64 { return sum(n.NetTx) },
		field:  func(s *Sample) *float64 { return &s.NetTxBps }},
}

// MetricNames are the names scenarios use in node thresholds, in display
// order: NodeMetrics' names. They are contracts: never rename.
var MetricNames = func() []string {
	names := make([]string, len(NodeMetrics))
	for i, m := range NodeMetrics {
		names[i] = m.Name
	}
	return names
}()

// LookupNodeMetric finds a metric of the table by its name.
func LookupNodeMetric(name string) (NodeMetric, bool) {
	i := slices.IndexFunc(NodeMetrics, func(m NodeMetric) bool { return m.Name == name })
	if i < 0 {
		return NodeMetric{}, false
	}
	return NodeMetrics[i], true
}

// Of is the metric's value in s.
func (m NodeMetric) Of(s *Sample) float64 { return *m.field(s) }

// Set stores v as the metric's value in s.
func (m NodeMetric) Set(s *Sample, v float64) { *m.field(s) = v }

// Metric returns a metric by its threshold name; ok is false for an unknown
// name or a NaN value.
func (s *Sample) Metric(name string) (v float64, ok bool) {
	m, ok := LookupNodeMetric(name)
	if !ok {
		return 0, false
	}
	v = m.Of(s)
	return v, !math.IsNaN(v)
}

// NaNSample is a sample with every metric unknown.
func NaNSample() Sample {
	var s Sample
	for _, m := range NodeMetrics {
		m.Set(&s, math.NaN())
	}
	return s
}

// BusiestDisk is the device with the highest utilisation; ties go to the
// smaller name so the shown device does not flicker between polls. v is
// NaN with no device.
func (n *NodeRates) BusiestDisk() (dev string, v float64) {
	v = math.NaN()
	for d, u := range n.DiskIO {
		if math.IsNaN(v) || u > v || (u == v && d < dev) {
			dev, v = d, u
		}
	}
	return dev, v
}

// cpuAvg averages, over the cpus that have any of modes, the sum of those
// modes' rates — as Prometheus's avg over sum by (cpu) does. Sums run in
// cpu order so the result does not depend on map iteration.
func (n *NodeRates) cpuAvg(modes ...string) float64 {
	cpus := make([]string, 0, len(n.CPU))
	for c := range n.CPU {
		cpus = append(cpus, c)
	}
	slices.Sort(cpus)
	var total float64
	count := 0
	for _, c := range cpus {
		var v float64
		have := false
		for _, mode := range modes {
			if r, ok := n.CPU[c][mode]; ok {
				v, have = v+r, true
			}
		}
		if have {
			total += v
			count++
		}
	}
	if count == 0 {
		return math.NaN()
	}
	return total / float64(count)
}

// sum adds a map's values; NaN when it has none.
func sum(m map[string]float64) float64 {
	if len(m) == 0 {
		return math.NaN()
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var t float64
	for _, k := range keys {
		t += m[k]
	}
	return t
}

// sumRate is the query of a per-device byte counter summed over devices.
func sumRate(metric, extra string) func(PromQL) string {
	return func(q PromQL) string { return "sum by (" + q.By + ") (" + q.Rate(q.With(metric, extra)) + ")" }
}

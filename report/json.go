package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
)

// SchemaVersion is the JSON report's format. Fields are only ever added;
// a reader refuses a newer major version rather than misread it.
const SchemaVersion = 1

// Report is the JSON document of one run. Names are snake_case contracts:
// add, never rename.
type Report struct {
	SchemaVersion int       `json:"schema_version"`
	BrinkVersion  string    `json:"brink_version"`
	Host          string    `json:"host"`
	Start         time.Time `json:"start"`
	End           time.Time `json:"end"`
	DurationS     float64   `json:"duration_s"`
	// Complete is false for a snapshot taken while the run was going.
	Complete bool `json:"complete"`
	// Passed: the run ended and everything held (exit code 0); false when
	// inconclusive (98), failed (99), stopped from outside (105) or on a
	// panic (1).
	Passed     bool                `json:"passed"`
	Scenario   *scenarios.Scenario `json:"scenario"`
	Summary    Summary             `json:"summary"`
	Thresholds []ThresholdResult   `json:"thresholds"`
	Groups     []GroupSummary      `json:"groups"`
	Endpoints  []EndpointSummary   `json:"endpoints"`
	// Failures are the failed requests by group, endpoint, kind and
	// status with a sample message, most frequent first (at most
	// MaxFailureRows; the rest in one "other" row).
	Failures []FailureRow `json:"failures"`
	Timeline []Window     `json:"timeline"`
	Nodes    []NodeSeries `json:"nodes"`
	// Panels are the scenario's custom panels (nodes.panels) over the run.
	Panels []PanelSeries `json:"panels"`
	Events []Event       `json:"events"`
	// Agents are the generators of a run sent by several (brink agent).
	Agents  []AgentRow `json:"agents,omitempty"`
	Verdict Verdict    `json:"verdict"`
	// Search is brink find's answer and plateaus (absent for other runs).
	Search *Search `json:"search,omitempty"`
}

// Summary is the whole run in numbers.
type Summary struct {
	Requests          int64            `json:"requests"`
	RPS               Num              `json:"rps"`
	RPSMax            Num              `json:"rps_max"`
	Errors            int64            `json:"errors"`
	ErrorRate         Num              `json:"error_rate"`
	ErrorsByKind      map[string]int64 `json:"errors_by_kind"`
	LatencyMs         Dist             `json:"latency_ms"`
	ServiceMs         Dist             `json:"service_ms"`
	Iterations        int64            `json:"iterations"`
	VUsMax            int              `json:"vus_max"`
	TargetVUsMax      int              `json:"target_vus_max"`
	TargetRateMax     float64          `json:"target_rate_max,omitempty"`
	DroppedIterations int64            `json:"dropped_iterations"`
	ChecksPassed      int64            `json:"checks_passed"`
	ChecksFailed      int64            `json:"checks_failed"`
	BytesIn           int64            `json:"bytes_in"`
	BytesOut          int64            `json:"bytes_out"`
	WS                *WSSummary       `json:"ws,omitempty"`
}

// WSSummary is the run's WebSocket activity, named as k6 names it.
// Latencies are merged from the engine's per-window histograms (Exact),
// or rebuilt from per-window quantiles for a report of an engine that
// sent none.
type WSSummary struct {
	OpenMax  int   `json:"open_max"`
	Opened   int64 `json:"opened"`
	Closed   int64 `json:"closed"`   // closed early by the server
	Sent     int64 `json:"sent"`     // ws_msgs_sent
	Received int64 `json:"received"` // ws_msgs_received
	// Sessions counts handshakes attempted (ws_sessions), opened or not.
	Sessions int64 `json:"sessions"`
	// Failed of Outcomes is ws_failed: sessions that could not open or
	// ended (closed early, message too large: failed; ended by brink:
	// passed) and awaited replies (came: passed; timed out: failed).
	Failed       int64            `json:"failed"`
	Outcomes     int64            `json:"outcomes"`
	FailedRate   Num              `json:"failed_rate"`
	FailedByKind map[string]int64 `json:"failed_by_kind"`
	ConnectMs    Dist             `json:"connect_ms"` // ws_connecting
	ReplyMs      Dist             `json:"reply_ms"`   // ws_msg_latency
	SessionMs    Dist             `json:"session_ms"` // ws_session_duration
}

// GroupSummary is one scenario group over the whole run.
type GroupSummary struct {
	Name          string  `json:"name"`
	Executor      string  `json:"executor"`
	Requests      int64   `json:"requests"`
	Iterations    int64   `json:"iterations"`
	Errors        int64   `json:"errors"`
	ErrorRate     Num     `json:"error_rate"`
	Dropped       int64   `json:"dropped"`
	VUsMax        int     `json:"vus_max"`
	TargetVUsMax  int     `json:"target_vus_max"`
	TargetRateMax float64 `json:"target_rate_max,omitempty"`
	LatencyMs     Dist    `json:"latency_ms"`
	// WebSocket sessions and ws_failed of the group (absent without any).
	WSSessions   int64 `json:"ws_sessions,omitempty"`
	WSFailed     int64 `json:"ws_failed,omitempty"`
	WSOutcomes   int64 `json:"ws_outcomes,omitempty"`
	WSFailedRate *Num  `json:"ws_failed_rate,omitempty"`
}

// EndpointSummary is one request name of one group over the whole run,
// hottest first (count × mean latency).
type EndpointSummary struct {
	Group     string `json:"group"`
	Name      string `json:"name"`
	Requests  int64  `json:"requests"`
	Errors    int64  `json:"errors"`
	ErrorRate Num    `json:"error_rate"`
	LatencyMs Dist   `json:"latency_ms"`
	// HotspotS is total time spent waiting on it: requests × mean.
	HotspotS Num `json:"hotspot_s"`
}

// Window is one timeline entry (one engine tick); latencies in ms.
type Window struct {
	Time       time.Time        `json:"time"`
	ElapsedS   float64          `json:"elapsed_s"`
	WindowS    float64          `json:"window_s"`
	Stage      int              `json:"stage"`
	Held       bool             `json:"held,omitempty"` // ramp on hold
	VUs        int              `json:"vus"`
	TargetVUs  int              `json:"target_vus"`
	TargetRate float64          `json:"target_rate,omitempty"`
	Requests   int64            `json:"requests"`
	Iterations int64            `json:"iterations"`
	RPS        Num              `json:"rps"`
	Errors     int64            `json:"errors"`
	ErrorRate  Num              `json:"error_rate"`
	ErrorKinds map[string]int64 `json:"error_kinds,omitempty"`
	Dropped    int64            `json:"dropped,omitempty"`
	// Started counts arrivals handed to a VU (open model), from an engine
	// that counts them.
	Started    int64         `json:"started,omitempty"`
	Latency    WindowLatency `json:"latency_ms"`
	WSReplyP95 Num           `json:"ws_reply_p95_ms,omitempty"`
	WSOpen     int           `json:"ws_open,omitempty"`
	// WebSocket sessions attempted and ws_failed's samples in the window,
	// with the failures by kind.
	WSSessions int64            `json:"ws_sessions,omitempty"`
	WSFailed   int64            `json:"ws_failed,omitempty"`
	WSOutcomes int64            `json:"ws_outcomes,omitempty"`
	WSErrors   map[string]int64 `json:"ws_error_kinds,omitempty"`
	GenCPU     Num              `json:"generator_cpu_percent"`
	// Groups is the window's load per scenario group.
	Groups []GroupLoad `json:"groups,omitempty"`
	// Generator is brink's own health in the window.
	Generator *WindowGenerator `json:"generator,omitempty"`
	// OK: every SLO (and arrival rate) evaluated in this window held.
	OK bool `json:"ok"`
}

// WindowLatency is one window's request duration in ms.
type WindowLatency struct {
	Mean Num `json:"mean"`
	P50  Num `json:"p50"`
	P90  Num `json:"p90"`
	P95  Num `json:"p95"`
	P99  Num `json:"p99"`
	P999 Num `json:"p999"`
	Max  Num `json:"max"`
}

// WindowGenerator is brink's own health in one window (engine
// GeneratorStats): was the generator, not the system, the bottleneck?
type WindowGenerator struct {
	CPUPercent Num `json:"cpu_percent"`
	Cores      int `json:"cores"`
	// Stretch is the window's length over its nominal length (1 = on time).
	Stretch Num `json:"stretch"`
	// Arrival-rate groups: how late iterations started (actual send −
	// intended start), over SendLags of them.
	SendLags     int64 `json:"send_lags,omitempty"`
	SendLagP50Ms Num   `json:"send_lag_p50_ms,omitempty"`
	SendLagP99Ms Num   `json:"send_lag_p99_ms,omitempty"`
	// Overloaded: brink itself was the bottleneck (Reason says how); such
	// a window is never the breakpoint.
	Overloaded bool   `json:"overloaded"`
	Reason     string `json:"reason,omitempty"`
	// Partial: over a fleet, an agent's load was missing (lost or late).
	Partial bool `json:"partial,omitempty"`
}

// windowGenerator is nil for a tick without health figures (one not from
// the engine, which always sets the cores).
func windowGenerator(g measure.GeneratorStats) *WindowGenerator {
	if g.Cores == 0 && g.Stretch == 0 && !g.Overloaded {
		return nil
	}
	w := &WindowGenerator{CPUPercent: Num(g.CPUPercent), Cores: g.Cores, Stretch: Num(g.Stretch),
		Overloaded: g.Overloaded, Reason: g.Reason, Partial: g.Partial}
	if g.SendLag.Count > 0 {
		w.SendLags = g.SendLag.Count
		w.SendLagP50Ms, w.SendLagP99Ms = Num(ms(g.SendLag.P50)), Num(ms(g.SendLag.P99))
	}
	return w
}

// NodeSeries is one node's samples over the run.
type NodeSeries struct {
	Node     string `json:"node"`
	Role     string `json:"role,omitempty"`
	Instance string `json:"instance"`
	Cores    int    `json:"cores,omitempty"`
	// Baseline is the node's sample from the poll taken before any load.
	Baseline *NodeSample  `json:"baseline,omitempty"`
	Samples  []NodeSample `json:"samples"`
}

// NodeSample is one poll of one node; a metric that was not available is
// null.
type NodeSample struct {
	Time         time.Time `json:"time"`
	CPU          Num       `json:"cpu"`
	IOWait       Num       `json:"iowait"`
	DiskUtil     Num       `json:"disk_util"`
	DiskDevice   string    `json:"disk_device,omitempty"`
	ReadBps      Num       `json:"read_bps"`
	WriteBps     Num       `json:"write_bps"`
	Load1        Num       `json:"load1"`
	Load1PerCore Num       `json:"load1_per_core"`
	Mem          Num       `json:"mem"`
	NetRxBps     Num       `json:"net_rx_bps"`
	NetTxBps     Num       `json:"net_tx_bps"`
	Stale        bool      `json:"stale,omitempty"`
	// StaleReason says why a stale sample is stale ("target down").
	StaleReason string `json:"stale_reason,omitempty"`
}

// PanelSeries is one custom panel over the run: each series its query
// returned, one point per poll.
type PanelSeries struct {
	Title  string       `json:"title"`
	Unit   string       `json:"unit,omitempty"`
	Above  *float64     `json:"above,omitempty"`
	Series []PanelTrace `json:"series"`
	// SeriesLeftOut counts series past the first maxPanelSeries, which
	// the report leaves out (a query can return thousands).
	SeriesLeftOut int `json:"series_left_out,omitempty"`
}

// PanelTrace is one series of a custom panel: its labels and its values,
// each [unix_seconds, value] (value null when not a number).
type PanelTrace struct {
	Labels string       `json:"labels"`
	Points []PanelPoint `json:"points"`
}

// PanelPoint is [unix_seconds, value].
type PanelPoint [2]Num

// maxPanelSeries bounds the series kept per panel in the report.
const maxPanelSeries = 50

func windowLatency(l measure.Latency) WindowLatency {
	if l.Count == 0 {
		return WindowLatency{Mean: nan(), P50: nan(), P90: nan(), P95: nan(), P99: nan(), P999: nan(), Max: nan()}
	}
	p999 := nan()
	if l.P999 > 0 {
		p999 = Num(ms(l.P999))
	}
	return WindowLatency{Mean: Num(ms(l.Mean)), P50: Num(ms(l.P50)), P90: Num(ms(l.P90)), P95: Num(ms(l.P95)),
		P99: Num(ms(l.P99)), P999: p999, Max: Num(ms(l.Max))}
}

func rate(n, of int64) Num {
	if of == 0 {
		return nan()
	}
	return Num(float64(n) / float64(of))
}

// clampService keeps the service time's quantiles at or under the
// latency's: service time is measured from the actual send, latency from
// the intended start, so no service quantile can exceed the latency one.
// Without a service histogram from the engine, the service distribution is
// rebuilt from per-window quantiles and can come out above; it stays
// marked approximate.
func clampService(svc, lat Dist) Dist {
	if svc.Exact && lat.Exact {
		return svc
	}
	c := func(s *Num, l Num) {
		if s.Valid() && l.Valid() && *s > l {
			*s = l
		}
	}
	c(&svc.Med, lat.Med)
	c(&svc.P90, lat.P90)
	c(&svc.P95, lat.P95)
	c(&svc.P99, lat.P99)
	c(&svc.P999, lat.P999)
	c(&svc.Max, lat.Max)
	c(&svc.Mean, lat.Mean)
	svc.Exact = false
	return svc
}

// nodeSeries regroups polls per node, in order of first appearance.
func nodeSeries(polls []measure.Poll) []NodeSeries {
	var out []NodeSeries
	idx := map[string]int{}
	for pi := range polls {
		for si := range polls[pi].Samples {
			s := &polls[pi].Samples[si]
			i, ok := idx[s.Node]
			if !ok {
				i = len(out)
				idx[s.Node] = i
				out = append(out, NodeSeries{Node: s.Node, Role: s.Role, Instance: s.Instance})
			}
			ns := &out[i]
			if s.Cores > 0 {
				ns.Cores = s.Cores
			}
			if k := len(ns.Samples); k > 0 && !s.Time.After(ns.Samples[k-1].Time) && s.Stale == ns.Samples[k-1].Stale {
				continue // the same scrape polled twice
			}
			ns.Samples = append(ns.Samples, nodeSample(s))
		}
	}
	return out
}

func nodeSample(s *measure.Sample) NodeSample {
	return NodeSample{Time: s.Time, CPU: Num(s.CPU), IOWait: Num(s.IOWait),
		DiskUtil: Num(s.DiskUtil), DiskDevice: s.DiskDevice, ReadBps: Num(s.ReadBps), WriteBps: Num(s.WriteBps),
		Load1: Num(s.Load1), Load1PerCore: Num(s.Load1PerCore), Mem: Num(s.Mem), NetRxBps: Num(s.NetRxBps),
		NetTxBps: Num(s.NetTxBps), Stale: s.Stale, StaleReason: s.StaleReason}
}

// withBaseline gives each node its sample from the poll before the load
// (a node seen only then gets a series of its own).
func withBaseline(ns []NodeSeries, p *measure.Poll) []NodeSeries {
	if p == nil {
		return ns
	}
	for i := range p.Samples {
		s := &p.Samples[i]
		j := slices.IndexFunc(ns, func(n NodeSeries) bool { return n.Node == s.Node })
		if j < 0 {
			ns = append(ns, NodeSeries{Node: s.Node, Role: s.Role, Instance: s.Instance, Cores: s.Cores, Samples: []NodeSample{}})
			j = len(ns) - 1
		}
		b := nodeSample(s)
		ns[j].Baseline = &b
	}
	return ns
}

// panelSeries regroups the polls' custom panels per panel (in order of
// first appearance) and per series. Like node samples, a poll adds one
// point per series, and a point at or before the series' last is the same
// poll seen twice; past maxPanelSeries, series are counted, not kept.
func (r *Recorder) panelSeries() []PanelSeries {
	var out []PanelSeries
	idx := map[string]int{}
	series := []map[string]int{}
	for pi := range r.v.Polls {
		p := &r.v.Polls[pi]
		for vi := range p.Panels {
			pv := &p.Panels[vi]
			i, ok := idx[pv.Title]
			if !ok {
				i = len(out)
				idx[pv.Title] = i
				ps := PanelSeries{Title: pv.Title, Unit: pv.Unit, Series: []PanelTrace{}}
				if _, sp := r.panelOf(pv, vi); sp != nil && sp.Above != nil {
					a := *sp.Above
					ps.Above = &a
				}
				out = append(out, ps)
				series = append(series, map[string]int{})
			}
			ps := &out[i]
			ts := float64(p.Time.UnixMilli()) / 1000
			for _, s := range pv.Series {
				j, ok := series[i][s.Labels]
				if !ok {
					if len(ps.Series) >= maxPanelSeries {
						series[i][s.Labels] = -1
						ps.SeriesLeftOut++
						continue
					}
					j = len(ps.Series)
					series[i][s.Labels] = j
					ps.Series = append(ps.Series, PanelTrace{Labels: s.Labels})
				}
				if j < 0 {
					continue
				}
				tr := &ps.Series[j]
				if k := len(tr.Points); k > 0 && float64(tr.Points[k-1][0]) >= ts {
					continue
				}
				tr.Points = append(tr.Points, PanelPoint{Num(ts), Num(s.Value)})
			}
		}
	}
	return out
}

// WriteFile writes rep to path atomically and durably (writeAtomic): a
// reader (or a crash) sees the old file or the new one, never half of one.
func WriteFile(path string, rep *Report) error {
	data, err := encode(rep)
	if err == nil {
		err = writeAtomic(path, data, true)
	}
	if err != nil {
		return fmt.Errorf("report %s: %w", path, err)
	}
	return nil
}

// rowFields are written one element per line: long series stay greppable
// and the file a third smaller than fully indented.
var rowFields = map[string]bool{"timeline": true, "samples": true, "events": true, "series": true}

// encode writes the report indented, except the long series whose elements
// are one compact line each. Field order and names come from the struct, so
// a new field needs nothing here.
func encode(rep *Report) ([]byte, error) {
	var buf bytes.Buffer
	if err := encodeValue(&buf, reflect.ValueOf(rep).Elem(), "", false); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

func marshalCompact(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // "p(95)<500" stays readable
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// encodeValue writes v at indent. Structs are walked field by field (to
// reach the row fields inside nodes); anything else is marshalled whole,
// indented, or compact when rows is set.
func encodeValue(buf *bytes.Buffer, v reflect.Value, indent string, rows bool) error {
	switch {
	case rows && v.Kind() == reflect.Slice:
		if v.Len() == 0 {
			b, err := marshalCompact(v.Interface())
			buf.Write(b)
			return err
		}
		buf.WriteString("[\n")
		for i := 0; i < v.Len(); i++ {
			b, err := marshalCompact(v.Index(i).Interface())
			if err != nil {
				return err
			}
			buf.WriteString(indent + " ")
			buf.Write(b)
			if i < v.Len()-1 {
				buf.WriteByte(',')
			}
			buf.WriteByte('\n')
		}
		buf.WriteString(indent + "]")
		return nil
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Struct && !v.IsNil() && v.Len() > 0 &&
		(v.Type().Elem() == reflect.TypeOf(NodeSeries{}) || v.Type().Elem() == reflect.TypeOf(PanelSeries{})):
		buf.WriteString("[\n")
		for i := 0; i < v.Len(); i++ {
			buf.WriteString(indent + " ")
			if err := encodeValue(buf, v.Index(i), indent+" ", false); err != nil {
				return err
			}
			if i < v.Len()-1 {
				buf.WriteByte(',')
			}
			buf.WriteByte('\n')
		}
		buf.WriteString(indent + "]")
		return nil
	case v.Kind() == reflect.Struct && (v.Type() == reflect.TypeOf(Report{}) || v.Type() == reflect.TypeOf(NodeSeries{}) ||
		v.Type() == reflect.TypeOf(PanelSeries{})):
		buf.WriteString("{\n")
		t := v.Type()
		first := true
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if strings.Contains(opts, "omitempty") && v.Field(i).IsZero() {
				continue
			}
			if !first {
				buf.WriteString(",\n")
			}
			first = false
			fmt.Fprintf(buf, "%s %q: ", indent, name)
			if err := encodeValue(buf, v.Field(i), indent+" ", rowFields[name]); err != nil {
				return err
			}
		}
		buf.WriteString("\n" + indent + "}")
		return nil
	}
	b, err := marshalCompact(v.Interface())
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, indent, " "); err != nil {
		return err
	}
	buf.Write(out.Bytes())
	return nil
}

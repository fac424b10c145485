package htmlreport

import (
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/brink-load/brink/report"
)

// chart is one uPlot chart's data: x in seconds since the run's start,
// one y series per line (null where there was no value).
type chart struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Unit  string `json:"unit"` // ms, /s, users, %, B/s or ""
	// XUnit is the x axis' unit: "" for seconds since the start, else a
	// load ("users", "VUs", "rate/s").
	XUnit   string    `json:"xunit,omitempty"`
	X       []float64 `json:"x"`
	Series  []series  `json:"series"`
	Markers []marker  `json:"markers"`
	section string    // "" for the run's charts, "nodes", "panels"
}

type series struct {
	Label  string `json:"label"`
	Values []val  `json:"values"`
	Dash   bool   `json:"dash,omitempty"` // a target, not a measurement
	// Color picks the palette's colour (default: the series' place), so
	// that A and B keep theirs across lines.
	Color *int `json:"color,omitempty"`
}

// val is a chart value: 4 significant digits are all a chart shows (and
// the page is a third the size with them); null when missing.
type val float64

func (v val) MarshalJSON() ([]byte, error) {
	if f := float64(v); !math.IsNaN(f) && !math.IsInf(f, 0) {
		return strconv.AppendFloat(nil, f, 'g', 4, 64), nil
	}
	return []byte("null"), nil
}

// marker is a vertical line over a chart: the breakpoint, a node or panel
// crossing, an abort.
type marker struct {
	X     float64 `json:"x"`
	Kind  string  `json:"kind"` // breakpoint, crossing, abort
	Label string  `json:"label"`
}

// since is t in seconds since the run's start.
func since(rep *report.Report, t time.Time) float64 {
	return math.Round(t.Sub(rep.Start).Seconds()*1000) / 1000
}

// windowX is a window's end in seconds since the start; a window without
// a time (a hand-made report) falls back on its elapsed_s.
func windowX(rep *report.Report, w *report.Window) float64 {
	if w.Time.IsZero() {
		return w.ElapsedS
	}
	return since(rep, w.Time)
}

// marks are what every time chart of the run marks: the breakpoint, each
// node or panel crossing, an abort.
func marks(rep *report.Report) []marker {
	var out []marker
	if bp := rep.Verdict.Breakpoint; bp != nil {
		x := bp.ElapsedS
		if !bp.Time.IsZero() {
			x = since(rep, bp.Time)
		}
		out = append(out, marker{X: x, Kind: "breakpoint", Label: "breakpoint: " + bp.Signal.Text + " at " + report.BreakpointText(rep)})
	}
	for _, e := range rep.Events {
		switch e.Kind {
		case report.EventNodeOver, report.EventPanelOver:
			out = append(out, marker{X: since(rep, e.Time), Kind: "crossing", Label: e.Text})
		case report.EventAbort:
			out = append(out, marker{X: since(rep, e.Time), Kind: "abort", Label: e.Text})
		}
	}
	return out
}

// runCharts are one run's charts: latency, throughput, load per group, then
// one chart per node metric with a line per node.
func runCharts(rep *report.Report) []chart {
	ms := marks(rep)
	tl := rep.Timeline
	x := make([]float64, len(tl))
	for i := range tl {
		x[i] = windowX(rep, &tl[i])
	}
	pick := func(f func(w *report.Window) report.Num) []val {
		out := make([]val, len(tl))
		for i := range tl {
			out[i] = val(f(&tl[i]))
		}
		return out
	}
	lat := chart{ID: "chart-latency", Title: "Latency (per window)", Unit: "ms", X: x, Markers: ms, Series: []series{
		{Label: "p50", Values: pick(func(w *report.Window) report.Num { return w.Latency.P50 })},
		{Label: "p95", Values: pick(func(w *report.Window) report.Num { return w.Latency.P95 })},
		{Label: "p99", Values: pick(func(w *report.Window) report.Num { return w.Latency.P99 })},
	}}
	for i := range tl {
		if tl[i].WSReplyP95.Valid() && tl[i].WSReplyP95 > 0 {
			// WebSocket replies (ws_msg_latency) beside the requests.
			lat.Series = append(lat.Series, series{Label: "ws reply p95", Values: pick(func(w *report.Window) report.Num {
				if w.WSReplyP95 == 0 {
					return report.Num(math.NaN()) // omitted: no reply in the window
				}
				return w.WSReplyP95
			})})
			break
		}
	}
	rps := chart{ID: "chart-rps", Title: "Requests and errors per second", Unit: "/s", X: x, Markers: ms, Series: []series{
		{Label: "rps", Values: pick(func(w *report.Window) report.Num { return w.RPS })},
		{Label: "errors/s", Values: pick(func(w *report.Window) report.Num {
			if w.WindowS <= 0 {
				return report.Num(math.NaN())
			}
			return report.Num(float64(w.Errors) / w.WindowS)
		})},
	}}
	load := chart{ID: "chart-load", Title: "Load per group", Unit: "users", X: x, Markers: ms, Series: loadSeries(tl)}
	out := append([]chart{lat, rps, load}, nodeCharts(rep, ms)...)
	return append(out, panelCharts(rep, ms)...)
}

// loadSeries is each group's load over the timeline: a closed group's
// users, an arrival-rate group's started rate (and its target, dashed).
// A report from before groups has one line of VUs and their target.
func loadSeries(tl []report.Window) []series {
	var names []string
	open := map[string]bool{}
	for i := range tl {
		for _, g := range tl[i].Groups {
			if !slices.Contains(names, g.Name) {
				names = append(names, g.Name)
			}
			open[g.Name] = open[g.Name] || g.Open
		}
	}
	if len(names) == 0 {
		vus, target := make([]val, len(tl)), make([]val, len(tl))
		for i := range tl {
			vus[i], target[i] = val(tl[i].VUs), val(tl[i].TargetVUs)
		}
		return []series{{Label: "VUs", Values: vus}, {Label: "target VUs", Values: target, Dash: true}}
	}
	var out []series
	for _, name := range names {
		vs := make([]val, len(tl))
		for i := range tl {
			vs[i] = val(math.NaN())
			for _, g := range tl[i].Groups {
				if g.Name != name {
					continue
				}
				if open[name] {
					vs[i] = val(g.Rate)
				} else {
					vs[i] = val(g.VUs)
				}
			}
		}
		label := name + " (users)"
		if open[name] {
			label = name + " (iterations/s)"
		}
		out = append(out, series{Label: label, Values: vs})
	}
	return out
}

// nodeMetrics are the node charts, in the console's order.
var nodeMetrics = []struct {
	key, title, unit string
	get              func(s *report.NodeSample) report.Num
}{
	{"cpu", "CPU", "%", func(s *report.NodeSample) report.Num { return s.CPU }},
	// load1 itself too: node thresholds (and so breakpoints) are usually on it.
	{"load1", "load1", "", func(s *report.NodeSample) report.Num { return s.Load1 }},
	{"load1_per_core", "load1 per core", "", func(s *report.NodeSample) report.Num { return s.Load1PerCore }},
	{"iowait", "I/O wait", "%", func(s *report.NodeSample) report.Num { return s.IOWait }},
	{"disk_util", "Disk utilisation", "%", func(s *report.NodeSample) report.Num { return s.DiskUtil }},
	{"read_bps", "Disk reads", "B/s", func(s *report.NodeSample) report.Num { return s.ReadBps }},
	{"write_bps", "Disk writes", "B/s", func(s *report.NodeSample) report.Num { return s.WriteBps }},
	{"mem", "Memory used", "%", func(s *report.NodeSample) report.Num { return s.Mem }},
	{"net_rx_bps", "Network in", "B/s", func(s *report.NodeSample) report.Num { return s.NetRxBps }},
	{"net_tx_bps", "Network out", "B/s", func(s *report.NodeSample) report.Num { return s.NetTxBps }},
}

// nodeCharts is one chart per node metric that any node reported, a line
// per node, on the union of the nodes' poll times (a node missing from a
// poll is a gap). The baseline poll, before the load, is the first point.
func nodeCharts(rep *report.Report, ms []marker) []chart {
	type pt struct {
		x float64
		s *report.NodeSample
	}
	perNode := make([][]pt, len(rep.Nodes))
	var xs []float64
	for i := range rep.Nodes {
		n := &rep.Nodes[i]
		if n.Baseline != nil {
			perNode[i] = append(perNode[i], pt{since(rep, n.Baseline.Time), n.Baseline})
		}
		for j := range n.Samples {
			if s := &n.Samples[j]; !s.Stale {
				perNode[i] = append(perNode[i], pt{since(rep, s.Time), s})
			}
		}
		for _, p := range perNode[i] {
			xs = append(xs, p.x)
		}
	}
	slices.Sort(xs)
	xs = slices.Compact(xs)
	var out []chart
	for _, m := range nodeMetrics {
		c := chart{ID: "node-" + m.key, Title: m.title, Unit: m.unit, X: xs, Markers: ms, section: "nodes"}
		seen := false
		for i := range rep.Nodes {
			vs := make([]val, len(xs))
			for k := range vs {
				vs[k] = val(math.NaN())
			}
			for _, p := range perNode[i] {
				k, _ := slices.BinarySearch(xs, p.x)
				if v := m.get(p.s); v.Valid() {
					vs[k] = val(v)
					seen = true
				}
			}
			c.Series = append(c.Series, series{Label: rep.Nodes[i].Node, Values: vs})
		}
		if seen {
			out = append(out, c)
		}
	}
	return out
}

// panelCharts is one chart per custom panel (nodes.panels), a line per
// series its query returned, and its threshold as a dashed line.
func panelCharts(rep *report.Report, ms []marker) []chart {
	start := float64(rep.Start.UnixMilli()) / 1000
	at := func(pt report.PanelPoint) float64 { return math.Round((float64(pt[0])-start)*1000) / 1000 }
	var out []chart
	for i := range rep.Panels {
		p := &rep.Panels[i]
		var xs []float64
		for _, tr := range p.Series {
			for _, pt := range tr.Points {
				if pt[0].Valid() {
					xs = append(xs, at(pt))
				}
			}
		}
		if len(xs) == 0 {
			continue
		}
		slices.Sort(xs)
		xs = slices.Compact(xs)
		title := p.Title
		if p.SeriesLeftOut > 0 {
			title += " (" + strconv.Itoa(p.SeriesLeftOut) + " more series in the JSON report)"
		}
		c := chart{ID: "panel-" + strconv.Itoa(i), Title: title, Unit: p.Unit, X: xs, Markers: ms, section: "panels"}
		for _, tr := range p.Series {
			vs := make([]val, len(xs))
			for k := range vs {
				vs[k] = val(math.NaN())
			}
			for _, pt := range tr.Points {
				if pt[0].Valid() {
					k, _ := slices.BinarySearch(xs, at(pt))
					vs[k] = val(pt[1])
				}
			}
			label := tr.Labels
			if label == "" {
				label = p.Title
			}
			c.Series = append(c.Series, series{Label: label, Values: vs})
		}
		if p.Above != nil {
			vs := make([]val, len(xs))
			for k := range vs {
				vs[k] = val(*p.Above)
			}
			c.Series = append(c.Series, series{Label: "above " + strconv.FormatFloat(*p.Above, 'g', -1, 64), Values: vs, Dash: true})
		}
		out = append(out, c)
	}
	return out
}

// runColor is A's and B's colour in the comparison (the palette's first two).
var runColor = [2]int{0, 1}

// levelChart is the matched-load table of `brink report A B` drawn: p95
// and p99 of A and B at each load level (up to each run's peak), with the
// load each broke at marked.
func levelChart(a, b *report.Report) chart {
	unit, levels := report.MatchedLoad(a, b)
	c := chart{ID: "chart-levels", Title: "p95 and p99 at matched load (" + unit + "), A and B", Unit: "ms", XUnit: unit}
	cols := make([][]val, 4)
	for _, l := range levels {
		c.X = append(c.X, (l.Lo+l.Hi)/2)
		for i, v := range []report.Num{l.P95A, l.P95B, l.P99A, l.P99B} {
			cols[i] = append(cols[i], val(v))
		}
	}
	for i, label := range []string{"p95 A", "p95 B", "p99 A (dashed)", "p99 B (dashed)"} {
		c.Series = append(c.Series, series{Label: label, Values: cols[i], Dash: i >= 2, Color: &runColor[i%2]})
	}
	open := a.Verdict.OpenModel && b.Verdict.OpenModel
	for _, run := range []struct {
		label string
		r     *report.Report
	}{{"A", a}, {"B", b}} {
		bp := run.r.Verdict.Breakpoint
		if bp == nil {
			continue
		}
		x := float64(report.LoadUsers(bp.Groups, bp.VUs))
		if open {
			x = bp.TargetRate
		}
		c.Markers = append(c.Markers, marker{X: x, Kind: "breakpoint",
			Label: run.label + " breakpoint: " + bp.Signal.Text + " at " + report.BreakpointText(run.r)})
	}
	return c
}

// compareCharts lay run B over run A on one time axis: p95, p99, rps and
// load, with both runs' breakpoints and crossings marked.
func compareCharts(a, b *report.Report) []chart {
	var xs []float64
	for _, r := range []*report.Report{a, b} {
		for i := range r.Timeline {
			xs = append(xs, windowX(r, &r.Timeline[i]))
		}
	}
	slices.Sort(xs)
	xs = slices.Compact(xs)
	var ms []marker
	for _, run := range []struct {
		label string
		r     *report.Report
	}{{"A", a}, {"B", b}} {
		for _, m := range marks(run.r) {
			m.Label = run.label + " " + m.Label
			ms = append(ms, m)
		}
	}
	on := func(r *report.Report, f func(w *report.Window) report.Num) []val {
		vs := make([]val, len(xs))
		for k := range vs {
			vs[k] = val(math.NaN())
		}
		for i := range r.Timeline {
			w := &r.Timeline[i]
			k, _ := slices.BinarySearch(xs, windowX(r, w))
			vs[k] = val(f(w))
		}
		return vs
	}
	pair := func(id, title, unit, what string, f func(w *report.Window) report.Num) chart {
		return chart{ID: id, Title: title, Unit: unit, X: xs, Markers: ms, Series: []series{
			{Label: what + " A", Values: on(a, f)}, {Label: what + " B", Values: on(b, f)}}}
	}
	users := func(w *report.Window) report.Num { return report.Num(report.LoadUsers(w.Groups, w.VUs)) }
	loadTitle, loadUnit := "Users", "users"
	if a.Verdict.OpenModel && b.Verdict.OpenModel {
		users = func(w *report.Window) report.Num { return report.Num(w.TargetRate) }
		loadTitle, loadUnit = "Target arrival rate", "/s"
	}
	return []chart{
		levelChart(a, b),
		pair("chart-p95", "p95 latency, A and B", "ms", "p95", func(w *report.Window) report.Num { return w.Latency.P95 }),
		pair("chart-p99", "p99 latency, A and B", "ms", "p99", func(w *report.Window) report.Num { return w.Latency.P99 }),
		pair("chart-rps", "Requests per second, A and B", "/s", "rps", func(w *report.Window) report.Num { return w.RPS }),
		pair("chart-load", loadTitle+", A and B", loadUnit, "load", users),
	}
}

package tui

import (
	"math"
	"sort"
	"strings"
	"time"

	"github.com/NimbleMarkets/ntcharts/canvas"
	"github.com/NimbleMarkets/ntcharts/canvas/runes"
	"github.com/NimbleMarkets/ntcharts/linechart"
	tslc "github.com/NimbleMarkets/ntcharts/linechart/timeserieslinechart"
	"github.com/charmbracelet/lipgloss"

	"github.com/brink-load/brink/report"
)

type chartKind int

const (
	latencyChart chartKind = iota
	throughputChart
)

// Dataset names: ntcharts draws in name order, later names on top, so the
// series that matters most (p95, rps) is drawn last.
const (
	dsP99 = "1-p99"
	dsP95 = "2-p95"
	dsRPS = "2-rps"
)

const yLabelWidth = 5 // every Y label is padded to this many ASCII bytes

// chart is one time-series panel: a title line with the legend, then an
// ntcharts canvas. ntcharts keeps every pushed point and rescales all of
// them on each push, so the chart is rebuilt from the visible window only,
// and the rendered string is cached until the data, window or size change.
type chart struct {
	kind  chartKind
	st    *Styles
	w, h  int
	ts    tslc.Model
	made  bool
	cache string
	vis   []point // scratch: visible, downsampled points
}

func newChart(kind chartKind, st *Styles) *chart { return &chart{kind: kind, st: st} }

// SetSize sets the panel's size including its title line.
func (c *chart) SetSize(w, h int) {
	if w != c.w || h != c.h {
		c.w, c.h, c.made, c.cache = w, h, false, ""
	}
}

// View returns the last rendered frame.
func (c *chart) View() string { return c.cache }

// visible returns the points inside the window ending at the newest point
// (win 0 = all), reduced to about one point per column: latency keeps each
// bucket's maximum so spikes survive, rates keep the mean.
func visible(all []point, win time.Duration, cols int, dst []point) []point {
	dst = dst[:0]
	if len(all) == 0 {
		return dst
	}
	first := 0
	if win > 0 {
		from := all[len(all)-1].t.Add(-win)
		first = sort.Search(len(all), func(i int) bool { return !all[i].t.Before(from) })
	}
	pts := all[first:]
	if cols < 2 || len(pts) <= cols {
		return append(dst, pts...)
	}
	// Buckets by index keep the first and the newest point exactly.
	per := float64(len(pts)) / float64(cols)
	for b := 0; b < cols; b++ {
		lo, hi := int(float64(b)*per), int(float64(b+1)*per)
		if b == cols-1 {
			hi = len(pts)
		}
		if hi <= lo {
			continue
		}
		agg := pts[hi-1]
		var rps, errps, vus float64
		for _, p := range pts[lo:hi] {
			agg.p50, agg.p95, agg.p99 = max(agg.p50, p.p50), max(agg.p95, p.p95), max(agg.p99, p.p99)
			rps += p.rps
			errps += p.errps
			vus += p.vus
		}
		n := float64(hi - lo)
		agg.rps, agg.errps, agg.vus = rps/n, errps/n, vus/n
		dst = append(dst, agg)
	}
	return dst
}

// marker is a moment drawn as a vertical line on both charts: the
// breakpoint (┃), a node or custom panel crossing (┊), an SLO breach (╎)
// or an arrival rate that fell short (¦). Each has its own rune and label
// so they read apart without colour.
type marker struct {
	t     time.Time
	label string
	r     rune
	first bool // the breakpoint: drawn first, its label always placed
}

// markLabel is the start of an event's text, before its load: "p95 527
// ms > 500 ms", short enough for a chart.
func markLabel(prefix, text string) string {
	text, _, _ = strings.Cut(text, " — ")
	text = strings.TrimPrefix(text, "breakpoint: ")
	r := []rune(prefix + text)
	if len(r) > 22 {
		r = append(r[:21], '…')
	}
	return string(r)
}

func markers(events []report.Event, dst []marker) []marker {
	dst = dst[:0]
	for _, e := range events {
		switch e.Kind {
		case report.EventBreakpoint:
			// First, so its column and label win over crossings nearby.
			dst = append([]marker{{t: e.Time, label: "✖ breakpoint", r: '┃', first: true}}, dst...)
		case report.EventNodeOver:
			dst = append(dst, marker{t: e.Time, label: e.Node + " " + e.Metric + ">" + strings.TrimSuffix(fmtLoad(e.Threshold), ".0"), r: '┊'})
		case report.EventPanelOver:
			dst = append(dst, marker{t: e.Time, label: e.Metric + ">" + fmtPanel(e.Threshold), r: '┊'})
		case report.EventSLOBreach:
			dst = append(dst, marker{t: e.Time, label: markLabel("✗ ", e.Text), r: '╎'})
		case report.EventRateShort:
			dst = append(dst, marker{t: e.Time, label: markLabel("↓ ", e.Text), r: '¦'})
		}
	}
	return dst
}

// render redraws the chart from d for window win and caches the string.
func (c *chart) render(d *data, win time.Duration, marks []marker) string {
	if c.w <= 0 || c.h <= 0 {
		c.cache = ""
		return ""
	}
	ch := c.h - 1
	if ch < 4 {
		c.cache = fit(c.title(d), c.w, c.h)
		return c.cache
	}
	gw := c.w - yLabelWidth - 1
	c.vis = visible(d.points, win, gw+1, c.vis)
	title := c.title(d) // after vis: the legend looks at the visible data
	if len(c.vis) == 0 {
		c.cache = padRight(title, c.w) + "\n" + placeholder(c.w, ch, "waiting for the first window…")
		return c.cache
	}
	vmin, vmax := c.vis[0].t, c.vis[len(c.vis)-1].t
	if !vmax.After(vmin) {
		vmin = vmax.Add(-time.Second)
	}

	gh := ch - 2
	ystep := max(2, gh/4)
	ymax := c.yMax(d, gh, ystep)
	if !c.made {
		c.ts = tslc.New(c.w, ch,
			tslc.WithXLabelFormatter(clockLabels()),
			tslc.WithYLabelFormatter(c.yLabels()),
			tslc.WithXYSteps(12, ystep),
			tslc.WithAxesStyles(c.st.Axis, c.st.Axis),
		)
		c.made = true
	}
	ts := &c.ts
	ts.ClearAllData()
	ts.SetTimeRange(vmin, vmax)
	ts.SetYRange(0, ymax)
	ts.SetViewTimeAndYRange(vmin, vmax, 0, ymax)

	var names []string
	switch c.kind {
	case latencyChart:
		names = []string{dsP99, dsP95}
		ts.SetDataSetStyle(dsP99, c.st.P99)
		ts.SetDataSetLineStyle(dsP99, runes.ThinLineStyle)
		ts.SetDataSetStyle(dsP95, c.st.P95)
		ts.SetDataSetLineStyle(dsP95, runes.ArcLineStyle)
		// A window with no completed request has no latency (not 0 ms):
		// the line bridges it.
		pushed := 0
		for _, p := range c.vis {
			if p.rps > 0 {
				ts.PushDataSet(dsP99, tslc.TimePoint{Time: p.t, Value: p.p99})
				ts.PushDataSet(dsP95, tslc.TimePoint{Time: p.t, Value: p.p95})
				pushed++
			}
		}
		if pushed == 0 { // ntcharts draws nothing, not even axes, without data
			ts.PushDataSet(dsP99, tslc.TimePoint{Time: vmax, Value: 0})
			ts.PushDataSet(dsP95, tslc.TimePoint{Time: vmax, Value: 0})
		}
	case throughputChart:
		names = []string{dsRPS}
		ts.SetDataSetStyle(dsRPS, c.st.RPS)
		ts.SetDataSetLineStyle(dsRPS, runes.ArcLineStyle)
		for _, p := range c.vis {
			ts.PushDataSet(dsRPS, tslc.TimePoint{Time: p.t, Value: p.rps})
		}
	}
	ts.DrawDataSets(names)

	// Overlays go on empty cells only, each with its own rune, so every
	// series reads without colour: p50 and VUs as dots, errors as x, the
	// SLO as a dashed line.
	g := grid{m: &ts.Model, vmin: vmin, vmax: vmax, ymax: ymax}
	switch c.kind {
	case latencyChart:
		if slo := d.sloP95(); slo > 0 {
			g.hline(slo, '╌', c.st.SLO)
		}
		for _, p := range c.vis {
			if p.rps > 0 {
				g.dot(p.t, p.p50, '·', c.st.P50)
			}
		}
	case throughputChart:
		for _, p := range c.vis {
			g.dot(p.t, p.vus, '·', c.st.VUs)
			if p.errps > 0 {
				g.dot(p.t, p.errps, 'x', c.st.Errors)
			}
		}
	}
	g.markers(marks, c.st)
	c.cache = padRight(title, c.w) + "\n" + canvasView(&ts.Canvas)
	return c.cache
}

// yMax picks the top of the Y axis so labels (every ystep rows) are round.
func (c *chart) yMax(d *data, gh, ystep int) float64 {
	top := 0.0
	for _, p := range c.vis {
		if c.kind == latencyChart {
			top = max(top, p.p99, p.p95)
		} else {
			top = max(top, p.rps, p.vus, p.errps)
		}
	}
	// The SLO line joins the axis only when latency is within reach of it:
	// a 500 ms line over 30 ms data would flatten the data onto the
	// baseline. Off the chart, the legend says so (sloAbove).
	if c.kind == latencyChart && !sloAbove(top, d.sloP95()) {
		top = max(top, d.sloP95()*1.1)
	}
	steps := float64(gh) / float64(ystep)
	if steps < 1 {
		steps = 1
	}
	return fitStep(top*1.05/steps) * steps
}

// fitStep is the label step for at least v: a round number, finer than
// niceCeil's 1-2-2.5-5 so a short chart's axis ends near its data (800 at
// its peak gets labels up to 800 or 900, not 1 500).
func fitStep(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10} {
		if v <= m*e*(1+1e-9) {
			return m * e
		}
	}
	return 10 * e
}

func (c *chart) yLabels() linechart.LabelFormatter {
	f := fmtCount
	if c.kind == latencyChart {
		f = fmtMs
	}
	return func(_ int, v float64) string { return padLeft(f(v), yLabelWidth) }
}

// clockLabels formats X values (Unix seconds) as local wall-clock time.
func clockLabels() linechart.LabelFormatter {
	return func(_ int, v float64) string {
		return time.Unix(int64(math.Round(v)), 0).Format("15:04:05")
	}
}

func (c *chart) title(d *data) string {
	st := c.st
	last := point{}
	if n := len(d.points); n > 0 {
		last = d.points[n-1]
	}
	if fin := d.final; fin != nil {
		// The run is over: the legend gives the run's figures, not the
		// last (often partial) window's.
		f := &fin.f
		num := func(n report.Num) float64 {
			if !n.Valid() {
				return 0
			}
			return float64(n)
		}
		last.p50, last.p95, last.p99 = num(f.P50Ms), num(f.P95Ms), num(f.P99Ms)
		last.rps, last.errps, last.vus = num(f.RPS), num(f.RPS)*num(f.ErrorRate), float64(f.VUsMax)
	}
	// The legend names every series by its rune (p99's lines turn square,
	// p95's round: without colour that is what tells them apart) and keeps
	// its value at every width: when narrow, the words go first (short
	// names, no heading, single spaces), never the numbers.
	type item struct {
		s                 lipgloss.Style
		long, short, tiny string // tiny: "" is short
	}
	var head string
	var items []item
	if c.kind == latencyChart {
		head = "Latency"
		p99, p95, p50 := fmtMs(last.p99), fmtMs(last.p95), fmtMs(last.p50)
		items = []item{{st.P99, "┌─p99 " + p99, "┌p99 " + p99, "┌99 " + p99}, {st.P95, "╭─p95 " + p95, "╭p95 " + p95, "╭95 " + p95},
			{st.P50, "·p50 " + p50, "·p50 " + p50, "·50 " + p50}}
		if slo := d.sloP95(); slo > 0 {
			mark := "╌"
			if sloAbove(c.dataTop(), slo) {
				mark = "↑" // above the chart: latency is far below it
			}
			items = append(items, item{st.SLO, mark + "SLO p95<" + fmtMs(slo), mark + "<" + fmtMs(slo), ""})
		}
	} else {
		head = "Throughput"
		vus := fmtCount(last.vus)
		if d.final != nil {
			vus = "max " + vus
		} else if d.last.TargetVUs > 0 {
			vus += "/" + fmtCount(float64(d.last.TargetVUs))
		}
		rps, errps := fmtCount(last.rps), fmtCount(last.errps)
		items = []item{{st.RPS, "─rps " + rps, "─rps " + rps, ""}, {st.VUs, "·users " + vus, "·usr " + vus, ""}}
		if d.last.TargetRate > 0 {
			t := fmtCount(d.last.TargetRate) + "/s"
			items = append(items, item{st.VUs, "target " + t, "→" + t, ""})
		}
		items = append(items, item{st.Errors, "x err/s " + errps, "x err " + errps, ""})
	}
	var s string
	// long; short with the heading; short alone; tiny (percentiles as 99,
	// 95, 50 beside their runes).
	for level := range 4 {
		short := level > 0
		var b strings.Builder
		if level < 2 {
			b.WriteString(st.Title.Render(head))
		}
		for i, it := range items {
			txt := it.short
			if level == 3 && it.tiny != "" {
				txt = it.tiny
			}
			switch {
			case !short:
				b.WriteString("  " + it.s.Render(it.long))
			case i > 0 || level < 2:
				b.WriteString(" " + it.s.Render(txt))
			default:
				b.WriteString(it.s.Render(txt))
			}
		}
		if s = b.String(); lipgloss.Width(s) < c.w {
			return s
		}
	}
	return truncate(s, c.w-1)
}

// grid maps run time and values to canvas cells the way ntcharts does for
// its lines, for the overlays drawn after them.
type grid struct {
	m          *linechart.Model
	vmin, vmax time.Time
	ymax       float64
}

func (g grid) col(t time.Time) (int, bool) {
	span := g.vmax.Sub(g.vmin).Seconds()
	if t.Before(g.vmin) || t.After(g.vmax) || span <= 0 {
		return 0, false
	}
	x := g.m.Origin().X + int(math.Round(t.Sub(g.vmin).Seconds()/span*float64(g.m.GraphWidth())))
	x = max(x, g.m.Origin().X+1) // never on the Y axis itself
	return min(x, g.m.Canvas.Width()-1), true
}

func (g grid) row(v float64) int {
	oy := g.m.Origin().Y
	return oy - int(math.Round(v*float64(oy)/g.ymax))
}

func (g grid) empty(x, y int) bool {
	return g.m.Canvas.Cell(canvas.Point{X: x, Y: y}).Rune == runes.Null
}

func (g grid) dot(t time.Time, v float64, r rune, s lipgloss.Style) {
	x, ok := g.col(t)
	y := g.row(v)
	if !ok || y < 0 || y >= g.m.Origin().Y || !g.empty(x, y) {
		return
	}
	g.m.Canvas.SetCell(canvas.Point{X: x, Y: y}, canvas.NewCellWithStyle(r, s))
}

func (g grid) hline(v float64, r rune, s lipgloss.Style) {
	y := g.row(v)
	if y < 0 || y >= g.m.Origin().Y {
		return
	}
	for x := g.m.Origin().X + 1; x < g.m.Canvas.Width(); x++ {
		if g.empty(x, y) {
			g.m.Canvas.SetCell(canvas.Point{X: x, Y: y}, canvas.NewCellWithStyle(r, s))
		}
	}
}

// markers draws each marker's rune on the empty cells of its column, with
// a background on the whole column (the rune keeps it visible without
// colour), and its label near the top where it finds room. The breakpoint
// comes first: its column is drawn before the others, and its label is
// placed even when crossings crowd the top rows.
func (g grid) markers(ms []marker, st *Styles) {
	oy, w := g.m.Origin().Y, g.m.Canvas.Width()
	bg := st.MarkerBg.GetBackground()
	for _, mk := range ms {
		x, ok := g.col(mk.t)
		if !ok {
			continue
		}
		for y := 0; y < oy; y++ {
			p := canvas.Point{X: x, Y: y}
			cell := g.m.Canvas.Cell(p)
			if cell.Rune == runes.Null {
				cell = canvas.NewCellWithStyle(mk.r, st.Marker)
			}
			cell.Style = cell.Style.Background(bg)
			g.m.Canvas.SetCell(p, cell)
		}
	}
	for _, mk := range ms {
		x, ok := g.col(mk.t)
		if !ok {
			continue
		}
		lab := []rune(mk.label)
		// Right of the column, else left of it, on the first of the top
		// rows with room.
		right, left := x+1, x-len(lab)
		if right+len(lab) > w {
			right = -1
		}
		if left <= g.m.Origin().X {
			left = -1
		}
		fits := func(lx, y int) bool {
			if lx < 0 {
				return false
			}
			for i := range lab {
				if !g.empty(lx+i, y) {
					return false
				}
			}
			return true
		}
		placed := false
		for y := 0; y < min(3, oy) && !placed; y++ {
			for _, lx := range []int{right, left} {
				if fits(lx, y) {
					g.m.Canvas.SetRunesWithStyle(canvas.Point{X: lx, Y: y}, lab, st.Marker)
					placed = true
					break
				}
			}
		}
		lx := max(right, left)
		if lx < 0 {
			continue
		}
		if !placed && mk.first && oy > 0 {
			g.m.Canvas.SetRunesWithStyle(canvas.Point{X: lx, Y: 0}, lab, st.Marker)
		}
	}
}

// placeholder is a w×h block with msg on its first line.
func placeholder(w, h int, msg string) string {
	lines := make([]string, h)
	lines[0] = truncate(msg, w)
	for i := range lines {
		lines[i] = padRight(lines[i], w)
	}
	return strings.Join(lines, "\n")
}

// sloAbove reports whether the SLO is so far above the data (over 3×)
// that the latency axis leaves it out.
func sloAbove(dataTop, slo float64) bool { return slo > 0 && dataTop > 0 && slo > 3*dataTop }

// dataTop is the highest p95/p99 in the visible window.
func (c *chart) dataTop() float64 {
	top := 0.0
	for _, p := range c.vis {
		top = max(top, p.p99, p.p95)
	}
	return top
}

package tui

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/NimbleMarkets/ntcharts/sparkline"
	"github.com/charmbracelet/lipgloss"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/termtext"
)

// panel is one custom panel (scenario nodes.panels) as the console knows
// it: its latest answer and a short history per series.
type panel struct {
	title, unit string
	err         string // the latest poll's query error
	series      map[string]*panelSeries
}

// panelSeries is one series of a panel's query.
type panelSeries struct {
	labels string
	value  float64
	cur    bool // in the latest answer
	hist   ring
}

const (
	maxPanelSeries = 50 // series tracked per panel; a query can return thousands
	maxPanelRows   = 3  // series rows shown per panel, then "… N more"
)

// addPanel folds one poll's value of a panel in.
func (d *data) addPanel(pv *measure.PanelValue) {
	var p *panel
	for _, q := range d.panels {
		if q.title == pv.Title {
			p = q
			break
		}
	}
	if p == nil {
		p = &panel{title: pv.Title, series: map[string]*panelSeries{}}
		d.panels = append(d.panels, p)
	}
	p.unit, p.err = pv.Unit, termtext.Clean(pv.Err)
	if pv.Err != "" {
		return // the last known series stay, as a failed node poll's samples do
	}
	for _, s := range p.series {
		s.cur = false
	}
	for _, x := range pv.Series {
		s := p.series[x.Labels]
		if s == nil {
			if len(p.series) >= maxPanelSeries {
				continue
			}
			s = &panelSeries{labels: termtext.Clean(x.Labels)} // label values come from the servers
			if s.labels == "{}" || s.labels == "" {
				// An aggregate (sum()) has no labels: it is named by its
				// panel, not "{}".
				s.labels = "(" + termtext.Clean(p.title) + ")"
			}
			p.series[x.Labels] = s
		}
		s.value, s.cur = x.Value, true
		if !math.IsNaN(x.Value) && !math.IsInf(x.Value, 0) {
			s.hist.push(x.Value)
		}
	}
}

// panelAbove is a panel's threshold from the scenario (ok false: none).
func (d *data) panelAbove(title string) (above float64, ok bool) {
	if d.scenario == nil || d.scenario.Nodes == nil {
		return 0, false
	}
	for _, p := range d.scenario.Nodes.Panels {
		if p.Title == title && p.Above != nil {
			return *p.Above, true
		}
	}
	return 0, false
}

// shown is a panel's current series, worst first, then by labels.
func (p *panel) shown(above float64, has bool) []*panelSeries {
	var out []*panelSeries
	for _, s := range p.series {
		if s.cur {
			out = append(out, s)
		}
	}
	lv := func(s *panelSeries) level {
		if !has {
			return levelNone
		}
		return levelOf(s.value, above)
	}
	sort.Slice(out, func(a, b int) bool {
		if la, lb := lv(out[a]), lv(out[b]); la != lb {
			return la > lb
		}
		return naturalLess(out[a].labels, out[b].labels)
	})
	return out
}

// fmtPanel formats a panel value in a few ASCII bytes: 2.25, 0.0123, 512,
// 12.3k.
func fmtPanel(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v):
		return "-"
	case math.IsInf(v, 0):
		if v < 0 {
			return "-Inf"
		}
		return "+Inf"
	case a >= 9999.5:
		return fmtCount(v)
	case a >= 99.95:
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	case a >= 9.995:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1, a == 0:
		s := strconv.FormatFloat(v, 'f', 2, 64)
		return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func withUnit(v, unit string) string {
	if unit == "" {
		return v
	}
	return v + " " + unit
}

// panels is the side panel's view of the custom panels: per panel its title
// and unit, then its series (worst first, a few) with the latest value, a
// sparkline and the state symbol.
func (p *sidePanel) panels(d *data) []string {
	st := p.st
	lines := []string{truncate(p.title("Panels")+st.Dim.Render(" "+strconv.Itoa(len(d.panels))+"  custom queries  (p: back)"), p.w)}
	if len(d.panels) == 0 {
		msg := "no custom panels (scenario nodes.panels)"
		if d.scenario != nil && d.scenario.Nodes != nil && len(d.scenario.Nodes.Panels) > 0 {
			msg = "waiting for the first poll…"
		}
		return append(lines, st.Dim.Render(msg))
	}
	if p.sparks == nil {
		p.sparks = map[string]*sparkline.Model{}
	}
	// Every panel gets at least its one line (title, or title and value for
	// a single series, or its error); series rows share what is left.
	free := p.h - 1
	for i, pa := range d.panels {
		if free <= 0 {
			break
		}
		reserve := len(d.panels) - i - 1
		if pa.err != "" {
			lines = append(lines, truncate(st.Warn.Render("? "+pa.title+": "+pa.err), p.w))
			free--
			continue
		}
		above, has := d.panelAbove(pa.title)
		ss := pa.shown(above, has)
		head := st.Label.Render(pa.title)
		if pa.unit != "" {
			head += st.Dim.Render(" [" + pa.unit + "]")
		}
		if has {
			head += st.Dim.Render("  limit > " + withUnit(fmtPanel(above), pa.unit))
		}
		worst := levelNone
		if has {
			for _, s := range ss {
				worst = max(worst, levelOf(s.value, above))
			}
		}
		switch len(ss) {
		case 0:
			lines = append(lines, truncate(symbol(st, levelNone)+" "+head+st.Dim.Render("  no series"), p.w))
			free--
			continue
		case 1:
			// One series: its value on the title line.
			lines = append(lines, p.panelRow(pa, ss[0], above, has, head, 0))
			free--
			continue
		}
		k := max(0, min(len(ss), maxPanelRows, free-1-reserve))
		if k < len(ss) {
			head += st.Dim.Render("  … " + strconv.Itoa(len(ss)-k) + " more")
		}
		lines = append(lines, truncate(symbol(st, worst)+" "+head, p.w))
		free--
		labW := 2
		for _, s := range ss[:k] {
			labW = max(labW, len(s.labels))
		}
		labW = min(labW, max(8, p.w/2))
		for _, s := range ss[:k] {
			lines = append(lines, "  "+p.panelRow(pa, s, above, has, padRight(truncate(s.labels, labW), labW), 2))
			free--
		}
	}
	return lines
}

// panelRow is one series: its state symbol, name (the panel's title for a
// single series, else its labels), latest value and a sparkline; indent is
// what the caller puts before it.
func (p *sidePanel) panelRow(pa *panel, s *panelSeries, above float64, has bool, name string, indent int) string {
	st := p.st
	lv := levelNone
	if has {
		lv = levelOf(s.value, above)
	}
	val := padLeft(withUnit(fmtPanel(s.value), pa.unit), 8)
	switch lv {
	case levelOver:
		val = st.Over.Render(val)
	case levelNear:
		val = st.Warn.Render(val)
	}
	row := symbol(st, lv) + " " + name + " " + val
	w := p.w - indent
	if sw := min(16, w-lipgloss.Width(row)-2); sw >= 3 {
		key := pa.title + "\x00" + s.labels
		m := p.sparks[key]
		if m == nil {
			m = new(sparkline.Model)
			p.sparks[key] = m
		}
		p.scratch = s.hist.columns(sw, sparkSpan, p.scratch)
		top := 0.0
		if has {
			top = above
		}
		for i, v := range p.scratch {
			p.scratch[i] = max(v, 0)
			top = max(top, v)
		}
		if top <= 0 {
			top = 1
		}
		row += "  " + drawSpark(m, st, p.scratch, sw, top)
	}
	return truncate(row, w)
}

package tui

import (
	"strconv"
	"strings"

	"github.com/NimbleMarkets/ntcharts/sparkline"
	"github.com/charmbracelet/lipgloss"
)

// symbol marks a threshold level by shape: · ok, ▲ near, ! over.
func symbol(st *Styles, l level) string {
	switch l {
	case levelOver:
		return st.Over.Render("!")
	case levelNear:
		return st.Warn.Render("▲")
	case levelOK:
		return st.OK.Render("·")
	}
	return " "
}

// nodePanel is the table of watched nodes, worst first.
type nodePanel struct {
	st      *Styles
	w, h    int
	focused bool
	offset  int // first row shown when scrolled
	cache   string
	sorted  []*node
	sparks  map[string]*[len5]sparkline.Model
	scratch []float64
}

func newNodePanel(st *Styles) *nodePanel {
	return &nodePanel{st: st, sparks: map[string]*[len5]sparkline.Model{}}
}

func (p *nodePanel) SetSize(w, h int) { p.w, p.h = w, h }
func (p *nodePanel) View() string     { return p.cache }

// scroll moves the first shown row; the bounds are applied at render.
func (p *nodePanel) scroll(by int) { p.offset = max(0, p.offset+by) }

// widths of each metric's value text (load shows load1/per-core).
var valueWidths = [len5]int{4, 4, 4, 9, 4}

func (p *nodePanel) render(d *data) string {
	st := p.st
	if p.w <= 0 || p.h <= 0 {
		p.cache = ""
		return ""
	}
	p.sorted = d.sortedNodes(p.sorted)
	var over, near, stale int
	var staleWhy string
	nameW, roleW := 4, 4
	for _, n := range p.sorted {
		switch {
		case n.s.Stale:
			stale++
			staleWhy = n.s.Node + ": " + n.s.StaleReason
		case n.worst() == levelOver:
			over++
		case n.worst() == levelNear:
			near++
		}
		nameW = max(nameW, min(14, len(n.s.Node)))
		roleW = max(roleW, min(8, len(n.s.Role)))
	}
	title, name := st.Title, "Nodes"
	if p.focused {
		// A shape as well as a colour: focus must show under NO_COLOR.
		title, name = st.Focused, "▸ Nodes"
	}
	head := title.Render(name) + st.Dim.Render(" "+strconv.Itoa(len(p.sorted)))
	if over > 0 {
		head += "  " + st.Over.Render("! "+strconv.Itoa(over)+" over")
	}
	if near > 0 {
		head += "  " + st.Warn.Render("▲ "+strconv.Itoa(near)+" near")
	}
	if stale > 0 {
		why := ""
		if stale == 1 { // name it where the row has no room for the reason
			why = " (" + strings.TrimSuffix(staleWhy, ": ") + ")"
		}
		head += "  " + st.Stale.Render("? "+strconv.Itoa(stale)+" stale"+why)
	}
	if d.pollErr != "" {
		head += "  " + st.Over.Render("source: "+d.pollErr)
	}
	lines := []string{truncate(head, p.w)}
	// A fleet run's generators come first, one row each: a lost one is
	// the first thing to see.
	for _, a := range d.agents {
		if len(lines) < p.h {
			lines = append(lines, truncate(agentRow(st, a), p.w))
		}
	}
	if len(p.sorted) == 0 {
		msg := "no node metrics (scenario has no nodes: section)"
		if d.scenario != nil && d.scenario.Nodes != nil {
			msg = "waiting for the first poll…"
		}
		lines = append(lines, st.Dim.Render(msg))
		p.cache = fit(strings.Join(lines, "\n"), p.w, p.h)
		return p.cache
	}

	// Each metric cell: symbol, value, then a sparkline if there is room.
	fixed := 2 + nameW + 1 + roleW + 1
	cellsW := 0
	for _, vw := range valueWidths {
		cellsW += 4 + vw // " ! " + value + " "
	}
	sw := (p.w - fixed - cellsW) / len5
	if sw < 3 {
		sw = 0
	}
	sw = min(sw, 16)
	var hb strings.Builder
	hb.WriteString("  " + padRight("node", nameW) + " " + padRight("role", roleW) + " ")
	for i, t := range metricTitles {
		hb.WriteString(padRight("   "+t, 4+valueWidths[i]+sw))
	}
	lines = append(lines, st.Label.Render(truncate(hb.String(), p.w)))

	rows := p.h - 2
	p.offset = min(p.offset, max(0, len(p.sorted)-rows))
	for i := p.offset; i < len(p.sorted) && len(lines) < p.h; i++ {
		lines = append(lines, p.row(p.sorted[i], nameW, roleW, sw))
	}
	if hidden := len(p.sorted) - p.offset - (len(lines) - 2); hidden > 0 && len(lines) == p.h {
		// Say how many rows do not fit instead of silently dropping them.
		lines[len(lines)-1] = st.Dim.Render("  … " + strconv.Itoa(hidden+1) + " more (tab, ↓)")
	}
	p.cache = fit(strings.Join(lines, "\n"), p.w, p.h)
	return p.cache
}

func (p *nodePanel) row(n *node, nameW, roleW, sw int) string {
	st := p.st
	var b strings.Builder
	lead := symbol(st, n.worst())
	if n.s.Stale {
		lead = st.Stale.Render("?")
	}
	b.WriteString(lead + " ")
	name := padRight(truncate(n.s.Node, nameW), nameW) + " " + padRight(truncate(n.s.Role, roleW), roleW)
	if n.s.Stale {
		b.WriteString(st.Stale.Render(name))
	} else {
		b.WriteString(name)
	}
	b.WriteString(" ")
	sp := p.sparks[n.s.Node]
	if sp == nil && sw > 0 {
		sp = new([len5]sparkline.Model)
		p.sparks[n.s.Node] = sp
	}
	for i, m := range nodeMetrics {
		v, _ := n.s.Metric(m)
		lv := levelOf(v, n.limit[i])
		var txt string
		if m == "load1" {
			txt = fmtLoad(n.s.Load1) + "/" + fmtLoad(n.s.Load1PerCore)
		} else {
			txt = fmtPct(v)
		}
		txt = padLeft(truncate(txt, valueWidths[i]), valueWidths[i])
		sym := symbol(st, lv)
		switch {
		case n.s.Stale:
			sym, txt = st.Stale.Render("?"), st.Stale.Render(txt)
		case lv == levelOver:
			txt = st.Over.Render(txt)
		case lv == levelNear:
			txt = st.Warn.Render(txt)
		}
		b.WriteString(" " + sym + " " + txt + " ")
		if sw > 0 {
			b.WriteString(p.spark(&sp[i], &n.hist[i], sw, n.limit[i], n.s.Cores, m))
		}
	}
	if tail := " stale: " + n.s.StaleReason; n.s.Stale && n.s.StaleReason != "" && lipgloss.Width(b.String())+len(tail) <= p.w {
		b.WriteString(st.Stale.Render(tail))
	}
	return truncate(b.String(), p.w)
}

// spark draws one metric's recent history with ntcharts' sparkline.
// Percentages share a 0..100 scale; load is scaled to its threshold (or
// its own peak) so "near the limit" looks near the top.
func (p *nodePanel) spark(m *sparkline.Model, r *ring, w int, limit float64, cores int, metric string) string {
	top := 100.0
	p.scratch = r.columns(w, sparkSpan, p.scratch)
	if metric == "load1" {
		// Load is scaled to its threshold, else to the core count, so a
		// quiet node does not fill its sparkline.
		top = max(limit, float64(cores), 1)
		for _, v := range p.scratch {
			top = max(top, v)
		}
	}
	return drawSpark(m, p.st, p.scratch, w, top)
}

// drawSpark draws vals (oldest first, at most w) on a sparkline of width w
// scaled 0..top.
func drawSpark(m *sparkline.Model, st *Styles, vals []float64, w int, top float64) string {
	if m.Width() != w || m.MaxValue() != top {
		*m = sparkline.New(w, 1, sparkline.WithMaxValue(top), sparkline.WithNoAutoMaxValue(), sparkline.WithStyle(st.Spark))
	}
	// Pushing exactly w values overwrites the whole ring (no Clear, which
	// reallocates the canvas); a short history sits at the newest end.
	for range w - len(vals) {
		m.Push(0)
	}
	m.PushAll(vals)
	m.Draw()
	return canvasView(&m.Canvas)
}

package tui

import (
	"strconv"
	"strings"
	"time"

	"github.com/NimbleMarkets/ntcharts/sparkline"
	"github.com/charmbracelet/lipgloss"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/report"
)

// sideMode is what the side panel shows: the event log, or on a key the
// hotspots, the errors by kind or the custom panels.
type sideMode int

const (
	sideEvents sideMode = iota
	sideHotspots
	sideErrors
	sidePanels
)

// sidePanel shows one of the event log, hotspots, errors and custom panels.
type sidePanel struct {
	st      *Styles
	w, h    int
	rule    bool // draw a │ rule on the left (next to the node panel)
	mode    sideMode
	focused bool
	fixed   bool // always this mode (no key toggles it)
	back    int  // event log: lines scrolled back from the newest
	cache   string
	sparks  map[string]*sparkline.Model // custom panel series, by title and labels
	scratch []float64
}

func newSidePanel(st *Styles) *sidePanel { return &sidePanel{st: st} }

// SetSize sets the panel's outer size; with rule, two columns go to it.
func (p *sidePanel) SetSize(w, h int, rule bool) {
	p.w, p.h, p.rule = w, h, rule
	if rule {
		p.w = max(0, w-2)
	}
}
func (p *sidePanel) View() string { return p.cache }

// toggle switches to mode, or back to the event log if already there.
func (p *sidePanel) toggle(m sideMode) {
	if p.mode == m {
		p.mode = sideEvents
	} else {
		p.mode = m
	}
}

func (p *sidePanel) scroll(by int) { p.back = max(0, p.back-by) }

// backHint is "  (h: back)" for a view a key opened; a fixed panel (the
// one under a short node table) has no key to go back with.
func (p *sidePanel) backHint(k string) string {
	if p.fixed {
		return ""
	}
	return "  (" + k + ": back)"
}

func (p *sidePanel) title(s string) string {
	if p.focused {
		return p.st.Focused.Render("▸ " + s) // visible without colour too
	}
	return p.st.Title.Render(s)
}

func (p *sidePanel) render(d *data) string {
	if p.w <= 0 || p.h <= 0 {
		p.cache = ""
		return ""
	}
	var lines []string
	switch p.mode {
	case sideHotspots:
		lines = p.hotspots(d)
	case sideErrors:
		lines = p.errors(d)
	case sidePanels:
		lines = p.panels(d)
	default:
		lines = p.events(d)
	}
	if !p.rule {
		p.cache = fit(strings.Join(lines, "\n"), p.w, p.h)
		return p.cache
	}
	body := strings.Split(fit(strings.Join(lines, "\n"), p.w, p.h), "\n")
	bar := p.st.Dim.Render("│") + " "
	for i := range body {
		body[i] = bar + body[i]
	}
	p.cache = strings.Join(body, "\n")
	return p.cache
}

// eventSymbol gives every kind a shape, so the log reads without colour.
func (p *sidePanel) eventSymbol(k report.EventKind) string {
	st := p.st
	switch k {
	case report.EventNodeOver, report.EventPanelOver, report.EventSLOBreach:
		return st.Over.Render("!")
	case report.EventBreakpoint:
		return st.Over.Render("✖")
	case report.EventNodeClear, report.EventPanelClear, report.EventSLORecover:
		return st.OK.Render("✓")
	case report.EventStage:
		return st.Dim.Render("»")
	case report.EventNote:
		return st.Flash.Render("✎")
	case report.EventControl:
		return st.Prompt.Render("⚙")
	case report.EventAbort:
		return st.Over.Render("■")
	case report.EventSourceError:
		return st.Warn.Render("?")
	case report.EventNodeOverBefore, report.EventPanelOverBefore:
		return st.Warn.Render("▲") // over, but not the load's doing
	case report.EventGeneratorOverloaded:
		return st.Warn.Render("⊘") // brink itself, not the system
	case report.EventGeneratorRecovered:
		return st.OK.Render("✓")
	}
	return " "
}

// eventLine renders one event: local time, a symbol, who (for notes and
// control actions, unless the text already names them) and the text.

func (p *sidePanel) events(d *data) []string {
	n := len(d.events)
	head := p.title("Events") + p.st.Dim.Render(" "+strconv.Itoa(n))
	rows := p.h - 1
	p.back = min(p.back, max(0, n-1))
	if p.back > 0 {
		head += p.st.Dim.Render("  (" + strconv.Itoa(p.back) + " newer below)")
	}
	lines := []string{truncate(head, p.w)}
	if n == 0 {
		return append(lines, p.st.Dim.Render("no events yet"))
	}
	end := n - p.back
	// The moment the run broke must stay in sight on a small screen: when
	// the newest events would push it out, it keeps the first rows.
	var pinned []string
	pin := pinnedEvent(d.events)
	if p.back == 0 && rows >= 3 && pin >= 0 {
		pinned = p.eventLines(&d.events[pin])
	}
	// Newest first, whole events only (a long line wraps, never cut in its
	// numbers), until the rows are full.
	avail := rows - len(pinned)
	var body []string
	shownPin := false
	for i := end - 1; i >= 0; i-- {
		ls := p.eventLines(&d.events[i])
		if len(ls) > avail {
			if len(body) == 0 { // one event taller than the panel: its start
				body = ls[:max(avail, 0)]
				shownPin = shownPin || i == pin
			}
			break
		}
		body = append(ls, body...)
		avail -= len(ls)
		shownPin = shownPin || i == pin
		if i == pin && pinned != nil {
			avail += len(pinned) // it is in the list itself: no pinned copy
			pinned = nil
		}
	}
	if !shownPin && pinned != nil {
		lines = append(lines, pinned...)
	}
	return append(lines, body...)
}

// eventLines is one event, wrapped to the panel's width under its text.
func (p *sidePanel) eventLines(e *report.Event) []string {
	text := e.Text
	if e.Who != "" && !strings.Contains(text, e.Who) {
		text = e.Who + ": " + text
	}
	if text == "" {
		text = string(e.Kind)
	}
	prefix := p.st.Dim.Render(e.Time.Local().Format("15:04:05")) + " " + p.eventSymbol(e.Kind) + " "
	indent := lipgloss.Width(prefix)
	style := func(s string) string { return s }
	switch e.Kind {
	case report.EventNodeOver, report.EventPanelOver, report.EventBreakpoint, report.EventSLOBreach:
		style = func(s string) string { return p.st.Over.Render(s) }
	}
	var out []string
	for i, l := range report.Wrap(text, max(p.w-indent, 10)) {
		lead := prefix
		if i > 0 {
			lead = strings.Repeat(" ", indent)
		}
		out = append(out, truncate(lead+style(l), p.w))
	}
	return out
}

// pinnedEvent is the index of the breakpoint event, else of the first node
// (or custom panel) crossing, or -1.
func pinnedEvent(evs []report.Event) int {
	first := -1
	for i := range evs {
		switch evs[i].Kind {
		case report.EventBreakpoint:
			return i
		case report.EventNodeOver, report.EventPanelOver:
			if first < 0 {
				first = i
			}
		}
	}
	return first
}

func (p *sidePanel) hotspots(d *data) []string {
	st := p.st
	lines := []string{truncate(p.title("Hotspots")+st.Dim.Render("  endpoints by count × mean latency, last "+strconv.Itoa(hotspotWindows)+" windows"+p.backHint("h")), p.w)}
	if len(d.hot) == 0 {
		return append(lines, st.Dim.Render("no requests yet"))
	}
	var total time.Duration
	for _, h := range d.hot {
		total += h.wait
	}
	nameW := 8
	for _, h := range d.hot {
		nameW = max(nameW, min(28, len(h.group)+1+len(h.name)))
	}
	lines = append(lines, st.Label.Render(truncate("  "+padRight("endpoint", nameW)+"  share    reqs   mean    p95    err", p.w)))
	for _, h := range d.hot {
		if len(lines) >= p.h {
			break
		}
		share := 0.0
		if total > 0 {
			share = 100 * float64(h.wait) / float64(total)
		}
		row := "  " + padRight(truncate(h.group+"/"+h.name, nameW), nameW) + "  " +
			padLeft(fmtPct(share), 5) + "  " + padLeft(fmtCount(float64(h.requests)), 6) + "  " +
			padLeft(fmtMs(ms(h.mean)), 5) + "  " + padLeft(fmtMs(ms(h.p95)), 5) + "  " +
			padLeft(fmtCount(float64(h.errors)), 5)
		if bw := p.w - len(row) - 2; bw >= 4 {
			row += "  " + st.Spark.Render(strings.Repeat("█", int(float64(min(bw, 20))*share/100+0.5)))
		}
		lines = append(lines, truncate(row, p.w))
	}
	return lines
}

func (p *sidePanel) errors(d *data) []string {
	st := p.st
	lines := []string{truncate(p.title("Errors by kind")+st.Dim.Render("  newest window and whole run"+p.backHint("e")), p.w)}
	var total int64
	for _, c := range d.errTotal {
		total += c
	}
	if total == 0 && len(d.failures) == 0 {
		return append(lines, st.OK.Render("✓ no errors so far"))
	}
	if len(d.failures) > 0 {
		// The failures table says more than the kinds: the kinds go on
		// one line so the rows get the room.
		var b strings.Builder
		b.WriteString("  last/total:")
		for _, k := range measure.ErrorKinds {
			if c := d.errTotal[k]; c > 0 {
				b.WriteString("  " + string(k) + " " + fmtCount(float64(d.errRecent[k])) + "/" + fmtCount(float64(c)) +
					" " + fmtPct(100*float64(c)/float64(total)))
			}
		}
		if total > 0 {
			lines = append(lines, truncate(b.String(), p.w))
		}
		return p.failures(d, lines)
	}
	lines = append(lines, st.Label.Render(truncate("  kind              last     total  share", p.w)))
	for _, k := range measure.ErrorKinds {
		c := d.errTotal[k]
		if c == 0 || len(lines) >= p.h {
			continue
		}
		row := "  " + padRight(string(k), 16) + "  " + padLeft(fmtCount(float64(d.errRecent[k])), 4) + "  " +
			padLeft(fmtCount(float64(c)), 8) + "  " + padLeft(fmtPct(100*float64(c)/float64(total)), 5)
		lines = append(lines, truncate(st.Over.Render("!")+row[1:], p.w))
	}
	return lines
}

// failures adds the run's failures table, one row each: count, kind and
// status, where, and what the first of them said — one status_5xx with
// three causes reads as three rows (Locust's failures table).
func (p *sidePanel) failures(d *data, lines []string) []string {
	st := p.st
	kindW, whereW := 4, 5
	for _, f := range d.failures {
		kindW = max(kindW, lipgloss.Width(report.FailureKindText(f)))
		whereW = max(whereW, lipgloss.Width(report.FailureWhere(f)))
	}
	whereW = min(whereW, 28)
	lines = append(lines, st.Label.Render(truncate("  "+padLeft("count", 6)+"  "+padRight("kind", kindW)+"  "+
		padRight("where", whereW)+"  first message (whole run)", p.w)))
	for i, f := range d.failures {
		if len(lines) >= p.h {
			break
		}
		if len(lines) == p.h-1 && i < len(d.failures)-1 {
			lines = append(lines, st.Dim.Render(truncate("  … "+strconv.Itoa(len(d.failures)-i)+" more in the report", p.w)))
			break
		}
		row := "  " + padLeft(fmtCount(float64(f.Count)), 6) + "  " + padRight(report.FailureKindText(f), kindW) + "  " +
			padRight(truncate(report.FailureWhere(f), whereW), whereW) + "  " + f.Sample
		lines = append(lines, truncate(st.Over.Render("!")+row[1:], p.w))
	}
	return lines
}

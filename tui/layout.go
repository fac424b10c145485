package tui

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// The smallest terminal the console draws in.
const (
	minWidth  = 80
	minHeight = 24
)

// rect is a panel's place on the screen, in cells.
type rect struct{ X, Y, W, H int }

// layout is where every panel goes. It is a pure function of the terminal
// size and a little state (computeLayout), so it is tested by drawing its
// boxes as text.
type layout struct {
	TooSmall   bool
	Header     rect
	Latency    rect
	Throughput rect
	Stacked    bool // charts one above the other instead of side by side
	Nodes      rect
	Side       rect // events, or hotspots / errors on h / e
	SideBySide bool // nodes and the side panel next to each other
	Help       rect
}

// layoutState is what of the console's state the layout depends on.
type layoutState struct {
	Nodes     int // watched nodes
	HelpLines int // 1, or more while the full help is open
}

const headerLines = 3

// computeLayout places the panels in a w×h terminal: charts side by side
// from 120 columns (and on short terminals, narrower), stacked on tall
// narrow ones; nodes and events side by side from 160 columns.
func computeLayout(w, h int, s layoutState) layout {
	if w < minWidth || h < minHeight {
		return layout{TooSmall: true}
	}
	hl := max(1, s.HelpLines)
	l := layout{Header: rect{0, 0, w, headerLines}, Help: rect{0, h - hl, w, hl}}
	mid := h - headerLines - hl
	y := headerLines

	// Charts take about half of the middle, more when the node table and
	// the event log need less; the rest is nodes and events.
	want := s.Nodes + 2
	bottomWant := want + 6
	if w >= 160 {
		bottomWant = max(want, 10)
	}
	chartsH := min(max(mid*45/100, mid-bottomWant), mid*65/100)
	l.Stacked = w < 120 && h >= 36
	if l.Stacked {
		each := max(8, chartsH/2)
		l.Latency = rect{0, y, w, each}
		l.Throughput = rect{0, y + each, w, each}
		chartsH = 2 * each
	} else {
		chartsH = max(9, chartsH)
		lw := w / 2
		l.Latency = rect{0, y, lw, chartsH}
		l.Throughput = rect{lw, y, w - lw, chartsH}
	}
	y += chartsH
	rest := mid - chartsH

	// The node panel wants a title, a header row and a row per node.
	if w >= 160 {
		l.SideBySide = true
		sw := w * 38 / 100
		l.Nodes = rect{0, y, w - sw, rest}
		l.Side = rect{w - sw, y, sw, rest}
		return l
	}
	minSide := 4
	nh := min(want, rest-minSide)
	nh = max(nh, min(3, rest))
	l.Nodes = rect{0, y, w, nh}
	l.Side = rect{0, y + nh, w, rest - nh}
	return l
}

// boxes draws the layout as labelled boxes, for tests and for reading.
func (l layout) boxes(w, h int) string {
	if l.TooSmall {
		return "too small"
	}
	g := make([][]rune, h)
	for i := range g {
		g[i] = []rune(strings.Repeat(" ", w))
	}
	box := func(r rect, name string) {
		if r.W <= 0 || r.H <= 0 {
			return
		}
		for x := r.X; x < r.X+r.W; x++ {
			g[r.Y][x], g[r.Y+r.H-1][x] = '-', '-'
		}
		for y := r.Y; y < r.Y+r.H; y++ {
			g[y][r.X], g[y][r.X+r.W-1] = '|', '|'
		}
		g[r.Y][r.X], g[r.Y][r.X+r.W-1], g[r.Y+r.H-1][r.X], g[r.Y+r.H-1][r.X+r.W-1] = '+', '+', '+', '+'
		if r.H > 2 || r.W > len(name)+2 {
			row := r.Y + r.H/2
			if r.H <= 2 {
				row = r.Y
			}
			copy(g[row][r.X+1:r.X+r.W-1], []rune(name))
		}
	}
	box(l.Header, "header")
	box(l.Latency, "latency")
	box(l.Throughput, "throughput")
	box(l.Nodes, "nodes")
	box(l.Side, "events")
	box(l.Help, "help")
	out := make([]string, h)
	for i := range g {
		out[i] = strings.TrimRight(string(g[i]), " ")
	}
	return strings.Join(out, "\n")
}

// truncate cuts s (which may hold ANSI styles) to w cells.
func truncate(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if lipgloss.Width(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}

// padRight pads s with spaces to w cells.
func padRight(s string, w int) string {
	if n := lipgloss.Width(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}

// fit makes s exactly w×h: lines cut or padded, missing lines blank, so
// panels join into a frame without shifting each other.
func fit(s string, w, h int) string {
	if h <= 0 || w <= 0 {
		return ""
	}
	var lines []string
	if s != "" {
		lines = strings.Split(s, "\n")
	}
	if len(lines) > h {
		lines = lines[:h]
	}
	var b strings.Builder
	for i := 0; i < h; i++ {
		if i > 0 {
			b.WriteByte('\n')
		}
		line := ""
		if i < len(lines) {
			line = truncate(lines[i], w)
		}
		b.WriteString(padRight(line, w))
	}
	return b.String()
}

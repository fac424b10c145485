package tui

import (
	"strings"

	"github.com/NimbleMarkets/ntcharts/canvas"
	"github.com/charmbracelet/lipgloss"
)

// styleKey is what of a cell's style shows on screen. Colours are
// comparable interface values (Color, AdaptiveColor, NoColor), so runs of
// cells that look the same can be rendered in one go.
// Only colour and bold are compared: they are all the chart and sparkline
// styles set (each getter copies the whole Style, so fewer is faster).
type styleKey struct {
	fg, bg lipgloss.TerminalColor
	bold   bool
}

func keyOf(s *lipgloss.Style) styleKey {
	return styleKey{fg: s.GetForeground(), bg: s.GetBackground(), bold: s.GetBold()}
}

// canvasView renders an ntcharts canvas like canvas.Model.View, but styles
// each run of same-looking cells once instead of every cell: ntcharts'
// per-cell Render was most of a frame's cost.
func canvasView(c *canvas.Model) string {
	w, h := c.Width(), c.Height()
	var b, run strings.Builder
	b.Grow(w * h * 3)
	for y := 0; y < h; y++ {
		if y > 0 {
			b.WriteByte('\n')
		}
		var cur styleKey
		var curStyle lipgloss.Style
		flush := func() {
			if run.Len() == 0 {
				return
			}
			if cur == (styleKey{}) {
				b.WriteString(run.String())
			} else {
				b.WriteString(curStyle.Render(run.String()))
			}
			run.Reset()
		}
		for x := 0; x < w; x++ {
			cell := c.Cell(canvas.Point{X: x, Y: y})
			k := keyOf(&cell.Style)
			if k != cur {
				flush()
				cur, curStyle = k, cell.Style
			}
			if cell.Rune == 0 {
				run.WriteByte(' ')
			} else {
				run.WriteRune(cell.Rune)
			}
		}
		flush()
	}
	return b.String()
}

// joinH puts two blocks of equal height side by side; each block's lines
// are already exactly its width, so no measuring is needed.
func joinH(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var s strings.Builder
	s.Grow(len(a) + len(b))
	for i := range max(len(al), len(bl)) {
		if i > 0 {
			s.WriteByte('\n')
		}
		if i < len(al) {
			s.WriteString(al[i])
		}
		if i < len(bl) {
			s.WriteString(bl[i])
		}
	}
	return s.String()
}

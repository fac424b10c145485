package share

import "github.com/charmbracelet/ssh"

// The largest terminal a viewer's console is drawn for, and the size used
// when the client does not say (0 columns or rows). The console's memory
// grows with its cell count (the charts' canvases hold ~560 bytes a cell
// and are rebuilt on every data tick): a client asking for 5000×3000 took
// brink past 6 GB. A bigger terminal shows the console in its top-left
// corner.
const (
	MaxWidth      = 400
	MaxHeight     = 200
	defaultWidth  = 80
	defaultHeight = 24
)

// clampWindow bounds the size a client asked for (at pty-req and at every
// window-change); clamped says whether it had to.
func clampWindow(w ssh.Window) (_ ssh.Window, clamped bool) {
	in := w
	w.Width = clampDim(w.Width, defaultWidth, MaxWidth)
	w.Height = clampDim(w.Height, defaultHeight, MaxHeight)
	return w, w.Width != in.Width || w.Height != in.Height
}

func clampDim(n, unset, most int) int {
	if n <= 0 {
		return unset
	}
	return min(n, most)
}

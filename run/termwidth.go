package run

import (
	"io"
	"os"

	"github.com/charmbracelet/x/term"
)

// SummaryWidth is how wide the end-of-run summary may be: the terminal's
// width when w is one, else 100 (a file or pipe keeps the summary as it
// always read).
func SummaryWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok && term.IsTerminal(f.Fd()) {
		if cols, _, err := term.GetSize(f.Fd()); err == nil && cols > 0 {
			return cols
		}
	}
	return 100
}

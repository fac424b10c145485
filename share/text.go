package share

import (
	"unicode/utf8"

	"github.com/brink-load/brink/termtext"
)

// safeText makes client-chosen text (a user name, a pattern from a keys
// file) fit for a log line: no terminal control, at most n runes ("…"
// marks the cut). A 20 KB user name must not make a 20 KB event.
func safeText(s string, n int) string {
	// Clean works on the whole string: look at a bounded prefix only (an
	// escape cut short here is dropped by Clean as on a terminal).
	if len(s) > 4*n+16 {
		s = s[:4*n+16]
	}
	s = termtext.Clean(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	cut, i := 0, 0
	for j := range s {
		if i == n-1 {
			cut = j
			break
		}
		i++
	}
	return s[:cut] + "…"
}

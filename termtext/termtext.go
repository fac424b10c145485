// Package termtext makes text that came from outside brink (target error messages, Prometheus
// label values, node names, a report's scenario name, SSH user names) safe to put on a terminal.
// Redact takes credentials of a recognisable shape out of such text (redact.go).
//
// A label value of "\x1b[2J" clears the screen of everyone watching the console; an OSC 52
// sequence can write the viewer's clipboard. Clean removes every way such text can drive the
// terminal, keeping everything that is only text.
package termtext

import (
	"io"
	"strings"
	"unicode/utf8"
)

// Clean returns s as one line of plain text that cannot control a terminal:
//
//   - escape sequences are removed whole: ESC [ … final (CSI), ESC ] … BEL/ST (OSC), ESC P/X/^/_
//     … ST (DCS, SOS, PM, APC), ESC + intermediates + final, and their 8-bit C1 forms (U+009B,
//     U+009D, U+0090, U+0098, U+009E, U+009F). A string sequence that is never terminated swallows
//     the rest of s, as it would on a terminal;
//   - tab, newline, carriage return, vertical tab and form feed become one space each (CR LF is
//     one space), since callers show the text on one line;
//   - every other control rune (C0, DEL, C1) is removed;
//   - each byte that is not valid UTF-8 becomes U+FFFD, so no raw 8-bit C1 byte (0x9B is CSI
//     on some terminals) survives.
//
// The result is valid UTF-8 with no rune below U+0020, no U+007F and none in U+0080–U+009F.
// When s needs no change Clean returns s itself and allocates nothing, so it can sit on paths
// that run every frame.
func Clean(s string) string {
	i := firstUnsafe(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for i < len(s) {
		c := s[i]
		switch {
		case c == 0x1b:
			i = skipEscape(s, i+1)
		case c == '\r':
			b.WriteByte(' ')
			i++
			if i < len(s) && s[i] == '\n' {
				i++
			}
		case c == '\t' || c == '\n' || c == '\v' || c == '\f':
			b.WriteByte(' ')
			i++
		case c < 0x20 || c == 0x7f:
			i++
		case c < 0x80:
			b.WriteByte(c)
			i++
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && n == 1:
				b.WriteRune(utf8.RuneError)
				i++
			case r >= 0x80 && r <= 0x9f:
				i = skipC1(s, r, i+n)
			default:
				b.WriteString(s[i : i+n])
				i += n
			}
		}
	}
	return b.String()
}

// firstUnsafe returns the index of the first byte Clean must change, or -1. It is the fast path:
// printable ASCII is one comparison per byte; other runes are decoded only to rule out C1 and
// invalid UTF-8.
func firstUnsafe(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			if c < 0x20 || c == 0x7f {
				return i
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || (r >= 0x80 && r <= 0x9f) {
			return i
		}
		i += n
	}
	return -1
}

// skipEscape returns the index just past the escape sequence whose ESC ended at i-1 (ECMA-48).
// A byte that cannot continue the sequence ends it unconsumed, so text after a broken sequence
// is kept.
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '[':
		return skipCSI(s, i+1)
	case ']', 'P', 'X', '^', '_':
		return skipString(s, i+1)
	}
	// ESC, intermediates 0x20–0x2F, then one final byte 0x30–0x7E.
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipC1 handles an 8-bit C1 control rune that ended at i: the introducers of CSI and of the
// string sequences take their sequence with them; any other C1 rune is dropped alone.
func skipC1(s string, r rune, i int) int {
	switch r {
	case 0x9b:
		return skipCSI(s, i)
	case 0x9d, 0x90, 0x98, 0x9e, 0x9f:
		return skipString(s, i)
	}
	return i
}

// skipCSI skips parameter (0x30–0x3F) and intermediate (0x20–0x2F) bytes and the final byte
// (0x40–0x7E) of a control sequence.
func skipCSI(s string, i int) int {
	for i < len(s) {
		c := s[i]
		switch {
		case c >= 0x20 && c <= 0x3f:
			i++
		case c >= 0x40 && c <= 0x7e:
			return i + 1
		default:
			return i
		}
	}
	return i
}

// skipString skips the body of an OSC/DCS/SOS/PM/APC string up to and including its terminator:
// BEL (xterm's OSC form, accepted for all), ESC \ or the C1 ST (U+009C). Unterminated, it runs to
// the end, as a terminal would swallow it.
func skipString(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == 0x07:
			return i + 1
		case s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\':
			return i + 2
		case s[i] == 0xc2 && i+1 < len(s) && s[i+1] == 0x9c:
			return i + 2
		}
		i++
	}
	return i
}

// CleanLines is Clean for multi-line text such as a printed summary: each line is cleaned on its
// own and the line breaks stay ("\r\n" becomes "\n"). Like Clean it returns s itself, without
// allocating, when nothing needs cleaning.
func CleanLines(s string) string {
	clean := true
	for rest := s; clean; {
		line, more, found := strings.Cut(rest, "\n")
		clean = firstUnsafe(line) < 0
		if !found {
			break
		}
		rest = more
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for rest := s; ; {
		line, more, found := strings.Cut(rest, "\n")
		b.WriteString(Clean(strings.TrimSuffix(line, "\r")))
		if !found {
			return b.String()
		}
		b.WriteByte('\n')
		rest = more
	}
}

// PrintClean prints what print writes with every terminal control sequence
// removed: a report file (its scenario name, endpoint names, events, error
// samples) may come from anyone, and its words must not drive the reader's
// terminal.
func PrintClean(w io.Writer, print func(io.Writer)) {
	var b strings.Builder
	print(&b)
	io.WriteString(w, CleanLines(b.String()))
}

// OneLine keeps error text to one line for the console, stderr and the
// event log: line breaks become spaces, and past max bytes (max > 0) the
// text is cut with "…".
func OneLine(s string, max int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if max > 0 && len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

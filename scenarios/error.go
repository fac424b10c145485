package scenarios

import (
	"fmt"
	"strings"
)

// Error is one scenario problem, printed as one line:
// "file:line:col: field.path: what is wrong". File, Line and Col are empty
// for scenarios built in code; Field is empty for YAML syntax errors.
type Error struct {
	File  string
	Line  int
	Col   int
	Field string
	Msg   string
	// ref is a field whose line the message names: Parse puts " at line
	// N" before Msg's last "')" ("(by 'create' at line 31)").
	ref string
	// inText: the problem is textTail runes before the end of Field's
	// text (a variable in a template); Parse points there when the text
	// is on one line.
	inText   bool
	textTail int
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		fmt.Fprintf(&b, "%d:%d: ", e.Line, e.Col)
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	// Messages come from several sources (yaml, regexp, ours); keep the
	// promise of one line.
	b.WriteString(firstLine(e.Msg))
	return b.String()
}

// firstLine is a message's first line, trimmed: an Error promises one line.
func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	return s
}

// suggest returns the candidate closest to word when it is a near miss
// (edit distance ≤ 2, ignoring case, '_' and '-'), else "".
func suggest(word string, candidates []string) string {
	norm := func(s string) string {
		return strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(s))
	}
	best, bestD := "", 3
	for _, c := range candidates {
		d := levenshtein(strings.ToLower(word), strings.ToLower(c))
		if norm(word) == norm(c) {
			d = 0 // startVUs → start_vus
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// didYouMean formats a suggestion suffix, or "" when there is none.
func didYouMean(word string, candidates []string) string {
	if s := suggest(word, candidates); s != "" {
		return fmt.Sprintf(" (did you mean %s?)", s)
	}
	return ""
}

// choices is " (did you mean X?)" for a near miss, else the list of what
// is allowed, " (want a, b or c)" (left out when the list is long or empty).
func choices(word string, candidates []string) string {
	if s := suggest(word, candidates); s != "" {
		return fmt.Sprintf(" (did you mean %s?)", s)
	}
	switch n := len(candidates); {
	case n == 0 || n > 12:
		return ""
	case n == 1:
		return fmt.Sprintf(" (want %s)", candidates[0])
	default:
		return fmt.Sprintf(" (want %s or %s)", strings.Join(candidates[:n-1], ", "), candidates[n-1])
	}
}

// levenshtein is the edit distance between a and b, by runes. Inputs here
// are short keys, so the O(len(a)·len(b)) table is fine; very long words
// are cut off early as they are never near misses anyway.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return max(len(ra), len(rb))
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

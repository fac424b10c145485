// Package tabletest runs the loop a table test of a pure function repeats:
// each case's input through the function, its result compared with the
// one wanted. Tests only.
package tabletest

import (
	"fmt"
	"testing"
)

// Run calls f with each case's input and reports each result that is not
// the one wanted, as `name(in) = got, want want`: strings quoted (%q),
// anything else as %v. A table is written []struct{ In, Want string }{…}
// (or with In and Want of other types): an unnamed struct type, whose
// unkeyed rows go vet accepts (it refuses them for a named type imported
// from another package).
func Run[In any, Out comparable](t testing.TB, name string, f func(In) Out, cases []struct {
	In   In
	Want Out
}) {
	t.Helper()
	for _, c := range cases {
		if got := f(c.In); got != c.Want {
			t.Errorf("%s(%s) = %s, want %s", name, show(c.In), show(got), show(c.Want))
		}
	}
}

func show(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%v", v)
}

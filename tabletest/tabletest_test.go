package tabletest

import (
	"fmt"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps what Errorf was asked to say.
type recorder struct {
	testing.TB
	said []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.said = append(r.said, fmt.Sprintf(format, args...))
}

func TestRunReportsOnlyTheWrongResults(t *testing.T) {
	r := &recorder{TB: t}
	Run(r, "ToUpper", strings.ToUpper, []struct{ In, Want string }{{"a", "A"}, {"b\n", "b"}})
	Run(r, "len", func(s string) int { return len(s) }, []struct {
		In   string
		Want int
	}{{"ab", 2}, {"abc", 2}})
	want := []string{`ToUpper("b\n") = "B\n", want "b"`, `len("abc") = 3, want 2`}
	if strings.Join(r.said, "|") != strings.Join(want, "|") {
		t.Errorf("said %q, want %q", r.said, want)
	}
}

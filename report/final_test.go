package report

import (
	"strings"
	"testing"
)

// The summary's last line says the exit code the run gets, by the run's
// precedence: brink's own failure (1), then 105 > 99 > 98 > 0.
func TestOutcomePrecedence(t *testing.T) {
	for _, tc := range []struct {
		o      outcome
		want   string
		passed bool // nothingFailed
	}{
		{outcome{}, "", true},
		{outcome{inconclusive: true}, "exit code 98", true},
		{outcome{crossed: true, inconclusive: true}, "A node or panel crossed its threshold: exit code 99", false},
		{outcome{failed: true}, "The run failed: exit code 99", false},
		{outcome{thFailed: true, inconclusive: true}, "Thresholds failed: exit code 99", false},
		{outcome{thFailed: true, aborted: "signal interrupt"}, "Stopped from outside before the plan ended (signal interrupt): exit code 105", false},
		{outcome{aborted: "aborted from the console by local (quit)"}, "exit code 105", true},
		{outcome{aborted: "second signal terminated: exiting at once"}, "exit code 105", true},
		{outcome{aborted: "abort_on_breakpoint: ramping down"}, "Aborted at the breakpoint: exit code 99", false},
		{outcome{aborted: "panic: boom", thFailed: true}, "exit code 1", false},
	} {
		if got := tc.o.text(); (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%+v: %q, want %q", tc.o, got, tc.want)
		}
		if got := tc.o.nothingFailed(); got != tc.passed {
			t.Errorf("%+v: nothing failed %v, want %v", tc.o, got, tc.passed)
		}
	}
}

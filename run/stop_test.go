package run

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
)

// TestExitCode is the table of how a run's end becomes its exit code: the
// codes are a contract with CI scripts (k6's), and their precedence is
// 1 > 105 > 99 > 98 > 0.
func TestExitCode(t *testing.T) {
	held := outcome{passed: true}
	failed := outcome{passed: false}
	join := errors.Join
	for _, tc := range []struct {
		name  string
		cause error
		o     outcome
		want  int
	}{
		{"plan ended, held", planEnded{}, held, ExitOK},
		{"no cause, held", nil, held, ExitOK},
		{"plan ended, a threshold failed", planEnded{}, failed, ExitThreshold},
		{"plan ended, a node crossed", planEnded{}, outcome{passed: true, nodeCrossed: true}, ExitThreshold},
		{"plan ended, inconclusive", planEnded{}, outcome{passed: true, inconclusive: true}, ExitInconclusive},
		{"failed outranks inconclusive", planEnded{}, outcome{inconclusive: true}, ExitThreshold},
		{"breakpoint abort", breakpointAbort{}, held, ExitThreshold},
		{"breakpoint abort, inconclusive", breakpointAbort{}, outcome{passed: true, inconclusive: true}, ExitThreshold},
		{"Ctrl-C", signalStop{os.Interrupt}, held, ExitExternalAbort},
		{"SIGTERM, thresholds failed", signalStop{syscall.SIGTERM}, failed, ExitExternalAbort},
		{"SIGHUP, inconclusive", signalStop{syscall.SIGHUP}, outcome{inconclusive: true}, ExitExternalAbort},
		{"console quit", consoleStop{"local (quit)"}, held, ExitExternalAbort},
		{"console abort by a viewer", consoleStop{"alice"}, failed, ExitExternalAbort},
		{"breakpoint, then Ctrl-C", join(breakpointAbort{}, signalStop{os.Interrupt}), failed, ExitExternalAbort},
		{"Ctrl-C, then the plan's end", join(signalStop{os.Interrupt}, planEnded{}), held, ExitExternalAbort},
		{"run error", signalStop{os.Interrupt}, outcome{runErr: errors.New("tty gone"), passed: true}, ExitFailure},
		{"cancelled run is no error", signalStop{os.Interrupt}, outcome{runErr: context.Canceled, passed: true}, ExitExternalAbort},
		{"wrapped cancel is no error", planEnded{}, outcome{runErr: errors.Join(nil, context.Canceled), passed: true}, ExitOK},
		{"report lost", planEnded{}, outcome{reportLost: true, passed: true}, ExitFailure},
		{"report lost outranks a signal", signalStop{os.Interrupt}, outcome{reportLost: true}, ExitFailure},
		{"panic", panicStop{"boom"}, held, ExitFailure},
		{"panic after Ctrl-C", join(signalStop{os.Interrupt}, panicStop{"boom"}), held, ExitFailure},
	} {
		if got := exitCode(tc.cause, tc.o); got != tc.want {
			t.Errorf("%s: exitCode(%v, %+v) = %d, want %d", tc.name, tc.cause, tc.o, got, tc.want)
		}
	}
}

// TestStopsKeepsFirstCauseAndEvery: the context says what began the stop;
// the run keeps every reason for its exit code.
func TestStopsKeepsFirstCauseAndEvery(t *testing.T) {
	st := newStops()
	if st.external() || st.cause() != nil {
		t.Fatalf("a fresh run has a cause: %v", st.cause())
	}
	st.stop(breakpointAbort{})
	st.stop(signalStop{os.Interrupt})
	if got := context.Cause(st.ctx); !errors.As(got, new(breakpointAbort)) {
		t.Errorf("context cause %v, want the breakpoint abort (the first)", got)
	}
	if !st.external() {
		t.Errorf("a signal after the breakpoint is not seen: %v", st.cause())
	}
	if got := exitCode(st.cause(), outcome{}); got != ExitExternalAbort {
		t.Errorf("exit %d, want %d", got, ExitExternalAbort)
	}
}

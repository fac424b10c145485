package main

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
		{"plan ended, held", planEnded{}, held, exitOK},
		{"no cause, held", nil, held, exitOK},
		{"plan ended, a threshold failed", planEnded{}, failed, exitThreshold},
		{"plan ended, a node crossed", planEnded{}, outcome{passed: true, nodeCrossed: true}, exitThreshold},
		{"plan ended, inconclusive", planEnded{}, outcome{passed: true, inconclusive: true}, exitInconclusive},
		{"failed outranks inconclusive", planEnded{}, outcome{inconclusive: true}, exitThreshold},
		{"breakpoint abort", breakpointAbort{}, held, exitThreshold},
		{"breakpoint abort, inconclusive", breakpointAbort{}, outcome{passed: true, inconclusive: true}, exitThreshold},
		{"Ctrl-C", signalStop{os.Interrupt}, held, exitExternalAbort},
		{"SIGTERM, thresholds failed", signalStop{syscall.SIGTERM}, failed, exitExternalAbort},
		{"SIGHUP, inconclusive", signalStop{syscall.SIGHUP}, outcome{inconclusive: true}, exitExternalAbort},
		{"console quit", consoleStop{"local (quit)"}, held, exitExternalAbort},
		{"console abort by a viewer", consoleStop{"alice"}, failed, exitExternalAbort},
		{"breakpoint, then Ctrl-C", join(breakpointAbort{}, signalStop{os.Interrupt}), failed, exitExternalAbort},
		{"Ctrl-C, then the plan's end", join(signalStop{os.Interrupt}, planEnded{}), held, exitExternalAbort},
		{"run error", signalStop{os.Interrupt}, outcome{runErr: errors.New("tty gone"), passed: true}, exitFailure},
		{"cancelled run is no error", signalStop{os.Interrupt}, outcome{runErr: context.Canceled, passed: true}, exitExternalAbort},
		{"wrapped cancel is no error", planEnded{}, outcome{runErr: errors.Join(nil, context.Canceled), passed: true}, exitOK},
		{"report lost", planEnded{}, outcome{reportLost: true, passed: true}, exitFailure},
		{"report lost outranks a signal", signalStop{os.Interrupt}, outcome{reportLost: true}, exitFailure},
		{"panic", panicStop{"boom"}, held, exitFailure},
		{"panic after Ctrl-C", join(signalStop{os.Interrupt}, panicStop{"boom"}), held, exitFailure},
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
	if got := exitCode(st.cause(), outcome{}); got != exitExternalAbort {
		t.Errorf("exit %d, want %d", got, exitExternalAbort)
	}
}

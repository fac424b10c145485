package run

import (
	"os"
	"syscall"
	"testing"
)

func TestSignalName(t *testing.T) {
	for s, want := range map[os.Signal]string{os.Interrupt: "Ctrl-C", syscall.SIGTERM: "SIGTERM", syscall.SIGHUP: "SIGHUP"} {
		if got := SignalName(s); got != want {
			t.Errorf("run.SignalName(%v) = %q, want %q", s, got, want)
		}
	}
}

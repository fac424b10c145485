package cli

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/brink-load/brink/promquery/promtest"
	"github.com/brink-load/brink/report"
)

// brink's own stall is not the system's breakpoint: brink (the built
// binary) is stopped with SIGSTOP for 3 s mid-run against a healthy
// loopback target. The requests in flight through the stall come back
// 3 s late; with a 1-window sustain that is a p99 breach, but the report
// marks the stretched window (and the one after, where those requests
// land) as the generator's, no breakpoint falls in them, and the verdict
// is inconclusive (98), not "broke".
func TestSIGSTOPIsNoBreakpoint(t *testing.T) {
	promtest.Long(t, "runs 10 s")
	inLane(t, heavy)
	srv := okServer(t, 50*time.Millisecond) // requests are in flight most of the time
	rep := filepath.Join(t.TempDir(), "r.json")
	p := startBrink(t, "probe", srv.URL, "--vus", "3", "--duration", "8s", "--p99", "1s",
		"--sustain", "1s", "--headless", "--progress", "1s", "--report", rep)
	time.Sleep(3 * time.Second)
	if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	if err := p.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	code := p.wait(t, 40*time.Second)
	r := readReport(t, rep)
	var stalled []report.Window
	for _, w := range r.Timeline {
		if g := w.Generator; g != nil && g.Overloaded {
			stalled = append(stalled, w)
		}
	}
	for _, w := range r.Timeline {
		t.Logf("%5.2fs %4.2fs p95 %v max %v req %d gen %+v", w.ElapsedS, w.WindowS, w.Latency.P95, w.Latency.Max, w.Requests, w.Generator)
	}
	if len(stalled) == 0 || stalled[0].Generator.Stretch < 2 {
		t.Fatalf("no window marked as brink's stall: %+v; stderr: %s", r.Timeline, p.stderr.String())
	}
	// The stall's windows: from the start of the stretched one to the end
	// of the last overloaded one.
	from := stalled[0].Time.Add(-time.Duration(stalled[0].WindowS * float64(time.Second)))
	to := stalled[len(stalled)-1].Time
	if bp := r.Verdict.Breakpoint; bp != nil && !bp.Time.Before(from) && !bp.Time.After(to) {
		t.Fatalf("breakpoint at %v inside brink's stall (%v to %v): %s", bp.Time.Sub(r.Start), from.Sub(r.Start), to.Sub(r.Start), r.Verdict.Text)
	}
	if code != exitInconclusive || !selfBound(r) {
		t.Fatalf("exit %d, inconclusive %+v; want 98 naming the generator. Verdict: %s\nstderr: %s",
			code, r.Verdict.Inconclusive, r.Verdict.Text, p.stderr.String())
	}
	var over, back bool
	for _, e := range r.Events {
		over = over || e.Kind == report.EventGeneratorOverloaded
		back = back || e.Kind == report.EventGeneratorRecovered
	}
	if !over || !back {
		t.Fatalf("generator events over %v back %v: %+v", over, back, r.Events)
	}
}

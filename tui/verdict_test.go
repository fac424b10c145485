package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/report"
)

// synthDone is the synthetic run finished, with report's own Final.
func synthDone(t testing.TB) report.View {
	rec := realRecorder(t, goldenSecs, 8)
	rec.Finish(synthStart.Add(goldenSecs * time.Second))
	var v report.View
	rec.View(func(rv *report.View) { v = *rv })
	if v.Final == nil {
		t.Fatal("a finished recorder has no Final")
	}
	return v
}

// The finished screen: the verdict panel in place of nodes and events,
// and the header's figures over the whole run, at every size.
func TestGoldenDone(t *testing.T) {
	v := synthDone(t)
	for _, sz := range []struct{ w, h int }{{80, 24}, {120, 40}, {200, 60}} {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			m, _ := newTestModel(t, v, Options{Who: "local", CanControl: true, Controller: &fakeCtl{}, ReportPath: "/tmp/run.json"}, sz.w, sz.h)
			out := m.View()
			checkFrameSize(t, out, sz.w, sz.h)
			for _, want := range []string{"Verdict", "✖ A node or panel crossed its threshold: exit code 99.", "whole run", "stable:", "v verdict"} {
				if !strings.Contains(out, want) {
					t.Errorf("finished frame lacks %q:\n%s", want, out)
				}
			}
			golden.RequireEqual(t, []byte(out))
			// e shows the errors in place of the verdict; v brings it back.
			m.Update(keyMsg("e"))
			if out := m.View(); strings.Contains(out, "Verdict  ✖") || !strings.Contains(out, "Errors by kind") {
				t.Errorf("e after the run does not show the errors:\n%s", out)
			}
			m.Update(keyMsg("e"))
			m.Update(keyMsg("v"))
			if out := m.View(); !strings.Contains(out, "Verdict  ✖") {
				t.Errorf("v does not bring the verdict back:\n%s", out)
			}
			// v gives the rows back to nodes and events.
			m.Update(keyMsg("v"))
			if out := m.View(); strings.Contains(out, "Verdict  ✖") || !strings.Contains(out, "db-3") {
				t.Errorf("v did not hide the verdict:\n%s", out)
			}
		})
	}
}

// The finished header shows the run's figures, not the last window's: a
// last partial window with 3 slow requests does not read as the run's p95.
func TestDoneHeaderWholeRun(t *testing.T) {
	rec := realRecorder(t, 30, 2)
	last := synthTick(30)
	last.Requests, last.Latency = 3, measure.Latency{Count: 3, P50: 9 * time.Second, P95: 9 * time.Second, P99: 9 * time.Second}
	last.Hist, last.Endpoints, last.Window = nil, nil, 20*time.Millisecond
	rec.AddTick(last)
	rec.Finish(last.Time)
	m := New(rec, Options{Now: func() time.Time { return last.Time }}).(*Model)
	m.Update(sizeMsg(120, 40))
	header := strings.SplitN(m.View(), "\n", 2)[0]
	if strings.Contains(header, "p95 9.0s") || strings.Contains(header, "p95 9s") || !strings.Contains(header, "whole run") {
		t.Errorf("finished header shows the last window: %s", header)
	}
}

// A run stopped early says so on the verdict panel (its exit code is the
// caller's: a signal, a key, abort_on_breakpoint).
func TestVerdictSaysAborted(t *testing.T) {
	rec := realRecorder(t, 30, 2)
	rec.Abort("aborted by local", synthStart.Add(30*time.Second))
	rec.Finish(synthStart.Add(31 * time.Second))
	m := New(rec, Options{Now: func() time.Time { return synthStart.Add(31 * time.Second) }}).(*Model)
	m.Update(sizeMsg(120, 40))
	if out := m.View(); !strings.Contains(out, "aborted: aborted by local") {
		t.Errorf("verdict panel does not say the run was aborted:\n%s", out)
	}
}

// A finished find's verdict panel gives the search's answer first and says
// the run's own verdict is of every plateau together (it read "No
// breakpoint: it held up to 40 users" where 40 had failed the search).
func TestVerdictSaysFindAnswer(t *testing.T) {
	v := synthDone(t)
	v.Search = &report.Search{Unit: "users", Found: true, Phase: "done", Answer: 38, Bracket: [2]float64{38, 39}, Precision: report.Num(0.013)}
	m, _ := newTestModel(t, v, Options{Who: "local", CanControl: true, Controller: &fakeCtl{}}, 120, 40)
	out := m.View()
	for _, want := range []string{"find: max sustainable: 38 users (held; 39 failed: +2.6 %/−0; bracket 38–39)", "whole run, every plateau together:"} {
		if !strings.Contains(out, want) {
			t.Errorf("find's verdict lacks %q:\n%s", want, out)
		}
	}
}

package report

import (
	"strings"
	"testing"
	"time"

	"github.com/brink-load/brink/scenarios"
)

// Stage events name every group and the targets after +/-: the engine's
// scale and planned length come in the ticks.
func TestStageEventAllGroupsScaled(t *testing.T) {
	sc := scenario(false, nil)
	sc.Groups = append(sc.Groups, scenarios.Group{Name: "writes", Executor: scenarios.RampingArrivalRate, MaxVUs: 10,
		Stages: []scenarios.Stage{{Duration: 30 * time.Second, Target: 50}, {Duration: 90 * time.Second, Target: 70}}})
	r := NewRecorder(sc, t0, Options{})
	for i := 0; i < 70; i++ {
		tk := tick(i, win{vus: 10, rps: 10, p95: 10})
		tk.Scale, tk.Planned = 1, sc.Duration()
		if i >= 65 {
			tk.Stage, tk.Scale = 1, 1.1
			tk.Planned = sc.Duration() + 5*time.Second // 5 s on hold: the stage clock is at 61 s
		}
		r.AddTick(tk)
	}
	var texts []string
	r.View(func(v *View) {
		for _, e := range v.Events {
			if e.Kind == EventStage {
				texts = append(texts, e.Text)
			}
		}
	})
	want := []string{
		"stage 1/2: g to 100 users over 1m0s, writes to 50/s over 30s",
		"stage 2/2: g to 880 users (800 ×1.1) over 1m0s, writes to 77/s (70 ×1.1) over 1m30s",
	}
	if strings.Join(texts, "\n") != strings.Join(want, "\n") {
		t.Errorf("stage events\n%s\nwant\n%s", strings.Join(texts, "\n"), strings.Join(want, "\n"))
	}
}

// The summary's metric rows, events and verdict wrap at the width given
// (the terminal's), never ending a line on a number.
func TestSummaryWraps(t *testing.T) {
	rep, err := ReadFile("testdata/run-a.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, width := range []int{80, 100, 120} {
		var b strings.Builder
		PrintSummaryWidth(&b, rep, width)
		section, prev := "", ""
		for _, l := range strings.Split(b.String(), "\n") {
			if strings.HasPrefix(l, "  ") && !strings.HasPrefix(l, "   ") {
				section = strings.TrimSpace(l)
			}
			_ = section
			if n := len([]rune(l)); n > width {
				t.Errorf("width %d: %d-rune line %q", width, n, l)
			}
			// A continuation (indented past the row's label) follows a
			// line that must not end on a number.
			if strings.HasPrefix(l, strings.Repeat(" ", 20)) && prev != "" && endsInDigit(prev) {
				t.Errorf("width %d: %q ends on a number, continued by %q", width, prev, l)
			}
			prev = strings.TrimSpace(l)
		}
	}
}

// A find's plan is a placeholder the search overrides: no stage event
// says it (its one stage "to 0 users over 4m0s" was not so).
func TestFindHasNoStageEvents(t *testing.T) {
	r := NewRecorder(scenario(false, nil), t0, Options{Find: true})
	for i := 0; i < 3; i++ {
		r.AddTick(tick(i, win{vus: 10, rps: 10, p95: 10}))
	}
	r.View(func(v *View) {
		for _, e := range v.Events {
			if e.Kind == EventStage {
				t.Errorf("stage event in a find: %s", e.Text)
			}
		}
	})
}

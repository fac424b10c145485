package report

import (
	"strings"
	"testing"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
)

// A node already over its threshold before the load is "over before the
// load": never the breakpoint. Once back under, a crossing from below
// counts. Polls that come before the first window are judged when it
// comes (only then is the load's start known).
func TestOverBeforeTheLoad(t *testing.T) {
	load1Over100 := scenarios.NodeThreshold{Metric: "load1", Above: 100, Role: "db"}
	cases := []struct {
		name     string
		baseline *measure.Poll // through Baseline
		early    []float64     // db-3's load1 polled at -2 s, -1 s, before any window
		during   func(s int) float64
		bpAt     float64 // <0: none
		bpVUs    int
		inconc   string
	}{
		{name: "baseline over, stays over", baseline: ptr(poll(-3, load1("db-3", 150))),
			during: func(int) float64 { return 150 }, bpAt: -1, inconc: InconclusiveOverBefore},
		{name: "early polls over, stays over", early: []float64{150, 150},
			during: func(int) float64 { return 150 }, bpAt: -1, inconc: InconclusiveOverBefore},
		{name: "over before, under, then a crossing from below", baseline: ptr(poll(-3, load1("db-3", 150))),
			during: func(s int) float64 {
				if s <= 2 || s >= 8 {
					return 150
				}
				return 50
			}, bpAt: 8, bpVUs: 80},
		{name: "under before: the crossing counts", baseline: ptr(poll(-3, load1("db-3", 20))),
			during: func(int) float64 { return 150 }, bpAt: 0, bpVUs: 10},
		{name: "failed baseline poll judges nothing", baseline: ptr(measure.Poll{Time: at(-3), Err: "refused"}),
			during: func(int) float64 { return 150 }, bpAt: 0, bpVUs: 10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := NewRecorder(scenario(false, nil, load1Over100), t0, Options{Host: "h"})
			if c.baseline != nil {
				r.Baseline(*c.baseline)
			}
			for i, v := range c.early {
				r.AddPoll(poll(float64(i-len(c.early)), load1("db-3", v)))
			}
			wins := ramp(12, 10, func(int) float64 { return 50 })
			polls := map[int][]measure.Sample{}
			for s := 1; s <= 12; s++ {
				polls[s] = []measure.Sample{load1("db-3", c.during(s))}
			}
			// The first poll of the load, at 0 s, comes before the first window.
			r.AddPoll(poll(0, load1("db-3", c.during(1))))
			feed(t, r, wins, polls)
			r.Finish(at(13))
			rep := r.Report()
			v := rep.Verdict
			if c.bpAt < 0 {
				if v.Breakpoint != nil {
					t.Fatalf("breakpoint %+v, want none", v.Breakpoint)
				}
			} else if v.Breakpoint == nil || !v.Breakpoint.Time.Equal(at(c.bpAt)) || v.Breakpoint.VUs != c.bpVUs {
				t.Fatalf("breakpoint %+v, want at %v s with %d VUs", v.Breakpoint, c.bpAt, c.bpVUs)
			}
			var kinds []string
			for _, x := range v.Inconclusive {
				kinds = append(kinds, x.Kind)
			}
			if strings.Join(kinds, ",") != c.inconc {
				t.Fatalf("inconclusive %+v, want %q", v.Inconclusive, c.inconc)
			}
			over := 0
			for _, e := range rep.Events {
				if e.Kind == EventNodeOverBefore {
					over++
					if !strings.Contains(e.Text, "db-3 load1 150 > 100 before the load") {
						t.Errorf("event %q", e.Text)
					}
				}
			}
			if wantOver := c.inconc != "" || c.bpAt == 8; (over == 1) != wantOver || over > 1 {
				t.Errorf("%d node_over_before_load events", over)
			}
			if c.baseline != nil && c.baseline.Err == "" && (len(rep.Nodes) != 1 || rep.Nodes[0].Baseline == nil) {
				t.Errorf("nodes %+v: no baseline", rep.Nodes)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// The load at a crossing is the load of the window that contains it, even
// when the poll that finds it comes before that window has ended.
func TestCrossingLoadFromItsOwnWindow(t *testing.T) {
	r := NewRecorder(scenario(false, nil, scenarios.NodeThreshold{Metric: "load1", Above: 100}), t0,
		Options{Host: "h", Sustain: time.Second})
	for i := 0; i < 10; i++ {
		r.AddTick(tick(i, win{vus: 10 * (i + 1), rps: 30 * (i + 1), p95: 50}))
		v := 50.0
		if i >= 5 {
			v = 120
		}
		// At i+1.5 s: inside the window (i+1, i+2], which has not ended yet.
		r.AddPoll(poll(float64(i)+1.5, load1("db-3", v)))
	}
	r.Finish(at(11))
	rep := r.Report()
	bp := rep.Verdict.Breakpoint
	if bp == nil || !bp.Time.Equal(at(6.5)) || bp.VUs != 70 {
		t.Fatalf("breakpoint %+v, want at 6.5 s with 70 VUs (the window (6 s, 7 s])", bp)
	}
	for _, e := range rep.Events {
		if (e.Kind == EventNodeOver || e.Kind == EventBreakpoint) && (e.Load.VUs != 70 || !strings.Contains(e.Text, "70 users")) {
			t.Errorf("%s event with load %+v: %q", e.Kind, e.Load, e.Text)
		}
	}
	if ms := rep.Verdict.MaxStable; ms == nil || ms.VUs != 60 {
		t.Errorf("max stable %+v, want 60 VUs", ms)
	}
}

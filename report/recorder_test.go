package report

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
)

// ramp returns n windows climbing from 10 VUs by step, 3 rps per VU, with
// p95 from fn(i).
func ramp(n, step int, p95 func(i int) float64) []win {
	ws := make([]win, n)
	for i := range ws {
		v := 10 + i*step
		ws[i] = win{vus: v, rps: 3 * v, p95: p95(i)}
	}
	return ws
}

func kinds(evs []Event, k EventKind) []Event {
	var out []Event
	for _, e := range evs {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

func TestSyntheticTimelines(t *testing.T) {
	load1Over100 := scenarios.NodeThreshold{Metric: "load1", Above: 100, Role: "db"}
	cases := []struct {
		name  string
		sc    *scenarios.Scenario
		wins  []win
		polls map[int][]measure.Sample
		// expectations
		bpAt        float64 // seconds after t0; <0: no breakpoint
		kind        string
		node        string
		stableVUs   int // 0: no max stable
		followed    int
		state       State
		textHas     []string
		passed      bool
		nodeOvers   int
		sloBreaches int
	}{
		{
			name: "no breakpoint",
			sc:   scenario(false, []scenarios.Threshold{p95lt500, errLt1pct}),
			wins: ramp(20, 10, func(int) float64 { return 100 }),
			bpAt: -1, stableVUs: 200, state: StateOK, passed: true,
			textHas: []string{"No breakpoint: it held up to the highest load reached, 200 users, 600 rps (p95 100 ms, p99 100 ms, errors 0 %)."},
		},
		{
			name: "breakpoint in the first window",
			sc:   scenario(false, []scenarios.Threshold{p95lt500}),
			wins: ramp(6, 10, func(int) float64 { return 900 }),
			bpAt: 1, kind: SignalSLO, stableVUs: 0, state: StateBreakpoint, sloBreaches: 1,
			textHas: []string{"p95 900 ms > 500 ms at 10 users, 30 rps", "No window before it held every threshold."},
		},
		{
			name: "flapping SLO and node never sustain",
			sc:   scenario(false, []scenarios.Threshold{p95lt500}, load1Over100),
			wins: ramp(20, 10, func(i int) float64 {
				if i%3 == 2 {
					return 100
				}
				return 700 // two bad windows, one good: never three in a row
			}),
			polls: func() map[int][]measure.Sample {
				m := map[int][]measure.Sample{}
				for s := 1; s <= 20; s++ {
					v := 105.0
					if s%3 == 0 {
						v = 95
					}
					m[s] = []measure.Sample{load1("db-3", v)}
				}
				return m
			}(),
			bpAt: -1, stableVUs: 180, state: StateWarn, passed: true,
		},
		{
			name: "node crossing before the SLO breach",
			sc:   scenario(false, []scenarios.Threshold{p95lt500, errLt1pct}, load1Over100),
			wins: func() []win {
				ws := ramp(30, 20, func(i int) float64 {
					if i >= 16 { // window 17 ends at 17 s: 7 s after the crossing
						return 800
					}
					return 200
				})
				for i := 20; i < 30; i++ {
					ws[i].errs = ws[i].rps / 20
				}
				return ws
			}(),
			polls: func() map[int][]measure.Sample {
				m := map[int][]measure.Sample{}
				for s := 1; s <= 30; s++ {
					v := 60 + float64(s)
					if s >= 10 {
						v = 94 + float64(s)
					}
					m[s] = []measure.Sample{load1("db-3", v), load1("db-1", 20)}
				}
				return m
			}(),
			bpAt: 10, kind: SignalNode, node: "db-3", stableVUs: 170, followed: 2, state: StateBreakpoint,
			nodeOvers: 1, sloBreaches: 2,
			textHas: []string{"db-3 load1 104 > 100 at 190 users, 570 rps; p95 > 500 ms 7 s later; errors > 1 % 11 s later. Max",
				"Max stable: 170 users, 510 rps"},
		},
		{
			name: "two nodes crossing, the first wins",
			sc:   scenario(false, nil, load1Over100),
			wins: ramp(20, 10, func(int) float64 { return 100 }),
			polls: func() map[int][]measure.Sample {
				m := map[int][]measure.Sample{}
				for s := 1; s <= 20; s++ {
					a, b := 50.0, 50.0
					if s >= 6 {
						a = 120 // db-2 first
					}
					if s >= 8 {
						b = 130
					}
					m[s] = []measure.Sample{load1("db-3", b), load1("db-2", a)}
				}
				return m
			}(),
			bpAt: 6, kind: SignalNode, node: "db-2", stableVUs: 50, followed: 1, state: StateBreakpoint, passed: true,
			nodeOvers: 2,
			textHas:   []string{"db-2 load1 120 > 100 at 60 users, 180 rps; db-3 load1 130 > 100 2 s later."},
		},
		{
			name: "arrival rate not sustained",
			sc:   scenario(true, []scenarios.Threshold{p95lt500}),
			wins: func() []win {
				ws := make([]win, 20)
				for i := range ws {
					ws[i] = win{vus: 10 + i, rate: 100, rps: 100, p95: 50}
					if i >= 12 {
						ws[i].rps, ws[i].iters, ws[i].drop = 90, 90, 10
					}
				}
				return ws
			}(),
			// 30 of 2 000 arrivals dropped (1.5 %) fails the run too.
			bpAt: 13, kind: SignalRate, stableVUs: 21, state: StateBreakpoint, passed: false,
			textHas: []string{"g could not sustain 100/s (achieved 90/s, 30 dropped) at 100/s g, 90 rps"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRecorder(tc.sc, t0, Options{Version: "test", Host: "h"})
			var calls atomic.Int32
			got := make(chan Verdict, 2)
			r.OnBreakpoint(func(v Verdict) { calls.Add(1); got <- v })
			feed(t, r, tc.wins, tc.polls)
			var state State
			r.View(func(v *View) { state = v.State })
			if state != tc.state {
				t.Errorf("state %s, want %s", state, tc.state)
			}
			r.Finish(at(float64(len(tc.wins) + 1)))
			v := r.Verdict()
			if tc.bpAt < 0 {
				if v.Breakpoint != nil {
					t.Fatalf("breakpoint %+v, want none", v.Breakpoint)
				}
			} else {
				if v.Breakpoint == nil {
					t.Fatalf("no breakpoint; verdict %q", v.Text)
				}
				if !v.Breakpoint.Time.Equal(at(tc.bpAt)) || v.Breakpoint.Signal.Kind != tc.kind || v.Breakpoint.Signal.Node != tc.node {
					t.Errorf("breakpoint at %v %s %q, want %v %s %q", v.Breakpoint.Time.Sub(t0), v.Breakpoint.Signal.Kind,
						v.Breakpoint.Signal.Node, time.Duration(tc.bpAt*float64(time.Second)), tc.kind, tc.node)
				}
				select {
				case bv := <-got:
					if bv.Breakpoint == nil {
						t.Error("OnBreakpoint verdict without breakpoint")
					}
				case <-time.After(5 * time.Second):
					t.Fatal("OnBreakpoint not called")
				}
			}
			if len(v.Followed) != tc.followed {
				t.Errorf("followed %d, want %d: %+v", len(v.Followed), tc.followed, v.Followed)
			}
			switch {
			case tc.stableVUs == 0 && v.MaxStable != nil:
				t.Errorf("max stable %+v, want none", v.MaxStable)
			case tc.stableVUs > 0 && (v.MaxStable == nil || v.MaxStable.VUs != tc.stableVUs):
				t.Errorf("max stable %+v, want %d VUs", v.MaxStable, tc.stableVUs)
			}
			for _, s := range tc.textHas {
				if !strings.Contains(v.Text, s) {
					t.Errorf("verdict %q\nlacks %q", v.Text, s)
				}
			}
			if r.Passed() != tc.passed {
				t.Errorf("passed %v, want %v", r.Passed(), tc.passed)
			}
			var evs []Event
			r.View(func(v *View) { evs = append(evs, v.Events...) })
			if n := len(kinds(evs, EventNodeOver)); n != tc.nodeOvers {
				t.Errorf("%d node_over events, want %d", n, tc.nodeOvers)
			}
			if n := len(kinds(evs, EventSLOBreach)); n != tc.sloBreaches {
				t.Errorf("%d slo_breach events, want %d", n, tc.sloBreaches)
			}
			if n := len(kinds(evs, EventBreakpoint)); (n == 1) != (tc.bpAt >= 0) || n > 1 {
				t.Errorf("%d breakpoint events", n)
			}
			if calls.Load() > 1 {
				t.Errorf("OnBreakpoint called %d times", calls.Load())
			}
		})
	}
}

func TestFmtOverNeverReadsEqual(t *testing.T) {
	cases := []struct {
		metric string
		v, th  float64
		want   string
	}{
		{"load1", 100.4, 100, "100.4"},
		{"load1", 104, 100, "104"},
		{"cpu", 90.04, 90, "90.04 %"},
		{"load1", 12.5, 10, "12.5"},
	}
	for _, c := range cases {
		if got := fmtOver(c.metric, c.v, c.th); got != c.want {
			t.Errorf("fmtOver(%s, %v, %v) = %q, want %q", c.metric, c.v, c.th, got, c.want)
		}
	}
}

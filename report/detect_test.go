package report

import (
	"slices"
	"testing"
	"time"

	"github.com/brink-load/brink/scenarios"
)

func TestStreakSustain(t *testing.T) {
	cases := []struct {
		name string
		bad  string // one window per byte: x bad, . good
		want string // per window: + sustained, - cleared, . nothing
		at   []int  // window each change is stamped at
	}{
		{"never three in a row", "xx.xx.xx.", ".........", nil},
		{"three bad", "...xxx...", ".....+..-", []int{3, 6}},
		{"stays on through one good", "xxx.xxx", "..+....", []int{0}},
		{"clears after three good", "xxx...x", "..+..-.", []int{0, 3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var s streak
			var got []byte
			var at []int
			for i, b := range []byte(c.bad) {
				ch := s.step(i, b == 'x', float64(i), 3)
				switch ch {
				case +1:
					got = append(got, '+')
					at = append(at, s.runStart)
				case -1:
					got = append(got, '-')
					at = append(at, s.runStart)
				default:
					got = append(got, '.')
				}
			}
			if string(got) != c.want || len(at) != len(c.at) {
				t.Fatalf("got %s at %v, want %s at %v", got, at, c.want, c.at)
			}
			for i := range at {
				if at[i] != c.at[i] {
					t.Fatalf("changes at %v, want %v", at, c.at)
				}
			}
		})
	}
}

func TestSLODetectorNoDataNeitherBreachesNorRecovers(t *testing.T) {
	d := sloDetector{th: p95lt500}
	vals := []struct {
		v  float64
		ok bool
	}{{900, true}, {0, false}, {900, true}, {0, false}, {900, true}}
	var changes []int
	for i, x := range vals {
		if _, ch := d.step(i, x.v, x.ok, false, 3); ch != 0 {
			changes = append(changes, i)
		}
	}
	if len(changes) != 1 || changes[0] != 4 || d.runStart != 0 {
		t.Fatalf("changes at %v (run start %d), want one at window 4 stamped at 0", changes, d.runStart)
	}
	if _, ch := d.step(5, 400, true, false, 3); ch != 0 || !d.warn() {
		t.Fatal("one good window cleared a sustained breach")
	}
	if d.step(6, 460, true, false, 3); !d.near {
		t.Error("460 against <500 is not near")
	}

	// The same windows with no load offered in the empty ones (a stage or
	// a console scale at 0): nothing was in flight, so the gap ends the
	// run of breaches, as a window that held would.
	d = sloDetector{th: p95lt500}
	for i, x := range vals {
		if _, ch := d.step(i, x.v, x.ok, !x.ok, 3); ch != 0 {
			t.Fatalf("window %d: a sustained breach across idle gaps (run start %d)", i, d.runStart)
		}
	}
}

func TestCrossDetector(t *testing.T) {
	s := func(x float64) time.Time { return at(x) }
	type smp struct {
		t float64
		v float64
	}
	cases := []struct {
		name     string
		baseline *smp
		samples  []smp
		want     []crossing
	}{
		{name: "sustained crossing stamped at the first sample over",
			samples: []smp{{1, 90}, {2, 105}, {3, 110}, {4, 120}, {5, 130}},
			want:    []crossing{{over: true, at: s(2), val: 105}}},
		{name: "a blip is no crossing",
			samples: []smp{{1, 90}, {2, 105}, {3, 90}, {4, 105}, {5, 90}}},
		{name: "a repeated scrape is not a new sample",
			samples: []smp{{1, 105}, {1, 105}, {1, 105}}},
		{name: "over before the load, stays over: no crossing of the load's",
			baseline: &smp{0, 150}, samples: []smp{{1, 150}, {2, 160}, {3, 170}, {4, 180}}},
		{name: "over before the load, back under, then a crossing from below",
			baseline: &smp{0, 150},
			samples:  []smp{{1, 90}, {2, 90}, {3, 90}, {4, 90}, {5, 120}, {6, 120}, {7, 120}, {8, 120}},
			want: []crossing{{over: false, at: s(1), val: 90, before: true},
				{over: true, at: s(5), val: 120}}},
		{name: "under before the load: a crossing counts",
			baseline: &smp{0, 50},
			samples:  []smp{{1, 120}, {2, 120}, {3, 120}, {4, 120}},
			want:     []crossing{{over: true, at: s(1), val: 120}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var d crossDetector
			if c.baseline != nil {
				d.baseline(s(c.baseline.t), c.baseline.v, 100)
			}
			var got []crossing
			for _, x := range c.samples {
				if cr, ok := d.step(s(x.t), x.v, 100, 3*time.Second); ok {
					got = append(got, cr)
				}
			}
			if len(got) != len(c.want) {
				t.Fatalf("crossings %+v, want %+v", got, c.want)
			}
			for i := range got {
				if got[i].over != c.want[i].over || !got[i].at.Equal(c.want[i].at) || got[i].val != c.want[i].val ||
					got[i].before != c.want[i].before {
					t.Errorf("crossing %d: %+v, want %+v", i, got[i], c.want[i])
				}
			}
		})
	}
}

func TestRateDetector(t *testing.T) {
	type w struct{ started, dropped int64 }
	cases := []struct {
		name   string
		target float64
		wins   []w
		idle   []int // windows at 0/s (a stage, a console scale or find's cooldown at 0), stepped to
		bad    []int // windows judged bad
		on     int   // window index a sustained shortfall is stamped at; -1 none
	}{
		{"on schedule", 100, []w{{100, 0}, {100, 0}, {100, 0}, {100, 0}}, nil, nil, -1},
		{"edge jitter is not short", 100, []w{{100, 0}, {95, 0}, {105, 0}, {100, 0}}, nil, nil, -1},
		{"short three windows", 100, []w{{100, 0}, {80, 0}, {80, 0}, {80, 0}, {100, 0}}, nil, []int{1, 2, 3}, 1},
		{"drops are bad even on schedule", 100, []w{{100, 5}, {100, 5}, {100, 5}, {100, 0}}, nil, []int{0, 1, 2}, 0},
		// Nothing was due at 0/s, so nothing fell short: the idle window
		// ends the run as a window on schedule would. Two bad windows
		// before it and one after are no three in a row.
		{"an idle window breaks the run", 100, []w{{100, 5}, {100, 5}, {0, 0}, {100, 5}, {100, 0}}, []int{2}, []int{0, 1, 3}, -1},
		{"three in a row after an idle gap", 100, []w{{100, 5}, {0, 0}, {100, 5}, {100, 5}, {100, 5}}, []int{1}, []int{0, 2, 3, 4}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var d rateDetector
			var bad []int
			on := -1
			seen := func(j rateJudged, ok bool) {
				if !ok {
					return
				}
				if j.bad {
					bad = append(bad, j.i)
				}
				if j.change == +1 {
					on = j.at
				}
			}
			for i, x := range c.wins {
				target := c.target
				if slices.Contains(c.idle, i) {
					target = 0
				}
				seen(d.add(i, 1, target, x.started, x.started, x.dropped, 3, c.idle != nil))
			}
			seen(d.flush(3))
			if !slices.Equal(bad, c.bad) || on != c.on {
				t.Fatalf("bad windows %v, sustained at %d; want %v, %d", bad, on, c.bad, c.on)
			}
		})
	}
}

// A ramping arrival rate's first window is judged against the rate its
// schedule had from its start, not its end's: a ramp from 10/s to 100/s
// over 6 s schedules 17.5 arrivals in its first second, while its end
// target says 25/s. Every arrival started on time is no shortfall (the
// first window read ok: false); a generator short there still is.
func TestRampFirstWindowJudgedFromItsStart(t *testing.T) {
	// Arrivals started per window: the schedule's ∫ 10+15t, floored.
	onTime := []int{17, 33, 47, 63, 77, 93}
	for _, c := range []struct {
		name    string
		first   int // arrivals started in the first window
		firstOK bool
	}{{"on schedule", onTime[0], true}, {"short in the first window", 8, false}} {
		t.Run(c.name, func(t *testing.T) {
			sc := scenario(true, nil)
			sc.Groups[0].Start = 10
			sc.Groups[0].Stages = []scenarios.Stage{{Duration: 6 * time.Second, Target: 100}}
			r := NewRecorder(sc, t0, Options{Host: "h"})
			for i, n := range onTime {
				if i == 0 {
					n = c.first
				}
				r.AddTick(tick(i, win{vus: 20, rate: 25 + 15*float64(i), rps: n, started: n, p95: 10}))
			}
			r.Finish(at(6))
			rep := r.Report()
			for i, w := range rep.Timeline {
				if want := i > 0 || c.firstOK; w.OK != want {
					t.Errorf("window %d: ok %v, want %v (started %d, target %v/s at its end)", i, w.OK, want, w.Started, w.TargetRate)
				}
			}
			for _, ev := range rep.Events {
				if ev.Kind == EventRateShort {
					t.Errorf("a window short of its rate is no sustained shortfall: %s", ev.Text)
				}
			}
		})
	}
}

// A target that steps inside a window (brink find's plateaus and
// cooldowns, a console scale) scheduled anything between its two ends,
// and only the lower is sure. Judged against their average, a step down a
// fifth into the window read short (ok: false), and a find's whole-run
// verdict said "api could not sustain 0/s (achieved 8/s)"; so did a
// console's +10 % late in a window.
func TestRateStepIsNoShortfall(t *testing.T) {
	type w struct {
		target, scale float64
		started       int
	}
	var find, scale []w
	for _, load := range []float64{40, 30, 35, 32} {
		n := int(load)
		find = append(find,
			w{load, 1, n * 4 / 5}, // steps up from 0 a fifth into the window
			w{load, 1, n}, w{load, 1, n},
			w{0, 1, n / 5}, // steps down a fifth into it: the cooldown
			w{0, 1, 0})
	}
	for range 3 {
		scale = append(scale,
			w{100, 1, 100}, w{100, 1, 100},
			w{110, 1.1, 101}, // + a tenth of a second before the window's end
			w{110, 1.1, 110}, w{110, 1.1, 110},
			w{100, 1, 109}) // - a tenth in
	}
	for _, c := range []struct {
		name string
		find bool
		wins []w
	}{{"find", true, find}, {"console scale", false, scale}} {
		t.Run(c.name, func(t *testing.T) {
			r := NewRecorder(scenario(true, nil), t0, Options{Host: "h", Find: c.find})
			for i, x := range c.wins {
				tk := tick(i, win{vus: 20, rate: x.target, rps: x.started, started: x.started, p95: 10})
				tk.Groups[0].Executor = string(scenarios.RampingArrivalRate) // at 0/s too
				tk.Scale = x.scale
				r.AddTick(tk)
			}
			r.Finish(at(float64(len(c.wins))))
			rep := r.Report()
			for k, w := range rep.Timeline {
				if !w.OK {
					t.Errorf("window %d (target %v/s at its end, started %d): ok false", k, w.TargetRate, w.Started)
				}
			}
			for _, ev := range rep.Events {
				if ev.Kind == EventRateShort {
					t.Errorf("no window fell short of what its target asked for: %s", ev.Text)
				}
			}
		})
	}
}

// A run at 0 load for a while (a stage or a console scale at 0): the
// violations either side of the gap are not one sustained violation,
// whether the rate fell short or an SLO broke. The arrival-rate windows
// ramp down to 0/s and back; the SLO's idle window has no VU and no data.
func TestIdleGapIsNoSustainedViolation(t *testing.T) {
	open := func(rate float64, started, drop int) win {
		return win{vus: 20, rate: rate, rps: started, started: started, drop: drop, p95: 10}
	}
	closed := func(vus, rps int, p95 float64) win { return win{vus: vus, rps: rps, p95: p95} }
	for _, c := range []struct {
		name string
		open bool
		wins []win
		kind EventKind
	}{
		{"rate", true, []win{open(100, 100, 0), open(100, 95, 5), open(0, 45, 5), open(0, 0, 0), open(100, 45, 5),
			open(100, 100, 0), open(100, 100, 0), open(100, 100, 0)}, EventRateShort},
		{"slo", false, []win{closed(10, 100, 900), closed(10, 100, 900), closed(0, 0, 0), closed(10, 100, 900),
			closed(10, 100, 100), closed(10, 100, 100), closed(10, 100, 100)}, EventSLOBreach},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := NewRecorder(scenario(c.open, []scenarios.Threshold{p95lt500}), t0, Options{Host: "h"})
			for i, w := range c.wins {
				tk := tick(i, w)
				if c.open {
					tk.Groups[0].Executor = string(scenarios.RampingArrivalRate) // at 0/s too
				}
				r.AddTick(tk)
			}
			r.Finish(at(float64(len(c.wins))))
			rep := r.Report()
			for _, ev := range kinds(rep.Events, c.kind) {
				t.Errorf("sustained across the idle gap: %s", ev.Text)
			}
			if bp := rep.Verdict.Breakpoint; bp != nil {
				t.Errorf("breakpoint %s", bp.Signal.Text)
			}
		})
	}
}

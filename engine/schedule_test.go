package engine

import (
	"math"
	"testing"
	"time"

	"github.com/brink-load/brink/scenarios"
)

const s = time.Second

func TestScheduleAt(t *testing.T) {
	sch := Schedule{Start: 0, Stages: []scenarios.Stage{stg(10*s, 100), stg(5*s, 100), stg(5*s, 0)}}
	cases := []struct {
		at    time.Duration
		want  float64
		vus   int
		stage int
	}{
		{0, 0, 0, 0},
		{time.Second, 10, 10, 0},
		{2500 * time.Millisecond, 25, 25, 0},
		{9999 * time.Millisecond, 99.99, 99, 0},
		{10 * s, 100, 100, 1},
		{14 * s, 100, 100, 1},
		{17500 * time.Millisecond, 50, 50, 2},
		{20 * s, 0, 0, 3},
		{30 * s, 0, 0, 3},
		{-s, 0, 0, 0},
	}
	for _, c := range cases {
		got, st := sch.At(c.at)
		if math.Abs(got-c.want) > 1e-9 || st != c.stage || sch.VUsAt(c.at) != c.vus {
			t.Errorf("At(%v) = %v stage %d vus %d, want %v stage %d vus %d", c.at, got, st, sch.VUsAt(c.at), c.want, c.stage, c.vus)
		}
	}
	if sch.Duration() != 20*s {
		t.Errorf("Duration = %v", sch.Duration())
	}
}

func TestScheduleStartValue(t *testing.T) {
	sch := Schedule{Start: 50, Stages: []scenarios.Stage{stg(10*s, 150)}}
	if v, _ := sch.At(5 * s); v != 100 {
		t.Fatalf("At(5s) = %v, want 100", v)
	}
}

func TestArrivals(t *testing.T) {
	cases := []struct {
		name string
		sch  Schedule
		at   time.Duration
		want float64
	}{
		{"constant 200/s for 3s", Schedule{200, []scenarios.Stage{stg(3*s, 200)}}, 3 * s, 600},
		{"constant half way", Schedule{200, []scenarios.Stage{stg(3*s, 200)}}, 1500 * time.Millisecond, 300},
		{"ramp 0→100 over 10s", Schedule{0, []scenarios.Stage{stg(10*s, 100)}}, 10 * s, 500},
		{"ramp quarter", Schedule{0, []scenarios.Stage{stg(10*s, 100)}}, 5 * s, 125},
		{"ramp then hold", Schedule{0, []scenarios.Stage{stg(10*s, 100), stg(10*s, 100)}}, 15 * s, 1000},
		{"ramp down", Schedule{100, []scenarios.Stage{stg(10*s, 0)}}, 10 * s, 500},
		{"zero", Schedule{0, []scenarios.Stage{stg(10*s, 0)}}, 10 * s, 0},
		{"before start", Schedule{100, []scenarios.Stage{stg(10*s, 100)}}, -s, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.sch.Arrivals(c.at); math.Abs(got-c.want) > 1e-6 {
				t.Fatalf("Arrivals(%v) = %v, want %v", c.at, got, c.want)
			}
		})
	}
}

// ArrivalTime must invert Arrivals everywhere on the curve, including ramps
// from zero, ramps down and flat stages.
func TestArrivalTimeInverts(t *testing.T) {
	schs := []Schedule{
		{200, []scenarios.Stage{stg(3*s, 200)}},
		{0, []scenarios.Stage{stg(10*s, 100), stg(5*s, 100), stg(5*s, 0)}},
		{10, []scenarios.Stage{stg(7*s, 1000), stg(time.Second, 3)}},
	}
	for i, sch := range schs {
		total := sch.Arrivals(sch.Duration())
		for n := 0.0; n < total; n += total / 997 {
			at, ok := sch.ArrivalTime(n)
			if !ok {
				t.Fatalf("schedule %d: ArrivalTime(%v) not ok (total %v)", i, n, total)
			}
			if back := sch.Arrivals(at); math.Abs(back-n) > 1e-6*math.Max(1, n) {
				t.Fatalf("schedule %d: Arrivals(ArrivalTime(%v)=%v) = %v", i, n, at, back)
			}
		}
		if _, ok := sch.ArrivalTime(total + 1); ok {
			t.Fatalf("schedule %d: arrival past the end should not be ok", i)
		}
	}
}

func TestArrivalSpacingConstantRate(t *testing.T) {
	sch := Schedule{200, []scenarios.Stage{stg(3*s, 200)}}
	for k := 0; k < 600; k++ {
		at, ok := sch.ArrivalTime(float64(k))
		want := time.Duration(k) * 5 * time.Millisecond
		if !ok || (at-want).Abs() > time.Microsecond {
			t.Fatalf("arrival %d at %v, want %v", k, at, want)
		}
	}
}

// pace applies Hold/Scale/SetTarget on top of the schedule; the count of
// due arrivals must be continuous across a change (no burst, no gap).
func TestPaceRegimes(t *testing.T) {
	sch := Schedule{0, []scenarios.Stage{stg(10*s, 100)}}
	p := pace{scale: 1}
	if got := p.due(sch, 10*s); math.Abs(got-500) > 1e-6 {
		t.Fatalf("curve due(10s) = %v, want 500", got)
	}
	// Hold at 4 s (rate 40/s): constant from there.
	acc := p.due(sch, 4*s)
	held := pace{anchorWall: 4 * s, anchorAcc: acc, constant: true, rate: 40}
	if got := held.due(sch, 6*s); math.Abs(got-(acc+80)) > 1e-6 {
		t.Fatalf("held due(6s) = %v, want %v", got, acc+80)
	}
	if w, ok := held.when(sch, acc+40); !ok || (w-5*s).Abs() > time.Microsecond {
		t.Fatalf("held when = %v %v, want 5s", w, ok)
	}
	// Resume at 6 s wall (2 s held, stage time 4 s) with scale 2.
	acc2 := held.due(sch, 6*s)
	res := pace{anchorWall: 6 * s, anchorAcc: acc2, scale: 2, stageAt: 4 * s}
	if got := res.due(sch, 6*s); got != acc2 {
		t.Fatalf("discontinuity at resume: %v vs %v", got, acc2)
	}
	// Over the next second the curve goes 40→50/s; doubled that is 90.
	if got := res.due(sch, 7*s) - acc2; math.Abs(got-90) > 1e-6 {
		t.Fatalf("scaled arrivals = %v, want 90", got)
	}
	if w, ok := res.when(sch, acc2+90); !ok || (w-7*s).Abs() > time.Microsecond {
		t.Fatalf("scaled when = %v %v, want 7s", w, ok)
	}
	zero := pace{constant: true}
	if _, ok := zero.when(sch, 1); ok {
		t.Fatal("rate 0 should never be due")
	}
}

func FuzzScheduleInverse(f *testing.F) {
	f.Add(0.0, 100.0, 50.0, int64(10), int64(5), 0.3)
	f.Add(200.0, 200.0, 0.0, int64(3), int64(1), 0.99)
	f.Fuzz(func(t *testing.T, start, a, b float64, d1, d2 int64, frac float64) {
		if !(start >= 0 && a >= 0 && b >= 0 && start < 1e6 && a < 1e6 && b < 1e6) || d1 <= 0 || d2 <= 0 || d1 > 3600 || d2 > 3600 || !(frac >= 0 && frac < 1) {
			return
		}
		sch := Schedule{start, []scenarios.Stage{stg(time.Duration(d1)*s, a), stg(time.Duration(d2)*s, b)}}
		total := sch.Arrivals(sch.Duration())
		n := total * frac
		at, ok := sch.ArrivalTime(n)
		if total > 0 && !ok {
			t.Fatalf("no time for %v of %v", n, total)
		}
		if ok && math.Abs(sch.Arrivals(at)-n) > 1e-6*math.Max(1, total) {
			t.Fatalf("Arrivals(%v) = %v, want %v", at, sch.Arrivals(at), n)
		}
	})
}

func stg(d time.Duration, target float64) scenarios.Stage {
	return scenarios.Stage{Duration: d, Target: target}
}

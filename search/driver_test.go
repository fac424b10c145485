package search

import (
	"testing"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/report"
	"github.com/brink-load/brink/scenarios"
)

func nodeScenario() *scenarios.Scenario {
	return &scenarios.Scenario{
		Groups: []scenarios.Group{{Name: "api", Executor: scenarios.RampingVUs, Stages: []scenarios.Stage{{Duration: time.Minute, Target: 100}}}},
		Nodes:  &scenarios.Nodes{Thresholds: []scenarios.NodeThreshold{{Metric: "load1", Above: 100}}},
	}
}

func poll(at time.Time, load1 float64) measure.Poll {
	return measure.Poll{Time: at, Samples: []measure.Sample{{Node: "db-3", Time: at, Load1: load1}}}
}

// A slow signal has settled only when it moved less than 5 % of its
// threshold across the last part of the hold, and never while over it.
func TestSettled(t *testing.T) {
	from := time.Unix(1000, 0)
	for _, tc := range []struct {
		name  string
		loads []float64 // one a second from `from`
		want  bool
	}{
		{"rising", []float64{50, 60, 70, 80, 85, 88, 91}, false},
		{"flat", []float64{50, 80, 89, 90, 90.5, 91, 91}, true},
		{"over now", []float64{90, 95, 101, 102, 102, 102, 102}, false},
		{"falling", []float64{99, 95, 90, 80, 70, 60, 50}, false},
		{"one sample", []float64{50}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := NewDriver(nodeScenario(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range tc.loads {
				d.Poll(poll(from.Add(time.Duration(i)*time.Second), v))
			}
			now := from.Add(time.Duration(len(tc.loads)-1) * time.Second)
			if got := d.settled(from, now); got != tc.want {
				t.Fatalf("settled = %v, want %v", got, tc.want)
			}
		})
	}
}

// After a failed plateau the load rests until the crossed series is back
// under its threshold and brink's own requests have drained.
func TestRecoveredAndDrained(t *testing.T) {
	d, _ := NewDriver(nodeScenario(), Options{})
	from := time.Unix(1000, 0)
	sig := []report.Signal{{Kind: report.SignalNode, Node: "db-3", Metric: "load1", Threshold: 100}}
	d.Poll(poll(from.Add(-time.Second), 50)) // before the rest began: says nothing
	if d.recovered(sig, from) {
		t.Fatal("recovered with no sample since the rest began")
	}
	d.Poll(poll(from.Add(time.Second), 120))
	if d.recovered(sig, from) {
		t.Fatal("recovered while over")
	}
	d.Poll(poll(from.Add(2*time.Second), 99))
	if !d.recovered(sig, from) {
		t.Fatal("not recovered once under")
	}
	tick := func(at time.Time, vus, busy int) measure.Tick {
		return measure.Tick{Time: at, Groups: []measure.GroupStats{{Name: "api", Executor: "ramping-vus", VUs: vus},
			{Name: "w", Executor: "ramping-arrival-rate", VUs: 20, BusyVUs: busy}}}
	}
	d.Tick(tick(from.Add(-time.Second), 0, 0))
	if d.drained(from) {
		t.Fatal("drained by a window from before the rest")
	}
	d.Tick(tick(from.Add(time.Second), 3, 0))
	if d.drained(from) {
		t.Fatal("drained with closed-model VUs left")
	}
	d.Tick(tick(from.Add(2*time.Second), 0, 2))
	if d.drained(from) {
		t.Fatal("drained with arrival-rate VUs busy")
	}
	d.Tick(tick(from.Add(3*time.Second), 0, 0))
	if !d.drained(from) {
		t.Fatal("not drained once no VU was left busy (idle arrival-rate VUs do not count)")
	}
}

// Every group scales from its own peak target as 100 %; the load is
// counted in users when any group is closed-model.
func TestTargetsScaleTogether(t *testing.T) {
	sc := &scenarios.Scenario{Groups: []scenarios.Group{
		{Name: "browse", Executor: scenarios.RampingVUs, Stages: []scenarios.Stage{{Duration: time.Minute, Target: 420}}},
		{Name: "chat", Executor: scenarios.RampingVUs, Stages: []scenarios.Stage{{Duration: time.Minute, Target: 420}}},
		{Name: "writes", Executor: scenarios.RampingArrivalRate, Stages: []scenarios.Stage{{Duration: time.Minute, Target: 140}}},
	}}
	d, err := NewDriver(sc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Unit() != "users" || d.cfg.Start != 84 {
		t.Fatalf("unit %q start %v, want users from 84 (10 %%)", d.Unit(), d.cfg.Start)
	}
	got := d.targets(420)
	if got[0].Target != 210 || got[1].Target != 210 || got[2].Target != 70 {
		t.Fatalf("targets at 420 users: %+v", got)
	}
	// Whole users that add up to the load: 567 is 284 + 283, not 284 + 284.
	if got := d.targets(567); got[0].Target+got[1].Target != 567 || got[2].Target != 94.5 {
		t.Fatalf("targets at 567 users: %+v", got)
	}
	p := Prepare(sc, time.Minute)
	for _, g := range p.Groups {
		if g.Start != 0 || len(g.Stages) != 1 || g.Stages[0].Target != 0 || g.Stages[0].Duration < time.Minute {
			t.Fatalf("prepared group %+v: want a long stage at 0 (the driver sets targets)", g)
		}
	}
	if sc.Groups[0].Stages[0].Target != 420 {
		t.Fatal("Prepare changed the scenario it was given")
	}
}

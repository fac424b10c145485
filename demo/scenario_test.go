package demo

import (
	"strings"
	"testing"
	"time"

	"github.com/brink-load/brink/scenarios"
)

func TestScenarioLoadsAndScales(t *testing.T) {
	const base = "http://127.0.0.1:45678"
	tests := []struct {
		dur, want time.Duration
	}{
		{0, DefaultDuration},
		{DefaultDuration, DefaultDuration},
		{time.Minute, time.Minute},
		{4 * time.Minute, 4 * time.Minute},
	}
	for _, tc := range tests {
		sc, err := Scenario(base, tc.dur)
		if err != nil {
			t.Fatalf("Scenario(%s): %v", tc.dur, err)
		}
		if got := sc.Duration(); got != tc.want {
			t.Errorf("Scenario(%s).Duration() = %s, want %s", tc.dur, got, tc.want)
		}
		if len(sc.Groups) != 3 {
			t.Fatalf("groups = %d, want 3", len(sc.Groups))
		}
		if sc.Nodes == nil || len(sc.Nodes.Scrape) != 6 {
			t.Fatalf("nodes = %+v, want 6 scrape URLs", sc.Nodes)
		}
		for _, u := range sc.Nodes.Scrape {
			if !strings.HasPrefix(u, base+"/nodes/") {
				t.Errorf("scrape URL %s not under %s", u, base)
			}
			if sc.Nodes.Names[u] == "" {
				t.Errorf("scrape URL %s has no name", u)
			}
		}
		var haveLoad bool
		for _, th := range sc.Nodes.Thresholds {
			haveLoad = haveLoad || th.Metric == "load1" && th.Above == 100 && th.Role == "db"
		}
		if !haveLoad {
			t.Errorf("no load1 > 100 threshold on role db: %+v", sc.Nodes.Thresholds)
		}
		if u := sc.Groups[0].Requests[0].URL.Source(); !strings.HasPrefix(u, base) {
			t.Errorf("request url %s not absolute under %s", u, base)
		}
	}
	if _, err := Scenario(base, -time.Second); err == nil {
		t.Error("negative duration: no error")
	}
}

// The scenario --listen writes for --duration D is as long as the one the
// demo runs for D, stage by stage (it used to stay 2m whatever D).
func TestScenarioYAMLForScales(t *testing.T) {
	const base = "http://127.0.0.1:45678"
	for _, dur := range []time.Duration{0, 30 * time.Second, 7 * time.Second, 5 * time.Minute} {
		sc, err := scenarios.Parse("demo.yaml", ScenarioYAMLFor(base, dur))
		if err != nil {
			t.Fatalf("%s: %v", dur, err)
		}
		want, err := Scenario(base, dur)
		if err != nil {
			t.Fatal(err)
		}
		if sc.Duration() != want.Duration() {
			t.Errorf("%s: written scenario lasts %s, the demo's %s", dur, sc.Duration(), want.Duration())
		}
		for gi := range want.Groups {
			for si, st := range want.Groups[gi].Stages {
				if got := sc.Groups[gi].Stages[si].Duration; got != st.Duration {
					t.Errorf("%s: group %d stage %d: %s, want %s", dur, gi, si, got, st.Duration)
				}
			}
		}
	}
}

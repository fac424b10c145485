package demo

import (
	"strings"
	"testing"
	"time"
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

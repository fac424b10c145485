package run

import (
	"testing"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/report"
	"github.com/brink-load/brink/scenarios"
)

// The progress line keeps closed-model VUs against their target and puts
// an arrival-rate group's VUs beside its rate.
func TestProgressLine(t *testing.T) {
	mk := func(groups ...measure.GroupStats) string {
		rec := report.NewRecorder(&scenarios.Scenario{Name: "p", Window: time.Second}, time.Now(), report.Options{})
		tk := measure.Tick{Time: time.Now(), Elapsed: 65 * time.Second, Window: time.Second, Requests: 1843,
			Latency: measure.Latency{Count: 1843, P95: 212 * time.Millisecond, P99: 480 * time.Millisecond}, Groups: groups}
		for _, g := range groups {
			tk.VUs += g.VUs
			tk.TargetVUs += g.TargetVUs
			tk.TargetRate += g.TargetRate
		}
		rec.AddTick(tk)
		return ProgressLine(rec)
	}
	closed := measure.GroupStats{Name: "c", Executor: "ramping-vus", VUs: 210, TargetVUs: 300}
	open := measure.GroupStats{Name: "o", Executor: "ramping-arrival-rate", VUs: 20, BusyVUs: 3, TargetRate: 70}
	cases := []struct {
		groups []measure.GroupStats
		want   string
	}{
		{[]measure.GroupStats{closed}, "t=1m05s vus=210/300 rps=1843 p95=212ms p99=480ms err=0.0%"},
		{[]measure.GroupStats{open}, "t=1m05s vus=20 rate=70/s (3 busy) rps=1843 p95=212ms p99=480ms err=0.0%"},
		{[]measure.GroupStats{closed, open}, "t=1m05s vus=210/300 rate=70/s (3 of 20 VUs busy) rps=1843 p95=212ms p99=480ms err=0.0% — 210 users + 70/s o"},
	}
	for _, c := range cases {
		if got := mk(c.groups...); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}

	// WebSocket: sessions' failures over the last 5 s, never hidden
	// behind the HTTP err=.
	rec := report.NewRecorder(&scenarios.Scenario{Name: "p", Window: time.Second}, time.Now(), report.Options{})
	for i := range 6 {
		ws := measure.WSStats{Open: 0, Sessions: 2, Failed: 2, Outcomes: 2, Errors: map[measure.ErrorKind]int64{measure.ErrStatus4xx: 2}}
		if i == 0 {
			ws = measure.WSStats{Open: 3, Sessions: 3, Outcomes: 10}
		}
		rec.AddTick(measure.Tick{Time: time.Now(), Elapsed: time.Duration(i+1) * time.Second, Window: time.Second,
			Groups: []measure.GroupStats{{Name: "chat", Executor: "ramping-vus", VUs: 3, TargetVUs: 3}}, VUs: 3, TargetVUs: 3, WS: ws})
	}
	// Five windows of refused sessions breach the default ws_failed rate<5%.
	if got, want := ProgressLine(rec), "t=6s vus=3/3 rps=0 p95=0.00ms p99=0.00ms err=0.0% ws_open=0 ws_failed=100.0% state=BREAKPOINT"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

package report

import (
	"math"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/brink-load/brink/scenarios"
)

// A group-tagged latency threshold is judged on the group's own histogram
// (3 significant figures), not on its endpoints' (2 figures, about 1 %
// off), over the whole run and in each window: a p95 of 1234 ms against
// "< 1236" must hold.
func TestGroupTaggedThresholdIsExact(t *testing.T) {
	thr := scenarios.Threshold{Metric: "http_req_duration", Expr: "p(95)<1236", TagKey: "group", TagValue: "g",
		Agg: "p", P: 95, Op: "<", Value: 1236}
	r := NewRecorder(scenario(false, []scenarios.Threshold{thr}), t0, Options{})
	for i := range 5 {
		tk := tick(i, win{vus: 10, rps: 100, p95: 1234})
		// The engine keeps endpoints at 2 figures: one bucket there spans
		// about 8 ms at 1.2 s.
		coarse := hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 2)
		_ = coarse.RecordValues(1_234_000, 100)
		tk.Endpoints[0].Hist = coarse.Export()
		tk.Groups[0].Hist = tk.Hist
		r.AddTick(tk)
	}
	r.Finish(at(6))
	var res *ThresholdResult
	for _, x := range r.Report().Thresholds {
		if x.Expr == "p(95)<1236" {
			res = &x
		}
	}
	if res == nil {
		t.Fatal("threshold missing from the report")
	}
	if !res.OK || res.BadWindows != 0 || math.Abs(float64(res.Value)-1234) > 1.5 {
		t.Errorf("group p95 %v ok=%v bad windows %d, want 1234 ms within the group histogram's precision, held in every window", res.Value, res.OK, res.BadWindows)
	}
}

package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/brink-load/brink/scenarios"
)

func TestFormatters(t *testing.T) {
	cases := []struct{ got, want string }{
		{fmtMs(0.214), "0.21 ms"},
		{fmtMs(12.34), "12.3 ms"},
		{fmtMs(212.4), "212 ms"},
		{fmtMs(12345), "12.3 s"},
		{fmtPct(0), "0 %"},
		{fmtPct(0.021), "2.1 %"},
		{fmtPct(0.00012), "0.012 %"},
		{fmtPct(0.5), "50 %"},
		// Never round a failure away, at either end.
		{fmtPct(38208.0 / (38208 + 136)), "99.6 %"},
		{fmtPct(0.99996), "99.996 %"},
		{fmtPct(0.999999999), "99.9999999 %"},
		{fmtPct(1), "100 %"},
		{fmtPct(0.000001), "0.0001 %"},
		{fmtPct(1e-9), "0.0000001 %"},
		{group3(1840), "1 840"},
		{group3(-1234567), "-1 234 567"},
		{group3(999), "999"},
		{fmtNodeValue("load1", 104.2), "104"},
		{fmtNodeValue("cpu", 93.26), "93.3 %"},
		{fmtNodeValue("read_bps", 3*1024*1024), "3 MiB/s"},
		{fmtDur(7 * time.Second), "7 s"},
		{fmtDur(125 * time.Second), "2m05s"},
		{fmtDur(3*time.Hour + 5*time.Minute), "3h05m"},
		{sloShort(p95lt500), "p95 > 500 ms"},
		{sloShort(errLt1pct), "errors > 1 %"},
		{sloWithValue(th("checks", "rate>0.99", "rate", 0, ">", 0.99), 0.95), "checks 95 % < 99 %"},
		{sloShort(scenarios.Threshold{Metric: "http_req_duration", TagKey: "name", TagValue: "history", Agg: "p", P: 99.9, Op: "<=", Value: 1500}),
			"history p99.9 > 1500 ms"},
		{trimFloat(niceStep(73), 0), "100"},
		{trimFloat(niceStep(13), 0), "20"},
		{trimFloat(niceStep(0.3), 0), "1"},
		{trimFloat(niceStep(41), 0), "50"},
		{change(280, 600), "+114 %"},
		{change(100, 100.2), "±0 %"},
		{change(0, 5), "n/a"},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("case %d: got %q, want %q", i, c.got, c.want)
		}
	}
}

// TestCompareOpenModel: arrival-rate runs are matched by target rate.
func TestCompareOpenModel(t *testing.T) {
	run := func(shortFrom int) *Report {
		r := NewRecorder(scenario(true, []scenarios.Threshold{p95lt500}), t0, Options{})
		ws := make([]win, 30)
		for i := range ws {
			rate := float64(10 * (i + 1))
			ws[i] = win{vus: i + 1, rate: rate, rps: int(rate), p95: 40}
			if i >= shortFrom {
				ws[i].rps, ws[i].drop = int(rate*0.8), int(rate*0.2)
				ws[i].iters = ws[i].rps
			}
		}
		feed(t, r, ws, nil)
		r.Finish(at(31))
		return r.Report()
	}
	a, b := run(10), run(20)
	var out bytes.Buffer
	Compare(&out, a, b)
	s := out.String()
	for _, want := range []string{"rate/s", "max stable load      100/s g, 100 rps", "200/s g, 200 rps",
		"Max stable rate 100/s → 200/s (+100 %)", "could not sustain"} {
		if !strings.Contains(s, want) {
			t.Errorf("compare lacks %q:\n%s", want, s)
		}
	}
}

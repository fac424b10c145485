package scenarios

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/brink-load/brink/tabletest"
)

func TestPlanArithmetic(t *testing.T) {
	tests := []struct {
		name                          string
		in                            PlanInput
		daily, avg, peak, target, vux float64
		vus                           int
	}{
		{
			name:  "the team's numbers",
			in:    PlanInput{DailyUsers: 100_000, RequestsPerUser: 50, PeakFactor: 3, Margin: 0.3, P95: 300 * time.Millisecond, Think: Think{2 * time.Second, 2 * time.Second}},
			daily: 5_000_000, avg: 5_000_000.0 / 86400, peak: 3 * 5_000_000.0 / 86400, target: 1.3 * 3 * 5_000_000.0 / 86400,
			vux: 1.3 * 3 * 5_000_000.0 / 86400 * 2.3, vus: 520, // 519.10… rounds up
		},
		{
			name:  "exact integer stays put (think 1s-2s: its mean 1.5 s counts)",
			in:    PlanInput{DailyUsers: 86_400, RequestsPerUser: 10, PeakFactor: 2, Margin: 0, P95: 500 * time.Millisecond, Think: Think{time.Second, 2 * time.Second}},
			daily: 864_000, avg: 10, peak: 20, target: 20, vux: 40, vus: 40,
		},
		{
			name:  "no think time: VUs only cover the response time",
			in:    PlanInput{DailyUsers: 1_000_000, RequestsPerUser: 200, PeakFactor: 4, Margin: 0.5, P95: 200 * time.Millisecond},
			daily: 2e8, avg: 2e8 / 86400, peak: 4 * 2e8 / 86400, target: 6 * 2e8 / 86400, vux: 6 * 2e8 / 86400 * 0.2, vus: 2778,
		},
		{
			name:  "tiny service still needs one VU",
			in:    PlanInput{DailyUsers: 10, RequestsPerUser: 1, PeakFactor: 1, Margin: 0.3, P95: 100 * time.Millisecond, Think: Think{time.Second, time.Second}},
			daily: 10, avg: 10.0 / 86400, peak: 10.0 / 86400, target: 13.0 / 86400, vux: 13.0 / 86400 * 1.1, vus: 1,
		},
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPlan(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				what      string
				got, want float64
			}{{"daily", p.DailyRequests, tc.daily}, {"average", p.AverageRPS, tc.avg}, {"peak", p.PeakRPS, tc.peak},
				{"target", p.TargetRPS, tc.target}, {"VUs exact", p.VUsExact, tc.vux}} {
				if !near(c.got, c.want) {
					t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
				}
			}
			if p.VUs != tc.vus {
				t.Errorf("VUs = %d, want %d", p.VUs, tc.vus)
			}
			if steps := p.Steps(); len(steps) != 7 || steps[5].Value != float64(tc.vus) {
				t.Errorf("steps = %+v", steps)
			}
		})
	}
}

func TestPlanStepsText(t *testing.T) {
	p, err := NewPlan(PlanInput{DailyUsers: 100_000, RequestsPerUser: 50, PeakFactor: 3, Margin: 0.3, P95: 300 * time.Millisecond, Think: Think{2 * time.Second, 2 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, s := range p.Steps() {
		lines = append(lines, s.Name+": "+s.Formula+" = "+FormatNumber(s.Value))
	}
	want := []string{
		"daily requests: 100 000 users × 50 requests = 5 000 000",
		"average rate: 5 000 000 ÷ 86 400 s = 57.9",
		"peak rate: 57.9 × peak factor 3 = 173.6",
		"target rate: 173.6 × (1 + margin 30 %) = 225.7",
		"VUs (Little's law): 225.7 req/s × (p95 0.3 s + think 2 s) = 519.1",
		"VUs, rounded up: ceil(519.1) = 520",
		"generator VUs: 225.7 req/s × p95 0.3 s × 2, up to 2× the rate at 5× the p95 = 136",
	}
	if got := strings.Join(lines, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("steps:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

func TestPlanRejects(t *testing.T) {
	ok := PlanInput{DailyUsers: 1000, RequestsPerUser: 10, PeakFactor: 2, Margin: 0.3, P95: time.Second, Think: Think{time.Second, time.Second}}
	tests := []struct {
		name string
		mod  func(*PlanInput)
		want string
	}{
		{"zero users", func(p *PlanInput) { p.DailyUsers = 0 }, "daily users"},
		{"NaN users", func(p *PlanInput) { p.DailyUsers = math.NaN() }, "daily users"},
		{"negative requests", func(p *PlanInput) { p.RequestsPerUser = -1 }, "requests per user"},
		{"peak below 1", func(p *PlanInput) { p.PeakFactor = 0.5 }, "peak factor"},
		{"negative margin", func(p *PlanInput) { p.Margin = -0.1 }, "margin"},
		{"margin 3000%", func(p *PlanInput) { p.Margin = 30 }, "margin"},
		{"no p95", func(p *PlanInput) { p.P95 = 0 }, "p95"},
		{"negative think", func(p *PlanInput) { p.Think = Think{-time.Second, -time.Second} }, "think"},
		{"backwards think", func(p *PlanInput) { p.Think = Think{2 * time.Second, time.Second} }, "think"},
		{"absurd size", func(p *PlanInput) { p.DailyUsers = 1e12 }, "VUs"},
	}
	for _, tc := range tests {
		in := ok
		tc.mod(&in)
		_, err := NewPlan(in)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: err = %v, want one line mentioning %q", tc.name, err, tc.want)
		}
	}
}

func TestPlanScenarioLoads(t *testing.T) {
	p, err := NewPlan(PlanInput{DailyUsers: 100_000, RequestsPerUser: 50, PeakFactor: 3, Margin: 0.3, P95: 300 * time.Millisecond, Think: Think{2 * time.Second, 2 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		target, wantURL string
	}{
		{"", "http://127.0.0.1:8080/"},
		{"http://shop.example:8080", "http://shop.example:8080/"},
		{"https://api.example/v1/items?page=2", "https://api.example/v1/items?page=2"},
	}
	for _, tc := range tests {
		y, err := p.ScenarioYAML(tc.target)
		if err != nil {
			t.Fatalf("%q: %v", tc.target, err)
		}
		sc, err := Parse("plan.yaml", y)
		if err != nil {
			t.Fatalf("%q: generated YAML does not load: %v\n%s", tc.target, err, y)
		}
		// Open model: the stages are the plan's rate (req/s, to 0.01), so
		// the scenario sends what was planned whatever the server's speed.
		g := sc.Groups[0]
		if g.Executor != RampingArrivalRate || len(g.Stages) != 4 {
			t.Fatalf("group %+v", g)
		}
		if got, want := g.Stages[1].Target, math.Round(p.TargetRPS*100)/100; got != want {
			t.Errorf("second stage target %v, want the plan's %v req/s", got, want)
		}
		if peak := g.Stages[len(g.Stages)-1].Target; peak != 2*g.Stages[1].Target {
			t.Errorf("last stage target %v, want 2×%v", peak, g.Stages[1].Target)
		}
		// 225.7 req/s × 0.3 s in flight: 136 VUs at twice that, 678 at 2× the
		// rate and 5× the latency.
		if g.PreAllocatedVUs != 136 || g.MaxVUs != 678 || p.PreAllocatedVUs != 136 || p.MaxVUs != 678 {
			t.Errorf("pre-allocated %d max %d VUs (plan %d, %d), want 136 and 678", g.PreAllocatedVUs, g.MaxVUs, p.PreAllocatedVUs, p.MaxVUs)
		}
		if got := g.Requests[0].URL.Source(); got != tc.wantURL {
			t.Errorf("request url %q, want %q", got, tc.wantURL)
		}
		var p95, rate bool
		for _, th := range sc.Thresholds {
			p95 = p95 || th.Metric == "http_req_duration" && th.Agg == "p" && th.P == 95 && th.Value == 300
			rate = rate || th.Metric == "http_req_failed" && th.Agg == "rate" && th.Value == 0.01
		}
		if !p95 || !rate {
			t.Errorf("thresholds %+v, want p(95)<300 and rate<1%%", sc.Thresholds)
		}
		if !sc.AbortOnBreakpoint {
			t.Error("abort_on_breakpoint not set")
		}
	}
	// No think time and a sub-millisecond goal still make a loadable file.
	p2, err := NewPlan(PlanInput{DailyUsers: 5e6, RequestsPerUser: 3, PeakFactor: 2.5, Margin: 0.25, P95: 1500 * time.Microsecond})
	if err != nil {
		t.Fatal(err)
	}
	y, err := p2.ScenarioYAML("")
	if err != nil {
		t.Fatal(err)
	}
	if sc, err := Parse("plan.yaml", y); err != nil {
		t.Errorf("no-think plan does not load: %v\n%s", err, y)
	} else if sc.Thresholds[0].Value != 1.5 || sc.Groups[0].MaxVUs < 10 {
		t.Errorf("p95 threshold %v ms, max VUs %d: want 1.5 ms and at least 10", sc.Thresholds[0].Value, sc.Groups[0].MaxVUs)
	}
	for _, bad := range []string{"ftp://x", "127.0.0.1:8080", "http://"} {
		if _, err := p.ScenarioYAML(bad); err == nil {
			t.Errorf("ScenarioYAML(%q): no error", bad)
		}
	}
}

func TestParsePlanNumbers(t *testing.T) {
	tests := []struct {
		parse func(string) (float64, error)
		name  string
		in    string
		want  float64
		bad   bool
	}{
		{ParseFraction, "fraction", "30%", 0.3, false},
		{ParseFraction, "fraction", "0.3", 0.3, false},
		{ParseFraction, "fraction", " 12.5 % ", 0.125, false},
		{ParseFraction, "fraction", "0", 0, false},
		{ParseFraction, "fraction", "30", 0, true},
		{ParseFraction, "fraction", "abc", 0, true},
		{ParseFraction, "fraction", "NaN%", 0, true},
		{ParseFraction, "fraction", "", 0, true},
		{ParseFactor, "factor", "3", 3, false},
		{ParseFactor, "factor", "3x", 3, false},
		{ParseFactor, "factor", "×2.5", 2.5, false},
		{ParseFactor, "factor", "300%", 3, false},
		{ParseFactor, "factor", "x", 0, true},
		{ParseFactor, "factor", "Inf", 0, true},
		{ParseCount, "count", "100000", 100000, false},
		{ParseCount, "count", "100_000", 100000, false},
		{ParseCount, "count", "100,000", 100000, false},
		{ParseCount, "count", "100 000", 100000, false},
		{ParseCount, "count", "100k", 100000, false},
		{ParseCount, "count", "1.5M", 1.5e6, false},
		{ParseCount, "count", "1e5", 0, true},
		{ParseCount, "count", "k", 0, true},
		{ParseCount, "count", "lots", 0, true},
	}
	for _, tc := range tests {
		got, err := tc.parse(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("%s(%q) = %v, want an error", tc.name, tc.in, got)
			} else if strings.Contains(err.Error(), "\n") {
				t.Errorf("%s(%q): multi-line error %q", tc.name, tc.in, err)
			}
			continue
		}
		if err != nil || math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s(%q) = %v, %v; want %v", tc.name, tc.in, got, err, tc.want)
		}
	}
}

func TestFormatNumber(t *testing.T) {
	tabletest.Run(t, "FormatNumber", FormatNumber, []struct {
		In   float64
		Want string
	}{
		{0, "0"}, {0.3, "0.3"}, {0.0001, "0"}, {0.125, "0.125"}, {57.87, "57.9"}, {173.6, "173.6"}, {200, "200"},
		{999.96, "1000"}, {5_000_000, "5 000 000"}, {1840, "1 840"}, {-2500, "-2 500"},
	})
}

func FuzzParsePlanNumbers(f *testing.F) {
	for _, s := range []string{"30%", "0.3", "3x", "×3", "100k", "1,000", "", "%", "1e400"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, parse := range []func(string) (float64, error){ParseFraction, ParseFactor, ParseCount} {
			v, err := parse(s)
			if err == nil && (math.IsNaN(v) || math.IsInf(v, 0)) {
				t.Fatalf("%q parsed to %v", s, v)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error for %q", s)
			}
		}
	})
}

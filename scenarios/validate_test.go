package scenarios

import (
	"errors"
	"math"
	"slices"
	"testing"
	"time"
)

// probeLike is what `brink probe URL --to 1000 --over 5m --p95 500ms`
// builds: no file, thresholds with only Metric and Expr.
func probeLike() *Scenario {
	return &Scenario{
		Groups: []Group{{
			Executor: RampingVUs,
			Stages:   []Stage{{Duration: 5 * time.Minute, Target: 1000}},
			Requests: []Request{{URL: MustTemplate("http://127.0.0.1:8080/api/rooms?x=1")}},
		}},
		Thresholds: []Threshold{{Metric: "http_req_duration", Expr: "p(95)<500ms"}},
	}
}

func TestValidateFillsDefaults(t *testing.T) {
	s := probeLike()
	if err := Validate(s); err != nil {
		t.Fatal(err)
	}
	g := s.Groups[0]
	if s.Name != "scenario" || s.Window != DefaultWindow || s.Sustain != DefaultSustain || g.Timeout != DefaultTimeout || g.Name != "group1" {
		t.Errorf("defaults: %+v", s)
	}
	if r := g.Requests[0]; r.Method != "GET" || r.Name != "GET /api/rooms?x=1" {
		t.Errorf("request %s %q", r.Method, r.Name)
	}
	if th := s.Thresholds[0]; th.Agg != "p" || th.P != 95 || th.Op != "<" || th.Value != 500 {
		t.Errorf("threshold not parsed: %+v", th)
	}
	// Idempotent: a second pass changes nothing and passes.
	before := s.Groups[0].Requests[0].URL.Source()
	if err := Validate(s); err != nil || s.Groups[0].Requests[0].URL.Source() != before {
		t.Errorf("second Validate: %v, url %s", err, s.Groups[0].Requests[0].URL)
	}
}

func TestValidateArrivalRateDefaults(t *testing.T) {
	for _, tc := range []struct {
		peak, pre, max   int
		wantPre, wantMax int
	}{
		{peak: 300, wantPre: 300, wantMax: DefaultMaxVUs},
		{peak: 5000, wantPre: DefaultMaxVUs, wantMax: DefaultMaxVUs},
		{peak: 5000, max: 100, wantPre: 100, wantMax: 100},
		{peak: 0, wantPre: 1, wantMax: DefaultMaxVUs},
		{peak: 10, pre: 2000, wantPre: 2000, wantMax: 2000},
	} {
		s := &Scenario{BaseURL: "http://h", Groups: []Group{{
			Executor: RampingArrivalRate, PreAllocatedVUs: tc.pre, MaxVUs: tc.max,
			Stages:   []Stage{{Duration: time.Minute, Target: float64(tc.peak)}},
			Requests: []Request{{URL: MustTemplate("/")}},
		}}}
		if err := Validate(s); err != nil {
			t.Fatal(err)
		}
		if g := s.Groups[0]; g.PreAllocatedVUs != tc.wantPre || g.MaxVUs != tc.wantMax {
			t.Errorf("peak %d pre %d max %d: got pre %d max %d, want %d %d", tc.peak, tc.pre, tc.max,
				g.PreAllocatedVUs, g.MaxVUs, tc.wantPre, tc.wantMax)
		}
	}
}

func TestValidateErrors(t *testing.T) {
	tests := []struct {
		name   string
		modify func(s *Scenario)
		want   string
	}{
		{"nil groups", func(s *Scenario) { s.Groups = nil }, "groups: at least one group is required"},
		{"negative target", func(s *Scenario) { s.Groups[0].Stages[0].Target = -1 }, "groups[0].stages[0].target: must be ≥ 0 (VUs), got -1"},
		{"NaN target", func(s *Scenario) { s.Groups[0].Stages = append(s.Groups[0].Stages, Stage{time.Second, nanf()}) }, "groups[0].stages[1].target: must be ≥ 0 (VUs), got NaN"},
		{"negative duration", func(s *Scenario) { s.Groups[0].Stages[0].Duration = -time.Second }, "groups[0].stages[0].duration: must not be negative"},
		{"stages overflow", func(s *Scenario) {
			s.Groups[0].Stages = []Stage{{200 * 24 * time.Hour, 1}, {math.MaxInt64, 1}}
		}, "groups[0].stages[1].duration: stages add up to more than 8760h"},
		{"huge rate", func(s *Scenario) {
			s.Groups[0].Executor = RampingArrivalRate
			s.Groups[0].Stages[0].Target = 1e300
		}, "groups[0].stages[0].target: 1e+300 iterations/s is more than one generator can run (at most 1e+07)"},
		{"bad executor", func(s *Scenario) { s.Groups[0].Executor = "shared-iterations" }, `groups[0].executor: unknown executor "shared-iterations" (want ramping-vus, ramping-arrival-rate, constant-vus or constant-arrival-rate)`},
		{"no url", func(s *Scenario) { s.Groups[0].Requests[0].URL = nil }, "groups[0].requests[0]: missing url"},
		{"relative url without base", func(s *Scenario) { s.Groups[0].Requests[0].URL = MustTemplate("/x") }, `groups[0].requests[0].url: relative url "/x" needs base_url (or write http://host/x)`},
		{"bad method", func(s *Scenario) { s.Groups[0].Requests[0].Method = "CONNECTION" }, `groups[0].requests[0].method: unknown method "CONNECTION" (want GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS)`},
		{"bad threshold", func(s *Scenario) { s.Thresholds[0].Expr = "p(95)<<5" }, `thresholds.http_req_duration[0]: threshold "p(95)<<5": missing number after <`},
		{"unknown threshold group", func(s *Scenario) { s.Thresholds[0].Metric = "http_req_duration{group:nope}" }, `thresholds.http_req_duration{group:nope}: no group is named "nope" (want group1)`},
		{"dropped iterations of a closed group", func(s *Scenario) {
			s.Thresholds = append(s.Thresholds, Threshold{Metric: "dropped_iterations{group:group1}", Expr: "count<10"})
		}, `thresholds.dropped_iterations{group:group1}: group "group1" is closed-model (VUs): it never drops iterations; only arrival-rate groups do`},
		{"negative timeout", func(s *Scenario) { s.Groups[0].Timeout = -time.Second }, "groups[0].timeout: must not be negative"},
		{"bad think", func(s *Scenario) { s.Groups[0].Think = Think{Min: 2 * time.Second, Max: time.Second} }, "groups[0].think: bad think range 2s-1s"},
		{"nodes bad prometheus", func(s *Scenario) { s.Nodes = &Nodes{Prometheus: "127.0.0.1:9090"} }, `nodes.prometheus: want an http:// or https:// url, got "127.0.0.1:9090"`},
		{"nodes bad match", func(s *Scenario) { s.Nodes = &Nodes{Prometheus: "http://p", Match: `{a="b"}}`} }, `nodes.match: want a label selector like {job="node"}, got "{a=\"b\"}}"`},
		{"nodes role and node", func(s *Scenario) {
			s.Nodes = &Nodes{Prometheus: "http://p", RoleLabel: "role", Thresholds: []NodeThreshold{{Metric: "cpu", Above: 90, Role: "db", Node: "db-1"}}}
		}, "nodes.thresholds[0].node: give role or node, not both"},
		{"nodes short interval", func(s *Scenario) { s.Nodes = &Nodes{Prometheus: "http://p", Interval: time.Millisecond} }, "nodes.interval: must be at least 100ms, got 1ms"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := probeLike()
			tc.modify(s)
			err := Validate(s)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("got  %v\nwant %s", err, tc.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.File != "" || e.Line != 0 {
				t.Errorf("want a position-less *Error, got %#v", err)
			}
		})
	}
	if err := Validate(nil); err == nil {
		t.Error("Validate(nil) passed")
	}
}

func TestNodeMetricNames(t *testing.T) {
	// The node-metric table's names (measure.NodeMetrics), in display order.
	want := []string{"cpu", "iowait", "disk_util", "load1", "load1_per_core", "mem",
		"read_bps", "write_bps", "net_rx_bps", "net_tx_bps"}
	if !slices.Equal(NodeMetricNames(), want) {
		t.Errorf("NodeMetricNames() = %v", NodeMetricNames())
	}
}

func TestRoleOfWithoutValidate(t *testing.T) {
	n := &Nodes{Roles: []Role{{"db", "db-.*"}, {"any", ".*"}, {"bad", "("}}}
	if n.RoleOf("db-1") != "db" || n.RoleOf("web-1") != "any" {
		t.Errorf("RoleOf: %q %q", n.RoleOf("db-1"), n.RoleOf("web-1"))
	}
	var none *Nodes
	if none.RoleOf("x") != "" {
		t.Error("nil Nodes has a role")
	}
}

func nanf() float64 { var z float64; return z / z }

package scenarios

import (
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  string // substring of the error; "" means success
	}{
		{"90s", 90 * time.Second, ""},
		{"1m30s", 90 * time.Second, ""},
		{"500ms", 500 * time.Millisecond, ""},
		{"2h", 2 * time.Hour, ""},
		{"1.5s", 1500 * time.Millisecond, ""},
		{" 10s ", 10 * time.Second, ""},
		{"0", 0, ""},
		{"0s", 0, ""},
		{"1d", 24 * time.Hour, ""},
		{"1d12h", 36 * time.Hour, ""},
		{"250us", 250 * time.Microsecond, ""},
		{"", 0, "empty duration"},
		{"60", 0, `duration "60" needs a unit`},
		{"1.5", 0, "needs a unit"},
		{"-1s", 0, `negative duration "-1s"`},
		{"1x", 0, `bad duration "1x"`},
		{"1d-1h", 0, "bad duration"},
		{"1.5d", 0, "days as a leading whole number"},
		{"d", 0, "days as a leading whole number"},
		{"1h1d", 0, "days as a leading whole number"},
		{"999999999d", 0, "too long"},
		{"100000000h", 0, "bad duration"},
	}
	for _, tc := range tests {
		checkParsed(t, "ParseDuration", ParseDuration, tc.in, tc.want, tc.err)
	}
}

func TestParseThink(t *testing.T) {
	tests := []struct {
		in   string
		want Think
		err  string
	}{
		{"", Think{}, ""},
		{"0", Think{}, ""},
		{"1s", Think{time.Second, time.Second}, ""},
		{"1s-3s", Think{time.Second, 3 * time.Second}, ""},
		{"500ms - 1.5s", Think{500 * time.Millisecond, 1500 * time.Millisecond}, ""},
		{"2s-2s", Think{2 * time.Second, 2 * time.Second}, ""},
		{"3s-1s", Think{}, "runs backwards"},
		{"-1s", Think{}, "negative think time"},
		{"1s-", Think{}, "empty duration"},
		{"1s-2s-3s", Think{}, "bad duration"},
		{"1-3", Think{}, "needs a unit"},
	}
	for _, tc := range tests {
		checkParsed(t, "ParseThink", ParseThink, tc.in, tc.want, tc.err)
	}
	if s := (Think{time.Second, 90 * time.Second}).String(); s != "1s-1m30s" {
		t.Errorf("Think.String() = %q", s)
	}
	if s := (Think{2 * time.Hour, 2 * time.Hour}).String(); s != "2h" {
		t.Errorf("Think.String() = %q", s)
	}
}

func TestParseThreshold(t *testing.T) {
	tests := []struct {
		metric, expr string
		want         Threshold // Expr is filled from expr when empty
		err          string
	}{
		{"http_req_duration", "p(95)<500", Threshold{Metric: "http_req_duration", Agg: "p", P: 95, Op: "<", Value: 500}, ""},
		{"http_req_duration", "p(99.9) <= 1.5s", Threshold{Metric: "http_req_duration", Agg: "p", P: 99.9, Op: "<=", Value: 1500}, ""},
		{"http_req_duration", "avg<200ms", Threshold{Metric: "http_req_duration", Agg: "avg", Op: "<", Value: 200}, ""},
		{"http_req_duration", "med<100", Threshold{Metric: "http_req_duration", Agg: "med", P: 50, Op: "<", Value: 100}, ""},
		{"http_req_duration", "min>=1us", Threshold{Metric: "http_req_duration", Agg: "min", Op: ">=", Value: 0.001}, ""},
		{"iteration_duration", "max<2m", Threshold{Metric: "iteration_duration", Agg: "max", Op: "<", Value: 120000}, ""},
		{"ws_msg_latency", "p(50)>0", Threshold{Metric: "ws_msg_latency", Agg: "p", P: 50, Op: ">", Value: 0}, ""},
		{"http_req_failed", "rate<0.01", Threshold{Metric: "http_req_failed", Agg: "rate", Op: "<", Value: 0.01}, ""},
		{"http_req_failed", "rate<1%", Threshold{Metric: "http_req_failed", Agg: "rate", Op: "<", Value: 0.01}, ""},
		{"checks", "rate>99.5%", Threshold{Metric: "checks", Agg: "rate", Op: ">", Value: 0.995}, ""},
		{"http_reqs", "count>=100", Threshold{Metric: "http_reqs", Agg: "count", Op: ">=", Value: 100}, ""},
		{"http_reqs", "rate>1500", Threshold{Metric: "http_reqs", Agg: "rate", Op: ">", Value: 1500}, ""},
		{"dropped_iterations", "count<1", Threshold{Metric: "dropped_iterations", Agg: "count", Op: "<", Value: 1}, ""},
		{"dropped_iterations", "count<10", Threshold{Metric: "dropped_iterations", Agg: "count", Op: "<", Value: 10}, ""},
		{"dropped_iterations{group:writes}", "rate<0.5", Threshold{Metric: "dropped_iterations", TagKey: "group", TagValue: "writes", Agg: "rate", Op: "<", Value: 0.5}, ""},
		{"dropped_iterations{name:post}", "count<1", Threshold{}, "counted per group, not per request"},
		{"dropped_iterations", "p(95)<1", Threshold{}, "dropped_iterations takes count, rate, not p(N)"},
		{"dropped_iterations", "count<1%", Threshold{}, `count of dropped_iterations is a plain number, not "%"`},
		{"ws_failed", "rate<5%", Threshold{Metric: "ws_failed", Agg: "rate", Op: "<", Value: 0.05}, ""},
		{"ws_failed{group:chat}", "rate<0.01", Threshold{Metric: "ws_failed", TagKey: "group", TagValue: "chat", Agg: "rate", Op: "<", Value: 0.01}, ""},
		{"ws_connecting", "p(95)<100ms", Threshold{Metric: "ws_connecting", Agg: "p", P: 95, Op: "<", Value: 100}, ""},
		{"ws_session_duration", "min>1s", Threshold{Metric: "ws_session_duration", Agg: "min", Op: ">", Value: 1000}, ""},
		{"ws_sessions{group:chat}", "count>0", Threshold{Metric: "ws_sessions", TagKey: "group", TagValue: "chat", Agg: "count", Op: ">", Value: 0}, ""},
		{"ws_msgs_received", "rate>10", Threshold{Metric: "ws_msgs_received", Agg: "rate", Op: ">", Value: 10}, ""},
		{"ws_failed", "p(95)<1", Threshold{}, "ws_failed takes rate, not p(N)"},
		{"ws_failed{name:x}", "rate<1%", Threshold{}, "ws_failed takes only a {group:…} filter"},
		{"ws_msg_latency{group:chat}", "p(95)<100", Threshold{}, "ws_msg_latency takes no tag filter"},
		{"ws_msgs_sent{group:chat}", "count>0", Threshold{}, "ws_msgs_sent takes no tag filter"},
		{"http_req_duration{name:history}", "p(95)<500", Threshold{Metric: "http_req_duration", TagKey: "name", TagValue: "history", Agg: "p", P: 95, Op: "<", Value: 500}, ""},
		{" http_req_duration{ group : browse } ", "p(95)<500", Threshold{Metric: "http_req_duration", TagKey: "group", TagValue: "browse", Agg: "p", P: 95, Op: "<", Value: 500}, ""},

		{"http_req_duraton", "p(95)<500", Threshold{}, `unknown metric "http_req_duraton" (did you mean http_req_duration?)`},
		{"vus", "max<5", Threshold{}, `unknown metric "vus" (want checks, dropped_iterations`},
		{"http_req_duration{name:x", "p(95)<500", Threshold{}, "unclosed tag filter"},
		{"http_req_duration{name:x,method:GET}", "p(95)<500", Threshold{}, "only one tag filter"},
		{"http_req_duration{nam:x}", "p(95)<500", Threshold{}, `unknown tag "nam" (did you mean name?)`},
		{"http_req_duration{name}", "p(95)<500", Threshold{}, "tag filter must be {key:value}"},
		{"http_req_duration", "", Threshold{}, "empty threshold (want e.g. p(95)<500)"},
		{"http_req_duration", "p95<500", Threshold{}, `unknown aggregation "p95" (did you mean p(95)?)`},
		{"http_req_duration", "avrg<500", Threshold{}, `unknown aggregation "avrg" (did you mean avg?)`},
		{"http_req_duration", "p(95<500", Threshold{}, "unclosed p("},
		{"http_req_duration", "p(x)<500", Threshold{}, "percentile must be a number from 0 to 100"},
		{"http_req_duration", "p(95", Threshold{}, "unclosed p("},
		{"http_req_duration", "p(101)<5", Threshold{}, "percentile must be a number from 0 to 100"},
		{"http_req_duration", "<500", Threshold{}, "missing aggregation (want p(N), avg, med, min, max)"},
		{"http_req_duration", "rate<0.01", Threshold{}, "http_req_duration takes p(N), avg, med, min, max, not rate"},
		{"http_req_failed", "p(95)<1", Threshold{}, "http_req_failed takes rate, not p(N)"},
		{"http_req_duration", "p(95)==500", Threshold{}, "operator == is not supported"},
		{"http_req_duration", "p(95)=500", Threshold{}, "missing operator after p(N)"},
		{"http_req_duration", "p(95)<", Threshold{}, "missing number after <"},
		{"http_req_duration", "p(95)<-5", Threshold{}, "missing number after <"},
		{"http_req_duration", "p(95)<1.2.3", Threshold{}, `bad number "1.2.3"`},
		{"http_req_duration", "p(95)<500 kg", Threshold{}, `unit "kg" is not a duration unit`},
		{"http_req_duration", "p(95)<5%", Threshold{}, `unit "%" is not a duration unit`},
		{"http_req_failed", "rate<1s", Threshold{}, `a rate is a fraction (0.01) or a percentage (1%), not "s"`},
		{"http_req_failed", "rate<5", Threshold{}, "a rate cannot exceed 1 (100%)"},
		{"http_reqs", "count>5ms", Threshold{}, `count of http_reqs is a plain number, not "ms"`},
	}
	for _, tc := range tests {
		got, err := ParseThreshold(tc.metric, tc.expr)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseThreshold(%q, %q) error = %v; want it to contain %q", tc.metric, tc.expr, err, tc.err)
			}
			continue
		}
		want := tc.want
		want.Expr = strings.TrimSpace(tc.expr)
		if err != nil || got != want {
			t.Errorf("ParseThreshold(%q, %q) =\n %+v, %v\nwant %+v", tc.metric, tc.expr, got, err, want)
		}
	}
}

func TestThresholdHolds(t *testing.T) {
	for _, tc := range []struct {
		expr string
		v    float64
		want bool
	}{
		{"p(95)<500", 499.9, true}, {"p(95)<500", 500, false},
		{"p(95)<=500", 500, true}, {"p(95)<=500", 500.1, false},
		{"avg>5", 5, false}, {"avg>5", 6, true},
		{"avg>=5", 5, true}, {"avg>=5", 4, false},
	} {
		th, err := ParseThreshold("http_req_duration", tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		if got := th.Holds(tc.v); got != tc.want {
			t.Errorf("%s holds for %v = %v, want %v", tc.expr, tc.v, got, tc.want)
		}
	}
	th, _ := ParseThreshold("http_req_duration{name:x}", "p(95)<1s")
	if th.Target() != "http_req_duration{name:x}" || th.String() != "http_req_duration{name:x}: p(95)<1s" {
		t.Errorf("Target %q String %q", th.Target(), th.String())
	}
}

func TestSuggest(t *testing.T) {
	keys := []string{"executor", "stages", "max_vus", "pre_allocated_vus", "start_vus"}
	for _, tc := range []struct{ in, want string }{
		{"executer", "executor"},
		{"stage", "stages"},
		{"maxVUs", "max_vus"},
		{"preAllocatedVUs", "pre_allocated_vus"},
		{"startVUs", "start_vus"},
		{"STAGES", "stages"},
		{"requests", ""},
		{"", ""},
	} {
		if got := suggest(tc.in, keys); got != tc.want {
			t.Errorf("suggest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"a", "", 1}, {"kitten", "sitting", 3}, {"flaw", "lawn", 2}, {"µs", "us", 1}} {
		if got := levenshtein(tc.a, tc.b); got != tc.d {
			t.Errorf("levenshtein(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.d)
		}
	}
}

func TestErrorFormat(t *testing.T) {
	for _, tc := range []struct {
		e    Error
		want string
	}{
		{Error{File: "a.yaml", Line: 3, Col: 5, Field: "groups[0].x", Msg: "bad"}, "a.yaml:3:5: groups[0].x: bad"},
		{Error{File: "a.yaml", Line: 1, Col: 4, Msg: "syntax"}, "a.yaml:1:4: syntax"},
		{Error{File: "a.yaml", Msg: "no such file or directory"}, "a.yaml: no such file or directory"},
		{Error{Field: "groups[0].stages", Msg: "none"}, "groups[0].stages: none"},
		{Error{Field: "x", Msg: "two\nlines\n"}, "x: two"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	good := map[string]int64{
		"0": 0, "1024": 1024, "4MiB": 4 << 20, "4mib": 4 << 20, "512 KiB": 512 << 10, "64k": 64 << 10,
		"10MB": 10_000_000, "1GiB": 1 << 30, "2G": 2 << 30, "100B": 100, " 7 kb ": 7000,
	}
	for in, want := range good {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "-1", "+5", "1.5MiB", "4 megs", "0x10", "99999999999GiB"} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
		}
	}
	for _, n := range []int64{0, 1, 1000, 1024, 4 << 20, 3 << 30, 1<<20 + 1} {
		if got, err := ParseSize(FormatSize(n)); err != nil || got != n {
			t.Errorf("FormatSize(%d) = %q reads back as %d, %v", n, FormatSize(n), got, err)
		}
	}
}

// max_body: scenario-level default 4 MiB, inherited by groups unless a
// group sets its own.
func TestMaxBodyInherited(t *testing.T) {
	s := mustParse(t, `
		base_url: http://h
		max_body: 1MiB
		groups:
			- name: a
				stages: [{duration: 1m, target: 5}]
				requests: [{url: /x}]
			- name: b
				max_body: 65536
				stages: [{duration: 1m, target: 5}]
				requests: [{url: /x}]
		`)
	if s.MaxBody != 1<<20 || s.Groups[0].MaxBody != 1<<20 || s.Groups[1].MaxBody != 64<<10 {
		t.Errorf("max_body %d, groups %d %d", s.MaxBody, s.Groups[0].MaxBody, s.Groups[1].MaxBody)
	}
	p := probeLike()
	if err := Validate(p); err != nil {
		t.Fatal(err)
	}
	if p.MaxBody != DefaultMaxBody || p.Groups[0].MaxBody != DefaultMaxBody {
		t.Errorf("default max_body %d, group %d", p.MaxBody, p.Groups[0].MaxBody)
	}
}

// checkParsed judges one table row of a parser: the value wanted, or an
// error containing errPart when errPart is set.
func checkParsed[T comparable](t *testing.T, name string, parse func(string) (T, error), in string, want T, errPart string) {
	t.Helper()
	got, err := parse(in)
	if errPart == "" {
		if err != nil || got != want {
			t.Errorf("%s(%q) = %v, %v; want %v", name, in, got, err, want)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), errPart) {
		t.Errorf("%s(%q) error = %v; want it to contain %q", name, in, err, errPart)
	}
}

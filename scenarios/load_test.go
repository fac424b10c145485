package scenarios

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// yml strips the common leading tab indentation of a raw-string test file
// and turns the remaining tabs into two spaces, so cases read naturally in
// Go source while line and column numbers stay easy to count.
func yml(s string) []byte {
	lines := strings.Split(strings.TrimPrefix(s, "\n"), "\n")
	for i, l := range lines {
		l = strings.TrimPrefix(l, "\t\t")
		lines[i] = strings.ReplaceAll(l, "\t", "  ")
	}
	return []byte(strings.Join(lines, "\n"))
}

func mustParse(t *testing.T, src string) *Scenario {
	t.Helper()
	s, err := Parse("s.yaml", yml(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return s
}

func TestParseValid(t *testing.T) {
	t.Setenv("BRINK_TEST_TOKEN", "s3cret-value")
	t.Setenv("BRINK_TEST_TOKEN_URL", "http://10.1.2.3:8080")
	// nodes.prom_config must name a readable file, relative to the
	// scenario's directory ("." for s.yaml).
	t.Chdir(t.TempDir())
	if err := os.WriteFile("auth.yml", []byte("basic_auth: {username: u}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		src   string
		check func(t *testing.T, s *Scenario)
	}{
		{"defaults", `
		base_url: http://127.0.0.1:8080/
		groups:
			- stages: [{duration: 1m, target: 10}]
				requests: [{url: /api/rooms}, {url: "rooms?x=1", method: post}]
		`, func(t *testing.T, s *Scenario) {
			if s.Name != "s" || s.Window != time.Second || s.Sustain != 3*time.Second {
				t.Errorf("name %q window %s sustain %s", s.Name, s.Window, s.Sustain)
			}
			g := s.Groups[0]
			if g.Name != "group1" || g.Executor != RampingVUs || g.Timeout != 30*time.Second || g.Start != 0 {
				t.Errorf("group defaults: %+v", g)
			}
			r0, r1 := g.Requests[0], g.Requests[1]
			if r0.Method != "GET" || r0.Name != "GET /api/rooms" || r0.URL.Source() != "http://127.0.0.1:8080/api/rooms" {
				t.Errorf("request 0: %s %q %s", r0.Method, r0.Name, r0.URL)
			}
			if r1.Method != "POST" || r1.Name != "POST rooms?x=1" || r1.URL.Source() != "http://127.0.0.1:8080/rooms?x=1" {
				t.Errorf("request 1: %s %q %s", r1.Method, r1.Name, r1.URL)
			}
			if s.Nodes != nil || len(s.Thresholds) != 0 || s.AbortOnBreakpoint {
				t.Errorf("unexpected nodes/thresholds/abort")
			}
		}},
		{"constant-vus sugar", `
		base_url: http://h
		groups:
			- executor: constant-vus
				vus: 50
				duration: 1m30s
				think: 500ms
				requests: [{url: /}]
		`, func(t *testing.T, s *Scenario) {
			g := s.Groups[0]
			want := []Stage{{Duration: 90 * time.Second, Target: 50}}
			if g.Executor != RampingVUs || g.Start != 50 || !reflect.DeepEqual(g.Stages, want) {
				t.Errorf("got %s start %v stages %v", g.Executor, g.Start, g.Stages)
			}
			if g.Think != (Think{500 * time.Millisecond, 500 * time.Millisecond}) {
				t.Errorf("think %v", g.Think)
			}
		}},
		{"constant-arrival-rate sugar", `
		base_url: http://h
		groups:
			- {executor: constant-arrival-rate, rate: 2.5, duration: 2h, requests: [{url: /}]}
		`, func(t *testing.T, s *Scenario) {
			g := s.Groups[0]
			want := []Stage{{Duration: 2 * time.Hour, Target: 2.5}}
			if g.Executor != RampingArrivalRate || g.Start != 2.5 || !reflect.DeepEqual(g.Stages, want) {
				t.Errorf("got %s start %v stages %v", g.Executor, g.Start, g.Stages)
			}
			if g.PreAllocatedVUs != 3 || g.MaxVUs != DefaultMaxVUs {
				t.Errorf("vus: pre %d max %d", g.PreAllocatedVUs, g.MaxVUs)
			}
		}},
		{"start_vus and start_rate", `
		base_url: http://h
		groups:
			- {name: a, start_vus: 5, stages: [{duration: 1m, target: 10}], requests: [{url: /}]}
			- {name: b, executor: ramping-arrival-rate, start_rate: 7, pre_allocated_vus: 4, max_vus: 9, stages: [{duration: 1d, target: 10}], requests: [{url: /}]}
		`, func(t *testing.T, s *Scenario) {
			a, b := s.Groups[0], s.Groups[1]
			if a.Start != 5 || b.Start != 7 || b.PreAllocatedVUs != 4 || b.MaxVUs != 9 {
				t.Errorf("a %+v b %+v", a, b)
			}
			if s.Duration() != 24*time.Hour {
				t.Errorf("duration %s", s.Duration())
			}
		}},
		{"https base, websocket and path prefix", `
		base_url: https://chat.example:8443/v1
		groups:
			- name: chat
				stages: [{duration: 10s, target: 1}]
				websocket:
					url: /ws
					headers: {Authorization: 'Bearer {{env "BRINK_TEST_TOKEN"}}'}
					send: '{"text":"hi {{vu}}"}'
					expect_reply: true
					reply_contains: '"to":{{vu}},"n":{{iter}}'
				requests:
					- url: http://other:9000/abs
					- url: users/{{rand 1 9}}
		`, func(t *testing.T, s *Scenario) {
			ws := s.Groups[0].WebSocket
			if ws.URL.Source() != "wss://chat.example:8443/v1/ws" || ws.Every != time.Second || !ws.ExpectReply {
				t.Errorf("ws %s every %s", ws.URL, ws.Every)
			}
			if got := ws.ReplyContains.Render(&TemplateContext{VU: 3, Iter: 7}); got != `"to":3,"n":7` {
				t.Errorf("reply_contains renders %q", got)
			}
			if h := ws.Headers[0]; h.Name != "Authorization" || !h.Value.Secret() || h.Value.Render(nil) != "Bearer s3cret-value" {
				t.Errorf("header %s secret=%v", h.Name, h.Value.Secret())
			}
			rs := s.Groups[0].Requests
			if rs[0].URL.Source() != "http://other:9000/abs" || rs[0].Name != "GET /abs" {
				t.Errorf("absolute url %s name %q", rs[0].URL, rs[0].Name)
			}
			if rs[1].URL.Source() != "https://chat.example:8443/v1/users/{{rand 1 9}}" || rs[1].URL.Static() {
				t.Errorf("relative url %s", rs[1].URL)
			}
			b, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), "s3cret") {
				t.Errorf("env value leaked into JSON: %s", b)
			}
		}},
		{"url from env", `
		groups:
			- stages: [{duration: 1m, target: 5}]
				requests: [{name: r, url: '{{env "BRINK_TEST_TOKEN_URL"}}/x/{{vu}}'}]
		`, func(t *testing.T, s *Scenario) {
			u := s.Groups[0].Requests[0].URL
			if u.Render(&TemplateContext{VU: 4}) != "http://10.1.2.3:8080/x/4" || !u.Secret() {
				t.Errorf("url renders %q", u.Render(&TemplateContext{VU: 4}))
			}
		}},
		{"tags, single scrape string, string key forms", `
		name: !!str 2024
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 0x10}]
				requests: [{url: /}]
		nodes:
			scrape: http://10.0.0.13:9100/metrics
			names:
				10.0.0.13:9100: db-3
			role_label: role
			thresholds: [{metric: mem, above: 95, role: anything}]
		`, func(t *testing.T, s *Scenario) {
			if s.Name != "2024" || s.Groups[0].Stages[0].Target != 16 {
				t.Errorf("name %q target %v", s.Name, s.Groups[0].Stages[0].Target)
			}
			if n := s.Nodes; len(n.Scrape) != 1 || n.Names["10.0.0.13:9100"] != "db-3" {
				t.Errorf("nodes %+v", n)
			}
			if got := s.String(); got != `scenario "2024" (s.yaml)` {
				t.Errorf("String() = %s", got)
			}
		}},
		{"x- keys hold anchors", `
		x-common: &common
			stages: [{duration: 1m, target: 10}]
			requests: [{url: "http://h/"}]
		groups:
			- <<: *common
				name: a
		`, func(t *testing.T, s *Scenario) {
			if g := s.Groups[0]; g.Name != "a" || len(g.Stages) != 1 || len(g.Requests) != 1 {
				t.Errorf("group %+v", g)
			}
		}},
		{"thresholds and nodes", `
		base_url: http://h
		groups:
			- name: g
				stages: [{duration: 1m, target: 10}]
				requests: [{name: history, url: /h}]
		thresholds:
			http_req_duration: ["p(95)<500", "p(99.9) <= 1.5s", "med<100ms"]
			"http_req_duration{name: history}": avg<200
			http_req_failed: rate<1%
			http_reqs{group:g}: ["count>=10", "rate>1"]
			checks: ["rate>0.99"]
		nodes:
			scrape: [http://10.0.0.13:9100/metrics, "http://10.0.0.14:9100/metrics"]
			match: job="node"
			names: {"10.0.0.13:9100": db-3}
			roles: {web: "web-.*", db: "db-\\d+"}
			prom_config: auth.yml
			thresholds:
				- {metric: load1, above: 100, role: db}
				- {metric: cpu, above: 90, node: web-1}
			panels:
				- {title: Redis ops, query: 'sum(rate(redis_commands_total[1m]))', unit: ops/s, above: 5000}
			interval: 2s
		abort_on_breakpoint: true
		window: 500ms
		sustain: 5s
		`, func(t *testing.T, s *Scenario) {
			var got []string
			for _, th := range s.Thresholds {
				got = append(got, th.String())
			}
			want := []string{"http_req_duration: p(95)<500", "http_req_duration: p(99.9) <= 1.5s", "http_req_duration: med<100ms",
				"http_req_duration{name:history}: avg<200", "http_req_failed: rate<1%",
				"http_reqs{group:g}: count>=10", "http_reqs{group:g}: rate>1", "checks: rate>0.99"}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("thresholds\n got %q\nwant %q", got, want)
			}
			if th := s.Thresholds[1]; th.Agg != "p" || th.P != 99.9 || th.Op != "<=" || th.Value != 1500 {
				t.Errorf("p99.9: %+v", th)
			}
			n := s.Nodes
			if n.Match != `{job="node"}` || n.NameLabel != "instance" || n.Names["10.0.0.13:9100"] != "db-3" || n.Interval != 2*time.Second {
				t.Errorf("nodes %+v", n)
			}
			if len(n.Roles) != 2 || n.Roles[0].Name != "web" || n.Roles[1].Name != "db" {
				t.Errorf("roles out of YAML order: %+v", n.Roles)
			}
			if n.RoleOf("db-3") != "db" || n.RoleOf("web-12") != "web" || n.RoleOf("xdb-3") != "" || n.RoleOf("db-x") != "" {
				t.Errorf("RoleOf wrong")
			}
			if n.PromConfig != "auth.yml" { // file "s.yaml" has dir "."
				t.Errorf("prom_config %q", n.PromConfig)
			}
			if p := n.Panels[0]; p.Above == nil || *p.Above != 5000 || p.Unit != "ops/s" {
				t.Errorf("panel %+v", p)
			}
			if !s.AbortOnBreakpoint || s.Window != 500*time.Millisecond || s.Sustain != 5*time.Second {
				t.Errorf("abort %v window %s sustain %s", s.AbortOnBreakpoint, s.Window, s.Sustain)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, tc.src)
			tc.check(t, s)
		})
	}
}

func TestParseAnchorsAndMerge(t *testing.T) {
	s := mustParse(t, `
		base_url: http://h
		groups:
			- &base
				name: a
				think: 1s-3s
				stages: [{duration: 1m, target: 10}]
				requests:
					- &post
						method: POST
						url: /m
						headers: {Z-Last: "1", A-First: "2", M: "3"}
						body: |
							{"text": "{{uuid}}"}
						check: {status: 201, body_contains: ok}
			- <<: *base
				name: b
				think: 2s
				requests: [*post, {url: /n}]
		`)
	a, b := s.Groups[0], s.Groups[1]
	if b.Name != "b" || b.Think != (Think{2 * time.Second, 2 * time.Second}) || len(b.Stages) != 1 || len(b.Requests) != 2 {
		t.Fatalf("merged group b: %+v", b)
	}
	if a.Think != (Think{time.Second, 3 * time.Second}) {
		t.Errorf("a think %v", a.Think)
	}
	r := b.Requests[0]
	var hs []string
	for _, h := range r.Headers {
		hs = append(hs, h.Name+"="+h.Value.Source())
	}
	if !reflect.DeepEqual(hs, []string{"Z-Last=1", "A-First=2", "M=3"}) {
		t.Errorf("headers not in YAML order: %v", hs)
	}
	if r.Body.Source() != "{\"text\": \"{{uuid}}\"}\n" || r.Body.Static() {
		t.Errorf("body %q", r.Body.Source())
	}
	if !reflect.DeepEqual(r.Check, &Check{Status: []int{201}, BodyContains: "ok"}) {
		t.Errorf("check %+v", r.Check)
	}
}

func TestParseErrors(t *testing.T) {
	t.Setenv("BRINK_TEST_UNSET", "")
	os.Unsetenv("BRINK_TEST_UNSET")
	t.Setenv("BRINK_TEST_HOST", "secret-host.internal")
	const ok = `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				requests: [{url: /x}]
		`
	tests := []struct {
		name, src, want string
	}{
		{"yaml syntax", "a: [1, 2\n", "s.yaml:1:4: sequence end token ']' not found"},
		{"duplicate key", "name: a\nname: b\n", `s.yaml:2:1: name: defined twice (first at line 1, column 1)`},
		{"empty", "\n# nothing\n", "s.yaml:1:1: empty scenario (want at least name and groups)"},
		{"two documents", ok + "---\nname: b\n", "s.yaml:5:1: one scenario per file (found a second YAML document)"},
		{"not a mapping", "- a\n", "s.yaml:1:1: want a mapping, got a list"},
		{"no groups", "name: x\n", "s.yaml:1:1: missing groups (a scenario needs at least one group)"},
		{"empty groups", "groups: []\n", "s.yaml:1:1: groups: at least one group is required"},
		{"unknown top key", "name: x\ngrops: []\n", "s.yaml:2:1: grops: unknown key (did you mean groups?)"},
		{"unknown key far", "nmae: x\nfoo: 1\n", "s.yaml:1:1: nmae: unknown key (did you mean name?)"},
		{"unknown key no hint", "zzzzzz: 1\n", "s.yaml:1:1: zzzzzz: unknown key"},
		{"camelCase k6 key", `
		base_url: http://h
		groups:
			- executor: ramping-arrival-rate
				preAllocatedVUs: 5
		`, "s.yaml:4:5: groups[0].preAllocatedVUs: unknown key (did you mean pre_allocated_vus?)"},
		{"unknown group key", `
		groups:
			- executer: ramping-vus
		`, "s.yaml:2:5: groups[0].executer: unknown key (did you mean executor?)"},
		{"bad executor", `
		base_url: http://h
		groups:
			- executor: ramping-vu
				stages: [{duration: 1m, target: 5}]
				requests: [{url: /x}]
		`, `s.yaml:3:15: groups[0].executor: unknown executor "ramping-vu" (did you mean ramping-vus?)`},
		{"bad executor no hint", `
		base_url: http://h
		groups:
			- executor: per-vu-iterations
				stages: [{duration: 1m, target: 5}]
				requests: [{url: /x}]
		`, `s.yaml:3:15: groups[0].executor: unknown executor "per-vu-iterations" (want ramping-vus, ramping-arrival-rate, constant-vus or constant-arrival-rate)`},
		{"bad duration", `
		groups:
			- stages: [{duration: 1x, target: 5}]
		`, `s.yaml:2:25: groups[0].stages[0].duration: bad duration "1x" (want e.g. 90s, 1m30s, 500ms, 2h)`},
		{"bad max_body", `
		base_url: http://h
		max_body: 4 megs
		groups:
			- stages: [{duration: 1m, target: 5}]
				requests: [{url: /x}]
		`, `s.yaml:2:11: max_body: bad size "4 megs" (want bytes or e.g. 512KiB, 4MiB, 10MB)`},
		{"max_body too large", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				requests: [{url: /x}]
				max_body: 40GiB
		`, `s.yaml:5:15: groups[0].max_body: 40GiB is more than one response may hold in memory (at most 1GiB)`},
		{"duration without unit", `
		groups:
			- stages: [{duration: 60, target: 5}]
		`, `s.yaml:2:25: groups[0].stages[0].duration: duration "60" needs a unit (want e.g. 90s, 1m30s, 500ms, 2h)`},
		{"negative duration", `
		groups:
			- stages:
					- duration: -1m
						target: 5
		`, `s.yaml:3:19: groups[0].stages[0].duration: negative duration "-1m"`},
		{"negative target", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}, {duration: 1m, target: -5}]
				requests: [{url: /x}]
		`, "s.yaml:3:64: groups[0].stages[1].target: must be ≥ 0 (VUs), got -5"},
		{"fractional VUs", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 2.5}]
				requests: [{url: /x}]
		`, "s.yaml:3:37: groups[0].stages[0].target: must be a whole number of VUs, got 2.5"},
		{"target as string", `
		groups:
			- stages: [{duration: 1m, target: "5"}]
		`, `s.yaml:2:37: groups[0].stages[0].target: want a number, got the string "5"`},
		{"stage missing target", `
		groups:
			- stages: [{duration: 1m}]
		`, "s.yaml:2:14: groups[0].stages[0]: missing target (a stage is {duration: 1m, target: 100})"},
		{"no stages", `
		base_url: http://h
		groups:
			- requests: [{url: /x}]
		`, "s.yaml:3:5: groups[0].stages: at least one stage is required, e.g. [{duration: 1m, target: 100}]"},
		{"zero-length stages", `
		base_url: http://h
		groups:
			- stages: [{duration: 0, target: 5}]
				requests: [{url: /x}]
		`, "s.yaml:3:5: groups[0].stages: stages last 0s; give at least one a duration"},
		{"constant with stages", `
		groups:
			- executor: constant-vus
				stages: []
		`, "s.yaml:3:5: groups[0].stages: constant-vus takes vus and duration, not stages (or use ramping-vus)"},
		{"vus on ramping", `
		groups:
			- vus: 10
		`, "s.yaml:2:5: groups[0].vus: vus is for constant-vus or constant-arrival-rate; ramping-vus takes stages"},
		{"rate on constant-vus", `
		groups:
			- executor: constant-vus
				rate: 10
		`, "s.yaml:3:5: groups[0].rate: constant-vus takes vus, not rate"},
		{"constant missing duration", `
		groups:
			- executor: constant-arrival-rate
				rate: 10
		`, "s.yaml:2:5: groups[0]: missing duration (constant-arrival-rate needs rate and duration)"},
		{"constant negative vus", `
		groups:
			- executor: constant-vus
				vus: -3
				duration: 1m
		`, "s.yaml:3:10: groups[0].vus: must be a whole number ≥ 0, got -3"},
		{"start_rate on VU group", `
		groups:
			- start_rate: 3
		`, "s.yaml:2:5: groups[0].start_rate: start_rate is for arrival-rate executors; this group is ramping-vus (use start or start_vus)"},
		{"start on constant", `
		groups:
			- executor: constant-arrival-rate
				start: 3
		`, "s.yaml:3:5: groups[0].start: constant-arrival-rate starts at its rate; start is for ramping-arrival-rate"},
		{"start_vus on arrival rate", `
		groups:
			- executor: ramping-arrival-rate
				start_vus: 3
		`, "s.yaml:3:5: groups[0].start_vus: start_vus is for VU executors; this group is ramping-arrival-rate (use start or start_rate)"},
		{"negative start", `
		base_url: http://h
		groups:
			- executor: ramping-arrival-rate
				start: -1
				stages: [{duration: 1m, target: 5}]
				requests: [{url: /x}]
		`, "s.yaml:4:12: groups[0].start: must be ≥ 0 (iterations/s), got -1"},
		{"bad think", `
		groups:
			- think: 3s-1s
		`, `s.yaml:2:12: groups[0].think: think range "3s-1s" runs backwards (want MIN-MAX, e.g. 1s-3s)`},
		{"think on arrival rate", `
		base_url: http://h
		groups:
			- executor: ramping-arrival-rate
				think: 1s
				stages: [{duration: 1m, target: 5}]
				requests: [{url: /x}]
		`, "s.yaml:4:12: groups[0].think: think is for ramping-vus; an arrival-rate group's pace is its rate"},
		{"max_vus below pre-allocated", `
		base_url: http://h
		groups:
			- executor: ramping-arrival-rate
				pre_allocated_vus: 50
				max_vus: 10
				stages: [{duration: 1m, target: 5}]
				requests: [{url: /x}]
		`, "s.yaml:5:14: groups[0].max_vus: max_vus 10 is below pre_allocated_vus 50"},
		{"max_vus on VU group", `
		base_url: http://h
		groups:
			- max_vus: 10
				stages: [{duration: 1m, target: 5}]
				requests: [{url: /x}]
		`, "s.yaml:3:14: groups[0].max_vus: max_vus is for ramping-arrival-rate (a VU group's stages set its VUs)"},
		{"max_vus not whole", `
		groups:
			- max_vus: 1.5
		`, "s.yaml:2:14: groups[0].max_vus: want a whole number, got 1.5"},
		{"http2 not bool", `
		groups:
			- http2: yes please
		`, `s.yaml:2:12: groups[0].http2: want true or false, got the string "yes please"`},
		{"nothing to do", `
		base_url: http://h
		groups:
			- name: idle
				stages: [{duration: 1m, target: 5}]
		`, "s.yaml:3:5: groups[0]: group has nothing to do: give it requests or a websocket"},
		{"duplicate group", `
		base_url: http://h
		groups:
			- {name: a, stages: [{duration: 1m, target: 5}], requests: [{url: /x}]}
			- {name: a, stages: [{duration: 1m, target: 5}], requests: [{url: /x}]}
		`, `s.yaml:4:12: groups[1].name: duplicate group name "a"`},
		{"missing url", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				requests:
					- name: a
						url: /x
					- name: b
						method: GET
		`, "s.yaml:7:9: groups[0].requests[1]: missing url"},
		{"relative url without base", `
		groups:
			- stages: [{duration: 1m, target: 5}]
				requests: [{url: /x}]
		`, `s.yaml:3:22: groups[0].requests[0].url: relative url "/x" needs base_url (or write http://host/x)`},
		{"bad base_url", `
		base_url: ftp://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				requests: [{url: http://a/x}]
		`, `s.yaml:1:11: base_url: want an http:// or https:// url, got "ftp://h"`},
		{"bad url scheme", `
		groups:
			- stages: [{duration: 1m, target: 5}]
				requests: [{url: "ws://h/x"}]
		`, `s.yaml:3:22: groups[0].requests[0].url: want an http:// or https:// url, got "ws://h/x"`},
		{"url without host", `
		groups:
			- stages: [{duration: 1m, target: 5}]
				requests: [{url: "http:///x"}]
		`, `s.yaml:3:22: groups[0].requests[0].url: url "http:///x" has no host`},
		{"space in url", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				requests: [{url: "/a b/{{vu}}"}]
		`, `s.yaml:4:22: groups[0].requests[0].url: url "/a b/{{vu}}" contains a space or control character (write %20)`},
		{"bad port", `
		groups:
			- stages: [{duration: 1m, target: 5}]
				requests: [{url: "http://h:port/x"}]
		`, `s.yaml:3:22: groups[0].requests[0].url: bad url "http://h:port/x"`},
		{"env url renders without scheme", `
		groups:
			- stages: [{duration: 1m, target: 5}]
				requests: [{url: '{{env "BRINK_TEST_HOST"}}/x'}]
		`, `s.yaml:3:22: groups[0].requests[0].url: want an http:// or https:// url, got "{{env \"BRINK_TEST_HOST\"}}/x"`},
		{"bad method", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				requests: [{url: /x, method: GTE}]
		`, `s.yaml:4:34: groups[0].requests[0].method: unknown method "GTE" (did you mean GET?)`},
		{"bad template", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				requests: [{url: "/x/{{rnd 1 2}}"}]
		`, `s.yaml:4:26: groups[0].requests[0].url: unknown placeholder {{rnd 1 2}} (want vu, iter, rand A B, uuid, env "NAME" or .name)`},
		{"unset env", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				requests:
					- url: /x
						headers:
							Authorization: Bearer {{env "BRINK_TEST_UNSET"}}
		`, `s.yaml:7:33: groups[0].requests[0].headers.Authorization: {{env "BRINK_TEST_UNSET"}}: environment variable BRINK_TEST_UNSET is not set`},
		{"bad header name", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				requests: [{url: /x, headers: {"Bad Header": x}}]
		`, `s.yaml:4:36: groups[0].requests[0].headers.Bad Header.name: "Bad Header" is not a valid header name`},
		{"unquoted JSON body", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				requests: [{url: /x, body: {"a": 1}}]
		`, `s.yaml:4:32: groups[0].requests[0].body: want a string, got a mapping (quote JSON and {{templates}}: '...')`},
		{"bad status code", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				requests: [{url: /x, check: {status: [200, 2000]}}]
		`, "s.yaml:4:48: groups[0].requests[0].check.status[1]: 2000 is not an HTTP status code"},
		{"check unknown key", `
		groups:
			- requests: [{url: /x, check: {code: 200}}]
		`, "s.yaml:2:34: groups[0].requests[0].check.code: unknown key"},
		{"websocket on arrival rate", `
		base_url: http://h
		groups:
			- executor: ramping-arrival-rate
				stages: [{duration: 1m, target: 5}]
				websocket: {url: /ws}
		`, "s.yaml:5:5: groups[0].websocket: websocket needs executor ramping-vus (each VU holds one connection open)"},
		{"websocket expect_reply without send", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				websocket: {url: /ws, expect_reply: true}
		`, "s.yaml:4:41: groups[0].websocket.expect_reply: expect_reply needs send (a reply to what?)"},
		{"websocket reply_contains without expect_reply", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				websocket: {url: /ws, send: hi, reply_contains: '{{vu}}'}
		`, "s.yaml:4:53: groups[0].websocket.reply_contains: reply_contains needs expect_reply: true (it picks which message is the reply)"},
		{"websocket reply_contains empty", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				websocket: {url: /ws, send: hi, expect_reply: true, reply_contains: ''}
		`, "s.yaml:4:73: groups[0].websocket.reply_contains: reply_contains is empty (every message would match)"},
		{"websocket reply_contains bad placeholder", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				websocket:
					send: hi
					expect_reply: true
					reply_contains: '{{itr}}'
		`, "s.yaml:7:24: groups[0].websocket.reply_contains: unknown placeholder {{itr}} (want vu, iter, rand A B, uuid, env \"NAME\" or .name)"},
		{"websocket url with a password", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				websocket: {url: 'ws://bob:pw-9x@h/ws', send: hi}
		`, "s.yaml:4:22: groups[0].websocket.url: a WebSocket url takes no user:password@ (every handshake would refuse it): send the credentials in headers, e.g. Authorization"},
		{"websocket reply_contains misspelt", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				websocket: {url: /ws, send: hi, expect_reply: true, reply_contain: x}
		`, "s.yaml:4:57: groups[0].websocket.reply_contain: unknown key (did you mean reply_contains?)"},
		{"websocket missing url", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				websocket:
					send: hi
		`, "s.yaml:4:5: groups[0].websocket: missing url"},
		{"threshold bad aggregation", ok + `thresholds:
			http_req_duration: ["p95<500"]
		`, `s.yaml:6:23: thresholds.http_req_duration[0]: threshold "p95<500": unknown aggregation "p95" (did you mean p(95)?)`},
		{"threshold bad unit", ok + `thresholds:
			http_req_duration: ["p(95)<500", "p(99)<1.5h"]
		`, `s.yaml:6:36: thresholds.http_req_duration[1]: threshold "p(99)<1.5h": unit "h" is not a duration unit (want ms or s; a plain number is ms)`},
		{"threshold unknown metric", ok + `thresholds:
			http_req_duraton: ["p(95)<500"]
		`, `s.yaml:6:3: thresholds.http_req_duraton: unknown metric "http_req_duraton" (did you mean http_req_duration?)`},
		{"threshold unknown request name", ok + `thresholds:
			http_req_duration{name:histroy}: ["p(95)<500"]
		`, `s.yaml:6:3: thresholds.http_req_duration{name:histroy}: no request is named "histroy" (want GET /x)`},
		{"threshold not a string list", ok + `thresholds:
			http_req_failed: [{rate: 1}]
		`, `s.yaml:6:21: thresholds.http_req_failed[0]: want an expression like "p(95)<500" (k6's {threshold, abortOnFail} form: use abort_on_breakpoint)`},
		{"name as mapping", "name: {a: 1}\n", "s.yaml:1:7: name: want a string, got a mapping"},
		{"nodes without source", ok + `nodes:
			match: '{job="node"}'
		`, "s.yaml:5:1: nodes: set prometheus (a Prometheus server url) or scrape (node_exporter urls)"},
		{"nodes both sources", ok + `nodes:
			prometheus: http://p:9090
			scrape: [http://n:9100/metrics]
		`, "s.yaml:7:3: nodes.scrape: set prometheus or scrape, not both"},
		{"nodes bad scrape url", ok + `nodes:
			scrape: [http://n:9100/metrics, "n2:9100"]
		`, `s.yaml:6:35: nodes.scrape[1]: want an http:// or https:// url, got "n2:9100" (e.g. http://n2:9100/metrics)`},
		{"self-merging anchor", "base_url: http://h\ngroups:\n  - &g {name: a, <<: *g}\n", "s.yaml:3:22: groups[0]: more than 10000 alias expansions (an alias that includes itself?)"},
		{"alias bomb", aliasBomb(), "s.yaml:2:62: groups[0].requests[0].headers: more than 10000 alias expansions (an alias that includes itself?)"},
		{"nodes bad regex", ok + `nodes:
			prometheus: http://p:9090
			roles:
				web: web-.*
				db: "db-(["
		`, "s.yaml:9:9: nodes.roles.db: bad regex \"db-([\": missing closing ]: `[`"},
		{"nodes unknown metric", ok + `nodes:
			prometheus: http://p:9090
			thresholds:
				- {metric: load, above: 5}
		`, `s.yaml:8:16: nodes.thresholds[0].metric: unknown node metric "load" (did you mean load1?)`},
		{"nodes undefined role", ok + `nodes:
			prometheus: http://p:9090
			roles: {db: "db-.*"}
			thresholds:
				- {metric: load1, above: 5, role: dbs}
		`, `s.yaml:9:39: nodes.thresholds[0].role: role "dbs" is not defined in nodes.roles (did you mean db?)`},
		{"nodes threshold missing above", ok + `nodes:
			prometheus: http://p:9090
			thresholds:
				- metric: cpu
		`, "s.yaml:8:7: nodes.thresholds[0]: missing above (a node threshold is {metric: load1, above: 100})"},
		{"nodes bad name_label", ok + `nodes:
			prometheus: http://p:9090
			name_label: node-name
		`, `s.yaml:7:15: nodes.name_label: "node-name" is not a Prometheus label name`},
		{"panel missing query", ok + `nodes:
			prometheus: http://p:9090
			panels: [{title: x}]
		`, "s.yaml:7:12: nodes.panels[0]: missing query (a PromQL expression)"},
		{"bad window", ok + "window: 1ms\n", "s.yaml:5:9: window: must be at least 10ms, got 1ms"},
		{"abort not bool", ok + "abort_on_breakpoint: 1\n", "s.yaml:5:22: abort_on_breakpoint: want true or false, got 1"},
		{"unknown alias", "name: *nope\n", "s.yaml:1:7: name: unknown alias *nope"},
		{"first error wins in file order", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: -1}]
				requests: [{url: /x, method: GTE}]
			- {name: group1, stages: [{duration: 1m, target: 5}], requests: [{url: /x}]}
		`, "s.yaml:3:37: groups[0].stages[0].target: must be ≥ 0 (VUs), got -1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse("s.yaml", yml(tc.src))
			if err == nil {
				t.Fatalf("no error; parsed %+v", s)
			}
			if s != nil {
				t.Errorf("a scenario came back with the error")
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("error\n got %s\nwant %s", got, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is more than one line")
			}
			var e *Error
			if !errors.As(err, &e) || e.File != "s.yaml" || e.Line < 1 || e.Col < 1 {
				t.Errorf("not a positioned *Error: %#v", err)
			}
		})
	}
}

// aliasBomb nests <<: merges ten wide and four deep: 10^4 expansions
// for one header block, 10^5 for the file.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("x-h0: &h0 {A: b}\n")
	for i := 1; i <= 4; i++ {
		fmt.Fprintf(&b, "x-h%d: &h%d {<<: [%s]}\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*h%d, ", i-1), 10), ", "))
	}
	b.WriteString("base_url: http://h\ngroups: [{stages: [{duration: 1s, target: 1}], requests: [{url: /, headers: *h4}]}]\n")
	return b.String()
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "probe.yaml")
	src := "base_url: http://h\ngroups: [{stages: [{duration: 1s, target: 1}], requests: [{url: /}]}]\nnodes: {prometheus: http://p:9090, prom_config: auth.yml}\n"
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "auth.yml"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "probe" || s.File != p || s.Nodes.PromConfig != filepath.Join(dir, "auth.yml") {
		t.Errorf("name %q file %q prom_config %q", s.Name, s.File, s.Nodes.PromConfig)
	}
	_, err = Load(filepath.Join(dir, "missing.yaml"))
	if want := filepath.Join(dir, "missing.yaml") + ": no such file or directory"; err == nil || err.Error() != want {
		t.Errorf("missing file: got %v, want %s", err, want)
	}
}

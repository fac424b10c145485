package scenarios

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Fuzzers run their seed corpus in every `go test`; explore with e.g.
//   go test -run '^$' -fuzz FuzzParse$ -fuzztime 20s ./scenarios/

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"90s", "1m30s", "500ms", "2h", "1.5s", "0", "1d12h", "-1s", "60", "", "1x", "+5s", "1d", ".5s", "9223372036s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %v < 0", s, d)
		}
		// Where Go's parser agrees the input is valid, the values match.
		if std, err := time.ParseDuration(s); err == nil && !strings.ContainsAny(s, "-d") && std != d {
			t.Fatalf("ParseDuration(%q) = %v, time.ParseDuration = %v", s, d, std)
		}
		// What we print we read back.
		if back, err := ParseDuration(formatDuration(d)); err != nil || back != d {
			t.Fatalf("round trip of %v via %q: %v, %v", d, formatDuration(d), back, err)
		}
	})
}

func FuzzParseThink(f *testing.F) {
	for _, s := range []string{"1s", "1s-3s", "3s-1s", "-1s", "", "1s-", "500ms - 1.5s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		th, err := ParseThink(s)
		if err != nil {
			return
		}
		if th.Min < 0 || th.Max < th.Min {
			t.Fatalf("ParseThink(%q) = %+v", s, th)
		}
		if back, err := ParseThink(th.String()); err != nil || back != th {
			t.Fatalf("round trip of %+v via %q: %+v, %v", th, th.String(), back, err)
		}
	})
}

// FuzzParseStages feeds the text of a stages list through the whole
// loader: whatever it is, the answer is a sound group or one error line.
func FuzzParseStages(f *testing.F) {
	for _, s := range []string{
		"[{duration: 1m, target: 100}, {duration: 5m, target: 800}]",
		"[{duration: 0, target: 5}]",
		"[{duration: -1m, target: 5}]",
		"[{duration: 1m, target: -5}]",
		"[{duration: 1m, target: 2.5}]",
		"[{duration: 1d, target: 1e9}]",
		"[{duration: 60, target: .inf}]",
		"[{target: 5}]",
		"{duration: 1m}",
		"\n  - duration: 1m\n    target: 3",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, stages string) {
		src := "base_url: http://h\ngroups:\n- stages: " + stages + "\n  requests: [{url: /}]\n"
		s, err := Parse("f.yaml", []byte(src))
		if err != nil {
			checkOneLine(t, err)
			return
		}
		for _, g := range s.Groups {
			for _, st := range g.Stages {
				if st.Duration < 0 || st.Target < 0 || math.IsNaN(st.Target) || math.IsInf(st.Target, 0) {
					t.Fatalf("bad stage accepted: %+v from %q", st, stages)
				}
			}
		}
	})
}

func FuzzParseThreshold(f *testing.F) {
	seeds := [][2]string{
		{"http_req_duration", "p(95)<500"}, {"http_req_duration", "p(99.9) <= 1.5s"},
		{"http_req_duration{name:history}", "avg<200ms"}, {"http_req_failed", "rate<1%"},
		{"http_reqs", "count>=100"}, {"checks", "rate>0.99"}, {"http_req_duration", "p(95"},
		{"http_req_duration", "med<1e3"}, {"x{", "p(1)<1"}, {"dropped_iterations", "count<1"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, metric, expr string) {
		th, err := ParseThreshold(metric, expr)
		if err != nil {
			if strings.Contains(err.Error(), "\n") && !strings.Contains(metric+expr, "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		switch th.Op {
		case "<", "<=", ">", ">=":
		default:
			t.Fatalf("op %q", th.Op)
		}
		if math.IsNaN(th.Value) || math.IsInf(th.Value, 0) || th.Value < 0 {
			t.Fatalf("value %v from %q", th.Value, expr)
		}
		if th.Agg == "p" && (th.P < 0 || th.P > 100) {
			t.Fatalf("percentile %v", th.P)
		}
		// The canonical form parses back to the same threshold.
		back, err := ParseThreshold(th.Target(), th.Expr)
		if err != nil || back != th {
			t.Fatalf("re-parse of %s: %+v, %v; want %+v", th, back, err, th)
		}
	})
}

func FuzzCompileTemplate(f *testing.F) {
	for _, s := range []string{"/api/rooms", "/rooms/{{rand 1 50}}/m", "{{vu}}-{{iter}}", "{{uuid}}",
		`{{env "HOME"}}`, "{{", "}}", "{{}}", "{{rand 5 1}}", "{{rand -9223372036854775808 9223372036854775807}}",
		`{"room":{{rand 1 50}},"text":"hi"}`, "{{ vu }}{{", "a{{{vu}}}b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		tpl, err := CompileTemplate(src)
		if err != nil {
			return
		}
		if tpl.Source() != src {
			t.Fatalf("Source %q != %q", tpl.Source(), src)
		}
		out := tpl.Render(newCtx(1, 2))
		if !strings.Contains(src, "{{") && out != src {
			t.Fatalf("literal %q rendered %q", src, out)
		}
		if tpl.Static() && !tpl.Secret() && out != src {
			t.Fatalf("static template %q rendered %q", src, out)
		}
		b, err := json.Marshal(tpl)
		if err != nil {
			t.Fatal(err)
		}
		var back Template
		// JSON carries UTF-8 only; invalid bytes become U+FFFD.
		if err := json.Unmarshal(b, &back); err != nil || utf8.ValidString(src) && back.Source() != src {
			t.Fatalf("JSON round trip of %q: %q, %v", src, back.Source(), err)
		}
	})
}

func FuzzParse(f *testing.F) {
	for _, name := range Examples() {
		data, _ := Example(name)
		f.Add(data)
	}
	for _, s := range []string{
		"", "name: x\n", "a: [1, 2\n", "groups: []\n", "- a\n", "name: *nope\n",
		"base_url: http://h\ngroups: [{executor: constant-vus, vus: 3, duration: 1m, requests: [{url: /}]}]\n",
		"x-a: &a {url: /}\nbase_url: http://h\ngroups: [{stages: [{duration: 1s, target: 1}], requests: [*a, *a]}]\n",
		"base_url: http://h\ngroups:\n- <<: [*x]\n",
		"groups: &g [*g]\n",
		"base_url: http://h\ngroups: [{stages: [{duration: 1s, target: 1}], pick: weighted, requests: [{url: /a, weight: 3}, {url: /b, check: {status: [200, 3xx], header: {X-A: true, X-B: false, X-C: v}, json: {\"$.a[0]['b']\": null}, body_not_contains: e, max_duration: 1s}}]}]\n",
		"base_url: http://h\ngroups: [{stages: [{duration: 1s, target: 1}], websocket: {url: /ws, subprotocols: [a, b], headers: {Origin: http://o}}}]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("f.yaml", data)
		if err != nil {
			checkOneLine(t, err)
			var e *Error
			if !errors.As(err, &e) || e.File != "f.yaml" || e.Line < 1 || e.Col < 0 {
				t.Fatalf("not a positioned *Error: %#v", err)
			}
			return
		}
		if len(s.Groups) == 0 || s.Window <= 0 {
			t.Fatalf("accepted an unsound scenario: %+v", s)
		}
		if err := Validate(s); err != nil {
			t.Fatalf("Validate after Parse: %v", err)
		}
		if _, err := json.Marshal(s); err != nil {
			t.Fatalf("JSON: %v", err)
		}
	})
}

func checkOneLine(t *testing.T, err error) {
	t.Helper()
	if strings.Contains(err.Error(), "\n") {
		t.Fatalf("multi-line error %q", err)
	}
}

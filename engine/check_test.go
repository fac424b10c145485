package engine

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
	"github.com/valyala/fasthttp"
)

// checkTarget serves the paths the check tests ask for.
func checkTarget(t *testing.T) string {
	var alt atomic.Int64
	return handler(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			w.Header().Set("X-Id", "abc")
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"ok":true,"n":3,"s":"x\"y","z":null}`)
		case "/created":
			w.WriteHeader(201)
		case "/missing":
			w.WriteHeader(404)
			io.WriteString(w, "no such thing")
		case "/slow":
			time.Sleep(30 * time.Millisecond)
			io.WriteString(w, "late")
		case "/alt":
			// Odd requests lack the header, even ones the body: one
			// endpoint, two checks failing.
			if alt.Add(1)%2 == 1 {
				io.WriteString(w, "fine")
				return
			}
			w.Header().Set("X-Id", "abc")
			io.WriteString(w, "broken")
		}
	})
}

func str(s string) *string { return &s }

// Each check passes and fails against a real target on both clients; every
// failure is a row of its own check, with what was found, and a response
// that fails two checks counts under the first.
func TestChecks(t *testing.T) {
	type req struct {
		name, path string
		check      scenarios.Check
		kind       measure.ErrorKind // "" when the check passes
		checkName  string
		msg        string
	}
	reqs := []req{
		{"pass_all", "/ok", scenarios.Check{Status: []int{200}, StatusClass: []int{2},
			Header:       []scenarios.HeaderCheck{{Name: "x-id", Value: str("abc")}, {Name: "Content-Type"}, {Name: "X-Gone", Absent: true}},
			BodyContains: `"ok":true`, BodyNotContains: "error", MaxDuration: 10 * time.Second}, "", "", ""},
		{"pass_class", "/created", scenarios.Check{StatusClass: []int{2}}, "", "", ""},
		{"status_4xx", "/missing", scenarios.Check{Status: []int{200}}, measure.ErrStatus4xx, "status", "HTTP 404 Not Found: no such thing"},
		{"status_class", "/created", scenarios.Check{StatusClass: []int{3}, Status: []int{200}}, measure.ErrCheckFailed, "status", "check: status 201, want 200 or 3xx"},
		{"header_value", "/ok", scenarios.Check{Header: []scenarios.HeaderCheck{{Name: "X-Id", Value: str("xyz")}}}, measure.ErrCheckFailed, "header X-Id", `check: header X-Id is "abc", want "xyz"`},
		{"header_missing", "/ok", scenarios.Check{Header: []scenarios.HeaderCheck{{Name: "X-Nope"}}}, measure.ErrCheckFailed, "header X-Nope", "check: header X-Nope is missing"},
		{"header_absent", "/ok", scenarios.Check{Header: []scenarios.HeaderCheck{{Name: "X-Id", Absent: true}}}, measure.ErrCheckFailed, "header X-Id", `check: header X-Id is present ("abc"), want it absent`},
		{"body_contains", "/ok", scenarios.Check{BodyContains: "needle"}, measure.ErrCheckFailed, "body_contains", `check: body does not contain "needle"`},
		{"body_not_contains", "/ok", scenarios.Check{BodyNotContains: `"n":3`}, measure.ErrCheckFailed, "body_not_contains", `check: body contains "\"n\":3"`},
		{"max_duration", "/slow", scenarios.Check{MaxDuration: time.Millisecond}, measure.ErrCheckFailed, "max_duration", "over max_duration 1ms"},
		{"json_pass", "/ok", scenarios.Check{JSON: []scenarios.JSONCheck{{Path: scenarios.MustJSONPath("$.ok"), Value: true},
			{Path: scenarios.MustJSONPath("$.n"), Value: 3.0}, {Path: scenarios.MustJSONPath("$.s"), Value: "x\"y"}, {Path: scenarios.MustJSONPath("$.z"), Value: nil}}}, "", "", ""},
		{"json_value", "/ok", scenarios.Check{JSON: []scenarios.JSONCheck{{Path: scenarios.MustJSONPath("$.ok"), Value: true},
			{Path: scenarios.MustJSONPath("$.n"), Value: "3"}}}, measure.ErrCheckFailed, "json $.n", `check: json $.n is 3, want "3"`},
		{"json_missing", "/ok", scenarios.Check{JSON: []scenarios.JSONCheck{{Path: scenarios.MustJSONPath("$.user.id"), Value: 1.0}}}, measure.ErrCheckFailed, "json $.user.id", "check: json $.user.id not found, want 1"},
		{"json_not_json", "/slow", scenarios.Check{JSON: []scenarios.JSONCheck{{Path: scenarios.MustJSONPath("$.ok"), Value: false}}}, measure.ErrCheckFailed, "json $.ok", "check: json $.ok not found, want false"},
		// Both the header and the body fail: the header, first in order, counts.
		{"first_wins", "/ok", scenarios.Check{Header: []scenarios.HeaderCheck{{Name: "X-Nope"}}, BodyContains: "needle"}, measure.ErrCheckFailed, "header X-Nope", "check: header X-Nope is missing"},
	}
	for _, h2 := range []bool{false, true} {
		name := "fasthttp"
		if h2 {
			name = "net_http"
		}
		t.Run(name, func(t *testing.T) {
			base := checkTarget(t)
			g := constVUs(scenarios.Group{Name: "g", Executor: scenarios.RampingVUs}, 1, 300*time.Millisecond)
			g.Think = scenarios.Think{Min: 5 * time.Millisecond, Max: 5 * time.Millisecond}
			g.HTTP2 = h2
			for _, r := range reqs {
				c := r.check
				g.Requests = append(g.Requests, scenarios.Request{Name: r.name, Method: "GET", URL: scenarios.MustTemplate(base + r.path), Check: &c})
			}
			alt := scenarios.Check{Header: []scenarios.HeaderCheck{{Name: "X-Id"}}, BodyContains: "fine"}
			// Twice per iteration, so each iteration fails both checks.
			for range 2 {
				g.Requests = append(g.Requests, scenarios.Request{Name: "alt", Method: "GET", URL: scenarios.MustTemplate(base + "/alt"), Check: &alt})
			}
			_, tk := run(t, scenario(time.Hour, g), Options{}, 10*time.Second)
			s := tk.sum()
			iters := s.Iterations
			if iters < 1 {
				t.Fatalf("no iteration ran")
			}
			all := tk.All()
			rows := all[len(all)-1].Failures
			byKey := map[[2]string]measure.Failure{}
			for _, f := range rows {
				byKey[[2]string{f.Endpoint, f.Check}] = f
				t.Logf("%-18s %-14s %-18s %4d  %s", f.Endpoint, f.Kind, f.Check, f.Count, f.Message)
			}
			failing := 0
			for _, r := range reqs {
				if r.kind == "" {
					for _, f := range rows {
						if f.Endpoint == r.name {
							t.Errorf("%s: passing check has a failure row %+v", r.name, f)
						}
					}
					continue
				}
				failing++
				f, ok := byKey[[2]string{r.name, r.checkName}]
				if !ok {
					t.Errorf("%s: no failure row for check %q", r.name, r.checkName)
					continue
				}
				if f.Kind != r.kind || !strings.Contains(f.Message, r.msg) || f.Count < iters-1 {
					t.Errorf("%s: row %+v, want kind %s, message with %q, count ≥ %d", r.name, f, r.kind, r.msg, iters-1)
				}
			}
			h, b := byKey[[2]string{"alt", "header X-Id"}], byKey[[2]string{"alt", "body_contains"}]
			if h.Count == 0 || b.Count == 0 || h.Kind != measure.ErrCheckFailed || b.Kind != measure.ErrCheckFailed {
				t.Errorf("alt: rows %+v and %+v, want one per failing check", h, b)
			}
			// Every request carries a check: those of the passing ones pass.
			if s.ChecksFailed < int64(failing)*(iters-1) || s.ChecksPassed < 2*(iters-1) || s.ChecksPassed+s.ChecksFailed != s.Requests {
				t.Errorf("checks %d passed, %d failed of %d requests", s.ChecksPassed, s.ChecksFailed, s.Requests)
			}
		})
	}
}

// BenchmarkJudge is the cost of judging one response by every kind of
// check, without the network: status class, two headers, the body both
// ways, and three JSON paths over a 1 KiB body.
func BenchmarkJudge(b *testing.B) {
	body := []byte(`{"ok":true,"user":{"id":42,"name":"ann"},"items":[{"sku":"a-1"}],"pad":"` + strings.Repeat("x", 900) + `"}`)
	for _, bc := range []struct {
		name string
		c    scenarios.Check
	}{
		{"status", scenarios.Check{StatusClass: []int{2}}},
		{"headers", scenarios.Check{Header: []scenarios.HeaderCheck{{Name: "Content-Type", Value: str("application/json")}, {Name: "X-Gone", Absent: true}}}},
		{"body", scenarios.Check{BodyContains: `"ok":true`, BodyNotContains: "error"}},
		{"json3", scenarios.Check{JSON: []scenarios.JSONCheck{{Path: scenarios.MustJSONPath("$.ok"), Value: true},
			{Path: scenarios.MustJSONPath("$.user.id"), Value: 42.0}, {Path: scenarios.MustJSONPath("$.items[0].sku"), Value: "a-1"}}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var resp fasthttp.Response
			resp.Header.SetContentType("application/json")
			resp.SetBody(body)
			ep := &endpoint{chk: newChecker(&bc.c)}
			v := &vu{}
			b.ReportAllocs()
			for b.Loop() {
				if k, _ := v.judge(ep, 200, body, respHeaders{fast: &resp.Header}); k != kindNone {
					b.Fatal("check failed")
				}
			}
		})
	}
}

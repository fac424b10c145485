package scenarios

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

// Every check key reads as written: status codes and classes mixed,
// headers by value, presence and absence, body both ways, max_duration.
func TestParseChecks(t *testing.T) {
	s, err := Parse("s.yaml", yml(`
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				requests:
					- url: /x
						check:
							status: [200, "3xx", 2XX, "204"]
							header: {Content-Type: application/json, X-Id: true, X-Debug: false, X-Flag: "true"}
							body_contains: ok
							body_not_contains: error
							json: {"$.ok": true, $.n: 3, "$['a b'][0]": "x", $.z: null, $.f: 1.5}
							max_duration: 250ms
					- url: /y
						check: {status: 4xx}
		`))
	if err != nil {
		t.Fatal(err)
	}
	c := s.Groups[0].Requests[0].Check
	str := func(s string) *string { return &s }
	want := &Check{Status: []int{200, 204}, StatusClass: []int{3, 2},
		Header: []HeaderCheck{{Name: "Content-Type", Value: str("application/json")}, {Name: "X-Id"}, {Name: "X-Debug", Absent: true},
			{Name: "X-Flag", Value: str("true")}},
		BodyContains: "ok", BodyNotContains: "error", MaxDuration: 250 * time.Millisecond}
	var paths []string
	for _, j := range c.JSON {
		paths = append(paths, j.Path.String())
	}
	if fmt.Sprint(paths) != "[$.ok $.n $['a b'][0] $.z $.f]" || !reflect.DeepEqual([]any{c.JSON[0].Value, c.JSON[1].Value, c.JSON[2].Value, c.JSON[3].Value, c.JSON[4].Value}, []any{true, 3.0, "x", nil, 1.5}) {
		t.Errorf("json checks %v %+v", paths, c.JSON)
	}
	c.JSON = nil
	if !reflect.DeepEqual(c, want) {
		t.Errorf("check\n got %+v\nwant %+v", c, want)
	}
	if !c.NeedsBody() || s.Groups[0].Requests[1].Check.NeedsBody() {
		t.Errorf("NeedsBody: a body check needs the body, a status check does not")
	}
	c2 := s.Groups[0].Requests[1].Check
	for status, ok := range map[int]bool{404: true, 499: true, 200: false, 500: false} {
		if c2.StatusOK(status) != ok {
			t.Errorf("status 4xx: StatusOK(%d) = %v", status, !ok)
		}
	}
	if got := c.WantStatus(); got != "200 or 204 or 3xx or 2xx" {
		t.Errorf("WantStatus = %q", got)
	}
	if got := (&Check{}).WantStatus(); got != "2xx or 3xx" || !(&Check{}).StatusOK(302) || (&Check{}).StatusOK(404) {
		t.Errorf("default status rule: %q", got)
	}
}

func TestParseCheckErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"bad class", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				requests: [{url: /x, check: {status: [200, 6xx]}}]
		`, `s.yaml:4:48: groups[0].requests[0].check.status[1]: want a status code like 200 or a class like 2xx, got the string "6xx"`},
		{"code out of range", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				requests: [{url: /x, check: {status: 99}}]
		`, `s.yaml:4:42: groups[0].requests[0].check.status: 99 is not an HTTP status code`},
		{"header check is a list", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				requests: [{url: /x, check: {header: {X-Id: [a]}}}]
		`, `s.yaml:4:49: groups[0].requests[0].check.header.X-Id: want the header's value, or true (present) or false (absent), got a list`},
		{"bad header name", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				requests: [{url: /x, check: {header: {"X Id": a}}}]
		`, `s.yaml:4:43: groups[0].requests[0].check.header.X Id.name: "X Id" is not a valid header name`},
		{"negative max_duration", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				requests: [{url: /x, check: {max_duration: -1s}}]
		`, `s.yaml:4:48: groups[0].requests[0].check.max_duration: negative duration "-1s"`},
		{"json value is a list", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				requests: [{url: /x, check: {json: {$.ids: [1, 2]}}}]
		`, `s.yaml:4:48: groups[0].requests[0].check.json.$.ids: want the value the path must hold (a string, number, true/false or null), got a list`},
		{"json path outside the subset", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				requests: [{url: /x, check: {json: {"$.items[*].id": 1}}}]
		`, `s.yaml:4:50: groups[0].requests[0].check.json.$.items[*].id: JSON path "$.items[*].id": wildcards (*) are not supported; name one key or [index]`},
		{"misspelt key", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				requests: [{url: /x, check: {body_not_contain: x}}]
		`, `s.yaml:4:34: groups[0].requests[0].check.body_not_contain: unknown key (did you mean body_not_contains?)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("s.yaml", yml(tc.src))
			if err == nil || err.Error() != tc.want {
				t.Errorf("error\n got %v\nwant %s", err, tc.want)
			}
		})
	}
}

// A check's header and json entries are bounded (the engine numbers them
// in a byte).
func TestCheckEntriesBounded(t *testing.T) {
	c := &Check{}
	for i := range MaxChecksEach + 1 {
		c.Header = append(c.Header, HeaderCheck{Name: fmt.Sprintf("X-%d", i)})
	}
	s := &Scenario{Groups: []Group{{Stages: []Stage{{Duration: time.Second, Target: 1}},
		Requests: []Request{{URL: MustTemplate("http://h/"), Check: c}}}}}
	if err := Validate(s); err == nil || err.Error() != "groups[0].requests[0].check.header: 101 header checks, at most 100" {
		t.Fatalf("error %v", err)
	}
}

// A json check built in code is held to what a file can say: an int
// becomes a number, a list is refused, a path is required.
func TestValidateJSONCheck(t *testing.T) {
	mk := func(js ...JSONCheck) *Scenario {
		return &Scenario{Groups: []Group{{Stages: []Stage{{Duration: time.Second, Target: 1}},
			Requests: []Request{{URL: MustTemplate("http://h/"), Check: &Check{JSON: js}}}}}}
	}
	s := mk(JSONCheck{Path: MustJSONPath("$.n"), Value: 3})
	if err := Validate(s); err != nil || s.Groups[0].Requests[0].Check.JSON[0].Value != 3.0 {
		t.Errorf("int value: %v, %#v", err, s.Groups[0].Requests[0].Check.JSON[0].Value)
	}
	if err := Validate(mk(JSONCheck{Path: MustJSONPath("$.n"), Value: []any{1}})); err == nil ||
		err.Error() != "groups[0].requests[0].check.json.$.n: want the value the path must hold (a string, number, true/false or null), got []interface {}" {
		t.Errorf("list value: %v", err)
	}
	if err := Validate(mk(JSONCheck{Value: true})); err == nil || err.Error() != "groups[0].requests[0].check.json[0]: missing path" {
		t.Errorf("no path: %v", err)
	}
}

package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/brink-load/brink/engine/wstest"
	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
)

// The run's failures table sums each key over the windows, keeps the
// first window's message, and sorts by count.
func TestFailuresMerged(t *testing.T) {
	r := NewRecorder(scenario(false, nil), t0, Options{})
	f := func(ep string, k measure.ErrorKind, status int, n int64, msg string) measure.Failure {
		return measure.Failure{Group: "g", Endpoint: ep, Kind: k, Status: status, Count: n, Message: msg}
	}
	t1 := tick(0, win{vus: 10, rps: 100, p95: 10, errs: 6})
	t1.Failures = []measure.Failure{f("home", measure.ErrStatus5xx, 502, 5, "502 Bad Gateway"), f("home", measure.ErrStatus5xx, 503, 1, "503 first")}
	r.AddTick(t1)
	t2 := tick(1, win{vus: 10, rps: 100, p95: 10, errs: 4})
	t2.Failures = []measure.Failure{f("home", measure.ErrStatus5xx, 503, 3, "503 later"), f("", measure.ErrDropped, 0, 1, "no VU free")}
	r.AddTick(t2)
	r.Finish(at(3))
	got := r.Report().Failures
	want := []FailureRow{
		{Kind: measure.ErrStatus5xx, Status: 502, Group: "g", Endpoint: "home", Count: 5, Sample: "502 Bad Gateway"},
		{Kind: measure.ErrStatus5xx, Status: 503, Group: "g", Endpoint: "home", Count: 4, Sample: "503 first"},
		{Kind: measure.ErrDropped, Group: "g", Count: 1, Sample: "no VU free"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("failures\n got %v\nwant %v", got, want)
	}
}

// Past maxRunFailureKeys distinct keys, failures count in an "other" row
// per kind; the report keeps MaxFailureRows rows, the rest summed into one
// "other" row, so no failure goes uncounted.
func TestFailuresBounded(t *testing.T) {
	r := NewRecorder(scenario(false, nil), t0, Options{})
	var total int64
	for i := 0; i < 30; i++ {
		tk := tick(i, win{vus: 10, rps: 100, p95: 10, errs: 1})
		for j := 0; j < 50; j++ {
			n := int64(1 + (i*50+j)%7)
			total += n
			tk.Failures = append(tk.Failures, measure.Failure{Group: "g", Endpoint: fmt.Sprintf("ep%d", i*50+j),
				Kind: measure.ErrStatus4xx, Status: 404, Count: n, Message: "404 Not Found"})
		}
		r.AddTick(tk)
	}
	r.Finish(at(31))
	if n := len(r.run.failures.rows); n != maxRunFailureKeys+1 {
		t.Errorf("run table holds %d keys, want %d and one other row", n, maxRunFailureKeys)
	}
	rows := r.Report().Failures
	if len(rows) != MaxFailureRows {
		t.Fatalf("%d rows, want %d", len(rows), MaxFailureRows)
	}
	var sum int64
	for i, row := range rows {
		sum += row.Count
		if i > 0 && i < len(rows)-1 && row.Count > rows[i-1].Count {
			t.Errorf("row %d (%d) above row %d (%d): not sorted", i, row.Count, i-1, rows[i-1].Count)
		}
	}
	if last := rows[len(rows)-1]; last.Group != OtherGroup {
		t.Errorf("last row %+v, want the other row", last)
	}
	if sum != total {
		t.Errorf("rows sum to %d failures, want %d", sum, total)
	}
}

// Three causes behind one status_5xx (nginx: a bad gateway, an upstream
// timeout, a busy upstream) are three rows with their own messages, in the
// JSON report and the printed summary. Real listener, bounded run.
func TestFailuresFromEngine(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/a":
			w.WriteHeader(502)
			w.Write([]byte("<html><title>502 Bad Gateway</title></html>"))
		case "/b":
			w.WriteHeader(504)
			w.Write([]byte("upstream timed out"))
		default:
			w.WriteHeader(503)
			w.Write([]byte("busy"))
		}
	}))
	defer srv.Close()
	req := func(name, path string) scenarios.Request {
		return scenarios.Request{Name: name, Method: "GET", URL: scenarios.MustTemplate(srv.URL + path)}
	}
	sc := &scenarios.Scenario{Name: "fail", Window: 200 * time.Millisecond, Sustain: 600 * time.Millisecond,
		Groups: []scenarios.Group{{Name: "web", Executor: scenarios.RampingVUs,
			Stages:   []scenarios.Stage{{Duration: 100 * time.Millisecond, Target: 2}, {Duration: 800 * time.Millisecond, Target: 2}},
			Think:    scenarios.Think{Min: 5 * time.Millisecond, Max: 5 * time.Millisecond},
			Timeout:  2 * time.Second,
			Requests: []scenarios.Request{req("a", "/a"), req("b", "/b"), req("c", "/c")}}}}
	rep := runRecorded(t, sc)
	byStatus := map[int]FailureRow{}
	var sum int64
	for _, f := range rep.Failures {
		byStatus[f.Status] = f
		sum += f.Count
	}
	for status, want := range map[int]string{502: "Bad Gateway", 504: "upstream timed out", 503: "busy"} {
		f, ok := byStatus[status]
		if !ok || f.Kind != measure.ErrStatus5xx || f.Group != "web" || !strings.Contains(f.Sample, want) || f.Count < 1 {
			t.Errorf("status %d: row %+v, want status_5xx of web with %q", status, f, want)
		}
	}
	if sum != rep.Summary.Errors {
		t.Errorf("failure rows count %d, the run %d errors", sum, rep.Summary.Errors)
	}
	failuresShown(t, rep, []string{`"failures":[{"kind":"status_5xx","status":50`, `"sample":"`},
		[]string{"status_5xx 504", "upstream timed out"})
}

// failuresShown fails t unless rep's JSON holds each of inJSON and its
// printed summary a FAILURES table holding each of inSummary.
func failuresShown(t *testing.T, rep *Report, inJSON, inSummary []string) {
	t.Helper()
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range inJSON {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("report JSON lacks %s: %.300s", want, b[max(bytes.Index(b, []byte(`"failures"`)), 0):])
		}
	}
	var out bytes.Buffer
	PrintSummary(&out, rep)
	for _, want := range append([]string{"FAILURES"}, inSummary...) {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
}

// A number never ends a line: it stays with its unit and its groups of
// three.
func TestWrapKeepsNumbers(t *testing.T) {
	text := "db-3 load1 100.4 > 100 at 396 VUs, 1 148 rps; errors > 1 % 39 s later"
	for w := 8; w <= 40; w++ {
		for _, l := range Wrap(text, w) {
			if endsInDigit(l) {
				t.Errorf("width %d: line %q ends in a number", w, l)
			}
		}
	}
	if got := strings.Join(Wrap("a 1 148 rps b", 7), "|"); got != "a|1 148 rps|b" {
		t.Errorf("Wrap = %q", got)
	}
}

// Finish leaves the final verdict and whole-run figures in the View; its
// outcome line is the summary's.
func TestFinalInView(t *testing.T) {
	r := NewRecorder(scenario(false, []scenarios.Threshold{p95lt500}), t0, Options{})
	for i := 0; i < 10; i++ {
		p95 := 100.0
		if i >= 3 {
			p95 = 2000
		}
		r.AddTick(tick(i, win{vus: 10 * (i + 1), rps: 100, p95: p95}))
	}
	var before *Final
	r.View(func(v *View) { before = v.Final })
	if before != nil {
		t.Fatal("Final before Finish")
	}
	r.Finish(at(11))
	var f *Final
	r.View(func(v *View) { f = v.Final })
	if f == nil || f.Passed || f.Requests != 1000 || f.Verdict.Breakpoint == nil || len(f.FailedThresholds) != 1 {
		t.Fatalf("Final %+v", f)
	}
	var out bytes.Buffer
	PrintSummary(&out, r.Report())
	if !strings.Contains(out.String(), f.Outcome) || f.Outcome == "" {
		t.Errorf("outcome %q not in the summary:\n%s", f.Outcome, out.String())
	}
}

// A WebSocket whose handshake is refused fills the failures table: one
// row of the group's "ws" with the status and what the server said, in
// the JSON report and the printed summary. Real listener, bounded run.
func TestWSFailuresInReport(t *testing.T) {
	sc := &scenarios.Scenario{Name: "ws-fail", Window: 200 * time.Millisecond, Sustain: 600 * time.Millisecond,
		Groups: []scenarios.Group{{Name: "chat", Executor: scenarios.RampingVUs, Start: 2, Timeout: time.Second,
			Stages: []scenarios.Stage{{Duration: 600 * time.Millisecond, Target: 2}},
			WebSocket: &scenarios.WebSocket{URL: scenarios.MustTemplate(wstest.Refusing(t)), Send: scenarios.MustTemplate("hi"),
				Every: 100 * time.Millisecond}}}}
	rep := runRecorded(t, sc)
	if rep.Summary.WS == nil || rep.Summary.WS.Failed == 0 {
		t.Fatalf("ws summary %+v: want failures", rep.Summary.WS)
	}
	want := FailureRow{Kind: measure.ErrStatus4xx, Status: 403, Group: "chat", Endpoint: measure.WSEndpoint,
		Count: rep.Summary.WS.Failed, Sample: "handshake refused: HTTP 403 Forbidden: forbidden"}
	if len(rep.Failures) != 1 || rep.Failures[0] != want {
		t.Fatalf("failures %+v, want [%+v]", rep.Failures, want)
	}
	failuresShown(t, rep, []string{`"failures":[{"kind":"status_4xx","status":403,"group":"chat","endpoint":"ws"`},
		[]string{"chat/ws", "handshake refused: HTTP 403 Forbidden"})
}

// Check failures of one endpoint are one row per check over the run, and
// the printed kind names the check.
func TestFailuresByCheck(t *testing.T) {
	r := NewRecorder(scenario(false, nil), t0, Options{})
	f := func(check string, n int64, msg string) measure.Failure {
		return measure.Failure{Group: "g", Endpoint: "order", Kind: measure.ErrCheckFailed, Count: n, Message: msg, Check: check}
	}
	t1 := tick(0, win{vus: 10, rps: 100, p95: 10, errs: 5})
	t1.Failures = []measure.Failure{f("json $.ok", 3, "check: json $.ok is false, want true"), f("max_duration", 2, "check: took 2s")}
	r.AddTick(t1)
	t2 := tick(1, win{vus: 10, rps: 100, p95: 10, errs: 2})
	t2.Failures = []measure.Failure{f("max_duration", 2, "check: took 3s")}
	r.AddTick(t2)
	r.Finish(at(3))
	got := r.Report().Failures
	want := []FailureRow{
		{Kind: measure.ErrCheckFailed, Group: "g", Endpoint: "order", Count: 4, Sample: "check: took 2s", Check: "max_duration"},
		{Kind: measure.ErrCheckFailed, Group: "g", Endpoint: "order", Count: 3, Sample: "check: json $.ok is false, want true", Check: "json $.ok"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("failures\n got %v\nwant %v", got, want)
	}
	if k := FailureKindText(got[1]); k != "check_failed json $.ok" {
		t.Errorf("kind text %q", k)
	}
	if k := FailureKindText(FailureRow{Kind: measure.ErrStatus4xx, Status: 404, Check: "status"}); k != "status_4xx 404" {
		t.Errorf("kind text %q", k)
	}
	var b strings.Builder
	printFailures(&b, r.Report(), 120)
	if !strings.Contains(b.String(), "check_failed max_duration") {
		t.Errorf("summary does not name the check:\n%s", b.String())
	}
}

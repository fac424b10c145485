package report

import (
	"fmt"
	"strings"
	"testing"

	"github.com/brink-load/brink/measure"
)

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

package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/report"
)

// One endpoint failing two checks is two rows of the errors view's
// failures table, each naming its check beside the kind.
func TestFailuresViewNamesTheCheck(t *testing.T) {
	rec := report.NewRecorder(synthScenario(), synthStart, report.Options{Host: "test"})
	for s := 0; s < 5; s++ {
		tk := synthTick(s)
		tk.Errors = map[measure.ErrorKind]int64{measure.ErrCheckFailed: 5}
		tk.Failures = []measure.Failure{
			{Group: "browse", Endpoint: "history", Kind: measure.ErrCheckFailed, Status: 200, Count: 3, Check: "json $.ok",
				Message: "check: json $.ok is false, want true"},
			{Group: "browse", Endpoint: "history", Kind: measure.ErrCheckFailed, Status: 200, Count: 2, Check: "max_duration",
				Message: "check: took 2.1s, over max_duration 2s"}}
		rec.AddTick(tk)
	}
	end := synthStart.Add(5 * time.Second)
	m := New(rec, Options{Who: "local", CanControl: true, Controller: &fakeCtl{}, Now: func() time.Time { return end }}).(*Model)
	m.Update(sizeMsg(200, 60))
	m.Update(keyMsg("e"))
	out := m.View()
	for _, want := range []string{"check_failed 200 json $.ok", "check_failed 200 max_duration", "check: json $.ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("errors view lacks %q:\n%s", want, out)
		}
	}
}

package tui

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/report"
	"github.com/brink-load/brink/testout"
)

// realRecorder feeds the synthetic run through report's own Recorder, so
// the crossing event, the state and the note are report's, not the test's.
func realRecorder(t testing.TB, secs, nodes int) *report.Recorder {
	t.Helper()
	rec := report.NewRecorder(synthScenario(), synthStart, report.Options{Host: "test"})
	names := synthNodes(nodes)
	for s := 0; s < secs; s++ {
		tk := synthTick(s)
		rec.AddTick(tk)
		p := synthPollAt(names, s, tk.Time)
		rec.AddPoll(p)
	}
	return rec
}

func TestRealRecorder(t *testing.T) {
	rec := realRecorder(t, goldenSecs, 8)
	end := synthStart.Add(goldenSecs * time.Second)
	m := New(rec, Options{Who: "local", CanControl: true, Controller: &fakeCtl{}, Now: func() time.Time { return end }}).(*Model)
	m.Update(sizeMsg(120, 40))
	out := m.View()
	checkFrameSize(t, out, 120, 40)
	for _, want := range []string{"db-3 load1>100", "✖ breakpoint┃", "! db-3", "db-3 load1 "} {
		if !strings.Contains(out, want) {
			t.Errorf("frame from report's recorder lacks %q:\n%s", want, out)
		}
	}
	// A note goes through report's Note and comes back as an event line.
	for _, k := range []string{"m", "d", "b", "-", "3", "enter"} {
		m.Update(keyMsg(k))
	}
	if out := m.View(); !strings.Contains(out, "db-3") || !strings.Contains(out, "note saved") {
		t.Errorf("note not saved through report.Recorder:\n%s", out)
	}
	var notes int
	rec.View(func(v *report.View) {
		for _, e := range v.Events {
			if e.Kind == report.EventNote && e.Who == "local" && e.Text == "db-3" {
				notes++
			}
		}
	})
	if notes != 1 {
		t.Errorf("recorder holds %d notes from the console, want 1", notes)
	}
}

// Run ends when its context does, and returns nil: the caller writes the
// report either way.
func TestRunEndsWithContext(t *testing.T) {
	rec := realRecorder(t, 30, 3)
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- Run(ctx, rec, Options{}, nil, &out) }()
	time.Sleep(300 * time.Millisecond)
	cancel()
	if err := testout.Recv(t, done, 5*time.Second, "Run did not end after its context was cancelled"); err != nil {
		t.Errorf("Run after cancel = %v, want nil", err)
	}
}

// The program as Bubble Tea runs it: draws, takes q, asks while the load
// runs, quits on y.
func TestProgramQuit(t *testing.T) {
	rec := realRecorder(t, 60, 3)
	tm := teatest.NewTestModel(t, New(rec, Options{Who: "local", CanControl: true, Controller: &fakeCtl{}, ReportPath: "r.json"}),
		teatest.WithInitialTermSize(120, 40))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("Throughput")) },
		teatest.WithDuration(5*time.Second))
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'q'}})
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("Quit?")) },
		teatest.WithDuration(5*time.Second))
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'y'}})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	final, _ := io.ReadAll(tm.FinalOutput(t))
	_ = final
	if !strings.Contains(tm.FinalModel(t).View(), "report: r.json") {
		t.Errorf("the last frame should name the report")
	}
}

// A WebSocket run whose sessions all fail says so in the header (ws_failed
// over the newest windows, apart from the HTTP err), and the failures are
// on the errors/s chart and in the errors view by kind.
func TestWebSocketFailuresInHeader(t *testing.T) {
	rec := report.NewRecorder(synthScenario(), synthStart, report.Options{Host: "test"})
	for s := 0; s < 10; s++ {
		tk := synthTick(s)
		tk.WS = measure.WSStats{Open: 0, Sessions: 4, Failed: 4, Outcomes: 4,
			Errors: map[measure.ErrorKind]int64{measure.ErrStatus4xx: 4}}
		tk.Errors = map[measure.ErrorKind]int64{measure.ErrStatus4xx: 4}
		tk.Failures = []measure.Failure{{Group: "browse", Endpoint: measure.WSEndpoint, Kind: measure.ErrStatus4xx, Status: 403,
			Count: 4, Message: "handshake refused: HTTP 403 Forbidden"}}
		rec.AddTick(tk)
	}
	end := synthStart.Add(10 * time.Second)
	m := New(rec, Options{Who: "local", CanControl: true, Controller: &fakeCtl{}, Now: func() time.Time { return end }}).(*Model)
	m.Update(sizeMsg(200, 60))
	out := m.View()
	for _, want := range []string{"ws 0 open", "ws fail 100.00%"} {
		if !strings.Contains(out, want) {
			t.Errorf("header lacks %q:\n%s", want, out)
		}
	}
	m.Update(keyMsg("e"))
	if out := m.View(); !strings.Contains(out, "status_4xx") || !strings.Contains(out, "browse/ws") ||
		!strings.Contains(out, "handshake refused: HTTP 403 Forbidden") {
		t.Errorf("errors view lacks the handshake failures and their row:\n%s", out)
	}
}

package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/brink-load/brink/report"
)

// TestHostileTextNeverReachesTheTerminal feeds node names, a poll error, a
// stale reason and event texts carrying terminal escapes through report's
// recorder: the frame keeps the words and loses every control sequence the
// outside sent (lipgloss's own SGR colouring is all that may remain).
func TestHostileTextNeverReachesTheTerminal(t *testing.T) {
	sc := synthScenario()
	sc.Name = "chat\x1b]0;owned\x07-run"
	rec := report.NewRecorder(sc, synthStart, report.Options{Host: "test"})
	for s := 0; s < 20; s++ {
		tk := synthTick(s)
		rec.AddTick(tk)
		p := synthPollAt([]string{"db-1", "db-2"}, s, tk.Time)
		p.Samples[0].Node = "evil\x1b[2J\x1b[H-db"
		p.Samples[1].Stale, p.Samples[1].StaleReason = true, "timeout\x1b]52;c;aGk=\x07"
		p.Err = "source\x1b[31m down\r\nnext"
		rec.AddPoll(p)
	}
	rec.Note("viewer\x1b[8m", "note \x1bP1;2q\x1b\\text\x9b2J", synthStart.Add(5*time.Second))
	end := synthStart.Add(20 * time.Second)
	m := New(rec, Options{Who: "local", Now: func() time.Time { return end }}).(*Model)
	m.Update(sizeMsg(160, 48))
	out := m.View()
	for _, want := range []string{"evil-db", "note text", "chat-run"} {
		if !strings.Contains(out, want) {
			t.Errorf("frame lacks %q:\n%s", want, out)
		}
	}
	// Every escape left must be lipgloss's SGR (ESC [ digits/; m).
	for i := 0; i < len(out); i++ {
		if out[i] != 0x1b {
			if c := out[i]; (c < 0x20 && c != '\n') || c == 0x7f {
				t.Fatalf("frame holds control byte %#x at %d: %q", c, i, out[max(0, i-20):min(len(out), i+20)])
			}
			continue
		}
		j := i + 1
		if j < len(out) && out[j] == '[' {
			j++
			for j < len(out) && (out[j] >= '0' && out[j] <= '9' || out[j] == ';') {
				j++
			}
			if j < len(out) && out[j] == 'm' {
				i = j
				continue
			}
		}
		t.Fatalf("frame holds a non-SGR escape at %d: %q", i, out[i:min(len(out), i+12)])
	}
}

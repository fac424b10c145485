package tui

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/brink-load/brink/report"
)

func sizeMsg(w, h int) tea.WindowSizeMsg { return tea.WindowSizeMsg{Width: w, Height: h} }

// fakeCtl records the calls a console makes.
type fakeCtl struct {
	mu    sync.Mutex
	calls []string
	held  bool
}

func (f *fakeCtl) rec(s string) { f.mu.Lock(); f.calls = append(f.calls, s); f.mu.Unlock() }
func (f *fakeCtl) Hold()        { f.rec("hold"); f.held = true }
func (f *fakeCtl) Resume()      { f.rec("resume"); f.held = false }
func (f *fakeCtl) Held() bool   { return f.held }
func (f *fakeCtl) Scale(x float64) {
	f.rec(map[bool]string{true: "scale up", false: "scale down"}[x > 1])
}
func (f *fakeCtl) SetTarget(string, float64) error { f.rec("set"); return nil }
func (f *fakeCtl) Stop()                           { f.rec("stop") }
func (f *fakeCtl) Abort(who string)                { f.rec("abort by " + who) }

// keyMsg turns "space", "ctrl+c", "tab", "enter", "esc" or literal runes
// into a key message.
func keyMsg(k string) tea.KeyMsg {
	switch k {
	case "space":
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

func isQuit(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	_, ok := cmd().(tea.QuitMsg)
	return ok
}

func TestKeys(t *testing.T) {
	cases := []struct {
		name       string
		canControl bool
		remote     bool
		done       bool
		keys       []string
		calls      []string // on the controller
		controls   []string // recorded on the timeline
		notes      []string
		quit       bool
		screen     string // must appear in the frame after the keys
	}{
		{name: "hold then resume", canControl: true, keys: []string{"space", "space"},
			calls: []string{"hold", "resume"}, controls: []string{"local: hold", "local: resume"}},
		{name: "scale up and down", canControl: true, keys: []string{"+", "-", "="},
			calls: []string{"scale up", "scale down", "scale up"}, controls: []string{"local: scale +10%", "local: scale -10%", "local: scale +10%"}},
		{name: "abort asks first", canControl: true, keys: []string{"a"}, screen: "Abort the run?"},
		{name: "abort confirmed", canControl: true, keys: []string{"a", "y"},
			calls: []string{"abort by local"}, controls: []string{"local: abort"}, screen: "aborting"},
		{name: "abort declined", canControl: true, keys: []string{"a", "n"}},
		{name: "read-only hold", keys: []string{"space", "+", "a"}, screen: "read-only"},
		{name: "read-only note allowed", keys: []string{"m", "h", "i", "enter"}, notes: []string{"alice: hi"}},
		{name: "note", canControl: true, keys: []string{"m", "d", "b", " ", "s", "l", "o", "w", "enter"},
			notes: []string{"local: db slow"}, screen: "note saved"},
		{name: "note keys do not control", canControl: true, keys: []string{"m", "a", "q", " ", "+", "esc"}},
		{name: "empty note dropped", canControl: true, keys: []string{"m", "enter"}},
		{name: "quit asks while running", canControl: true, keys: []string{"q"}, screen: "Quit?"},
		{name: "quit confirmed", canControl: true, keys: []string{"q", "y"}, quit: true},
		{name: "ctrl+c twice quits", canControl: true, keys: []string{"ctrl+c", "ctrl+c"}, quit: true},
		{name: "quit declined", canControl: true, keys: []string{"q", "n"}},
		{name: "quit after the run at once", canControl: true, done: true, keys: []string{"q"}, quit: true},
		{name: "viewer quits at once", keys: []string{"q"}, quit: true},
		{name: "SSH viewer is told it only leaves", remote: true, keys: []string{"q"},
			screen: "Leave? You disconnect; the load goes on (owner or controllers stop it)."},
		{name: "SSH viewer leaves on y", remote: true, keys: []string{"q", "y"}, quit: true},
		{name: "SSH controller is told how to stop", canControl: true, remote: true, keys: []string{"q"},
			screen: "Leave? You disconnect; the load goes on (to stop it: a, abort)."},
		{name: "SSH controller leaving stops nothing", canControl: true, remote: true, keys: []string{"q", "y"}, quit: true},
		{name: "SSH viewer after the run at once", remote: true, done: true, keys: []string{"q"}, quit: true},
		{name: "SSH viewer's help says leave", remote: true, keys: []string{"?"}, screen: "q leave"},
		{name: "control after the run", canControl: true, done: true, keys: []string{"space"}, screen: "the run has ended"},
		{name: "window cycles", keys: []string{"z"}, screen: "window 15m"},
		{name: "hotspots", keys: []string{"h"}, screen: "Hotspots"},
		{name: "errors", keys: []string{"e"}, screen: "Errors by kind"},
		{name: "hotspots toggle back", keys: []string{"h", "h"}, screen: "Events"},
		{name: "full help", canControl: true, keys: []string{"?"}, screen: "scroll down"},
		{name: "read-only help says locked (held: resume)", keys: []string{"?"}, screen: "resume (locked)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctl := &fakeCtl{}
			who := "local"
			if !c.canControl {
				who = "alice"
			}
			v := synthView(goldenSecs, 8)
			v.Done = c.done
			m, rec := newTestModel(t, v, Options{Who: who, CanControl: c.canControl, Controller: ctl, Remote: c.remote}, 120, 40)
			var last tea.Cmd
			for _, k := range c.keys {
				_, last = m.Update(keyMsg(k))
			}
			if !reflect.DeepEqual(ctl.calls, c.calls) {
				t.Errorf("controller calls %q, want %q", ctl.calls, c.calls)
			}
			if !reflect.DeepEqual(rec.controls, c.controls) {
				t.Errorf("recorded controls %q, want %q", rec.controls, c.controls)
			}
			if !reflect.DeepEqual(rec.notes, c.notes) {
				t.Errorf("notes %q, want %q", rec.notes, c.notes)
			}
			if got := isQuit(last); got != c.quit {
				t.Errorf("quit = %v, want %v", got, c.quit)
			}
			if c.screen != "" && !c.quit {
				if out := m.View(); !strings.Contains(out, c.screen) {
					t.Errorf("frame lacks %q:\n%s", c.screen, out)
				}
			}
		})
	}
}

func TestFlashExpires(t *testing.T) {
	now := synthStart.Add(goldenSecs * time.Second)
	m, _ := newTestModel(t, synthView(60, 3), Options{Who: "bob", Now: func() time.Time { return now }}, 120, 40)
	m.Update(keyMsg("space"))
	if !strings.Contains(m.View(), "read-only") {
		t.Fatal("no read-only flash")
	}
	now = now.Add(flashFor)
	m.Update(tickMsg(now))
	if strings.Contains(m.View(), "read-only:") {
		t.Error("flash still shown after it expired")
	}
}

func TestTickPicksUpNewData(t *testing.T) {
	m, rec := newTestModel(t, synthView(100, 3), Options{}, 120, 40)
	before := m.View()
	m.Update(tickMsg{})
	if m.View() != before {
		t.Fatal("frame changed with no new data")
	}
	full := synthView(goldenSecs, 3)
	rec.mu.Lock()
	rec.v = full
	rec.mu.Unlock()
	m.Update(tickMsg{})
	after := m.View()
	if after == before || !strings.Contains(after, "db-3 load1>100") {
		t.Errorf("new ticks and the crossing did not show:\n%s", after)
	}
}

func TestFocusScrollsNodes(t *testing.T) {
	m, _ := newTestModel(t, synthView(goldenSecs, 20), Options{}, 80, 24)
	first := m.View()
	if !strings.Contains(first, "more (tab, ↓)") {
		t.Fatalf("80x24 with 20 nodes should say more rows exist:\n%s", first)
	}
	m.Update(keyMsg("down"))
	if m.View() == first {
		t.Error("down did not scroll the node panel")
	}
	m.Update(keyMsg("tab"))
	if m.focus != focusSide {
		t.Errorf("focus = %d after tab, want side panel", m.focus)
	}
}

func TestViewersChangeRedraws(t *testing.T) {
	var mu sync.Mutex
	who := []string{"local"}
	viewers := func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), who...) }
	m, _ := newTestModel(t, synthView(60, 3), Options{Viewers: viewers}, 120, 40)
	m.Update(tickMsg{})
	if strings.Contains(m.View(), "bob") {
		t.Fatal("bob is not watching yet")
	}
	mu.Lock()
	who = append(who, "bob (SHA256:77aa)")
	mu.Unlock()
	m.Update(tickMsg{})
	if !strings.Contains(m.View(), "watching local, bob (SHA256:77aa)") {
		t.Errorf("a new viewer did not show in the header:\n%s", m.View())
	}
}

func TestFocusScrollsEvents(t *testing.T) {
	v := synthView(goldenSecs, 3)
	for i := 0; i < 30; i++ {
		v.Events = append(v.Events, report.Event{Time: synthStart.Add(time.Duration(240+i) * time.Second), Kind: report.EventNote, Who: "local", Text: fmt.Sprintf("note %d", i)})
	}
	m, _ := newTestModel(t, v, Options{}, 120, 40)
	if !strings.Contains(m.View(), "note 29") {
		t.Fatal("the newest event is not shown")
	}
	m.Update(keyMsg("tab"))
	for range 3 {
		m.Update(tea.KeyMsg{Type: tea.KeyUp})
	}
	out := m.View()
	if !strings.Contains(out, "(3 newer below)") || strings.Contains(out, "note 29") {
		t.Errorf("up in the focused log did not scroll back 3:\n%s", out)
	}
	m.Update(keyMsg("down"))
	if !strings.Contains(m.View(), "(2 newer below)") {
		t.Errorf("down did not scroll forward")
	}
}

// During brink find the help line offers no hold or scale: the search
// sets the load and refuses them (it said "space hold • +/- scale").
func TestFindHelpOffersNoHoldOrScale(t *testing.T) {
	v := synthView(goldenSecs, 8)
	v.Search = &report.Search{Unit: "users", Phase: "bisect", Current: 38, Bracket: [2]float64{37, 40}}
	m, _ := newTestModel(t, v, Options{Who: "local", CanControl: true, Controller: &fakeCtl{}}, 120, 40)
	out := m.View()
	for _, bad := range []string{"space hold", "+/- scale"} {
		if strings.Contains(out, bad) {
			t.Errorf("find frame offers %q", bad)
		}
	}
	if !strings.Contains(out, "a abort") {
		t.Errorf("find frame lacks abort")
	}
}

package tui

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/report"
)

func TestMain(m *testing.M) {
	// Frames are compared as text: no colour, wall-clock labels in UTC.
	lipgloss.SetColorProfile(termenv.Ascii)
	time.Local = time.UTC
	os.Exit(m.Run())
}

const goldenSecs = 250

// newTestModel returns a console over the synthetic run, sized w×h.
func newTestModel(t testing.TB, v report.View, opts Options, w, h int) (*Model, *fakeRec) {
	t.Helper()
	rec := &fakeRec{v: v}
	if opts.Now == nil {
		end := synthStart.Add(goldenSecs * time.Second)
		opts.Now = func() time.Time { return end }
	}
	m := newModel(rec, opts)
	m.Update(sizeMsg(w, h))
	return m, rec
}

var ansiRE = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)

func TestGoldenFrames(t *testing.T) {
	for _, sz := range []struct{ w, h int }{{80, 24}, {120, 40}, {200, 60}} {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			m, _ := newTestModel(t, synthView(goldenSecs, 8), Options{Who: "local", CanControl: true, Controller: &fakeCtl{},
				Viewers: func() []string { return []string{"local", "alice (SHA256:3fa9c1)"} }}, sz.w, sz.h)
			out := m.View()
			if ansiRE.MatchString(out) {
				t.Errorf("ASCII profile frame holds escape sequences")
			}
			checkFrame(t, out, sz.w, sz.h)
			// Beside the event log, the rows a short node table leaves
			// go to the hotspots.
			if sz.w >= 160 && !strings.Contains(out, "Hotspots") {
				t.Errorf("%dx%d: no hotspots under the node table", sz.w, sz.h)
			}
			golden.RequireEqual(t, []byte(out))
		})
	}
}

// checkFrame asserts the frame is exactly w×h cells and shows what the
// console promises at every size.
func checkFrame(t *testing.T, out string, w, h int) {
	t.Helper()
	checkFrameSize(t, out, w, h)
	// The legends keep their values at every width (the headings go
	// first), p99 and p95 with runes of their own (┌ square, ╭ round).
	for _, want := range []string{"BREAKPOINT", "p99 1.3s", "p95 692ms", "p50 312ms", "<500ms", "rps 1332", "541/543",
		"db-3", "✖ breakpoint", "Events"} {
		if !strings.Contains(out, want) {
			t.Errorf("frame lacks %q", want)
		}
	}
}

func TestTooSmall(t *testing.T) {
	for _, sz := range []struct{ w, h int }{{79, 24}, {80, 23}, {40, 10}} {
		m, _ := newTestModel(t, synthView(30, 3), Options{}, sz.w, sz.h)
		want := fmt.Sprintf("terminal too small: %d×%d, need 80×24", sz.w, sz.h)
		if out := m.View(); !strings.Contains(out, want) {
			t.Errorf("%dx%d: frame lacks %q:\n%s", sz.w, sz.h, want, out)
		}
	}
	// And back: a resize to a usable size draws the console again.
	m, _ := newTestModel(t, synthView(30, 3), Options{}, 60, 20)
	m.Update(sizeMsg(80, 24))
	if out := m.View(); !strings.Contains(out, "p95") {
		t.Errorf("after resize to 80x24 the charts are missing:\n%s", out)
	}
}

func TestEmptyRun(t *testing.T) {
	m, _ := newTestModel(t, report.View{Scenario: synthScenario(), Start: synthStart}, Options{}, 120, 40)
	out := m.View()
	checkFrameSize(t, out, 120, 40)
	for _, want := range []string{"waiting for the first window", "waiting for the first poll", "no events yet"} {
		if !strings.Contains(out, want) {
			t.Errorf("empty run frame lacks %q:\n%s", want, out)
		}
	}
}

// checkFrameSize asserts the frame is exactly w×h cells.
func checkFrameSize(t *testing.T, out string, w, h int) {
	t.Helper()
	lines := strings.Split(out, "\n")
	if len(lines) != h {
		t.Fatalf("frame has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if n := lipgloss.Width(l); n != w {
			t.Errorf("line %d is %d cells wide, want %d: %q", i, n, w, l)
		}
	}
}

func TestGoldenPanels(t *testing.T) {
	for _, c := range []struct{ name, keys string }{{"hotspots", "h"}, {"errors", "e"}, {"help", "?"}} {
		t.Run(c.name, func(t *testing.T) {
			m, _ := newTestModel(t, synthView(goldenSecs, 5), Options{Who: "alice (SHA256:3fa9c1)"}, 120, 40)
			m.Update(keyMsg(c.keys))
			out := m.View()
			checkFrameSize(t, out, 120, 40)
			golden.RequireEqual(t, []byte(out))
		})
	}
}

// In colour the frame keeps its exact size, and state still has words and
// symbols, not colour alone.
func TestColourFrame(t *testing.T) {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.ANSI256)
	r.SetHasDarkBackground(true)
	m, _ := newTestModel(t, synthView(goldenSecs, 8), Options{Renderer: r}, 120, 40)
	out := m.View()
	if !ansiRE.MatchString(out) {
		t.Fatal("256-colour frame has no colour")
	}
	checkFrame(t, out, 120, 40)
	plain := ansiRE.ReplaceAllString(out, "")
	m2, _ := newTestModel(t, synthView(goldenSecs, 8), Options{}, 120, 40)
	if plain != m2.View() {
		t.Error("the 256-colour frame without its colours differs from the plain frame")
	}
}

// After the run: the state stays (BREAKPOINT) with DONE beside it, and the
// ramp-down windows with no requests do not pull the latency line to 0.
func TestDoneRun(t *testing.T) {
	v := synthView(goldenSecs, 3)
	for i := 0; i < 20; i++ {
		tk := synthTick(goldenSecs + i)
		tk.Requests, tk.VUs, tk.ErrorCount, tk.Errors, tk.Endpoints = 0, 0, 0, nil, nil
		tk.Latency = measure.Latency{}
		v.Ticks = append(v.Ticks, tk)
	}
	v.Done = true
	m, _ := newTestModel(t, v, Options{Who: "local", CanControl: true, Controller: &fakeCtl{}}, 120, 40)
	out := m.View()
	checkFrameSize(t, out, 120, 40)
	if !strings.Contains(out, "✖ BREAKPOINT") || !strings.Contains(out, "■ DONE") {
		t.Errorf("finished run lacks BREAKPOINT and DONE:\n%s", out)
	}
	// The p95 line ends high: its last column is not on the bottom rows.
	lat := m.lat.View()
	rows := strings.Split(lat, "\n")
	bottom := rows[len(rows)-3] // the row just above the X axis
	if r := []rune(bottom); r[len(r)-1] == '─' || r[len(r)-1] == '╯' {
		t.Errorf("latency line falls to 0 in windows without requests:\n%s", lat)
	}
}

// An SSH viewer's console styles for the viewer's terminal only: with a
// plain renderer it draws no escape codes, whatever the process's own
// terminal could show.
func TestRendererIsPerConsole(t *testing.T) {
	lipgloss.SetColorProfile(termenv.TrueColor)
	defer lipgloss.SetColorProfile(termenv.Ascii)
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	m, _ := newTestModel(t, synthView(goldenSecs, 5), Options{Who: "bob", Renderer: r}, 120, 40)
	for _, k := range []string{"", "?", "h", "e", "m", "x"} {
		if k != "" {
			m.Update(keyMsg(k))
		}
		if out := m.View(); ansiRE.MatchString(out) {
			t.Errorf("after %q the frame holds escape codes from the process's renderer: %q", k, ansiRE.FindString(out))
		}
	}
}

// A 500 ms SLO over 2–40 ms latency stays off the axis (the lines would
// flatten onto the baseline); the legend says the SLO is above.
func TestSLOFarAboveLeavesAxis(t *testing.T) {
	v := synthView(120, 2)
	for i := range v.Ticks {
		l := &v.Ticks[i].Latency
		l.P50, l.P95, l.P99 = l.P50/20, l.P95/20, l.P99/20
	}
	m, _ := newTestModel(t, v, Options{Who: "local"}, 120, 40)
	out := m.View()
	if !strings.Contains(out, "↑SLO") {
		t.Fatalf("legend does not say the SLO is above the chart:\n%s", out)
	}
	if strings.Contains(out, "500ms│") || strings.Contains(out, "╌╌╌╌") {
		t.Fatalf("the far SLO still sets the axis:\n%s", out)
	}
}

// Without colour each latency series has its own rune in the legend, as on
// the chart: p99's thin square corners, p95's round ones.
func TestLegendGlyphsDistinct(t *testing.T) {
	for _, w := range []int{80, 120, 200} {
		m, _ := newTestModel(t, synthView(goldenSecs, 3), Options{}, w, 40)
		legend := strings.Split(m.View(), "\n")[3]
		if !strings.Contains(legend, "┌") || !strings.Contains(legend, "╭") {
			t.Errorf("%d columns: legend %q does not tell p99 (┌) from p95 (╭)", w, legend)
		}
	}
}

// The throughput axis ends near the data at every chart height: data
// peaking at 800 never gets an axis to 1 500.
func TestAxisFitsData(t *testing.T) {
	st := NewStyles(nil)
	c := newChart(throughputChart, &st)
	c.vis = []point{{rps: 300}, {rps: 800, vus: 200}}
	for gh := 5; gh <= 40; gh++ {
		ystep := max(2, gh/4)
		if top := c.yMax(newData(), gh, ystep); top < 800 || top > 1100 {
			t.Errorf("chart %d rows high: axis to %v for data peaking at 800", gh, top)
		}
	}
}

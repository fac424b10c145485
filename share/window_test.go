package share

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"syscall"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/ssh"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/report"
	"github.com/brink-load/brink/tui"
)

// drawnModel wraps the real console and says when it has drawn a frame at
// the size it was given.
type drawnModel struct {
	tea.Model
	once  sync.Once
	drawn chan struct{}
}

func (d *drawnModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	next, cmd := d.Model.Update(msg)
	d.Model = next
	return d, cmd
}

func (d *drawnModel) View() string {
	s := d.Model.View()
	if len(s) > 100 { // a frame, not the "starting" line
		d.once.Do(func() { close(d.drawn) })
	}
	return s
}

// busyRecorder holds two minutes of a run watching five nodes, so the
// console draws full charts and a node table.
func busyRecorder() *report.Recorder {
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	rec := report.NewRecorder(nil, start, report.Options{Host: "bench"})
	for s := range 120 {
		at := start.Add(time.Duration(s+1) * time.Second)
		ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
		rec.AddTick(measure.Tick{
			Time: at, Elapsed: time.Duration(s+1) * time.Second, Window: time.Second,
			VUs: s, TargetVUs: s + 1, Requests: int64(30 * s),
			Latency: measure.Latency{Count: int64(30 * s), Mean: ms(40 + float64(s)), P50: ms(30 + float64(s)),
				P95: ms(80 + 2*float64(s)), P99: ms(120 + 3*float64(s)), Max: ms(200 + 3*float64(s))},
		})
		p := measure.Poll{Time: at}
		for n := range 5 {
			p.Samples = append(p.Samples, measure.Sample{Node: fmt.Sprintf("node-%d", n), Time: at, Cores: 4,
				CPU: float64(10 + s/2 + n), Load1: float64(s) / 20, Mem: 40})
		}
		rec.AddPoll(p)
	}
	return rec
}

// viewerCost attaches one viewer asking for a w×h terminal to a server
// running the real console, and returns the peak live heap (sampled) and
// the bytes allocated until its first frame was drawn and received.
func viewerCost(tb testing.TB, w, h int) (peak, allocated uint64) {
	tb.Helper()
	drawn := make(chan struct{})
	rec := busyRecorder()
	f := startServer(tb, func(c *Config) {
		c.NewModel = func(v Viewer, width, height int) tea.Model {
			m := tui.New(rec, tui.Options{Who: v.Who, Renderer: v.Renderer})
			m.Update(tea.WindowSizeMsg{Width: width, Height: height})
			return &drawnModel{Model: m, drawn: drawn}
		}
	})
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/allocs:bytes"}}
	runtime.GC()
	metrics.Read(samples)
	base, alloc0 := samples[0].Value.Uint64(), samples[1].Value.Uint64()

	stop := make(chan struct{})
	sampled := make(chan uint64)
	go func() {
		var top uint64
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			top = max(top, s[0].Value.Uint64())
			select {
			case <-stop:
				sampled <- top
				return
			case <-t.C:
			}
		}
	}()

	c := mustDial(tb, f.srv.Addr(), "alice", f.alice)
	con := openConsole(tb, c, w, h)
	select {
	case <-drawn:
	case <-time.After(4 * waitLimit): // an unclamped huge frame takes long to draw
		tb.Fatalf("no frame drawn for a %d×%d request", w, h)
	}
	// The help line closes every frame, at every size ("Latency", the
	// chart's title, is shortened away at 80×24).
	con.waitFor(tb, "note")
	metrics.Read(samples)
	close(stop)
	top := <-sampled
	return top - min(top, base), samples[1].Value.Uint64() - alloc0
}

// BenchmarkViewerHeap records what one viewer of the real console costs,
// by the terminal size it asks for: peak live heap (sampled every ms),
// bytes allocated up to its first frame, and the process's peak RSS.
// 5000×3000 is drawn at 400×200.
func BenchmarkViewerHeap(b *testing.B) {
	for _, size := range []struct{ w, h int }{{80, 24}, {400, 200}, {5000, 3000}} {
		b.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(b *testing.B) {
			var peak, alloc uint64
			for b.Loop() {
				p, a := viewerCost(b, size.w, size.h)
				peak, alloc = max(peak, p), max(alloc, a)
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(alloc)/(1<<20), "alloc-MiB")
			// The process's high-water mark: meaningful per size when one
			// size runs per process (-bench 'ViewerHeap/5000x3000').
			var ru syscall.Rusage
			if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
				b.ReportMetric(float64(ru.Maxrss)/1024, "peak-rss-MiB")
			}
		})
	}
}

func TestClampWindow(t *testing.T) {
	cases := []struct{ w, h, wantW, wantH int }{
		{80, 24, 80, 24},
		{0, 0, 80, 24},
		{0, 50, 80, 50},
		{120, 0, 120, 24},
		{400, 200, 400, 200},
		{401, 201, 400, 200},
		{5000, 3000, 400, 200},
		{-1, -1, 80, 24},
		{1, 1, 1, 1}, // tiny but real: the console says "too small"
	}
	for _, tc := range cases {
		got, clamped := clampWindow(ssh.Window{Width: tc.w, Height: tc.h})
		if got.Width != tc.wantW || got.Height != tc.wantH {
			t.Errorf("clampWindow(%d×%d) = %d×%d, want %d×%d", tc.w, tc.h, got.Width, got.Height, tc.wantW, tc.wantH)
		}
		if want := tc.w != tc.wantW || tc.h != tc.wantH; clamped != want {
			t.Errorf("clampWindow(%d×%d) clamped = %v, want %v", tc.w, tc.h, clamped, want)
		}
	}
}

// A real client asking for more than MaxWidth×MaxHeight, at pty-req and at
// window-change, gets a console drawn at the bound; one saying 0×0 gets 80×24.
func TestViewerWindowIsClamped(t *testing.T) {
	f := startServer(t, nil)
	c := mustDial(t, f.srv.Addr(), "alice", f.alice)
	con := openConsole(t, c, 5000, 3000)
	con.waitFor(t, "size=400x200")
	if !f.log.Contains("asked for a 5000×3000 terminal; drawn at 400×200") {
		t.Errorf("clamp not logged: %q", f.log.Lines())
	}
	// Each wanted size is one the console has not shown before.
	for _, tc := range []struct{ w, h, wantW, wantH int }{
		{120, 40, 120, 40}, {100000, 90, 400, 90}, {300, 100000, 300, 200},
		{4294967295, 50, 400, 50}, {0, 0, 80, 24},
	} {
		if err := con.sess.WindowChange(tc.h, tc.w); err != nil {
			t.Fatal(err)
		}
		con.waitFor(t, fmt.Sprintf("size=%dx%d", tc.wantW, tc.wantH))
	}

	// 0×0 at pty-req: the classic default.
	zero := openConsole(t, mustDial(t, f.srv.Addr(), "bob", f.bob), 0, 0)
	zero.waitFor(t, "size=80x24")

	// A session that started within bounds logs its first clamped change
	// (once: a client may resize as often as it likes).
	fine := openConsole(t, mustDial(t, f.srv.Addr(), "carol", f.alice), 100, 30)
	fine.waitFor(t, "size=100x30")
	for _, h := range []int{900, 901} {
		if err := fine.sess.WindowChange(h, 100); err != nil {
			t.Fatal(err)
		}
	}
	if err := fine.sess.WindowChange(31, 100); err != nil {
		t.Fatal(err)
	}
	fine.waitFor(t, "size=100x31")
	if n := f.log.Count("carol from 127.0.0.1"); n != 1 {
		t.Errorf("clamped window changes logged %d times, want once: %q", n, f.log.Lines())
	}
}

// TestHugeWindowCostsNoMoreThanTheBound attaches the real console asking
// for 5000×3000: it allocates about what a 400×200 viewer does (unclamped,
// 1000×600 alone allocated 450 MiB).
func TestHugeWindowCostsNoMoreThanTheBound(t *testing.T) {
	_, bound := viewerCost(t, MaxWidth, MaxHeight)
	peak, huge := viewerCost(t, 5000, 3000)
	t.Logf("5000×3000 request: peak heap %.1f MiB, allocated %.1f MiB (400×200: %.1f MiB)",
		float64(peak)/(1<<20), float64(huge)/(1<<20), float64(bound)/(1<<20))
	if huge > 2*bound {
		t.Errorf("a 5000×3000 viewer allocated %d bytes, a 400×200 one %d", huge, bound)
	}
}

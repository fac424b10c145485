package htmlreport

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/brink-load/brink/promquery/promtest"
	"github.com/brink-load/brink/report"
)

// browser starts a headless chromium that makes no connection of its own
// (this machine's network is closed: without these flags chromium keeps
// trying), in a fresh profile. Everything it does is bounded by limit.
func browser(t *testing.T, limit time.Duration) context.Context {
	exe := promtest.Binary(t, "chromium") // Debian's (test.sh installs it)
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	return bctx
}

// pageLog is what the page did that the test judges: console errors,
// exceptions, and every request it made.
type pageLog struct {
	mu       sync.Mutex
	problems []string
	requests []string
}

func (l *pageLog) listen(ev any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert || e.Type == runtime.ConsoleAPICalledTypeWarning {
			var args []string
			for _, a := range e.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			l.problems = append(l.problems, "console."+string(e.Type)+": "+strings.Join(args, " "))
		}
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		text := d.Text
		if d.Exception != nil {
			text += " " + d.Exception.Description
		}
		l.problems = append(l.problems, "exception: "+text)
	case *log.EventEntryAdded:
		if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
			l.problems = append(l.problems, "log "+string(e.Entry.Level)+": "+e.Entry.Text+" "+e.Entry.URL)
		}
	case *network.EventRequestWillBeSent:
		l.requests = append(l.requests, e.Request.URL)
	}
}

func (l *pageLog) take() (problems, requests []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	problems, requests = l.problems, l.requests
	l.problems, l.requests = nil, nil
	return
}

// rendered is what the test reads from the page's DOM once drawn.
type rendered struct {
	Verdicts    []string `json:"verdicts"`
	Outcomes    []string `json:"outcomes"`
	Charts      int      `json:"charts"`
	Canvases    int      `json:"canvases"`
	Breakpoints []string `json:"breakpoints"`
	Crossings   int      `json:"crossings"`
	// BPInside: every breakpoint marker lies within its plot's width.
	BPInside bool   `json:"bpInside"`
	Compare  string `json:"compare"`
	Panels   int    `json:"panels"`
	Failures string `json:"failures"`
}

const readDOM = `(() => {
	const all = (s) => Array.from(document.querySelectorAll(s));
	const bps = all('.marker.breakpoint');
	return {
		verdicts: all('.verdict .verdict-text').map(e => e.innerText),
		outcomes: all('.verdict .outcome').map(e => e.innerText),
		charts: all('.uplot').length,
		canvases: all('.uplot canvas').filter(c => c.width > 0 && c.height > 0).length,
		breakpoints: bps.map(e => e.innerText + '|' + e.title),
		crossings: all('.marker.crossing').length,
		bpInside: bps.length > 0 && bps.every(e => {
			const x = parseFloat(e.style.left), w = e.parentElement.clientWidth;
			return x >= 0 && x <= w && e.getBoundingClientRect().height > 50;
		}),
		compare: (document.querySelector('pre.compare') || {innerText: ''}).innerText,
		panels: all('[id^="panel-"] .uplot canvas').length,
		failures: (document.querySelector('table.failures td.sample') || {innerText: ''}).innerText,
	};
})()`

// openPage loads file in the browser and returns what it rendered and a
// screenshot, failing t on any console error, exception or request.
func openPage(t *testing.T, ctx context.Context, l *pageLog, file string) (rendered, []byte) {
	t.Helper()
	url := "file://" + file
	// page.js marks the body once every chart is drawn; a page whose
	// script failed never does, and the wait ends at the browser's limit
	// with what the page said.
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body[data-charts]"))); err != nil {
		p, r := l.take()
		t.Fatalf("open %s: %v (page problems %q, requests %q)", file, err, p, r)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[rendered](readDOM))
	if err != nil {
		t.Fatalf("read the DOM: %v", err)
	}
	// The window, not the whole page: the verdict and the first charts,
	// and a PNG small enough to judge quickly under -race.
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	problems, requests := l.take()
	for _, p := range problems {
		t.Errorf("%s: %s", filepath.Base(file), p)
	}
	for _, r := range requests {
		if r != url {
			t.Errorf("%s requested %s: the page must need no network", filepath.Base(file), r)
		}
	}
	return got, shot
}

// notBlank: a screenshot that is one colour (a page that drew nothing) or
// almost so fails.
func notBlank(t *testing.T, name string, shot []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("%s: screenshot is no PNG: %v", name, err)
	}
	b := img.Bounds()
	if b.Dx() < 800 || b.Dy() < 500 {
		t.Fatalf("%s: screenshot %v is too small", name, b)
	}
	bg := img.At(b.Min.X, b.Min.Y)
	br, bgG, bb, _ := bg.RGBA()
	colors := map[[3]uint32]bool{}
	differ := 0
	for y := b.Min.Y; y < b.Max.Y; y += 4 {
		for x := b.Min.X; x < b.Max.X; x += 4 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r != br || g != bgG || bl != bb {
				differ++
			}
			if len(colors) < 1000 {
				colors[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
			}
		}
	}
	total := (b.Dx() / 4) * (b.Dy() / 4)
	if differ < total/20 || len(colors) < 20 {
		t.Errorf("%s: screenshot looks blank: %d of %d pixels differ from the background, %d colours", name, differ, total, len(colors))
	}
}

func readReport(t *testing.T, name string) *report.Report {
	t.Helper()
	rep, err := report.ReadFile(filepath.Join("..", "report", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestPagesInBrowser opens the page of one report and the comparison of
// two in a real headless chromium: no console error, no exception, no
// request beyond the file, the verdict's words and the breakpoint marker
// in the DOM, every chart drawn, and a screenshot that is not blank.
func TestPagesInBrowser(t *testing.T) {
	ctx := browser(t, 30*time.Second)
	var l pageLog
	if err := chromedp.Listen(ctx, l.listen); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	dir := t.TempDir()
	a, b := readReport(t, "run-a.json"), readReport(t, "run-b.json")

	// A custom panel and a failure row, which the fixture predates.
	above := 0.5
	var pts []report.PanelPoint
	for i := range a.Timeline {
		w := &a.Timeline[i]
		pts = append(pts, report.PanelPoint{report.Num(float64(w.Time.UnixMilli()) / 1000), report.Num(float64(i) / 40)})
	}
	a.Panels = []report.PanelSeries{{Title: "replication lag", Unit: "s", Above: &above,
		Series: []report.PanelTrace{{Labels: `{instance="db-3"}`, Points: pts}}}}
	a.Failures = []report.FailureRow{{Kind: "status_5xx", Status: 503, Group: "default", Endpoint: "history",
		Count: 12, Sample: "HTTP 503 Service Unavailable: <b>busy</b>"}}

	one := filepath.Join(dir, "a.html")
	if err := WriteFile(one, []string{"run-a.json"}, a); err != nil {
		t.Fatal(err)
	}
	got, shot := openPage(t, ctx, &l, one)
	if len(got.Verdicts) != 1 || got.Verdicts[0] != a.Verdict.Text {
		t.Errorf("verdict in the DOM %q, want the report's %q", got.Verdicts, a.Verdict.Text)
	}
	if want := report.OutcomeText(a); want != "" && (len(got.Outcomes) != 1 || got.Outcomes[0] != want) {
		t.Errorf("outcome in the DOM %q, want %q", got.Outcomes, want)
	}
	// Latency, rps and load, and a chart per node metric the nodes have.
	if got.Charts < 4 || got.Canvases != got.Charts {
		t.Errorf("%d charts drawn, %d canvases with a size: want at least 4, each drawn", got.Charts, got.Canvases)
	}
	if len(got.Breakpoints) != got.Charts || !got.BPInside {
		t.Errorf("breakpoint markers %q on %d charts (inside the plot: %v): want one on each", got.Breakpoints, got.Charts, got.BPInside)
	}
	if len(got.Breakpoints) > 0 && !strings.HasPrefix(got.Breakpoints[0], "breakpoint|breakpoint: "+a.Verdict.Breakpoint.Signal.Text) {
		t.Errorf("breakpoint marker says %q, want its signal %q", got.Breakpoints[0], a.Verdict.Breakpoint.Signal.Text)
	}
	if got.Panels != 1 {
		t.Errorf("%d panel charts, want 1", got.Panels)
	}
	if got.Failures != "HTTP 503 Service Unavailable: <b>busy</b>" {
		t.Errorf("failure sample in the DOM %q, want it as text", got.Failures)
	}
	if got.Crossings == 0 {
		t.Error("no node crossing marked (run-a has db-3's)")
	}
	notBlank(t, "a.html", shot)

	two := filepath.Join(dir, "ab.html")
	if err := WriteFile(two, []string{"run-a.json", "run-b.json"}, a, b); err != nil {
		t.Fatal(err)
	}
	got, shot = openPage(t, ctx, &l, two)
	if len(got.Verdicts) != 2 || got.Verdicts[0] != a.Verdict.Text || got.Verdicts[1] != b.Verdict.Text {
		t.Errorf("verdicts in the comparison %q, want A's and B's", got.Verdicts)
	}
	var cmp bytes.Buffer
	report.Compare(&cmp, a, b)
	if !strings.Contains(got.Compare, "AT MATCHED LOAD") || strings.TrimSpace(got.Compare) != strings.TrimSpace(cmp.String()) {
		t.Errorf("comparison text in the DOM differs from brink report A B's:\n%s", got.Compare)
	}
	var seenA, seenB bool
	for _, m := range got.Breakpoints {
		seenA = seenA || strings.HasPrefix(m, "A breakpoint|")
		seenB = seenB || strings.HasPrefix(m, "B breakpoint|")
	}
	if !seenA || !seenB || !got.BPInside {
		t.Errorf("comparison markers %q: want A's and B's breakpoints inside the plots", got.Breakpoints)
	}
	notBlank(t, "ab.html", shot)

	// Reports of other shapes draw without a complaint too: one refused
	// at every request with no breakpoint, and an arrival-rate run.
	for _, name := range []string{"refused.json", "rate.json"} {
		rep, err := report.ReadFile(filepath.Join("..", "report", "testdata", "qa", name))
		if err != nil {
			t.Fatal(err)
		}
		page := filepath.Join(dir, name+".html")
		if err := WriteFile(page, []string{name}, rep); err != nil {
			t.Fatal(err)
		}
		got, _ := openPage(t, ctx, &l, page)
		if len(got.Verdicts) != 1 || got.Verdicts[0] != rep.Verdict.Text || got.Canvases != got.Charts || got.Charts < 3 {
			t.Errorf("%s: verdicts %q, %d charts, %d drawn", name, got.Verdicts, got.Charts, got.Canvases)
		}
		if bp := rep.Verdict.Breakpoint != nil; bp != (len(got.Breakpoints) > 0) {
			t.Errorf("%s: breakpoint markers %q, report has a breakpoint: %v", name, got.Breakpoints, bp)
		}
	}
}

// TestScreenshotPNG is not a test: BRINK_SCREENSHOT=IN.json:OUT.png
// renders a saved report and writes its screenshot (how docs/report.png
// is made from a demo run).
func TestScreenshotPNG(t *testing.T) {
	spec := os.Getenv("BRINK_SCREENSHOT")
	if spec == "" {
		t.Skip("set BRINK_SCREENSHOT=IN.json:OUT.png to write a screenshot")
	}
	in, out, _ := strings.Cut(spec, ":")
	rep, err := report.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(t.TempDir(), "page.html")
	if err := WriteFile(page, []string{filepath.Base(in)}, rep); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t, 60*time.Second)
	var l pageLog
	if err := chromedp.Listen(ctx, l.listen); err != nil {
		t.Fatal(err)
	}
	_, shot := openPage(t, ctx, &l, page)
	if err := os.WriteFile(out, shot, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Package run wires one brink run: the engine, the node poller, the
// recorder and its report, the console or the headless printer, SSH
// sharing and signals. Why the run stopped is a cause on a context
// (stop.go), and exitCode is the one place it becomes the exit code.
package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/brink-load/brink/engine"
	"github.com/brink-load/brink/fleet"
	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/promexport"
	"github.com/brink-load/brink/promquery"
	"github.com/brink-load/brink/report"
	"github.com/brink-load/brink/scenarios"
	"github.com/brink-load/brink/search"
	"github.com/brink-load/brink/termtext"
)

// DefaultMetricsLinger is --metrics-linger's default: Prometheus's own
// default scrape interval, so a scrape comes within it whatever the job's
// interval up to that.
const DefaultMetricsLinger = time.Minute

// Options are what the commands that run load (run, probe, demo) ask of
// a run, from their flags.
type Options struct {
	Headless          bool   // line printer instead of the console (also when stdout is no terminal)
	ReportPath        string // JSON report; "" means brink-report-<time>.json in the working directory
	AbortOnBreakpoint bool   // ramp down at the breakpoint (also scenario abort_on_breakpoint)
	Share             string // SSH listen address for pairing ("" = off)
	AuthorizedKeys    string
	Controllers       string
	MaxViewers        int
	Insecure          bool // accept any TLS certificate from the target
	IdleTimeout       time.Duration
	// Metrics is where to serve the run's Prometheus /metrics ("" = off).
	Metrics string
	// MetricsLinger is how long /metrics stays up after the run, the
	// report written, until one scrape has read the final state (0 = stop
	// at once).
	MetricsLinger time.Duration
	// Progress is how often the headless printer writes a line (default 5s).
	Progress time.Duration
	// NodeConfig is the node source for the scenario's nodes section (the
	// node flags add what has no scenario key); nil means the section alone.
	NodeConfig func(*scenarios.Nodes) promquery.Config
	Version    string // brink's, for the report
	// Fleet, when Agents > 0, sends the load from that many `brink agent`
	// processes over NATS instead of this process (fleet.go).
	Fleet FleetOptions
	// Find searches for the highest load every threshold holds at
	// (brink find) instead of running the scenario's stages.
	Find *search.Options
	// Console is for tests; nil means os.Stdout.
	Console *os.File
}

// Execute runs a loaded scenario through engine → report (+ promquery) →
// console or line printer, and returns the exit code. The report is written
// on every way out: normal end, abort, SIGINT, SIGTERM, SIGHUP, a panic.
func Execute(sc *scenarios.Scenario, o Options, stdout, stderr io.Writer) int {
	var fl *fleet.Controller
	if o.Fleet.Agents > 0 {
		var code int
		// The agents run the plan they are sent: for a find it is the
		// search's (as long as --max-duration), not the scenario's own, which
		// ended their load at its duration (30 s for a URL) mid-search.
		fsc := sc
		if o.Find != nil {
			fsc = search.Prepare(sc, o.Find.MaxDuration)
		}
		if fl, code = prepareFleet(fsc, o, stderr); fl == nil {
			return code
		}
		defer fl.Close()
	}
	r, code := newRunner(sc, o, stdout, stderr, fl)
	if r == nil {
		return code
	}
	return r.run()
}

// runner is one run's parts: the engine, the node source, the recorder and
// its report, the stop reasons. Each part that starts goroutines adds them
// to bg, and run waits for them on every way out.
type runner struct {
	sc             *scenarios.Scenario
	o              Options
	stdout, stderr io.Writer

	rec     *report.Recorder
	eng     load                 // the engine, or the fleet's controller
	src     promquery.Source     // nil: no node metrics
	exp     *promexport.Exporter // nil: no --metrics
	metrics net.Listener         // bound up front for exp
	out     *reportOut
	st      *stops
	ctl     consoleController
	console *os.File
	useTUI  bool
	logf    func(f string, a ...any)
	// stopEngine ramps the load down gracefully, once, without blocking.
	stopEngine func()

	// The local console's own end: a hang-up under --share detaches it
	// and the run goes on — no stop at all.
	tuiCancel context.CancelFunc
	detachMu  sync.Mutex
	detached  bool

	find *finder // brink find's search (nil for other runs)

	// stopMetrics ends /metrics: after the linger, not with the run's
	// context, so the last window can still be scraped.
	stopMetrics context.CancelFunc
	metricsDone atomic.Bool // the final state is on /metrics
	metricsFrom time.Time   // when /metrics began serving

	bg sync.WaitGroup
}

// newRunner checks what can be checked before any load and builds the
// run's parts; a nil runner comes with the exit code of the refusal.
func newRunner(sc *scenarios.Scenario, o Options, stdout, stderr io.Writer, fl *fleet.Controller) (*runner, int) {
	if o.AbortOnBreakpoint {
		sc.AbortOnBreakpoint = true
	}
	if o.Progress <= 0 {
		o.Progress = 5 * time.Second
	}
	start := time.Now()
	if o.ReportPath == "" {
		o.ReportPath = "brink-report-" + start.Format("20060102-150405") + ".json"
	}
	if err := checkWritable(o.ReportPath); err != nil {
		fmt.Fprintf(stderr, "brink: --report %s: %v\n", o.ReportPath, err)
		return nil, ExitUsage
	}
	r := &runner{sc: sc, o: o, stdout: stdout, stderr: stderr, st: newStops(), console: o.Console}
	if o.Find != nil {
		var err error
		if sc, err = r.newFinder(sc, *o.Find); err != nil {
			fmt.Fprintf(stderr, "brink: %v\n", err)
			return nil, ExitUsage
		}
		r.sc = sc
	}
	// A window where brink itself was the bottleneck (engine
	// GeneratorStats.Overloaded: stalled, CPU-saturated or late in sending)
	// is never the breakpoint.
	ropts := report.Options{Version: o.Version,
		GeneratorBottleneck: func(t *measure.Tick) bool { return t.Generator.Overloaded }, Find: o.Find != nil}
	if fl != nil {
		ropts.Agents = fl.Agents
	}
	r.rec = report.NewRecorder(sc, start, ropts)
	r.out = &reportOut{rec: r.rec, path: o.ReportPath, start: start, stdout: stdout, stderr: stderr}
	if r.console == nil {
		r.console = os.Stdout
	}
	r.useTUI = !o.Headless && isatty.IsTerminal(r.console.Fd()) && isatty.IsTerminal(os.Stdin.Fd())
	// Messages may quote the target or the node source: cleaned of
	// terminal controls before they reach a terminal.
	r.logf = func(f string, a ...any) { fmt.Fprintln(stderr, "brink: "+termtext.Clean(fmt.Sprintf(f, a...))) }
	if r.useTUI {
		// stderr would tear the console: rare engine messages go to the
		// event log instead.
		r.logf = func(f string, a ...any) { r.rec.Note("brink", fmt.Sprintf(f, a...), time.Now()) }
	}
	var err error
	if fl != nil {
		fl.Bind(r.onTick, r.logf, func(text string, at time.Time) {
			r.rec.Note("fleet", text, at)
			if !r.useTUI { // the console shows the event log itself
				r.logf("%s", text)
			}
		})
		r.eng = fl
	} else if r.eng, err = engine.New(sc, engine.Options{
		OnTick:             r.onTick,
		OnPanic:            r.panicked,
		Logf:               r.logf,
		InsecureSkipVerify: o.Insecure,
		GracefulStop:       gracefulStop, // said on the first Ctrl-C
	}); err != nil {
		fmt.Fprintf(stderr, "brink: %v\n", err)
		return nil, ExitUsage
	}
	if sc.Nodes != nil && (sc.Nodes.Prometheus != "" || len(sc.Nodes.Scrape) > 0) {
		cfg := NodeSourceConfig
		if o.NodeConfig != nil {
			cfg = o.NodeConfig
		}
		r.src, err = promquery.New(cfg(sc.Nodes))
		if err != nil {
			fmt.Fprintf(stderr, "brink: nodes: %v\n", err)
			return nil, ExitUsage
		}
	}
	if o.Metrics != "" {
		// Bound before any load, so a taken or bad address is said now.
		if r.metrics, err = promexport.Listen(o.Metrics); err != nil {
			fmt.Fprintf(stderr, "brink: --metrics %s: %v\n", o.Metrics, err)
			return nil, ExitUsage
		}
		r.exp = promexport.New(sc, o.Version, start)
	}
	r.stopEngine = sync.OnceFunc(func() { go r.eng.Stop() })
	r.ctl = consoleController{load: r.eng, stop: r.stopEngine, abort: r.consoleAbort}
	r.rec.OnBreakpoint(r.breakpoint)
	return r, ExitOK
}

// run wires the parts, waits for the load (under the console or the line
// printer), writes the report and maps the stop reason to the exit code.
func (r *runner) run() (code int) {
	// returned ends the second Ctrl-C's fallback exit once the run is done,
	// background goroutines included (deferred first, so it runs last).
	returned := make(chan struct{})
	defer close(returned)
	ctx, cancel := context.WithCancel(context.Background())
	defer r.bg.Wait()
	// After the pollers and autosave stopped, before bg.Wait: /metrics
	// serves the final state until it was scraped (--metrics-linger).
	defer r.lingerMetrics()
	defer cancel() // runs before bg.Wait: stop pollers and autosave first
	defer r.recoverRun(&code)

	r.startMetrics()
	r.startNodes(ctx)
	r.startAutosave(ctx)
	viewers, closeShare, err := r.startSharing(ctx)
	if err != nil {
		fmt.Fprintf(r.stderr, "brink: --share: %v\n", err)
		return ExitUsage
	}
	defer closeShare()
	tuiCtx, tuiCancel := context.WithCancel(ctx)
	defer tuiCancel()
	r.tuiCancel = tuiCancel
	defer r.watchSignals(ctx, cancel, returned)()

	engDone := make(chan error, 1)
	findCtx, findCancel := context.WithCancel(r.st.ctx)
	defer findCancel()
	go func() {
		defer r.guard()
		err := r.eng.Run(ctx)
		findCancel() // the load ended: so does a search
		r.waitFind()
		engDone <- err
	}()
	r.startFind(findCtx)
	var runErr error
	if r.useTUI {
		runErr = r.runConsole(tuiCtx, engDone, viewers)
	} else {
		runErr = headless(ctx, r.rec, engDone, r.o.Progress, r.stderr)
	}
	r.st.stop(planEnded{}) // a no-op for the context when a stop came first
	r.out.sayEnd()
	r.metricsFinal()

	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		fmt.Fprintf(r.stderr, "brink: %v\n", runErr)
	}
	_, lost := r.out.where()
	return exitCode(r.st.cause(), outcome{runErr: runErr, reportLost: lost != "",
		passed: r.rec.Passed(), nodeCrossed: nodeCrossed(r.rec), inconclusive: r.rec.Inconclusive(),
		search: r.waitFind()})
}

// onTick takes one window from the engine: the recorder first, then the
// /metrics exporter (per window, off the request path), then a search.
func (r *runner) onTick(t measure.Tick) {
	TickHook(t)
	r.rec.AddTick(t)
	if r.exp != nil {
		r.exp.AddTick(&t)
		r.exp.Sync(r.rec)
	}
	if r.find != nil {
		r.find.drv.Tick(t)
	}
}

// startMetrics serves /metrics on the listener bound up front until
// lingerMetrics ends it.
func (r *runner) startMetrics() {
	if r.exp == nil {
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	r.stopMetrics, r.metricsFrom = stop, time.Now()
	r.goGuarded(func() {
		if err := r.exp.Serve(ctx, r.metrics); err != nil {
			r.logf("--metrics: %v (the run goes on)", err)
		}
	})
	r.logf("serving Prometheus metrics on http://%s/metrics", r.metrics.Addr())
}

// metricsFinal puts the final verdict's state on /metrics (its
// breakpoint, brink_run_running 0) once the report is written: the report
// is never kept waiting for a scrape.
func (r *runner) metricsFinal() {
	if r.exp != nil {
		r.exp.Sync(r.rec)
		r.exp.Finish()
		r.metricsDone.Store(true)
	}
}

// lingerMetrics keeps /metrics up after the run until one scrape has read
// the final state (the last window, brink_run_running 0, the breakpoint),
// at most --metrics-linger, then stops it. A Prometheus scrapes every
// 15 s to 1 m: stopping at once loses the last window. With no scrape
// since /metrics began serving, only what is left of the linger since
// then (lingerWait). A SIGINT, SIGTERM or SIGHUP leaves at once, and so
// does a run stopped by a signal or a panic (whoever sent it wants brink
// gone).
func (r *runner) lingerMetrics() {
	if r.exp == nil || r.stopMetrics == nil {
		return
	}
	defer r.stopMetrics()
	var p panicStop
	cause := r.st.cause()
	d := r.o.MetricsLinger
	if d <= 0 || !r.metricsDone.Load() || errors.As(cause, &p) || errors.As(cause, new(signalStop)) {
		return
	}
	select {
	case <-r.exp.FinalRead(): // scraped while the console showed the verdict
		return
	default:
	}
	scraped := r.exp.Scraped()
	wait := lingerWait(d, time.Since(r.metricsFrom), scraped)
	// Nothing ever scraped /metrics: no Prometheus watches it (say so
	// rather than that it lacks only the last window).
	unwatched := func() {
		fmt.Fprintf(r.stderr, "brink: --metrics: nothing scraped http://%s/metrics in the %s it served (--metrics-linger %s): Prometheus lacks the run (the report has it)\n",
			r.metrics.Addr(), time.Since(r.metricsFrom).Round(100*time.Millisecond), d)
	}
	if wait <= 0 {
		unwatched()
		return
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	fmt.Fprintf(r.stderr, "brink: --metrics: serving the final state on http://%s/metrics until one scrape has read it (at most %s; Ctrl-C leaves now)\n",
		r.metrics.Addr(), wait.Round(100*time.Millisecond))
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-r.exp.FinalRead():
	case <-t.C:
		if !scraped {
			unwatched()
			break
		}
		fmt.Fprintf(r.stderr, "brink: --metrics: no scrape read the final state in %s: Prometheus lacks the last window (the report has it)\n", d)
	case s := <-sigs:
		fmt.Fprintf(r.stderr, "brink: %s: --metrics stopped before a scrape read the final state: Prometheus lacks the last window (the report has it)\n", SignalName(s))
	}
}

// lingerWait is how long /metrics waits for a scrape of the final state,
// after serving for served: the whole linger d once something has
// scraped it; with no scrape yet, what is left of d since it began, as a
// Prometheus scraping at most every d would have come by then (no
// scraper, as in a CI job: no wait).
func lingerWait(d, served time.Duration, scraped bool) time.Duration {
	if scraped {
		return d
	}
	return d - served
}

// recoverRun turns a panic on the run's own goroutine into a written
// report and exit 1.
func (r *runner) recoverRun(code *int) {
	if p := recover(); p != nil {
		r.st.stop(panicStop{p})
		r.rec.Abort(fmt.Sprintf("panic: %v", p), time.Now())
		r.eng.Stop()
		r.out.finish()
		fmt.Fprintf(r.stderr, "brink: panic: %v (%s)\n", p, r.out.said())
		*code = exitCode(r.st.cause(), outcome{})
	}
}

// panicked is what a panic in any brink goroutine does: save the run, then
// exit, since the process state cannot be trusted after it.
func (r *runner) panicked(v any, stack []byte) {
	r.st.stop(panicStop{v})
	r.rec.Abort(fmt.Sprintf("panic: %v", v), time.Now())
	r.out.finish()
	if r.useTUI {
		fmt.Fprint(r.console, "\x1b[?1049l\x1b[?25h") // leave the alt screen, show the cursor
	}
	fmt.Fprintf(r.stderr, "brink: panic: %v (%s)\n%s", v, r.out.said(), stack)
	ExitProcess(exitCode(r.st.cause(), outcome{}))
}

// guard is deferred first in every goroutine a part starts.
func (r *runner) guard() {
	if p := recover(); p != nil {
		r.panicked(p, debug.Stack())
	}
}

// goGuarded runs f on a goroutine of the run's background (r.bg, waited
// for before run returns), a panic in it guarded.
func (r *runner) goGuarded(f func()) {
	r.bg.Add(1)
	go func() {
		defer r.bg.Done()
		defer r.guard()
		f()
	}()
}

// breakpoint ramps the load down at the breakpoint when the scenario (or
// --abort-on-breakpoint) asks for it.
func (r *runner) breakpoint(report.Verdict) {
	if !r.sc.AbortOnBreakpoint {
		return
	}
	r.st.stop(breakpointAbort{})
	r.rec.Abort("abort_on_breakpoint: ramping down", time.Now())
	r.stopEngine()
}

// consoleAbort records that an engineer stopped the run from a console
// (the local one quitting, or a controller over SSH).
func (r *runner) consoleAbort(who string) {
	r.st.stop(consoleStop{who})
	r.rec.Abort("aborted from the console by "+who, time.Now())
}

// startNodes takes the baseline poll before any load, then polls the node
// source until ctx ends.
func (r *runner) startNodes(ctx context.Context) {
	if r.src == nil {
		return
	}
	r.rec.Baseline(baselinePoll(ctx, r.src))
	onPoll := r.rec.AddPoll
	if r.useTUI { // headless prints node trouble, warnings included, itself
		onPoll = warningsOnce(onPoll, r.logf)
	}
	if r.find != nil {
		rec := onPoll
		onPoll = func(p measure.Poll) { rec(p); r.find.drv.Poll(p) }
	}
	r.goGuarded(func() { promquery.Run(ctx, r.src, onPoll) })
}

// startAutosave writes the report every 10 s until ctx ends, so a killed
// process leaves most of its run behind.
func (r *runner) startAutosave(ctx context.Context) {
	path := r.o.ReportPath
	r.goGuarded(func() {
		// Said once per distinct failure, through logf (the event log
		// under the console): a full disk must not print every 10 s.
		var said string
		report.Autosave(ctx, r.rec, path, 10*time.Second, func(err error) {
			if msg := termtext.BareErr(err).Error(); msg != said {
				said = msg
				r.logf("autosave %s: %s (the run goes on; the final report is tried again at the end)", path, msg)
			}
		})
	})
}

// reportOut writes the run's report once, on whichever way out comes
// first, and says where it went. Whatever happens, the run's data is
// written, or brink says plainly where it could not be: a claim of a write
// that did not happen loses the run without anyone knowing.
type reportOut struct {
	rec            *report.Recorder
	start          time.Time
	stdout, stderr io.Writer

	writeOnce, endOnce sync.Once
	mu                 sync.Mutex
	path               string         // moves to the fallback when the path failed
	final              *report.Report // set by finish
	lostMsg            string         // set when neither the path nor the fallback took the report
}

// finish ends the recording and writes the report, once.
func (w *reportOut) finish() {
	w.writeOnce.Do(func() {
		w.rec.Finish(time.Now())
		final := w.rec.Report()
		w.mu.Lock()
		defer w.mu.Unlock()
		w.final = final
		err := report.WriteFile(w.path, final)
		if err == nil {
			return
		}
		// A full or read-only disk must not lose the run: try the
		// temp directory, which is often another filesystem.
		alt := filepath.Join(os.TempDir(), fmt.Sprintf("brink-%d-%s", os.Getpid(), filepath.Base(w.path)))
		if err2 := report.WriteFile(alt, final); err2 != nil {
			w.lostMsg = fmt.Sprintf("report NOT written: %s: %v; fallback %s: %v%s",
				w.path, termtext.BareErr(err), alt, termtext.BareErr(err2), staleAutosave(w.path, w.start))
			return
		}
		fmt.Fprintf(w.stderr, "brink: report: %s: %v%s; written to %s instead\n", w.path, termtext.BareErr(err), staleAutosave(w.path, w.start), alt)
		w.path = alt
	})
}

// where is where the report is (or will be) written, and why it could not
// be written anywhere (lost; "" when it was).
func (w *reportOut) where() (path, lost string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.path, w.lostMsg
}

// Path is where the report is (or will be) written.
func (w *reportOut) Path() string {
	path, _ := w.where()
	return path
}

// said is what finish did, for the last line brink prints.
func (w *reportOut) said() string {
	path, lost := w.where()
	if lost != "" {
		return lost
	}
	return "report written to " + path
}

// sayEnd writes the report and prints the summary and where the report
// went, once: at the normal end, or after a second Ctrl-C when the run's
// own way out does not come.
func (w *reportOut) sayEnd() {
	w.endOnce.Do(func() {
		w.finish()
		w.mu.Lock()
		final := w.final
		w.mu.Unlock()
		termtext.PrintClean(w.stdout, func(out io.Writer) { report.PrintSummaryWidth(out, final, SummaryWidth(w.stdout)) })
		fmt.Fprintln(w.stderr, "brink: "+w.said())
	})
}

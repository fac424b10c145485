package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/mattn/go-isatty"

	"github.com/brink-load/brink/engine"
	"github.com/brink-load/brink/promquery"
	"github.com/brink-load/brink/report"
	"github.com/brink-load/brink/scenarios"
	"github.com/brink-load/brink/share"
	"github.com/brink-load/brink/termtext"
	"github.com/brink-load/brink/tui"
)

// Test seams: a test makes a tick panic, and sees the exit code instead of
// losing its process.
var (
	tickHook    = func(engine.Tick) {}
	exitProcess = os.Exit
)

// gracefulStop bounds how long a stop waits for in-flight requests before
// cutting them (the engine's graceful stop, set here so the message on the
// first Ctrl-C says the truth); hardExitAfter is how long brink waits after
// a second Ctrl-C for the run to let go before it leaves anyway.
const (
	gracefulStop  = 30 * time.Second
	hardExitAfter = 5 * time.Second
)

// signalName is how the engineer sent the signal.
func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "Ctrl-C"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return s.String()
}

// exitExternalAbort is k6's code for a run stopped from outside (Ctrl-C,
// SIGTERM, SIGHUP): the report is still written.
const exitExternalAbort = 105

// runOpts are the options every load-running command (run, probe, demo)
// shares.
type runOpts struct {
	Headless          bool   // line printer instead of the console (also when stdout is no terminal)
	ReportPath        string // JSON report; "" means brink-report-<time>.json in the working directory
	AbortOnBreakpoint bool   // ramp down at the breakpoint (also scenario abort_on_breakpoint)
	Share             string // SSH listen address for pairing ("" = off)
	AuthorizedKeys    string
	Controllers       string
	MaxViewers        int
	Insecure          bool // accept any TLS certificate from the target
	IdleTimeout       time.Duration
	Nodes             nodeFlags // --prom, --scrape, --prom-user… (addNodeFlags)
	// Progress is how often the headless printer writes a line (default 5s).
	Progress time.Duration
	// stdin/console are for tests; nil means os.Stdin / os.Stdout.
	console *os.File
}

// addRunFlags registers the flags shared by run, probe and demo.
func addRunFlags(fs *flag.FlagSet, o *runOpts) {
	fs.BoolVar(&o.Headless, "headless", false, "no console: a progress line to stderr every 5s, the summary to stdout")
	fs.StringVar(&o.ReportPath, "report", "", "write the JSON report here (default brink-report-YYYYMMDD-HHMMSS.json)")
	fs.BoolVar(&o.AbortOnBreakpoint, "abort-on-breakpoint", false, "ramp down gracefully once the breakpoint is found (exit 99)")
	fs.DurationVar(&o.Progress, "progress", 5*time.Second, "headless progress line interval")
	fs.StringVar(&o.Share, "share", "", "serve the live console over SSH on ADDR (e.g. 127.0.0.1:2222) for a colleague")
	fs.StringVar(&o.AuthorizedKeys, "authorized-keys", "", "public keys allowed to attach with --share (default ~/.ssh/authorized_keys)")
	fs.StringVar(&o.Controllers, "controllers", "", "public keys allowed to steer (hold, scale, abort) with --share")
	fs.IntVar(&o.MaxViewers, "max-viewers", 8, "at most this many SSH viewers with --share")
	fs.DurationVar(&o.IdleTimeout, "idle-timeout", time.Hour, "with --share: close an SSH session after this long without a keystroke (0 = never)")
	fs.BoolVar(&o.Insecure, "insecure", false, "accept any TLS certificate from the target (self-signed test systems)")
}

func init() {
	register(command{name: "run", summary: "run a scenario file: brink run FILE", run: cmdRun})
}

func cmdRun(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o runOpts
	addRunFlags(fs, &o)
	addNodeFlags(fs, &o.Nodes)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: brink run [flags] FILE\n\nRuns a scenario (YAML, see README) and finds its breakpoint. FILE may be example:NAME for an embedded example (brink examples).\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(interleave(fs, args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "brink run: want exactly one scenario FILE (try 'brink run --help')")
		return exitUsage
	}
	sc, err := loadScenario(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	// Node flags change the scenario after it was checked: apply checks
	// it again, the same way, when they did.
	if err := o.Nodes.apply(sc); err != nil {
		fmt.Fprintf(stderr, "brink run: %s with the node flags: %v\n", fs.Arg(0), err)
		return exitUsage
	}
	return execute(sc, o, stdout, stderr)
}

// interleave lets flags follow positional arguments (brink run FILE
// --headless), which the flag package alone stops at.
func interleave(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil {
			if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
				continue
			}
			if i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
		}
	}
	return append(flags, pos...)
}

// execute runs a loaded scenario through engine → report (+ promquery) →
// console or line printer, and returns the exit code. The report is written
// on every way out: normal end, abort, SIGINT, SIGTERM, SIGHUP, a panic.
func execute(sc *scenarios.Scenario, o runOpts, stdout, stderr io.Writer) (code int) {
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
		return exitUsage
	}
	// A window where brink itself was the bottleneck (engine
	// GeneratorStats.Overloaded: stalled, CPU-saturated or late in sending)
	// is never the breakpoint.
	rec := report.NewRecorder(sc, start, report.Options{Version: version,
		GeneratorBottleneck: func(t *engine.Tick) bool { return t.Generator.Overloaded }})
	console := o.console
	if console == nil {
		console = os.Stdout
	}
	useTUI := !o.Headless && isatty.IsTerminal(console.Fd()) && isatty.IsTerminal(os.Stdin.Fd())
	// Messages may quote the target or the node source: cleaned of
	// terminal controls before they reach a terminal.
	logf := func(f string, a ...any) { fmt.Fprintln(stderr, "brink: "+termtext.Clean(fmt.Sprintf(f, a...))) }
	if useTUI {
		// stderr would tear the console: rare engine messages go to the
		// event log instead.
		logf = func(f string, a ...any) { rec.Note("brink", fmt.Sprintf(f, a...), time.Now()) }
	}
	// onPanic is set once the report writer exists, before any goroutine
	// that could panic starts.
	var onPanic func(v any, stack []byte)
	eng, err := engine.New(sc, engine.Options{
		OnTick:             func(t engine.Tick) { tickHook(t); rec.AddTick(t) },
		OnPanic:            func(v any, stack []byte) { onPanic(v, stack) },
		Logf:               logf,
		InsecureSkipVerify: o.Insecure,
		GracefulStop:       gracefulStop, // said on the first Ctrl-C
	})
	if err != nil {
		fmt.Fprintf(stderr, "brink: %v\n", err)
		return exitUsage
	}

	var src promquery.Source
	if sc.Nodes != nil && (sc.Nodes.Prometheus != "" || len(sc.Nodes.Scrape) > 0) {
		src, err = promquery.New(o.Nodes.config(sc.Nodes))
		if err != nil {
			fmt.Fprintf(stderr, "brink: nodes: %v\n", err)
			return exitUsage
		}
	}

	// returned ends the second Ctrl-C's fallback exit once execute is done,
	// background goroutines included (deferred first, so it runs last).
	returned := make(chan struct{})
	defer close(returned)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var bg sync.WaitGroup
	defer bg.Wait()
	defer cancel() // runs before bg.Wait: stop pollers and autosave first

	// Whatever happens below, the run's data is written, or brink says
	// plainly where it could not be: a claim of a write that did not
	// happen loses the run without anyone knowing.
	var writeOnce sync.Once
	var final *report.Report
	var reportLost string // set when neither the path nor the fallback took the report
	finish := func() {
		writeOnce.Do(func() {
			rec.Finish(time.Now())
			final = rec.Report()
			err := report.WriteFile(o.ReportPath, final)
			if err == nil {
				return
			}
			// A full or read-only disk must not lose the run: try the
			// temp directory, which is often another filesystem.
			alt := filepath.Join(os.TempDir(), fmt.Sprintf("brink-%d-%s", os.Getpid(), filepath.Base(o.ReportPath)))
			if err2 := report.WriteFile(alt, final); err2 != nil {
				reportLost = fmt.Sprintf("report NOT written: %s: %v; fallback %s: %v%s",
					o.ReportPath, whyNotWritten(err), alt, whyNotWritten(err2), staleAutosave(o.ReportPath, start))
				return
			}
			fmt.Fprintf(stderr, "brink: report: %s: %v%s; written to %s instead\n", o.ReportPath, whyNotWritten(err), staleAutosave(o.ReportPath, start), alt)
			o.ReportPath = alt
		})
	}
	// reportSaid is what finish did, for the last line brink prints.
	reportSaid := func() string {
		if reportLost != "" {
			return reportLost
		}
		return "report written to " + o.ReportPath
	}
	// sayEnd writes the report and prints the summary and where the report
	// went, once: at the normal end, or after a second Ctrl-C when the
	// run's own way out does not come.
	var endOnce sync.Once
	sayEnd := func() {
		endOnce.Do(func() {
			finish()
			printClean(stdout, func(w io.Writer) { report.PrintSummaryWidth(w, final, summaryWidth(stdout)) })
			fmt.Fprintln(stderr, "brink: "+reportSaid())
		})
	}
	// Why the run stops: the exit code is read from it at the end.
	st := newStops()
	defer func() {
		if p := recover(); p != nil {
			st.stop(panicStop{p})
			rec.Abort(fmt.Sprintf("panic: %v", p), time.Now())
			eng.Stop()
			finish()
			fmt.Fprintf(stderr, "brink: panic: %v (%s)\n", p, reportSaid())
			code = exitCode(st.cause(), outcome{})
		}
	}()

	// A panic in any brink goroutine saves the run, then exits: the
	// process state cannot be trusted after it.
	onPanic = func(v any, stack []byte) {
		rec.Abort(fmt.Sprintf("panic: %v", v), time.Now())
		finish()
		if useTUI {
			fmt.Fprint(console, "\x1b[?1049l\x1b[?25h") // leave the alt screen, show the cursor
		}
		fmt.Fprintf(stderr, "brink: panic: %v (%s)\n%s", v, reportSaid(), stack)
		exitProcess(exitFailure)
	}
	guard := func() {
		if p := recover(); p != nil {
			onPanic(p, debug.Stack())
		}
	}

	if src != nil {
		rec.Baseline(baselinePoll(ctx, src))
		bg.Add(1)
		onPoll := rec.AddPoll
		if useTUI { // headless prints node trouble, warnings included, itself
			onPoll = warningsOnce(onPoll, logf)
		}
		go func() { defer bg.Done(); defer guard(); promquery.Run(ctx, src, onPoll) }()
	}
	bg.Add(1)
	go func() {
		defer bg.Done()
		defer guard()
		// Said once per distinct failure, through logf (the event log
		// under the console): a full disk must not print every 10 s.
		var said string
		report.Autosave(ctx, rec, o.ReportPath, 10*time.Second, func(err error) {
			if msg := whyNotWritten(err).Error(); msg != said {
				said = msg
				logf("autosave %s: %s (the run goes on; the final report is tried again at the end)", o.ReportPath, msg)
			}
		})
	}()

	stopOnce := sync.OnceFunc(func() { go eng.Stop() })
	rec.OnBreakpoint(func(v report.Verdict) {
		if !sc.AbortOnBreakpoint {
			return
		}
		st.stop(breakpointAbort{})
		rec.Abort("abort_on_breakpoint: ramping down", time.Now())
		stopOnce()
	})

	// Pairing: colleagues attach over SSH, each with their own console
	// over the same recorder.
	ctl := consoleController{Engine: eng, stop: stopOnce, abort: func(who string) {
		st.stop(consoleStop{who})
		rec.Abort("aborted from the console by "+who, time.Now())
	}}
	var viewers func() []string
	if o.Share != "" {
		var srv *share.Server
		srv, err = share.Start(ctx, share.Config{
			Addr: o.Share, AuthorizedKeys: o.AuthorizedKeys, Controllers: o.Controllers,
			MaxViewers: o.MaxViewers, IdleTimeout: idleTimeout(o.IdleTimeout), Logf: logf,
			NewModel: func(v share.Viewer, width, height int) tea.Model {
				opts := tui.Options{Who: v.Who, CanControl: v.CanControl, ReportPath: o.ReportPath,
					Viewers: v.Watching, Renderer: v.Renderer, Remote: true}
				if v.CanControl {
					opts.Controller = ctl
				}
				return tui.New(rec, opts)
			},
		})
		if err != nil {
			fmt.Fprintf(stderr, "brink: --share: %v\n", err)
			return exitUsage
		}
		defer srv.Close()
		viewers = srv.Viewers
		logf("sharing the console: ssh -p %s -t %s", portOf(srv.Addr()), hostOf(srv.Addr()))
	}

	// The local console's own context: a hang-up ends it; with --share the
	// run goes on without it (the engineer re-attaches over SSH).
	tuiCtx, tuiCancel := context.WithCancel(ctx)
	defer tuiCancel()
	// detached: the local console is gone (a hang-up under --share) and
	// the run goes on — no stop at all.
	var detached bool
	var detachMu sync.Mutex

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	bg.Add(1)
	go func() {
		defer bg.Done()
		for {
			var s os.Signal
			select {
			case s = <-sigs:
			case <-ctx.Done():
				return
			}
			if s == syscall.SIGHUP && o.Share != "" {
				// The engineer's SSH session dropped: detach, keep the run.
				detachMu.Lock()
				first := !detached
				detached = true
				detachMu.Unlock()
				if first {
					rec.Note("local", "local console detached (SIGHUP); the run goes on, re-attach with ssh", time.Now())
					tuiCancel()
				}
				continue
			}
			// After a console's abort, a signal is the second: cut now.
			again := st.external()
			if again {
				// A second signal means "now": cut the in-flight requests
				// (the run's context), and the normal way out writes the
				// report and prints the summary at once.
				rec.Note("brink", "second signal "+s.String()+": in-flight requests cut", time.Now())
				fmt.Fprintf(stderr, "brink: %s: cutting in-flight requests, writing the report\n", signalName(s))
				cancel()
				go func() {
					select {
					case <-returned:
					case <-time.After(hardExitAfter):
						// Something did not let go of the cut: leave
						// anyway, with the report and the summary.
						sayEnd()
						exitProcess(exitExternalAbort)
					}
				}()
				return
			}
			st.stop(signalStop{s})
			rec.Abort("signal "+s.String(), time.Now())
			// The graceful stop can take as long as the slowest request:
			// say what brink waits for, or it looks hung.
			logf("%s: stopping; waiting for in-flight requests to finish (at most %s); %s again cuts them and writes the report now",
				signalName(s), gracefulStop, signalName(s))
			stopOnce()
			tuiCancel() // the terminal may be gone (SIGHUP): nobody is left to press q
		}
	}()

	engDone := make(chan error, 1)
	go func() { engDone <- eng.Run(ctx) }()

	var runErr error
	if useTUI {
		// The console stays up after the load ends, showing the verdict;
		// the report is written as soon as the load ends, not when the
		// engineer gets round to quitting.
		engErr := make(chan error, 1)
		var engFinished atomic.Bool
		go func() {
			err := <-engDone
			engFinished.Store(true)
			finish()
			engErr <- err
			// Stopped by a signal (a dropped SSH session sends SIGHUP):
			// nobody is left to press q.
			if st.external() {
				tuiCancel()
			}
		}()
		tuiErr := tui.Run(tuiCtx, rec, tui.Options{Who: "local", CanControl: true, ReportPath: o.ReportPath,
			Controller: ctl, Viewers: viewers, Renderer: localRenderer(console)}, os.Stdin, console)
		detachMu.Lock()
		// A lost terminal (read error) under --share is a detach too.
		if o.Share != "" && (tuiErr != nil || detached) && !st.external() {
			detached = true
			tuiErr = nil
		}
		keepRunning := detached
		detachMu.Unlock()
		if !keepRunning {
			// The console quit (after confirmation while load ran): that
			// is a stop from outside, like Ctrl-C in headless mode.
			if !engFinished.Load() {
				if !st.external() {
					ctl.abort("local (quit)")
				}
				// The console is gone and the load is still ramping
				// down: say what brink waits for on the terminal.
				fmt.Fprintf(stderr, "brink: stopping; waiting for in-flight requests to finish (at most %s); Ctrl-C cuts them and writes the report now\n", gracefulStop)
			}
			stopOnce()
		}
		runErr = errors.Join(tuiErr, <-engErr)
	} else {
		runErr = headless(ctx, rec, engDone, o.Progress, stderr)
	}
	st.stop(planEnded{}) // a no-op for the context when a stop came first
	sayEnd()

	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		fmt.Fprintf(stderr, "brink: %v\n", runErr)
	}
	return exitCode(st.cause(), outcome{runErr: runErr, reportLost: reportLost != "",
		passed: rec.Passed(), nodeCrossed: nodeCrossed(rec), inconclusive: rec.Inconclusive()})
}

// consoleController lets a console steer the engine; the console records
// who did what in the recorder itself.
type consoleController struct {
	*engine.Engine
	stop  func()
	abort func(who string)
}

// Abort records who stopped the run, then ramps down gracefully without
// blocking the console.
func (c consoleController) Abort(who string) {
	c.abort(who)
	c.stop()
}

// headless waits for the engine, printing a progress line every interval:
// t=1m05s vus=210/300 rps=1843 p95=212ms p99=480ms err=0.2% (then
// ws_open=… ws_failed=…% with WebSocket groups)
func headless(ctx context.Context, rec *report.Recorder, engDone <-chan error, every time.Duration, stderr io.Writer) error {
	t := time.NewTicker(every)
	defer t.Stop()
	// Node trouble is said when it starts and when it ends, not buried in
	// the report: a run whose node source is down would otherwise look fine.
	check := time.NewTicker(time.Second)
	defer check.Stop()
	var lastNodes string
	for {
		select {
		case err := <-engDone:
			return err
		case <-t.C:
			fmt.Fprintln(stderr, progressLine(rec))
		case <-check.C:
			if st := nodeTrouble(rec); st != lastNodes {
				if st == "" {
					fmt.Fprintln(stderr, "brink: nodes: all nodes report again")
				} else {
					fmt.Fprintln(stderr, "brink: nodes: "+termtext.Clean(st))
				}
				lastNodes = st
			}
		}
	}
}

// nodeTrouble says what is wrong with the newest node poll ("" when
// nothing is).
func nodeTrouble(rec *report.Recorder) string {
	var out string
	rec.View(func(v *report.View) {
		if len(v.Polls) == 0 {
			return
		}
		p := &v.Polls[len(v.Polls)-1]
		if p.Err != "" {
			out = p.Err
			return
		}
		var stale []string
		for i := range p.Samples {
			if s := &p.Samples[i]; s.Stale {
				stale = append(stale, s.Node+" stale ("+s.StaleReason+")")
			}
		}
		out = strings.Join(append(stale, p.Warnings...), "; ")
	})
	return out
}

// progressLine summarises the newest window.
func progressLine(rec *report.Recorder) string {
	var line string
	rec.View(func(v *report.View) {
		if len(v.Ticks) == 0 {
			line = "t=0s waiting for the first window"
			return
		}
		tk := &v.Ticks[len(v.Ticks)-1]
		var b strings.Builder
		// Closed-model VUs against their target; the VUs an arrival-rate
		// group uses go beside its rate, so "vus=152/92" never appears.
		closedVUs, openVUs := tk.VUs, 0
		for _, g := range tk.Groups {
			if g.Executor == string(scenarios.RampingArrivalRate) {
				openVUs += g.VUs
			}
		}
		closedVUs -= openVUs
		switch {
		case closedVUs == 0 && tk.TargetVUs == 0 && (openVUs > 0 || tk.TargetRate > 0):
			// Open model only: the VUs are whatever the rate needs.
			fmt.Fprintf(&b, "t=%s vus=%d rate=%.0f/s", fmtElapsed(tk.Elapsed), openVUs, tk.TargetRate)
		default:
			fmt.Fprintf(&b, "t=%s vus=%d/%d", fmtElapsed(tk.Elapsed), closedVUs, tk.TargetVUs)
			if tk.TargetRate > 0 || openVUs > 0 {
				fmt.Fprintf(&b, " rate=%.0f/s (%d VUs)", tk.TargetRate, openVUs)
			}
		}
		fmt.Fprintf(&b, " rps=%.0f p95=%s p99=%s err=%.1f%%", tk.RPS(), fmtMs(tk.Latency.P95), fmtMs(tk.Latency.P99), 100*tk.ErrorRate())
		if tk.Dropped > 0 {
			fmt.Fprintf(&b, " dropped=%d", tk.Dropped)
		}
		if ws, ok := wsRecent(v); ok {
			b.WriteString(ws)
		}
		if v.State != "" && v.State != report.StateOK {
			fmt.Fprintf(&b, " state=%s", v.State)
		}
		if tk.Generator.Overloaded {
			b.WriteString(" generator=overloaded")
		}
		if len(tk.Groups) > 1 {
			// Several groups: the load as every report text says it.
			gs := report.GroupLoads(tk)
			b.WriteString(" — " + termtext.Clean(report.LoadText(gs, tk.VUs, tk.TargetRate, true)))
		}
		line = b.String()
	})
	return line
}

// wsRecent is the progress line's WebSocket part, " ws_open=12
// ws_failed=0.0%", when the run has WebSocket groups: ws_failed over the
// last 5 s of windows, since one window of long-lived sessions often has
// no outcome at all and a refused server's reconnects back off.
func wsRecent(v *report.View) (string, bool) {
	has := false
	if v.Scenario != nil {
		for _, g := range v.Scenario.Groups {
			has = has || g.WebSocket != nil
		}
	}
	last := &v.Ticks[len(v.Ticks)-1]
	var failed, outcomes int64
	for i := len(v.Ticks) - 1; i >= 0 && last.Elapsed-v.Ticks[i].Elapsed < 5*time.Second; i-- {
		w := &v.Ticks[i].WS
		failed += w.Failed
		outcomes += w.Outcomes
		has = has || w.Sessions > 0 || w.Outcomes > 0
	}
	if !has {
		return "", false
	}
	pct := 0.0
	if outcomes > 0 {
		pct = 100 * float64(min(failed, outcomes)) / float64(outcomes)
	}
	return fmt.Sprintf(" ws_open=%d ws_failed=%.1f%%", last.WS.Open, pct), true
}

func fmtMs(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms >= 100:
		return fmt.Sprintf("%.0fms", ms)
	case ms >= 10:
		return fmt.Sprintf("%.1fms", ms)
	default:
		return fmt.Sprintf("%.2fms", ms)
	}
}

// hostOf and portOf split a listen address for the ssh hint.
func hostOf(addr string) string {
	h, _, err := net.SplitHostPort(addr)
	if err != nil || h == "" || h == "::" || h == "0.0.0.0" {
		return "localhost"
	}
	return h
}

func portOf(addr string) string {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "2222"
	}
	return p
}

// localRenderer styles the local console. The background is taken from
// COLORFGBG when the terminal sets it and assumed dark otherwise: asking
// the terminal (OSC 11) can stall start-up for seconds over slow SSH or
// inside tmux.
func localRenderer(out io.Writer) *lipgloss.Renderer {
	r := lipgloss.NewRenderer(out)
	dark := true
	if fgbg := os.Getenv("COLORFGBG"); fgbg != "" {
		parts := strings.Split(fgbg, ";")
		if bg, err := strconv.Atoi(parts[len(parts)-1]); err == nil {
			dark = bg < 7 || bg == 8
		}
	}
	r.SetHasDarkBackground(dark)
	return r
}

// nodeCrossed reports whether any node, or any custom panel's series,
// crossed its threshold (sustained) during the run: for CI that fails the
// run like an SLO does.
func nodeCrossed(rec *report.Recorder) bool {
	crossed := false
	rec.View(func(v *report.View) {
		for i := range v.Events {
			if k := v.Events[i].Kind; k == report.EventNodeOver || k == report.EventPanelOver {
				crossed = true
				return
			}
		}
	})
	return crossed
}

// checkWritable fails early, before any load, when the report cannot be
// written where asked.
func checkWritable(path string) error {
	// The report is renamed into place at the end: over a directory that
	// fails after the whole run, so it is refused now.
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return errors.New("is a directory (give a file name, e.g. " + filepath.Join(path, "run.json") + ")")
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".brink-check-*")
	if err != nil {
		return fmt.Errorf("cannot write there: %w", err)
	}
	defer os.Remove(f.Name())
	// An empty file fits on a full disk; a report's first kilobytes do
	// not. Written and synced, so a full disk is refused before the load,
	// not found after it.
	_, err = f.Write(make([]byte, 64<<10))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cannot write there: %w", whyNotWritten(err))
	}
	return nil
}

// whyNotWritten is the cause of a failed report write without the wrapping
// that names the temporary file ("no space left on device"), for a message
// that names the report's own path.
func whyNotWritten(err error) error {
	var pe *os.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}

// staleAutosave says what an unwritable report path holds: an autosave from
// this run is an incomplete report, and the reader must know it is one.
func staleAutosave(path string, start time.Time) string {
	fi, err := os.Stat(path)
	if err != nil || fi.IsDir() {
		return ""
	}
	if fi.ModTime().Before(start) {
		return fmt.Sprintf(" (%s is from before this run)", path)
	}
	return fmt.Sprintf(" (%s holds an incomplete autosave of %s)", path, fi.ModTime().Format("15:04:05"))
}

// fmtElapsed prints run time as the progress line's contract shows it:
// 45s, 1m05s, 1h02m05s.
func fmtElapsed(d time.Duration) string {
	s := int(d / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%02dm%02ds", s/3600, s/60%60, s%60)
}

// idleTimeout maps the flag's 0 ("never") onto share's negative value.
func idleTimeout(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// baselinePollTimeout bounds the poll before the load: a slow or dead
// node source must not hold the run back.
const baselinePollTimeout = 3 * time.Second

// baselinePoll polls the node source once before any load, so a node
// already over its threshold is known not to be the load's doing. A
// failure is no reason to stop: the poll comes back with Err set.
func baselinePoll(ctx context.Context, src promquery.Source) promquery.Poll {
	pctx, cancel := context.WithTimeout(ctx, baselinePollTimeout)
	defer cancel()
	p, err := src.Poll(pctx)
	if err != nil && p.Err == "" {
		p.Err = err.Error()
	}
	if p.Time.IsZero() {
		p.Time = time.Now()
	}
	return p
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/charmbracelet/lipgloss"

	"github.com/brink-load/brink/engine"
	"github.com/brink-load/brink/promquery"
	"github.com/brink-load/brink/report"
	"github.com/brink-load/brink/scenarios"
	"github.com/brink-load/brink/termtext"
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

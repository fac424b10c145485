package run

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/brink-load/brink/share"
	"github.com/brink-load/brink/tui"
)

// startSharing lets colleagues attach over SSH, each with their own console
// over the same recorder. With no --share it does nothing.
func (r *runner) startSharing(ctx context.Context) (viewers func() []string, closeShare func(), err error) {
	if r.o.Share == "" {
		return nil, func() {}, nil
	}
	o := r.o
	srv, err := share.Start(ctx, share.Config{
		Addr: o.Share, AuthorizedKeys: o.AuthorizedKeys, Controllers: o.Controllers,
		MaxViewers: o.MaxViewers, IdleTimeout: idleTimeout(o.IdleTimeout), Logf: r.logf,
		NewModel: func(v share.Viewer, width, height int) tea.Model {
			opts := tui.Options{Who: v.Who, CanControl: v.CanControl, ReportPath: r.out.Path(),
				Viewers: v.Watching, Renderer: v.Renderer, Remote: true}
			if v.CanControl {
				opts.Controller = r.controller()
			}
			return tui.New(r.rec, opts)
		},
	})
	if err != nil {
		return nil, nil, err
	}
	r.logf("sharing the console: ssh -p %s -t %s", portOf(srv.Addr()), hostOf(srv.Addr()))
	return srv.Viewers, func() { srv.Close() }, nil
}

// detach marks the local console gone while the run goes on; true the
// first time.
func (r *runner) detach() bool {
	r.detachMu.Lock()
	defer r.detachMu.Unlock()
	first := !r.detached
	r.detached = true
	return first
}

// watchSignals turns SIGINT, SIGTERM and SIGHUP into stops (a hang-up
// under --share into a detach) until ctx ends; the returned func stops
// listening. cut ends the run's context: in-flight requests are cut.
func (r *runner) watchSignals(ctx context.Context, cut context.CancelFunc, returned <-chan struct{}) (stop func()) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, stopSignals...)
	r.bg.Add(1)
	go func() {
		defer r.bg.Done()
		for {
			select {
			case s := <-sigs:
				if !r.onSignal(s, cut, returned) {
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() { signal.Stop(sigs) }
}

// onSignal handles one signal; false once the run is being cut and no
// later signal can change anything.
func (r *runner) onSignal(s os.Signal, cut context.CancelFunc, returned <-chan struct{}) bool {
	if s == syscall.SIGHUP && r.o.Share != "" {
		// The engineer's SSH session dropped: detach, keep the run.
		if r.detach() {
			r.rec.Note("local", "local console detached (SIGHUP); the run goes on, re-attach with ssh", time.Now())
			r.tuiCancel()
		}
		return true
	}
	// After a stop from outside (a signal, or a console's abort), a signal
	// means "now": cut the in-flight requests (the run's context), and the
	// normal way out writes the report and prints the summary at once.
	if r.st.external() {
		r.rec.Note("brink", "second signal "+s.String()+": in-flight requests cut", time.Now())
		fmt.Fprintf(r.stderr, "brink: %s: cutting in-flight requests, writing the report\n", SignalName(s))
		cut()
		go func() {
			select {
			case <-returned:
			case <-time.After(hardExitAfter):
				// Something did not let go of the cut: leave anyway,
				// with the report and the summary — unless saying them is
				// what hangs (a terminal that stopped reading).
				said := make(chan struct{})
				go func() { r.out.sayEnd(); close(said) }()
				select {
				case <-said:
				case <-time.After(hardExitAfter):
				}
				ExitProcess(ExitExternalAbort)
			}
		}()
		return false
	}
	r.st.stop(signalStop{s})
	r.rec.Abort("signal "+s.String(), time.Now())
	// The graceful stop can take as long as the slowest request: say what
	// brink waits for, or it looks hung.
	r.logf("%s: stopping; waiting for in-flight requests to finish (at most %s); %s again cuts them and writes the report now",
		SignalName(s), gracefulStop, SignalName(s))
	r.stopEngine()
	r.tuiCancel() // the terminal may be gone (SIGHUP): nobody is left to press q
	return true
}

// runConsole runs the local console until the engineer quits (or the
// terminal goes), and returns once the load has ended too. The console
// stays up after the load ends, showing the verdict; the report is written
// as soon as the load ends, not when the engineer gets round to quitting.
func (r *runner) runConsole(tuiCtx context.Context, engDone <-chan error, viewers func() []string) error {
	engErr := make(chan error, 1)
	var engFinished atomic.Bool
	go func() {
		err := <-engDone
		engFinished.Store(true)
		r.out.finish()
		r.metricsFinal() // scrapes while the verdict is shown read the final state
		engErr <- err
		// Stopped by a signal (a dropped SSH session sends SIGHUP):
		// nobody is left to press q.
		if r.st.external() {
			r.tuiCancel()
		}
	}()
	tuiErr := tui.Run(tuiCtx, r.rec, tui.Options{Who: "local", CanControl: true, ReportPath: r.out.Path(),
		Controller: r.controller(), Viewers: viewers}, os.Stdin, r.console)
	r.detachMu.Lock()
	// A lost terminal (read error) under --share is a detach too.
	if r.o.Share != "" && (tuiErr != nil || r.detached) && !r.st.external() {
		r.detached = true
		tuiErr = nil
	}
	keepRunning := r.detached
	r.detachMu.Unlock()
	if !keepRunning {
		// The console quit (after confirmation while load ran): that is a
		// stop from outside, like Ctrl-C in headless mode.
		if !engFinished.Load() {
			if !r.st.external() {
				r.ctl.abort("local (quit)")
			}
			// The console is gone and the load is still ramping down:
			// say what brink waits for on the terminal.
			fmt.Fprintf(r.stderr, "brink: stopping; waiting for in-flight requests to finish (at most %s); Ctrl-C cuts them and writes the report now\n", gracefulStop)
		}
		r.stopEngine()
	}
	return errors.Join(tuiErr, <-engErr)
}

// consoleController lets a console steer the engine; the console records
// who did what in the recorder itself.
type consoleController struct {
	load
	stop  func()
	abort func(who string)
}

// Note hands an engineer's note to the load source when it takes notes
// (a fleet's agents log them), on its own goroutine: the console never
// waits on the agents' answers.
func (c consoleController) Note(who, text string) {
	if n, ok := c.load.(interface{ Note(who, text string) }); ok {
		go n.Note(who, text)
	}
}

// Abort records who stopped the run, then ramps down gracefully without
// blocking the console.
func (c consoleController) Abort(who string) {
	c.abort(who)
	c.stop()
}

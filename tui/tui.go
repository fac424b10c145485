// Package tui is brink's live console: a Bubble Tea program that renders a
// read-only view of a run's report.Recorder and sends control actions to
// the engine. It holds no load logic; every console (local or one per SSH
// viewer) is an independent model built by New.
package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/report"
)

// Controller steers the running load: measure.Control (the methods of
// engine.Control, declared there so tui need not import engine) plus a
// graceful abort that says who asked for it.
type Controller interface {
	measure.Control
	// Abort ramps the load down gracefully and ends the run; who is the
	// console's Options.Who.
	Abort(who string)
}

// Options configure one console.
type Options struct {
	// Who is this console's user: "local", or "user (SHA256:…)" over SSH.
	Who string
	// CanControl allows hold, scale and abort; read-only viewers get a
	// short "read-only" flash instead.
	CanControl bool
	// ReportPath is where the caller writes the report, shown on quit.
	ReportPath string
	// Viewers lists who is watching (may be nil); called from the
	// program's goroutine a few times a second, so it must be safe for that.
	Viewers func() []string
	// Remote is an SSH viewer's console: quitting it only disconnects that
	// viewer, and the run goes on, so the quit prompt says so.
	Remote bool
	// Controller may be nil: the console is then read-only.
	Controller Controller
	// Now is the clock (nil = time.Now); tests fix it.
	Now func() time.Time
	// Renderer is the output's lipgloss renderer, so an SSH session gets
	// its own colour profile; nil = lipgloss's default (New), or the local
	// terminal's (Run: localRenderer).
	Renderer *lipgloss.Renderer
}

// New returns the console's root model reading rec.
func New(rec *report.Recorder, opts Options) tea.Model {
	var src source = emptySource{}
	if rec != nil {
		src = rec
	}
	return newModel(src, opts)
}

// Run runs a console on in/out until the user quits (after confirming while
// the load runs) or ctx ends. It returns nil in both cases; the caller
// writes the report either way.
func Run(ctx context.Context, rec *report.Recorder, opts Options, in io.Reader, out io.Writer) error {
	if opts.Renderer == nil {
		opts.Renderer = localRenderer(out)
	}
	p := tea.NewProgram(New(rec, opts),
		tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out), tea.WithAltScreen())
	_, err := p.Run()
	switch {
	case err == nil, ctx.Err() != nil && errors.Is(err, tea.ErrProgramKilled), errors.Is(err, tea.ErrInterrupted):
		return nil
	}
	return fmt.Errorf("console: %w", err)
}

// source is what the console reads: report.Recorder's View.
type source interface {
	View(fn func(v *report.View))
}

type emptySource struct{}

func (emptySource) View(fn func(v *report.View)) { fn(&report.View{}) }

// The recorder's write methods for notes and control actions are being
// added in report/; the console finds them by interface so it builds
// before and after they land.
type (
	noter interface {
		Note(who, text string, at time.Time)
	}
	noterErr interface {
		Note(who, text string, at time.Time) error
	}
	controlRec interface {
		Control(who, action string, at time.Time)
	}
	controlRecEr interface {
		Control(who, action string, at time.Time) error
	}
)

func recordNote(src source, who, text string, at time.Time) error {
	switch r := src.(type) {
	case noter:
		r.Note(who, text, at)
		return nil
	case noterErr:
		return r.Note(who, text, at)
	}
	return errors.New("this recorder cannot store notes")
}

func recordControl(src source, who, action string, at time.Time) {
	switch r := src.(type) {
	case controlRec:
		r.Control(who, action, at)
	case controlRecEr:
		_ = r.Control(who, action, at) // the action itself already happened
	}
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

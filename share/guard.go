package share

import (
	"fmt"
	"runtime/debug"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
)

// guard keeps a panic in one viewer's console inside that session. Bubble
// Tea would recover it too, but print the trace on the process's stdout,
// across the local console.
type guard struct {
	m       tea.Model
	fail    func(what string, r any, stack []byte) // records why the session ends
	quit    func()                                 // quits the program from outside its event loop
	crashed bool                                   // the model is not called again
}

// crashMsg carries a panic out of a command's goroutine.
type crashMsg struct {
	r     any
	stack []byte
}

func (g *guard) Init() (cmd tea.Cmd) {
	defer g.recover("Init", &cmd)
	return wrapCmd(g.m.Init())
}

func (g *guard) Update(msg tea.Msg) (self tea.Model, cmd tea.Cmd) {
	self = g // also what a recovered panic returns
	if c, ok := msg.(crashMsg); ok {
		g.crash("a command", c.r, c.stack)
		return g, tea.Quit
	}
	if g.crashed {
		return g, nil
	}
	defer g.recover("Update", &cmd)
	next, c := g.m.Update(msg)
	if next != nil {
		g.m = next
	}
	return g, wrapCmd(c)
}

const failedView = "brink: this console failed; the run goes on\n"

func (g *guard) View() (s string) {
	if g.crashed {
		return failedView
	}
	defer func() {
		if r := recover(); r != nil {
			g.crash("View", r, debug.Stack())
			s = failedView
			// View cannot return a command, and Send from the event loop
			// would wait on itself.
			go g.quit()
		}
	}()
	return g.m.View()
}

func (g *guard) recover(what string, cmd *tea.Cmd) {
	if r := recover(); r != nil {
		g.crash(what, r, debug.Stack())
		*cmd = tea.Quit
	}
}

func (g *guard) crash(what string, r any, stack []byte) {
	if !g.crashed {
		g.crashed = true
		g.fail(what, r, stack)
	}
}

// wrapCmd recovers panics in cmd, and in the commands of a batch it returns.
func wrapCmd(cmd tea.Cmd) tea.Cmd {
	if cmd == nil {
		return nil
	}
	return func() (msg tea.Msg) {
		defer func() {
			if r := recover(); r != nil {
				msg = crashMsg{r: r, stack: debug.Stack()}
			}
		}()
		msg = cmd()
		if batch, ok := msg.(tea.BatchMsg); ok {
			wrapped := make(tea.BatchMsg, len(batch))
			for i, c := range batch {
				wrapped[i] = wrapCmd(c)
			}
			msg = wrapped
		}
		return msg
	}
}

// panicSite is the first frame of a recovered stack outside the runtime and
// this file, for a one-line log entry.
func panicSite(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	for i := 0; i+1 < len(lines); i++ {
		fn, file := lines[i], strings.TrimSpace(lines[i+1])
		if !strings.HasPrefix(lines[i+1], "\t") || strings.HasPrefix(fn, "runtime") ||
			strings.HasPrefix(fn, "panic(") || strings.Contains(file, "/share/guard.go") ||
			strings.HasPrefix(fn, "runtime/debug.") || strings.HasPrefix(fn, "github.com/charmbracelet/wish/recover.") {
			continue
		}
		if j := strings.LastIndex(file, " +0x"); j > 0 {
			file = file[:j]
		}
		return file
	}
	return "unknown"
}

func describePanic(what string, r any, stack []byte) string {
	return fmt.Sprintf("panic in %s: %v at %s", what, r, panicSite(stack))
}

// panicLog adapts Logf for wish's recover middleware, which logs
// "panic: %v\n%s" with the whole stack: the event log gets one line.
type panicLog func(format string, args ...any)

func (l panicLog) Printf(format string, args ...any) {
	if len(args) == 2 {
		if stack, ok := args[1].(string); ok {
			l("share: a session ended: %s", describePanic("its handler", args[0], []byte(stack)))
			return
		}
	}
	l("share: "+format, args...)
}

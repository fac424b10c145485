package share

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	"github.com/muesli/termenv"
	gossh "golang.org/x/crypto/ssh"
)

// session is one viewer's console.
type session struct {
	seq    uint64
	viewer Viewer
	last   atomic.Int64    // unix nanos of the viewer's last keystroke
	ended  chan struct{}   // closed when the gate is done with the session
	hangup chan struct{}   // closed when the session channel has closed
	input  *activityReader // the program's input, set by newProgram

	clampLogged atomic.Bool // a clamped window size was logged (once a session)

	reason atomic.Value // string: why the server ended the session, shown after teardown
}

// enter counts a goroutine in wg unless the server is closing.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

// gate admits only console sessions: a PTY, no command, a public key, and a
// free viewer slot. Everything else gets one line and an exit status.
func (s *Server) gate(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		if !s.enter() {
			return
		}
		defer s.wg.Done()

		rec := &session{ended: make(chan struct{}), hangup: make(chan struct{})}
		defer close(rec.ended)
		// The library's Pty() copies the PTY state that its request loop
		// updates on window-change without a lock (a data race upstream,
		// shared by wish's own middleware); it is read here once, and the
		// console takes later sizes from the winch channel only.
		pty, realWinch, hasPty := sess.Pty()
		asked := pty.Window
		var clamped bool
		if pty.Window, clamped = clampWindow(pty.Window); clamped {
			rec.clampLogged.Store(true)
		}
		ws := &watchedSession{Session: sess, pty: pty, winch: make(chan ssh.Window, 1)}
		if realWinch != nil {
			// Drained from the start: the session's request loop blocks on
			// a window change nobody reads, even on the refusal paths.
			s.wg.Add(1)
			go s.forwardWindows(rec, fmt.Sprintf("%s from %s", cleanName(sess.User()), sess.RemoteAddr()), realWinch, ws.winch)
		}

		if sess.RawCommand() != "" {
			refuse(sess, "brink: commands are not allowed here; connect with ssh -t to watch the console")
			return
		}
		if !hasPty {
			refuse(sess, "brink: the console needs a terminal; connect with ssh -t")
			return
		}
		key := sess.PublicKey()
		if key == nil { // cannot happen with public-key-only auth; be safe
			refuse(sess, "brink: public key authentication required")
			return
		}
		fp := fingerprint(key)
		user := cleanName(sess.User())
		rec.viewer = Viewer{
			User:        user,
			Fingerprint: fp,
			CanControl:  s.canControl(key, sess.RemoteAddr()),
			Who:         fmt.Sprintf("%s (%s)", user, shortFingerprint(fp)),
			Renderer:    newRenderer(sess),
			Watching:    s.Viewers,
		}
		if !s.register(ws, rec) {
			s.cfg.Logf("share: refused %s %s from %s: too many viewers (%d)", user, fp, sess.RemoteAddr(), s.cfg.MaxViewers)
			refuse(sess, fmt.Sprintf("brink: too many viewers (%d); try again later", s.cfg.MaxViewers))
			return
		}
		defer s.unregister(ws) // also if the console panics out of next
		s.cfg.Logf("share: %s %s joined from %s (control: %v)", user, fp, sess.RemoteAddr(), rec.viewer.CanControl)
		if hasPty && (asked.Width != pty.Window.Width || asked.Height != pty.Window.Height) {
			s.cfg.Logf("share: %s asked for a %d×%d terminal; drawn at %d×%d",
				rec.viewer.Who, asked.Width, asked.Height, pty.Window.Width, pty.Window.Height)
		}

		next(ws) // runs the console until it quits
		if rec.input != nil {
			rec.input.programDone()
		}

		s.unregister(ws)
		reason, _ := rec.reason.Load().(string)
		if reason != "" {
			wish.Println(sess, reason)
		} else {
			reason = "left"
		}
		s.cfg.Logf("share: %s %s %s", user, fp, reason)
	}
}

// refuse says why on stderr and exits 1. (Not wish.Fatalln: its trailing
// "\r" lands in the output of a session without a terminal.) With a PTY,
// the session's stderr turns "\n" into "\r\n" itself.
func refuse(sess ssh.Session, msg string) {
	_, _ = fmt.Fprintln(sess.Stderr(), msg)
	_ = sess.Exit(1)
	_ = sess.Close()
}

func (s *Server) register(sess ssh.Session, rec *session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sessions) >= s.cfg.MaxViewers {
		return false
	}
	s.seq++
	rec.seq = s.seq
	rec.last.Store(time.Now().UnixNano())
	s.sessions[sess] = rec
	return true
}

func (s *Server) unregister(sess ssh.Session) {
	s.mu.Lock()
	delete(s.sessions, sess)
	s.mu.Unlock()
}

func (s *Server) lookup(sess ssh.Session) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[sess]
}

// newProgram is the wish bubbletea ProgramHandler: one program per session,
// reading the session's keystrokes and drawing into it.
func (s *Server) newProgram(sess ssh.Session) *tea.Program {
	rec := s.lookup(sess)
	if rec == nil {
		return nil
	}
	pty, _, _ := sess.Pty()
	model := s.cfg.NewModel(rec.viewer, pty.Window.Width, pty.Window.Height)
	if model == nil {
		return nil
	}
	g := &guard{m: model, fail: func(what string, r any, stack []byte) {
		s.cfg.Logf("share: %s: console %s", rec.viewer.Who, describePanic(what, r, stack))
		rec.reason.Store(fmt.Sprintf("brink: this console failed (%v); the run goes on", r))
	}}
	in := &activityReader{r: sess, last: &rec.last, release: s.readers.Done}
	s.readers.Add(1) // inside gate, before Close's Wait
	rec.input = in
	p := tea.NewProgram(g,
		tea.WithInput(in),
		tea.WithOutput(sess),
		tea.WithAltScreen(),
		// The process's signals belong to the local console, not to viewers.
		tea.WithoutSignalHandler(),
		tea.WithEnvironment(sess.Environ()),
		tea.WithFilter(dropEmptyResize),
	)
	g.quit = p.Quit
	// End of input is not the end of the session: `ssh -t host </dev/null`
	// may watch without typing; a hangup is seen by forwardWindows.

	s.wg.Add(1) // we run inside gate, which holds wg, so Add is safe
	go s.watchSession(rec, p, s.cfg.IdleTimeout)
	return p
}

// watchSession quits the program when the viewer hangs up or has typed
// nothing for d (d <= 0: never idle).
func (s *Server) watchSession(rec *session, p *tea.Program, d time.Duration) {
	defer s.wg.Done()
	var t *time.Timer
	var idle <-chan time.Time // nil when idle sessions are allowed: never fires
	if d > 0 {
		t = time.NewTimer(d)
		defer t.Stop()
		idle = t.C
	}
	for {
		select {
		case <-rec.ended:
			return
		case <-rec.hangup:
			p.Quit() // returns once delivered or once the program has ended
			return
		case <-idle:
			if since := time.Since(time.Unix(0, rec.last.Load())); since < d {
				t.Reset(d - since)
				continue
			}
			rec.reason.Store(fmt.Sprintf("brink: idle for %s, disconnected", d))
			p.Quit()
			return
		}
	}
}

// forwardWindows passes the client's window changes to the wish middleware
// through a channel that is never closed: the middleware reads a closed one
// as endless zero-sized windows. The client channel closing (the viewer
// hung up, or closed just this session of a multiplexed connection) is a
// hangup. It drains until then, so the session's request loop never blocks
// on a window change sent after the console has ended. Every size is
// clamped (see MaxWidth).
func (s *Server) forwardWindows(rec *session, who string, in <-chan ssh.Window, out chan<- ssh.Window) {
	defer s.wg.Done()
	defer close(rec.hangup)
	for w := range in {
		w, clamped := clampWindow(w)
		if clamped && !rec.clampLogged.Swap(true) {
			// Once a session: a client may resize as often as it likes.
			s.cfg.Logf("share: %s: window change drawn at %d×%d (at most %d×%d)",
				who, w.Width, w.Height, MaxWidth, MaxHeight)
		}
		select {
		case out <- w:
		case <-rec.ended:
		}
	}
}

// watchedSession is the session as the wish middleware sees it: its window
// changes come through forwardWindows.
type watchedSession struct {
	ssh.Session
	pty   ssh.Pty
	winch chan ssh.Window
}

func (w *watchedSession) Pty() (ssh.Pty, <-chan ssh.Window, bool) { return w.pty, w.winch, true }

// dropEmptyResize drops zero-sized windows (a client may send one) so the
// console never lays out for no space.
func dropEmptyResize(_ tea.Model, msg tea.Msg) tea.Msg {
	if ws, ok := msg.(tea.WindowSizeMsg); ok && (ws.Width <= 0 || ws.Height <= 0) {
		return nil
	}
	return msg
}

// activityReader stamps each keystroke for the idle timeout, and tells
// Close (through release) when no read of the session is left: Bubble Tea
// cannot cancel a read on a non-file input, so its read loop may still sit
// in Read after the program has ended, until the channel closes.
type activityReader struct {
	r       io.Reader
	last    *atomic.Int64
	release func() // called once: no Read in progress and none to come

	mu       sync.Mutex
	reading  bool
	finished bool // the program has ended
	released bool
}

func (a *activityReader) Read(p []byte) (int, error) {
	a.mu.Lock()
	if a.finished || a.released {
		a.mu.Unlock()
		return 0, io.EOF
	}
	a.reading = true
	a.mu.Unlock()

	n, err := a.r.Read(p)
	if n > 0 {
		a.last.Store(time.Now().UnixNano())
	}

	a.mu.Lock()
	a.reading = false
	// After an error Bubble Tea's read loop ends; after the program's end
	// it may not call again (its canceled reader answers by itself).
	if err != nil || a.finished {
		a.releaseLocked()
	}
	a.mu.Unlock()
	return n, err
}

// programDone is called when the program has returned.
func (a *activityReader) programDone() {
	a.mu.Lock()
	a.finished = true
	if !a.reading {
		a.releaseLocked()
	}
	a.mu.Unlock()
}

func (a *activityReader) releaseLocked() {
	if !a.released {
		a.released = true
		a.release()
	}
}

// handleSessionChannel accepts a session channel with agent and X11
// forwarding requests refused (the stock handler would say yes to the agent).
func (s *Server) handleSessionChannel(srv *ssh.Server, conn *gossh.ServerConn, nc gossh.NewChannel, ctx ssh.Context) {
	if !s.enter() {
		_ = nc.Reject(gossh.ResourceShortage, "server closing")
		return
	}
	defer s.wg.Done()
	ssh.DefaultSessionHandler(srv, conn, filteredChannel{NewChannel: nc, s: s}, ctx)
}

type filteredChannel struct {
	gossh.NewChannel
	s *Server
}

// refusedRequests are session requests brink never grants.
var refusedRequests = map[string]bool{
	"auth-agent-req@openssh.com": true,
	"x11-req":                    true,
}

func (f filteredChannel) Accept() (gossh.Channel, <-chan *gossh.Request, error) {
	ch, reqs, err := f.NewChannel.Accept()
	if err != nil {
		return ch, reqs, err
	}
	out := make(chan *gossh.Request)
	f.s.wg.Add(1) // inside handleSessionChannel, which holds wg
	go func() {
		defer f.s.wg.Done()
		defer close(out)
		for r := range reqs {
			if refusedRequests[r.Type] {
				if r.WantReply {
					_ = r.Reply(false, nil)
				}
				continue
			}
			out <- r // the session reads until out is closed
		}
	}()
	return ch, out, nil
}

func fingerprint(key gossh.PublicKey) string { return gossh.FingerprintSHA256(key) }

// cleanName keeps a client-chosen user name from carrying escape sequences
// (removed whole) or spaces into everybody's header and the report, and
// from being long.
func cleanName(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range safeText(s, 4*maxUserRunes) {
		if n == 32 {
			break
		}
		if unicode.IsPrint(r) && r != ' ' {
			b.WriteRune(r)
			n++
		}
	}
	if b.Len() == 0 {
		return "?"
	}
	return b.String()
}

// newRenderer styles for the viewer's terminal from its TERM, without the
// background-colour query wish's MakeRenderer sends (a second's wait on
// clients that do not answer).
func newRenderer(sess ssh.Session) *lipgloss.Renderer {
	r := lipgloss.NewRenderer(sess,
		termenv.WithEnvironment(environ(sess.Environ())),
		termenv.WithUnsafe(),
		termenv.WithColorCache(true),
	)
	r.SetHasDarkBackground(true)
	return r
}

type environ []string

func (e environ) Environ() []string { return e }

func (e environ) Getenv(k string) string {
	for _, kv := range e {
		if v, ok := strings.CutPrefix(kv, k+"="); ok {
			return v
		}
	}
	return ""
}

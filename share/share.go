// Package share serves the live console over SSH so a colleague can watch a
// run (and, with a controller key, steer it) from their own terminal: one
// Bubble Tea program per session, public-key authentication only, nothing but
// the console (no exec, no forwarding).
package share

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	bm "github.com/charmbracelet/wish/bubbletea"
	"github.com/charmbracelet/wish/recover"
	"github.com/muesli/termenv"
)

// Defaults for the zero Config fields.
const (
	DefaultAddr        = "127.0.0.1:2222"
	DefaultMaxViewers  = 8
	DefaultIdleTimeout = time.Hour
	// One source may open DefaultConnBurst connections at once, then
	// DefaultConnsPerMinute a minute: plenty for viewers behind one jump
	// host, few for a password-spraying loop.
	DefaultConnsPerMinute = 60
	DefaultConnBurst      = 20
)

// handshakeTimeout bounds the time from accept to authentication; a var so
// tests can shorten it.
var handshakeTimeout = 30 * time.Second

// Viewer is who a session belongs to, handed to the model so it can show it
// and decide whether its keys may steer the run.
type Viewer struct {
	User        string // SSH user name as given by the client
	Fingerprint string // "SHA256:…" of the key that authenticated
	CanControl  bool   // key is listed in Config.Controllers
	Who         string // "user (SHA256:abcdefgh…)" for headers and event logs

	// Renderer builds lipgloss styles for this viewer's terminal (colour
	// profile from its TERM); the global renderer describes the local one.
	Renderer *lipgloss.Renderer
	// Watching is Server.Viewers, for the header: handy inside NewModel,
	// which may run before Start's caller has stored the *Server.
	Watching func() []string
}

// Config of the SSH server. Zero values take the documented defaults.
type Config struct {
	// Addr to listen on; default 127.0.0.1:2222. A bare port ("2222") also
	// means loopback: other interfaces only when a host is given explicitly.
	Addr string
	// AuthorizedKeys lists the keys that may watch (authorized_keys format);
	// default ~/.ssh/authorized_keys. Re-read when it changes.
	AuthorizedKeys string
	// Controllers lists the keys that may steer (hold, scale, abort); they
	// may also log in without being in AuthorizedKeys. Optional.
	Controllers string
	// MaxViewers is the most sessions at once; default 8.
	MaxViewers int
	// ConnsPerMinute is how many connections one source address may open
	// a minute, after a burst of DefaultConnBurst; default 60, negative
	// disables. Connections over it are closed before the handshake.
	ConnsPerMinute int
	// IdleTimeout ends a session with no keystroke for that long; default
	// 1 h (watching is passive), negative disables.
	IdleTimeout time.Duration
	// HostKeyPath is the server's ed25519 key; default
	// $XDG_CONFIG_HOME/brink/host_ed25519 (or ~/.config/…), created 0600.
	HostKeyPath string
	// Logf receives joins, leaves and refused keys; default log.Printf.
	// The console should route it to its event log, not to the terminal.
	Logf func(format string, args ...any)
	// NewModel builds the console for one session, sized to its window.
	NewModel func(v Viewer, width, height int) tea.Model
}

// Server is a running SSH console server.
type Server struct {
	cfg         Config
	ssh         *ssh.Server
	ln          net.Listener
	authorized  *keyFile
	controllers *keyFile
	refusals    *refusalLog
	limiter     *rateLimiter // nil: unlimited

	mu       sync.Mutex
	closed   bool
	conns    map[net.Conn]struct{}
	sessions map[ssh.Session]*session
	seq      uint64

	wg      sync.WaitGroup // accept loop, connections, sessions
	readers sync.WaitGroup // Bubble Tea input loops, see newProgram

	handshakeTimeout time.Duration // from accept to authenticated
	closeOnce        sync.Once
	closeErr         error
	done             chan struct{} // closed when shutting down
	watchDone        chan struct{} // the context watcher has ended
}

// Start listens on cfg.Addr and serves sessions until ctx ends or Close.
// It is listening when it returns.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	cfg, err := withDefaults(cfg)
	if err != nil {
		return nil, err
	}
	// Fail early on a typo (with a missing file nobody could ever get in)
	// and on a file others could add their key to.
	authorized := newKeyFile(cfg.AuthorizedKeys, "authorized keys", cfg.Logf)
	if err := authorized.open(); err != nil {
		return nil, fmt.Errorf("share: authorized keys: %w", err)
	}
	var controllers *keyFile
	if cfg.Controllers != "" {
		controllers = newKeyFile(cfg.Controllers, "controllers", cfg.Logf)
		if err := controllers.open(); err != nil {
			return nil, fmt.Errorf("share: controllers: %w", err)
		}
	}
	signer, err := loadOrCreateHostKey(cfg.HostKeyPath)
	if err != nil {
		return nil, err
	}

	s := &Server{
		cfg:         cfg,
		authorized:  authorized,
		controllers: controllers,
		refusals:    newRefusalLog(cfg.Logf),
		limiter:     newRateLimiter(cfg.ConnsPerMinute, DefaultConnBurst),
		conns:       map[net.Conn]struct{}{},
		sessions:    map[ssh.Session]*session{},
		done:        make(chan struct{}),
		watchDone:   make(chan struct{}),

		handshakeTimeout: handshakeTimeout,
	}

	// Not wish.NewServer: with no host key it would write one to the cwd.
	srv := &ssh.Server{}
	srv.AddHostKey(signer)
	for _, opt := range []ssh.Option{
		wish.WithPublicKeyAuth(s.allowKey),
		wish.WithMiddleware(
			// A panic in brink's own session code (the gate, building the
			// console) ends that session with a log line, not the run; the
			// console's own panics are the guard's.
			recover.MiddlewareWithLogger(panicLog(cfg.Logf),
				// The profile only matters to bm.MakeRenderer, which is not used:
				// Viewer.Renderer is built without querying the client terminal.
				bm.MiddlewareWithProgramHandler(s.newProgram, termenv.TrueColor), // innermost: the console
				s.gate, // refuse what is not a console session
			),
		),
		wish.WithVersion("brink"),
	} {
		if err := srv.SetOption(opt); err != nil {
			return nil, fmt.Errorf("share: %w", err)
		}
	}
	if cfg.IdleTimeout > 0 {
		// Connection-level, for connections without a console session. It
		// must lose the race to the session's own idle timeout, which says
		// why on screen before closing.
		srv.IdleTimeout = cfg.IdleTimeout + 30*time.Second
	}
	srv.ConnCallback = func(ctx ssh.Context, c net.Conn) net.Conn {
		if ac, ok := c.(*authConn); ok {
			ac.ctx.Store(ctx) // for the handshake timeout in acceptLoop
		}
		return c
	}
	// Only session channels: no direct-tcpip (local forwarding). No global
	// request handlers: tcpip-forward (remote forwarding) is refused. No
	// subsystems (sftp). Exec requests do reach the gate, which answers
	// with a message and an exit status.
	srv.ChannelHandlers = map[string]ssh.ChannelHandler{"session": s.handleSessionChannel}
	srv.RequestHandlers = map[string]ssh.RequestHandler{}
	srv.SubsystemHandlers = map[string]ssh.SubsystemHandler{}
	s.ssh = srv

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("share: %w", err)
	}
	s.ln = ln

	cfg.Logf("share: console served on %s (host key %s)", s.Addr(), fingerprint(signer.PublicKey()))
	s.wg.Add(1)
	go s.acceptLoop()
	go s.watch(ctx)
	return s, nil
}

// Addr is the address the server listens on (with the real port when the
// configured one was 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Viewers lists who is connected, in order of arrival, for the console header.
func (s *Server) Viewers() []string {
	s.mu.Lock()
	list := make([]*session, 0, len(s.sessions))
	for _, v := range s.sessions {
		list = append(list, v)
	}
	s.mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return list[i].seq < list[j].seq })
	who := make([]string, len(list))
	for i, v := range list {
		who[i] = v.viewer.Who
	}
	return who
}

// Close ends every session and returns once all of the server's goroutines
// have ended.
func (s *Server) Close() error {
	s.closeOnce.Do(s.shutdown)
	<-s.watchDone
	return s.closeErr
}

func (s *Server) shutdown() {
	s.mu.Lock()
	s.closed = true
	conns := make([]net.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	close(s.done)

	if err := s.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		s.closeErr = fmt.Errorf("share: %w", err)
	}
	_ = s.ssh.Close()
	// Raw connections too: ones still in the handshake are not known to the
	// ssh server. Closing them cancels every session context, which quits
	// the sessions' programs.
	for _, c := range conns {
		_ = c.Close()
	}
	s.wg.Wait()
	s.refusals.close() // what the last window gathered is said now
	// Input loops end as their closed channels report EOF, right after the
	// connections close; bounded in case a program never started reading.
	readersDone := make(chan struct{})
	go func() {
		s.readers.Wait()
		close(readersDone)
	}()
	select {
	case <-readersDone:
	case <-time.After(2 * time.Second):
		s.cfg.Logf("share: closing: a console input loop did not end")
	}
}

func (s *Server) watch(ctx context.Context) {
	defer close(s.watchDone)
	select {
	case <-ctx.Done():
		s.closeOnce.Do(s.shutdown)
	case <-s.done:
	}
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	var delay time.Duration
	for {
		c, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
				errors.Is(err, syscall.ECONNABORTED) {
				// Out of file descriptors, or a client gone before accept:
				// back off and go on, as net/http does.
				s.cfg.Logf("share: accept: %v", err)
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				select {
				case <-time.After(delay):
				case <-s.done:
					return
				}
				continue
			}
			s.cfg.Logf("share: accept: %v", err)
			return
		}
		delay = 0
		ip := remoteIP(c.RemoteAddr())
		if !s.limiter.allow(ip, time.Now()) {
			s.refusals.throttled(ip, s.cfg.ConnsPerMinute, DefaultConnBurst)
			_ = c.Close()
			continue
		}
		if !s.track(c) {
			_ = c.Close()
			return
		}
		go func() {
			defer s.wg.Done()
			defer s.untrack(c)
			tc := &authConn{Conn: c}
			// The idle timeout restarts on every byte, so a client that
			// trickles its handshake would hold a connection for as long as
			// it likes; unauthenticated ones get a fixed allowance.
			t := time.AfterFunc(s.handshakeTimeout, func() {
				if !tc.handshakeDone() {
					s.refusals.timeout(ip, s.handshakeTimeout)
					_ = tc.Close()
				}
			})
			defer t.Stop()
			s.ssh.HandleConn(tc)
		}()
	}
}

// track registers a connection and counts its goroutine in wg, unless the
// server is closing (then Wait may already be running and Add is not allowed).
func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// allowKey is the only authentication method. It is asked once per key per
// connection (x/crypto/ssh caches the answer), so a refusal is logged once.
// A key gets in when a line of either file lets it in from the client's
// address now (from=, expiry-time=), and brink can honour that line's
// options.
func (s *Server) allowKey(ctx ssh.Context, key ssh.PublicKey) bool {
	ip, now := remoteIP(ctx.RemoteAddr()), time.Now()
	a := s.authorized.allows(key, ip, now)
	if a.ok {
		return true
	}
	why := a.why
	if s.controllers != nil {
		c := s.controllers.allows(key, ip, now)
		if c.ok {
			return true
		}
		if why == "" || (!a.listed && c.listed) {
			why = c.why
		}
	}
	if why == "" {
		why = "not listed"
	}
	s.refusals.login(ip, fingerprint(key), ctx.User(), why)
	return false
}

// remoteIP is the client's address, or the zero Addr (which no from=
// pattern matches) when it is not TCP.
func remoteIP(a net.Addr) netip.Addr {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.AddrPort().Addr()
	}
	return netip.Addr{}
}

// authConn is a connection that has yet to (or did) authenticate.
type authConn struct {
	net.Conn
	ctx atomic.Value // ssh.Context, from ConnCallback
}

// handshakeDone reports whether the SSH handshake, authentication included,
// has completed: the library stores the connection in the context only
// then. (A key merely queried, not proven, does not count.)
func (c *authConn) handshakeDone() bool {
	ctx, _ := c.ctx.Load().(ssh.Context)
	return ctx != nil && ctx.Value(ssh.ContextKeyConn) != nil
}

// canControl is asked at session start, so a key added to the controllers
// file takes effect at the viewer's next login. A controllers line whose
// from= does not match gives no control, even if the key got in through
// the authorized keys.
func (s *Server) canControl(key ssh.PublicKey, from net.Addr) bool {
	if s.controllers == nil {
		return false
	}
	return s.controllers.allows(key, remoteIP(from), time.Now()).ok
}

func withDefaults(cfg Config) (Config, error) {
	if cfg.NewModel == nil {
		return cfg, errors.New("share: no console model (Config.NewModel is nil)")
	}
	if cfg.Logf == nil {
		cfg.Logf = log.Printf
	}
	addr, err := normalizeAddr(cfg.Addr)
	if err != nil {
		return cfg, err
	}
	cfg.Addr = addr
	if cfg.MaxViewers <= 0 {
		cfg.MaxViewers = DefaultMaxViewers
	}
	if cfg.ConnsPerMinute == 0 {
		cfg.ConnsPerMinute = DefaultConnsPerMinute
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.AuthorizedKeys == "" {
		cfg.AuthorizedKeys = "~/.ssh/authorized_keys"
	}
	if cfg.AuthorizedKeys, err = expandHome(cfg.AuthorizedKeys); err != nil {
		return cfg, fmt.Errorf("share: authorized keys: %w", err)
	}
	if cfg.Controllers, err = expandHome(cfg.Controllers); err != nil {
		return cfg, fmt.Errorf("share: controllers: %w", err)
	}
	if cfg.HostKeyPath == "" {
		if cfg.HostKeyPath, err = defaultHostKeyPath(); err != nil {
			return cfg, fmt.Errorf("share: %w", err)
		}
	}
	if cfg.HostKeyPath, err = expandHome(cfg.HostKeyPath); err != nil {
		return cfg, fmt.Errorf("share: host key: %w", err)
	}
	return cfg, nil
}

// normalizeAddr applies the loopback default: "" and a bare port listen on
// 127.0.0.1; any other interface must be named.
func normalizeAddr(addr string) (string, error) {
	if addr == "" {
		return DefaultAddr, nil
	}
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr, nil
	}
	if port, err := strconv.ParseUint(addr, 10, 16); err == nil {
		return net.JoinHostPort("127.0.0.1", strconv.FormatUint(port, 10)), nil
	}
	return "", fmt.Errorf("share: address %q: want host:port or a port", addr)
}

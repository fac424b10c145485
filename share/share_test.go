package share

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"
	gossh "golang.org/x/crypto/ssh"

	"github.com/brink-load/brink/promquery/promtest"
	"github.com/brink-load/brink/testout"
)

// waitLimit bounds every wait in these tests.
const waitLimit = 5 * time.Second

// standIn is a small console: a header naming the viewer, its size and the
// keys it received, so the tests can see what each session's program knows.
type standIn struct {
	v         Viewer
	w, h      int
	keys      string
	panicView bool
}

func (m *standIn) Init() tea.Cmd { return nil }

func (m *standIn) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
	case tea.KeyMsg:
		switch msg.String() { // q quits; capitals make the console fail
		case "q":
			return m, tea.Quit
		case "P":
			panic("boom in Update")
		case "V":
			m.panicView = true
		case "C":
			return m, func() tea.Msg { panic("boom in a command") }
		case "B":
			return m, tea.Batch(func() tea.Msg { return nil }, func() tea.Msg { panic("boom in a batch") })
		}
		m.keys += msg.String()
	}
	return m, nil
}

func (m *standIn) View() string {
	if m.panicView {
		panic("boom in View")
	}
	var watching []string
	if m.v.Watching != nil {
		watching = m.v.Watching()
	}
	return fmt.Sprintf("BRINK TEST CONSOLE\nviewer=%s control=%v\nsize=%dx%d\nkeys=[%s]\nwatching=%d\nprofile=%d\n",
		m.v.Who, m.v.CanControl, m.w, m.h, m.keys, len(watching), m.v.Renderer.ColorProfile())
}

// keypair is a client key generated for the test.
type keypair struct {
	signer gossh.Signer
	line   string // authorized_keys line
}

func newKey(t testing.TB) keypair {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return keypair{signer: signer, line: string(gossh.MarshalAuthorizedKey(signer.PublicKey()))}
}

func writeKeys(t testing.TB, path string, keys ...keypair) {
	t.Helper()
	var b strings.Builder
	b.WriteString("# test keys\n")
	for _, k := range keys {
		b.WriteString(k.line)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

type fixture struct {
	srv        *Server
	dir        string
	keysPath   string
	ctrlPath   string
	log        *testout.Logs
	alice, bob keypair // alice watches, bob controls
}

// startServer runs a server on a free loopback port with alice authorised
// and bob a controller; edit adjusts the config before Start.
func startServer(t testing.TB, edit func(*Config)) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir(), log: &testout.Logs{}, alice: newKey(t), bob: newKey(t)}
	f.keysPath = filepath.Join(f.dir, "authorized_keys")
	f.ctrlPath = filepath.Join(f.dir, "controllers")
	writeKeys(t, f.keysPath, f.alice)
	writeKeys(t, f.ctrlPath, f.bob)
	cfg := Config{
		Addr:           "127.0.0.1:0",
		AuthorizedKeys: f.keysPath,
		Controllers:    f.ctrlPath,
		HostKeyPath:    filepath.Join(f.dir, "host_ed25519"),
		Logf:           f.log.Logf,
		NewModel: func(v Viewer, w, h int) tea.Model {
			return &standIn{v: v, w: w, h: h}
		},
	}
	if edit != nil {
		edit(&cfg)
	}
	srv, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	f.srv = srv
	liveServers.Add(1)
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if f.log.Contains("did not end") {
			t.Errorf("Close gave up waiting: %q", f.log.Lines())
		}
		if liveServers.Add(-1) == 0 {
			// Every test ends with no server goroutine left, whatever it did
			// (refusals, hang-ups, panics). The clients closed first (their
			// cleanups were registered later).
			noServerGoroutines(t, time.Second)
		}
	})
	return f
}

func dial(t testing.TB, addr, user string, auth ...gossh.AuthMethod) (*gossh.Client, error) {
	t.Helper()
	c, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{
		User:            user,
		Auth:            auth,
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), // the host key test checks it itself
		Timeout:         waitLimit,
	})
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}

func mustDial(t testing.TB, addr, user string, k keypair) *gossh.Client {
	t.Helper()
	c, err := dial(t, addr, user, gossh.PublicKeys(k.signer))
	if err != nil {
		t.Fatalf("dial as %s: %v", user, err)
	}
	return c
}

// syncBuffer is a client's screen output, written by the ssh library.
type syncBuffer = testout.Buffer

// console is one client session with a PTY.
type console struct {
	sess  *gossh.Session
	stdin io.WriteCloser
	out   *syncBuffer
	done  chan struct{}
	err   error // from Wait, valid after done
}

func openConsole(t testing.TB, c *gossh.Client, w, h int) *console {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatalf("new session: %v", err)
	}
	con := &console{sess: sess, out: &syncBuffer{}, done: make(chan struct{})}
	sess.Stdout, sess.Stderr = con.out, con.out
	if con.stdin, err = sess.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", h, w, gossh.TerminalModes{}); err != nil {
		t.Fatalf("pty: %v", err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatalf("shell: %v", err)
	}
	go func() {
		con.err = sess.Wait()
		close(con.done)
	}()
	t.Cleanup(func() { sess.Close() })
	return con
}

// waitFor waits until the console's output contains want.
func (c *console) waitFor(t testing.TB, want string) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !strings.Contains(c.out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in output within %s; got:\n%q", want, waitLimit, c.out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitEnd waits for the session to end and returns Wait's error.
func (c *console) waitEnd(t testing.TB) error {
	t.Helper()
	select {
	case <-c.done:
		return c.err
	case <-time.After(waitLimit):
		t.Fatalf("session did not end within %s; output:\n%q", waitLimit, c.out.String())
		return nil
	}
}

func exitStatus(err error) int {
	var ee *gossh.ExitError
	if errors.As(err, &ee) {
		return ee.ExitStatus()
	}
	if err == nil {
		return 0
	}
	return -1
}

func TestAuthorisedKeyGetsConsole(t *testing.T) {
	f := startServer(t, nil)
	c := mustDial(t, f.srv.Addr(), "alice", f.alice)
	con := openConsole(t, c, 80, 24)
	con.waitFor(t, "BRINK TEST CONSOLE")
	con.waitFor(t, "viewer=alice (SHA256:")
	con.waitFor(t, "size=80x24")
	con.waitFor(t, "watching=1")

	// The program follows the client's window.
	if err := con.sess.WindowChange(40, 120); err != nil {
		t.Fatal(err)
	}
	con.waitFor(t, "size=120x40")

	// Keys reach this session's program.
	if _, err := con.stdin.Write([]byte("ab")); err != nil {
		t.Fatal(err)
	}
	con.waitFor(t, "keys=[ab]")

	if got := f.srv.Viewers(); len(got) != 1 || !strings.HasPrefix(got[0], "alice (SHA256:") {
		t.Errorf("Viewers() = %q, want alice", got)
	}
	if !f.log.Contains("alice " + fingerprint(f.alice.signer.PublicKey()) + " joined") {
		t.Errorf("join not logged: %q", f.log.Lines())
	}

	// q quits the stand-in; the session ends cleanly.
	if _, err := con.stdin.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	if err := con.waitEnd(t); err != nil {
		t.Errorf("session end: %v", err)
	}
}

func TestRefusedAuthentication(t *testing.T) {
	f := startServer(t, nil)
	stranger := newKey(t)
	cases := []struct {
		name string
		auth gossh.AuthMethod
	}{
		{"unknown key", gossh.PublicKeys(stranger.signer)},
		{"password", gossh.Password("alice")},
		{"keyboard-interactive", gossh.KeyboardInteractive(
			func(string, string, []string, []bool) ([]string, error) { return nil, nil })},
		{"none", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var auth []gossh.AuthMethod
			if tc.auth != nil {
				auth = append(auth, tc.auth)
			}
			_, err := dial(t, f.srv.Addr(), "alice", auth...)
			if err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
				t.Fatalf("dial: err = %v, want unable to authenticate", err)
			}
			// The server offers only publickey.
			if !strings.Contains(err.Error(), "no supported methods remain") {
				t.Errorf("err = %v, want no supported methods remain", err)
			}
		})
	}
	fp := fingerprint(stranger.signer.PublicKey())
	if !f.log.Contains("refused key " + fp) {
		t.Errorf("refused key %s not logged: %q", fp, f.log.Lines())
	}
}

func TestAuthorizedKeysReloaded(t *testing.T) {
	f := startServer(t, nil)
	carol := newKey(t)
	if _, err := dial(t, f.srv.Addr(), "carol", gossh.PublicKeys(carol.signer)); err == nil {
		t.Fatal("carol got in before being added")
	}
	// Adding a colleague needs no restart. A different size makes the
	// change visible even within the file system's timestamp granularity.
	writeKeys(t, f.keysPath, f.alice, carol)
	c := mustDial(t, f.srv.Addr(), "carol", carol)
	openConsole(t, c, 80, 24).waitFor(t, "viewer=carol")

	// And removing one locks them out at their next attempt.
	writeKeys(t, f.keysPath, carol)
	if _, err := dial(t, f.srv.Addr(), "alice", gossh.PublicKeys(f.alice.signer)); err == nil {
		t.Fatal("alice got in after being removed")
	}
}

func TestOnlyTheConsoleIsServed(t *testing.T) {
	f := startServer(t, nil)
	c := mustDial(t, f.srv.Addr(), "alice", f.alice)

	t.Run("exec", func(t *testing.T) {
		sess := newSession(t, c)
		out, err := sess.CombinedOutput("cat /etc/passwd")
		if exitStatus(err) != 1 {
			t.Fatalf("exec: err = %v, want exit status 1", err)
		}
		const want = "brink: commands are not allowed here; connect with ssh -t to watch the console\n"
		if string(out) != want { // one line, nothing else
			t.Errorf("exec output = %q, want %q", out, want)
		}
	})
	t.Run("exec with pty", func(t *testing.T) {
		sess := newSession(t, c)
		var out syncBuffer
		sess.Stdout, sess.Stderr = &out, &out
		if err := sess.RequestPty("xterm", 24, 80, nil); err != nil {
			t.Fatal(err)
		}
		// No window change here: charmbracelet/ssh reads the PTY size at
		// session start without a lock against the request loop writing
		// it, which the race detector reports (upstream, see gate).
		if err := sess.Run("top"); exitStatus(err) != 1 {
			t.Fatalf("exec: err = %v, want exit status 1", err)
		}
		if !strings.Contains(out.String(), "commands are not allowed") {
			t.Errorf("exec output = %q", out.String())
		}
	})
	t.Run("shell without pty", func(t *testing.T) {
		sess := newSession(t, c)
		var out syncBuffer
		sess.Stdout, sess.Stderr = &out, &out
		if err := sess.Shell(); err != nil {
			t.Fatal(err)
		}
		if err := sess.Wait(); exitStatus(err) != 1 {
			t.Fatalf("shell: err = %v, want exit status 1", err)
		}
		if !strings.Contains(out.String(), "needs a terminal") {
			t.Errorf("shell output = %q", out.String())
		}
	})
	t.Run("subsystem", func(t *testing.T) {
		sess := newSession(t, c)
		if err := sess.RequestSubsystem("sftp"); err == nil {
			t.Fatal("sftp subsystem accepted")
		}
	})
	t.Run("local port forward", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		conn, err := c.Dial("tcp", ln.Addr().String()) // direct-tcpip
		if err == nil {
			conn.Close()
			t.Fatal("direct-tcpip accepted")
		}
	})
	t.Run("remote port forward", func(t *testing.T) {
		ln, err := c.Listen("tcp", "127.0.0.1:0") // tcpip-forward
		if err == nil {
			ln.Close()
			t.Fatal("tcpip-forward accepted")
		}
	})
	for _, req := range []string{"auth-agent-req@openssh.com", "x11-req"} {
		t.Run(req, func(t *testing.T) {
			sess := newSession(t, c)
			ok, err := sess.SendRequest(req, true, nil)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				t.Fatalf("%s granted", req)
			}
		})
	}
	// After all that, the connection still serves the console.
	openConsole(t, c, 80, 24).waitFor(t, "BRINK TEST CONSOLE")
}

func TestCanControlOnlyForControllerKeys(t *testing.T) {
	f := startServer(t, nil)
	short := func(k keypair) string { return fingerprint(k.signer.PublicKey())[7:15] }
	cases := []struct {
		user string
		key  keypair
		want string
	}{
		{"alice", f.alice, "viewer=alice (SHA256:" + short(f.alice) + "…) control=false"},
		{"bob", f.bob, "viewer=bob (SHA256:" + short(f.bob) + "…) control=true"},
	}
	for _, tc := range cases {
		t.Run(tc.user, func(t *testing.T) {
			c := mustDial(t, f.srv.Addr(), tc.user, tc.key)
			openConsole(t, c, 80, 24).waitFor(t, tc.want)
		})
	}
	t.Run("no controllers file", func(t *testing.T) {
		g := startServer(t, func(c *Config) { c.Controllers = "" })
		writeKeys(t, g.keysPath, g.alice, g.bob)
		c := mustDial(t, g.srv.Addr(), "bob", g.bob)
		openConsole(t, c, 80, 24).waitFor(t, "control=false")
	})
}

func TestMaxViewers(t *testing.T) {
	f := startServer(t, func(c *Config) { c.MaxViewers = 2 })
	var cons []*console
	for i := range 2 {
		c := mustDial(t, f.srv.Addr(), fmt.Sprintf("v%d", i), f.alice)
		con := openConsole(t, c, 80, 24)
		con.waitFor(t, "BRINK TEST CONSOLE")
		cons = append(cons, con)
	}
	c := mustDial(t, f.srv.Addr(), "third", f.alice)
	third := openConsole(t, c, 80, 24)
	if err := third.waitEnd(t); exitStatus(err) != 1 {
		t.Errorf("third viewer: err = %v, want exit status 1", err)
	}
	if out := third.out.String(); !strings.Contains(out, "too many viewers (2)") || strings.Contains(out, "BRINK") {
		t.Errorf("third viewer saw %q", out)
	}
	if n := len(f.srv.Viewers()); n != 2 {
		t.Errorf("Viewers() has %d, want 2", n)
	}

	// A slot freed is a slot taken.
	if _, err := cons[0].stdin.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	cons[0].waitEnd(t)
	c = mustDial(t, f.srv.Addr(), "fourth", f.alice)
	openConsole(t, c, 80, 24).waitFor(t, "viewer=fourth")
}

func TestHostKeyCreatedOnceAndReused(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	alice := newKey(t)
	keys := filepath.Join(dir, "authorized_keys")
	writeKeys(t, keys, alice)
	want := filepath.Join(dir, "brink", "host_ed25519")

	hostFP := func() string {
		srv, err := Start(context.Background(), Config{
			Addr: "127.0.0.1:0", AuthorizedKeys: keys, Logf: t.Logf,
			NewModel: func(v Viewer, w, h int) tea.Model { return &standIn{v: v} },
		})
		if err != nil {
			t.Fatalf("Start: %v", err)
		}
		defer srv.Close()
		var fp string
		c, err := gossh.Dial("tcp", srv.Addr(), &gossh.ClientConfig{
			User: "alice", Auth: []gossh.AuthMethod{gossh.PublicKeys(alice.signer)}, Timeout: waitLimit,
			HostKeyCallback: func(_ string, _ net.Addr, key gossh.PublicKey) error {
				fp = fingerprint(key)
				return nil
			},
		})
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		c.Close()
		return fp
	}

	first := hostFP()
	st, err := os.Stat(want)
	if err != nil {
		t.Fatalf("host key not created at %s: %v", want, err)
	}
	if perm := st.Mode().Perm(); perm != 0o600 {
		t.Errorf("host key mode %04o, want 0600", perm)
	}
	if second := hostFP(); second != first {
		t.Errorf("host key changed across starts: %s then %s", first, second)
	}

	// A key others can read is refused, as sshd refuses it.
	if err := os.Chmod(want, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Start(context.Background(), Config{
		Addr: "127.0.0.1:0", AuthorizedKeys: keys,
		NewModel: func(v Viewer, w, h int) tea.Model { return &standIn{v: v} },
	})
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("Start with a 0644 host key: err = %v", err)
	}
}

func TestStartErrors(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "authorized_keys")
	writeKeys(t, keys, newKey(t))
	model := func(v Viewer, w, h int) tea.Model { return &standIn{v: v} }
	host := filepath.Join(dir, "host")
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no model", Config{Addr: "127.0.0.1:0", AuthorizedKeys: keys, HostKeyPath: host}, "NewModel"},
		{"missing keys", Config{Addr: "127.0.0.1:0", AuthorizedKeys: filepath.Join(dir, "nope"), HostKeyPath: host, NewModel: model}, "authorized keys"},
		{"missing controllers", Config{Addr: "127.0.0.1:0", AuthorizedKeys: keys, Controllers: filepath.Join(dir, "nope"), HostKeyPath: host, NewModel: model}, "controllers"},
		{"bad address", Config{Addr: "local host", AuthorizedKeys: keys, HostKeyPath: host, NewModel: model}, "address"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := Start(context.Background(), tc.cfg)
			if err == nil {
				srv.Close()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("err = %q, want one line mentioning %q", err, tc.want)
			}
		})
	}
}

func TestNormalizeAddr(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "127.0.0.1:2222"},
		{"2222", "127.0.0.1:2222"},
		{"127.0.0.1:0", "127.0.0.1:0"},
		{"[::1]:2222", "[::1]:2222"},
		{":2222", ":2222"}, // all interfaces, but only when asked for
		{"0.0.0.0:22", "0.0.0.0:22"},
		{"monitor-box:2222", "monitor-box:2222"},
		{"99999", ""},
		{"local host", ""},
	}
	for _, tc := range cases {
		got, err := normalizeAddr(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("normalizeAddr(%q) = %q, want error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("normalizeAddr(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestViewerDisconnectLeavesOthers(t *testing.T) {
	f := startServer(t, nil)
	ca := mustDial(t, f.srv.Addr(), "alice", f.alice)
	a := openConsole(t, ca, 80, 24)
	a.waitFor(t, "viewer=alice")
	cb := mustDial(t, f.srv.Addr(), "bob", f.bob)
	b := openConsole(t, cb, 100, 30)
	b.waitFor(t, "viewer=bob")

	// Alice drops mid-session without a goodbye: the TCP connection just goes.
	ca.Close()
	deadline := time.Now().Add(waitLimit)
	for len(f.srv.Viewers()) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("Viewers() = %q after alice dropped", f.srv.Viewers())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := f.srv.Viewers(); !strings.HasPrefix(got[0], "bob ") {
		t.Errorf("Viewers() = %q, want bob", got)
	}
	// Bob's console goes on: keys, resize.
	if _, err := b.stdin.Write([]byte("xy")); err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, "keys=[xy]")
	if err := b.sess.WindowChange(50, 150); err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, "size=150x50")
	select {
	case <-b.done:
		t.Fatal("bob's session ended")
	default:
	}
}

func TestIdleSessionsTimeOut(t *testing.T) {
	const idle = 600 * time.Millisecond
	f := startServer(t, func(c *Config) { c.IdleTimeout = idle })
	c := mustDial(t, f.srv.Addr(), "alice", f.alice)
	con := openConsole(t, c, 80, 24)
	con.waitFor(t, "BRINK TEST CONSOLE")

	// Typing keeps it open past the timeout (8 × idle/6), with a 6× margin
	// between keys for a busy machine...
	for i := range 8 {
		if _, err := con.stdin.Write([]byte{'a' + byte(i)}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(idle / 6)
	}
	con.waitFor(t, "keys=[abcdefgh]")
	// ...and silence ends it, with the reason on screen.
	con.waitEnd(t)
	con.waitFor(t, "idle for 600ms")
	if !f.log.Contains("idle for 600ms") {
		t.Errorf("idle disconnect not logged: %q", f.log.Lines())
	}
}

// serverGoroutines lists goroutines running the SSH server or a console;
// the client side (x/crypto/ssh client, the test) is not counted.
func serverGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var found []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "testing.tRunner") {
			continue
		}
		for _, mark := range []string{
			"github.com/charmbracelet/ssh.", "github.com/charmbracelet/wish",
			"github.com/charmbracelet/bubbletea.", "github.com/brink-load/brink/share.(*",
			"ssh.(*ServerConn)", "ssh.NewServerConn",
		} {
			if strings.Contains(g, mark) {
				found = append(found, g)
				break
			}
		}
	}
	return found
}

// liveServers counts the servers startServer has running.
var liveServers atomic.Int32

// noServerGoroutines fails unless the server goroutines are gone within
// grace. Close waits for every goroutine brink starts; the ssh library's
// per-session goroutine still runs its last lines (exit status on the closed
// channel) after our handler returns, hence a short grace.
func noServerGoroutines(t testing.TB, grace time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(grace); ; time.Sleep(5 * time.Millisecond) {
		g := serverGoroutines()
		if len(g) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d server goroutines %s after Close:\n%s", len(g), grace, strings.Join(g, "\n\n"))
		}
	}
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	f := startServer(t, nil)
	var cons []*console
	for _, k := range []keypair{f.alice, f.bob} {
		c := mustDial(t, f.srv.Addr(), "u", k)
		con := openConsole(t, c, 80, 24)
		con.waitFor(t, "BRINK TEST CONSOLE")
		cons = append(cons, con)
	}
	// A connection stuck before the handshake is closed too.
	raw, err := net.Dial("tcp", f.srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()

	if len(serverGoroutines()) == 0 {
		t.Fatal("serverGoroutines finds nothing while serving; the check below would be vacuous")
	}
	if err := f.srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	noServerGoroutines(t, time.Second)
	for _, con := range cons {
		con.waitEnd(t) // the clients see their sessions end
	}
	if _, err := net.Dial("tcp", f.srv.Addr()); err == nil {
		t.Error("still listening after Close")
	}
	// Whole process: back to where it was once the clients are gone too.
	raw.Close()
	for _, con := range cons {
		con.sess.Close()
	}
	deadline := time.Now().Add(waitLimit)
	for runtime.NumGoroutine() > before+2 { // +2: the test's own client conns closing
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines %d, before %d:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCloseOnContextEnd(t *testing.T) {
	dir := t.TempDir()
	alice := newKey(t)
	keys := filepath.Join(dir, "authorized_keys")
	writeKeys(t, keys, alice)
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := Start(ctx, Config{
		Addr: "127.0.0.1:0", AuthorizedKeys: keys, HostKeyPath: filepath.Join(dir, "host"), Logf: t.Logf,
		NewModel: func(v Viewer, w, h int) tea.Model { return &standIn{v: v} },
	})
	if err != nil {
		t.Fatal(err)
	}
	c := mustDial(t, srv.Addr(), "alice", alice)
	con := openConsole(t, c, 80, 24)
	con.waitFor(t, "BRINK TEST CONSOLE")
	cancel()
	con.waitEnd(t)
	if err := srv.Close(); err != nil { // after the context ended: a no-op
		t.Errorf("Close: %v", err)
	}
	noServerGoroutines(t, time.Second)
}

// TestOpenSSHClientInTmux attaches with the real OpenSSH client inside a
// real terminal (tmux), resizes it, and types into it.
func TestOpenSSHClientInTmux(t *testing.T) {
	sshBin := promtest.Binary(t, "ssh")
	tmux := promtest.Binary(t, "tmux")
	f := startServer(t, nil)
	_, port, _ := net.SplitHostPort(f.srv.Addr())

	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	idPath := filepath.Join(f.dir, "id_ed25519")
	if err := os.WriteFile(idPath, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	writeKeys(t, f.ctrlPath, keypair{signer: signer, line: string(gossh.MarshalAuthorizedKey(signer.PublicKey()))})

	sock := filepath.Join(f.dir, "tmux.sock") // a private server: never the user's tmux
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		out, err := exec.CommandContext(ctx, tmux, append([]string{"-S", sock, "-f", "/dev/null"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v: %s", args, err, out)
		}
		return string(out)
	}
	sshCmd := strings.Join([]string{sshBin, "-F", "/dev/null", "-p", port, "-i", idPath,
		"-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-t", "carol@127.0.0.1"}, " ")
	run("new-session", "-d", "-x", "120", "-y", "40", "-s", "brink", sshCmd+"; sleep 5")
	t.Cleanup(func() {
		_ = exec.Command(tmux, "-S", sock, "kill-server").Run()
	})
	capture := func(want string) {
		t.Helper()
		deadline := time.Now().Add(waitLimit)
		for {
			screen := run("capture-pane", "-p", "-t", "brink")
			if strings.Contains(screen, want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %q on screen:\n%s", want, screen)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	capture("BRINK TEST CONSOLE")
	capture("control=true")
	capture("size=120x40")
	run("resize-window", "-t", "brink", "-x", "100", "-y", "30")
	capture("size=100x30")
	run("send-keys", "-t", "brink", "z")
	capture("keys=[z]")
	run("send-keys", "-t", "brink", "q")
	// The console leaves the alternate screen; the shell line is back.
	deadline := time.Now().Add(waitLimit)
	for len(f.srv.Viewers()) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("viewer still listed after q: %q", f.srv.Viewers())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitViewers(t *testing.T, srv *Server, n int) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for len(srv.Viewers()) != n {
		if time.Now().After(deadline) {
			t.Fatalf("Viewers() = %q, want %d", srv.Viewers(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSessionClosedOnLiveConnection: a multiplexing client (OpenSSH
// ControlMaster) closes one session and keeps the connection.
func TestSessionClosedOnLiveConnection(t *testing.T) {
	f := startServer(t, nil)
	c := mustDial(t, f.srv.Addr(), "alice", f.alice)
	first := openConsole(t, c, 80, 24)
	first.waitFor(t, "BRINK TEST CONSOLE")
	waitViewers(t, f.srv, 1)
	if err := first.sess.Close(); err != nil {
		t.Fatal(err)
	}
	waitViewers(t, f.srv, 0)
	// The leave is logged just after the viewer is struck off the list.
	f.log.WaitFor(t, "alice "+fingerprint(f.alice.signer.PublicKey())+" left", waitLimit)
	second := openConsole(t, c, 90, 20)
	second.waitFor(t, "size=90x20")
}

// TestWatchWithoutInput: `ssh -t host </dev/null` half-closes stdin at once;
// the console stays up.
func TestWatchWithoutInput(t *testing.T) {
	f := startServer(t, nil)
	c := mustDial(t, f.srv.Addr(), "alice", f.alice)
	sess := newSession(t, c)
	out := &syncBuffer{}
	sess.Stdout = out // Stdin nil: the client sends EOF straight away
	if err := sess.RequestPty("xterm", 24, 80, nil); err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	con := &console{sess: sess, out: out}
	con.waitFor(t, "BRINK TEST CONSOLE")
	// Still there after the EOF, and still following the window.
	if err := sess.WindowChange(30, 100); err != nil {
		t.Fatal(err)
	}
	con.waitFor(t, "size=100x30")
	if n := len(f.srv.Viewers()); n != 1 {
		t.Errorf("Viewers() has %d, want 1", n)
	}
}

func TestUnauthenticatedConnectionsAreClosed(t *testing.T) {
	old := handshakeTimeout
	// Long enough for alice's real handshake on a busy machine under -race
	// (200 ms was not), short enough to wait out.
	handshakeTimeout = 3 * time.Second
	t.Cleanup(func() { handshakeTimeout = old })
	f := startServer(t, nil)

	// A console that authenticated in time outlives the allowance.
	c := mustDial(t, f.srv.Addr(), "alice", f.alice)
	con := openConsole(t, c, 80, 24)
	con.waitFor(t, "BRINK TEST CONSOLE")

	// A client that never gets past the version exchange is cut off.
	raw, err := net.Dial("tcp", f.srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	_ = raw.SetReadDeadline(time.Now().Add(handshakeTimeout + waitLimit))
	if _, err := io.Copy(io.Discard, raw); err != nil {
		t.Fatalf("raw connection not closed by the server: %v", err)
	}
	if !f.log.Contains("not authenticated within 3s") {
		t.Errorf("not logged: %q", f.log.Lines())
	}
	if _, err := con.stdin.Write([]byte("k")); err != nil {
		t.Fatal(err)
	}
	con.waitFor(t, "keys=[k]")
}

func TestFailingConsoleEndsOnlyItsSession(t *testing.T) {
	// Nothing may reach the process's stdout: that is the local console.
	stdout := os.Stdout
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout = w
	leaked := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(r)
		leaked <- b
	}()
	defer func() {
		os.Stdout = stdout
		w.Close()
		if b := <-leaked; len(b) > 0 {
			t.Errorf("written to the process's stdout: %q", b)
		}
	}()

	f := startServer(t, nil)
	cb := mustDial(t, f.srv.Addr(), "bob", f.bob)
	bystander := openConsole(t, cb, 80, 24)
	bystander.waitFor(t, "viewer=bob")
	cases := []struct{ key, want string }{
		{"P", "panic in Update: boom in Update at "},
		{"V", "panic in View: boom in View at "},
		{"C", "panic in a command: boom in a command at "},
		{"B", "panic in a command: boom in a batch at "},
	}
	for i, tc := range cases {
		t.Run(tc.key, func(t *testing.T) {
			c := mustDial(t, f.srv.Addr(), "alice", f.alice)
			con := openConsole(t, c, 80, 24)
			con.waitFor(t, "viewer=alice")
			if _, err := con.stdin.Write([]byte(tc.key)); err != nil {
				t.Fatal(err)
			}
			con.waitEnd(t)
			con.waitFor(t, "this console failed (boom")
			if !f.log.Contains(tc.want) || !f.log.Contains("share_test.go:") {
				t.Errorf("no %q at share_test.go in log: %q", tc.want, f.log.Lines())
			}
			key := string(rune('a' + i))
			if _, err := bystander.stdin.Write([]byte(key)); err != nil {
				t.Fatal(err)
			}
			bystander.waitFor(t, "keys=[")
			bystander.waitFor(t, key+"]")
		})
	}
}

// TestViewerRendererFollowsTheirTerminal: colours for the viewer's TERM and
// NO_COLOR, not for the local terminal's.
func TestViewerRendererFollowsTheirTerminal(t *testing.T) {
	f := startServer(t, nil)
	c := mustDial(t, f.srv.Addr(), "alice", f.alice)
	cases := []struct {
		term string
		env  map[string]string
		want termenv.Profile
	}{
		{"xterm-256color", nil, termenv.ANSI256},
		{"xterm", nil, termenv.ANSI},
		{"xterm-256color", map[string]string{"COLORTERM": "truecolor"}, termenv.TrueColor},
		{"xterm-256color", map[string]string{"NO_COLOR": "1"}, termenv.Ascii},
		{"dumb", nil, termenv.Ascii},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.term, tc.env), func(t *testing.T) {
			sess := newSession(t, c)
			for k, v := range tc.env {
				if err := sess.Setenv(k, v); err != nil {
					t.Fatal(err)
				}
			}
			out := &syncBuffer{}
			sess.Stdout = out
			if err := sess.RequestPty(tc.term, 24, 80, nil); err != nil {
				t.Fatal(err)
			}
			if err := sess.Shell(); err != nil {
				t.Fatal(err)
			}
			(&console{out: out}).waitFor(t, fmt.Sprintf("profile=%d", tc.want))
		})
	}
}

// stallingSigner offers a real public key but never signs: the server sees
// an acceptable key queried, never proven.
type stallingSigner struct {
	gossh.Signer
	release chan struct{}
}

func (s stallingSigner) Sign(r io.Reader, data []byte) (*gossh.Signature, error) {
	<-s.release
	return nil, errors.New("released")
}

func TestQueriedKeyIsNotAuthentication(t *testing.T) {
	old := handshakeTimeout
	handshakeTimeout = 200 * time.Millisecond
	t.Cleanup(func() { handshakeTimeout = old })
	f := startServer(t, nil)
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := gossh.Dial("tcp", f.srv.Addr(), &gossh.ClientConfig{
			User: "mallory", HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: waitLimit,
			Auth: []gossh.AuthMethod{gossh.PublicKeys(stallingSigner{Signer: f.alice.signer, release: release})},
		})
		done <- err
	}()
	deadline := time.Now().Add(waitLimit)
	for !f.log.Contains("not authenticated within 200ms") {
		if time.Now().After(deadline) {
			t.Fatalf("stalled handshake not closed: %q", f.log.Lines())
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	if err := <-done; err == nil {
		t.Fatal("dial succeeded without a signature")
	}
}

// TestMaxViewersUnderConcurrentArrivals: the limit holds when viewers
// arrive at once.
func TestMaxViewersUnderConcurrentArrivals(t *testing.T) {
	const max, clients = 3, 7
	f := startServer(t, func(c *Config) { c.MaxViewers = max })
	// Sessions set up one by one; their shells, where the limit is
	// applied, requested all at once.
	cons := make([]*console, clients)
	for i := range cons {
		c := mustDial(t, f.srv.Addr(), fmt.Sprintf("v%d", i), f.alice)
		sess, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sess.Close() })
		cons[i] = &console{sess: sess, out: &syncBuffer{}}
		sess.Stdout, sess.Stderr = cons[i].out, cons[i].out
		if err := sess.RequestPty("xterm", 24, 80, nil); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for _, con := range cons {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := con.sess.Shell(); err != nil {
				t.Errorf("shell: %v", err)
			}
		}()
	}
	wg.Wait()
	// Every client ends up either with a console or refused; count both.
	deadline := time.Now().Add(waitLimit)
	for {
		admitted, refused := 0, 0
		for _, con := range cons {
			out := con.out.String()
			switch {
			case strings.Contains(out, "BRINK TEST CONSOLE"):
				admitted++
			case strings.Contains(out, "too many viewers (3)"):
				refused++
			}
		}
		if admitted+refused == clients {
			if admitted != max {
				t.Fatalf("%d admitted, %d refused; want %d admitted", admitted, refused, max)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %d admitted, %d refused of %d", waitLimit, admitted, refused, clients)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(f.srv.Viewers()); n != max {
		t.Errorf("Viewers() has %d, want %d", n, max)
	}
}

// A panic in brink's own session code (here: building the console) is
// caught by wish's recover middleware: one log line, that session ends,
// the server and the other viewers go on.
func TestPanicBuildingConsoleEndsOnlyItsSession(t *testing.T) {
	f := startServer(t, func(c *Config) {
		next := c.NewModel
		c.NewModel = func(v Viewer, w, h int) tea.Model {
			if v.User == "boom" {
				panic("boom in NewModel")
			}
			return next(v, w, h)
		}
	})
	bystander := openConsole(t, mustDial(t, f.srv.Addr(), "bob", f.bob), 80, 24)
	bystander.waitFor(t, "viewer=bob")

	con := openConsole(t, mustDial(t, f.srv.Addr(), "boom", f.alice), 80, 24)
	con.waitEnd(t)
	f.log.WaitFor(t, "share: a session ended: panic in its handler: boom in NewModel at ", waitLimit)
	if !f.log.Contains("share_test.go:") || f.log.Contains("goroutine ") {
		t.Errorf("want one line naming share_test.go: %q", f.log.Lines())
	}
	waitViewers(t, f.srv, 1) // boom is not left listed
	if _, err := bystander.stdin.Write([]byte("k")); err != nil {
		t.Fatal(err)
	}
	bystander.waitFor(t, "keys=[k]")
	openConsole(t, mustDial(t, f.srv.Addr(), "alice", f.alice), 80, 24).waitFor(t, "viewer=alice")
}

// newSession opens a session on c that closes when the test ends.
func newSession(t *testing.T, c *gossh.Client) *gossh.Session {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	return sess
}

package engine

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
	"github.com/brink-load/brink/tabletest"
)

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// fullBacklog returns a loopback address whose accept queue is full and
// never drained, so a new connect hangs until it times out: a listen(2)
// backlog of 0 holds one pending connection, which we fill ourselves.
func fullBacklog(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(sa.(*syscall.SockaddrInet4).Port)
	// Fill the queue; stop once a connect no longer completes at once.
	for i := 0; i < 8; i++ {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			return addr
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Skip("cannot fill a listen backlog on this kernel (syncookies?)")
	return ""
}

func handler(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// Each error kind, produced by a real local server (or by the lack of one)
// and classified. Every run is one VU for 300 ms.
func TestErrorKinds(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, g *scenarios.Group)
		opts  Options
		want  measure.ErrorKind
	}{
		{"dns", func(t *testing.T, g *scenarios.Group) { setURL(g, "http://brink-test.invalid/") }, Options{}, measure.ErrDNS},
		{"refused", func(t *testing.T, g *scenarios.Group) { setURL(g, "http://"+closedPort(t)+"/") }, Options{}, measure.ErrRefused},
		{"connect_timeout", func(t *testing.T, g *scenarios.Group) { setURL(g, "http://"+fullBacklog(t)+"/") },
			Options{DialTimeout: 100 * time.Millisecond}, measure.ErrConnectTimeout},
		{"timeout", func(t *testing.T, g *scenarios.Group) {
			done := make(chan struct{})
			setURL(g, handler(t, func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-done:
				case <-time.After(2 * time.Second):
				}
			}))
			t.Cleanup(func() { close(done) }) // runs before the server's Close
			g.Timeout = 50 * time.Millisecond
		}, Options{}, measure.ErrTimeout},
		{"reset", func(t *testing.T, g *scenarios.Group) {
			setURL(g, handler(t, func(w http.ResponseWriter, r *http.Request) {
				c, _, err := w.(http.Hijacker).Hijack()
				if err != nil {
					return
				}
				c.(*net.TCPConn).SetLinger(0) // close sends RST
				c.Close()
			}))
		}, Options{}, measure.ErrReset},
		{"tls", func(t *testing.T, g *scenarios.Group) {
			u := handler(t, func(w http.ResponseWriter, r *http.Request) {})
			setURL(g, "https://"+u[len("http://"):])
		}, Options{}, measure.ErrTLS},
		{"tls_untrusted", func(t *testing.T, g *scenarios.Group) {
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			t.Cleanup(srv.Close)
			setURL(g, srv.URL)
		}, Options{}, measure.ErrTLS},
		{"status_4xx", func(t *testing.T, g *scenarios.Group) {
			setURL(g, handler(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(404) }))
		}, Options{}, measure.ErrStatus4xx},
		{"status_5xx", func(t *testing.T, g *scenarios.Group) {
			setURL(g, handler(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
		}, Options{}, measure.ErrStatus5xx},
		{"check_failed_status", func(t *testing.T, g *scenarios.Group) {
			setURL(g, handler(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
			g.Requests[0].Check = &scenarios.Check{Status: []int{200}}
		}, Options{}, measure.ErrCheckFailed},
		{"check_failed_body", func(t *testing.T, g *scenarios.Group) {
			setURL(g, handler(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hay")) }))
			g.Requests[0].Check = &scenarios.Check{BodyContains: "needle"}
		}, Options{}, measure.ErrCheckFailed},
		{"ws_closed", func(t *testing.T, g *scenarios.Group) {
			u := handler(t, func(w http.ResponseWriter, r *http.Request) {
				c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
				if err != nil {
					return
				}
				time.Sleep(20 * time.Millisecond)
				c.Close()
			})
			g.Requests = nil
			g.WebSocket = &scenarios.WebSocket{URL: scenarios.MustTemplate("ws" + u[len("http"):]), Every: time.Second}
		}, Options{}, measure.ErrWSClosed},
	}
	for _, c := range cases {
		for _, h2 := range []bool{false, true} {
			name := c.name
			if h2 {
				if c.want == measure.ErrWSClosed {
					continue
				}
				name += "/net_http" // the same errors through the http2: true client
			}
			t.Run(name, func(t *testing.T) {
				g := constVUs(get(c.name, "http://127.0.0.1:1/"), 1, 300*time.Millisecond)
				g.Think = scenarios.Think{Min: 20 * time.Millisecond, Max: 20 * time.Millisecond}
				g.HTTP2 = h2
				c.setup(t, &g)
				_, tk := run(t, scenario(time.Second, g), c.opts, 10*time.Second)
				s := tk.sum()
				if s.Errors[c.want] == 0 {
					t.Fatalf("no %s errors; got %v", c.want, s.Errors)
				}
				for k, n := range s.Errors {
					if k != c.want {
						t.Errorf("also %d %s errors (want only %s)", n, k, c.want)
					}
				}
				// HTTP failures are ErrorCount; WebSocket ones ws_failed.
				failed := s.ErrorCount
				if c.want == measure.ErrWSClosed {
					failed = s.WS.Failed
				}
				if failed != s.Errors[c.want] {
					t.Errorf("error count %d, ws failed %d vs %d", s.ErrorCount, s.WS.Failed, s.Errors[c.want])
				}
			})
		}
	}
}

func setURL(g *scenarios.Group, u string) { g.Requests[0].URL = scenarios.MustTemplate(u) }

func TestClassifyTable(t *testing.T) {
	tabletest.Run(t, "classify", classify, []struct {
		In   error
		Want kind
	}{
		{nil, kindNone},
		{&net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}, kindDNS},
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, kindRefused},
		{&dialError{&net.OpError{Op: "dial", Err: timeoutErr{}}}, kindConnectTimeout},
		{&net.OpError{Op: "read", Err: timeoutErr{}}, kindTimeout},
		{&net.OpError{Op: "read", Err: syscall.ECONNRESET}, kindReset},
		{&websocket.CloseError{Code: 1006}, kindWSClosed},
	})
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestSplitURL(t *testing.T) {
	cases := []struct {
		url, key, addr string
		tls, bad       bool
	}{
		{url: "http://127.0.0.1:8080/a?b", key: "http://127.0.0.1:8080", addr: "127.0.0.1:8080"},
		{url: "https://example.test/x", key: "https://example.test", addr: "example.test:443", tls: true},
		{url: "http://example.test?q=1", key: "http://example.test", addr: "example.test:80"},
		{url: "http://[::1]:9000/", key: "http://[::1]:9000", addr: "[::1]:9000"},
		{url: "http://[::1]/", key: "http://[::1]", addr: "[::1]:80"},
		{url: "http://bob:pw@127.0.0.1:8080/a", key: "http://bob:pw@127.0.0.1:8080", addr: "127.0.0.1:8080"},
		{url: "ftp://example.test/", bad: true},
		{url: "http:///path", bad: true},
	}
	for _, c := range cases {
		key, isTLS, err := splitURL([]byte(c.url))
		if c.bad {
			if err == nil {
				t.Errorf("%s: want an error", c.url)
			}
			continue
		}
		if err != nil || string(key) != c.key || isTLS != c.tls || hostAddr(string(key), isTLS) != c.addr {
			t.Errorf("%s: key %q tls %v addr %q err %v", c.url, key, isTLS, hostAddr(string(key), isTLS), err)
		}
	}
}

// splitURL sees every rendered URL (templates can produce anything): it
// must never panic, and a key it returns is a prefix with a host.
func FuzzSplitURL(f *testing.F) {
	for _, s := range []string{"http://a/b", "https://[::1]:8443/x?y#z", "http://", "https://h?q", "ftp://x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, u string) {
		key, isTLS, err := splitURL([]byte(u))
		if err != nil {
			return
		}
		if len(key) > len(u) || u[:len(key)] != string(key) {
			t.Fatalf("key %q is not a prefix of %q", key, u)
		}
		if addr := hostAddr(string(key), isTLS); addr == "" {
			t.Fatalf("no address for %q", u)
		}
	})
}

package engine

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
	"github.com/brink-load/brink/tabletest"
)

// rawAnswer serves every request with the same raw bytes and closes.
func rawAnswer(t *testing.T, raw string) string {
	srv := newFaultServer(t, func(c net.Conn, _ *http.Request, _ []byte, _ int) bool {
		io.WriteString(c, raw)
		return false
	})
	return srv.URL
}

// Every failure a target can cause reaches the Tick with a message that
// says what went wrong — what was malformed, which certificate problem,
// which status and body, which check — on both clients, from real
// listeners; brink keeps going and counts each one.
func TestFailureMessages(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, g *scenarios.Group)
		kind  measure.ErrorKind
		want  []string // substrings of the message, for fasthttp and net/http
	}{
		{"garbage_status_line", func(t *testing.T, g *scenarios.Group) {
			setURL(g, rawAnswer(t, "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n"))
		}, measure.ErrOther, []string{`malformed response headers: invalid response status code "2x0"`, `malformed HTTP status code "2x0"`}},
		{"not_http", func(t *testing.T, g *scenarios.Group) {
			setURL(g, rawAnswer(t, "SSH-2.0-OpenSSH_9.6\r\n\r\n"))
		}, measure.ErrOther, []string{`malformed response headers: cannot find whitespace in the first line of response "SSH-2.0-OpenSSH_9.6`, `malformed HTTP response "SSH-2.0-OpenSSH_9.6"`}},
		{"bad_content_length", func(t *testing.T, g *scenarios.Group) {
			setURL(g, rawAnswer(t, "HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n"))
		}, measure.ErrOther, []string{"malformed response headers: cannot parse content-length", `bad Content-Length "12abc"`}},
		{"content_length_past_int64", func(t *testing.T, g *scenarios.Group) {
			setURL(g, rawAnswer(t, "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n"))
		}, measure.ErrOther, []string{"malformed response headers: cannot parse content-length", `bad Content-Length "99999999999999999999"`}},
		{"chunk_size_past_int64", func(t *testing.T, g *scenarios.Group) {
			setURL(g, rawAnswer(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nxx\r\n0\r\n\r\n"))
		}, measure.ErrOther, []string{"malformed chunked body: bad chunk size", "chunk"}},
		{"broken_chunk", func(t *testing.T, g *scenarios.Group) {
			setURL(g, rawAnswer(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n0\r\n\r\n"))
		}, measure.ErrOther, []string{"malformed chunked body: bad chunk size", "invalid byte in chunk length"}},
		{"status_503_body", func(t *testing.T, g *scenarios.Group) {
			setURL(g, handler(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(503)
				io.WriteString(w, "upstream timed out\x1b[2J (110: Connection timed out)\n")
			}))
		}, measure.ErrStatus5xx, []string{"HTTP 503 Service Unavailable: upstream timed out (110: Connection timed out)"}},
		{"check_status", func(t *testing.T, g *scenarios.Group) {
			setURL(g, handler(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
			g.Requests[0].Check = &scenarios.Check{Status: []int{200, 201}}
		}, measure.ErrCheckFailed, []string{"check: status 204, want 200 or 201"}},
		{"check_body", func(t *testing.T, g *scenarios.Group) {
			setURL(g, handler(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hay") }))
			g.Requests[0].Check = &scenarios.Check{BodyContains: "needle"}
		}, measure.ErrCheckFailed, []string{`check: body does not contain "needle"`}},
		{"refused", func(t *testing.T, g *scenarios.Group) {
			setURL(g, "http://"+closedPort(t)+"/")
		}, measure.ErrRefused, []string{"dial: connect: connection refused"}},
		{"untrusted_certificate", func(t *testing.T, g *scenarios.Group) {
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			srv.Config.ErrorLog = quietLog()
			t.Cleanup(srv.Close)
			setURL(g, srv.URL)
		}, measure.ErrTLS, []string{"certificate signed by unknown authority"}},
		{"plain_http_on_https", func(t *testing.T, g *scenarios.Group) {
			u := handler(t, func(w http.ResponseWriter, r *http.Request) {})
			setURL(g, "https://"+u[len("http://"):])
		}, measure.ErrTLS, []string{"tls: ", "HTTP response to HTTPS client"}},
		{"timeout", func(t *testing.T, g *scenarios.Group) {
			done := make(chan struct{})
			srv := newFaultServer(t, func(c net.Conn, _ *http.Request, _ []byte, _ int) bool {
				<-done // answer nothing until the test ends
				return false
			})
			t.Cleanup(func() { close(done) }) // runs before the server's cleanup
			setURL(g, srv.URL)
			g.Timeout = 100 * time.Millisecond
		}, measure.ErrTimeout, []string{"no complete response within the timeout 100ms (read: i/o timeout)", "no complete response within the timeout 100ms (context deadline exceeded"}},
		{"reset", func(t *testing.T, g *scenarios.Group) {
			srv := newFaultServer(t, func(c net.Conn, _ *http.Request, _ []byte, _ int) bool {
				c.(*net.TCPConn).SetLinger(0) // close sends RST
				return false
			})
			setURL(g, srv.URL)
		}, measure.ErrReset, []string{"read: connection reset by peer"}},
		{"closed_without_answer", func(t *testing.T, g *scenarios.Group) {
			setURL(g, rawAnswer(t, ""))
		}, measure.ErrReset, []string{"connection closed by the server without a response (EOF)"}},
		{"body_too_large", func(t *testing.T, g *scenarios.Group) {
			setURL(g, rawAnswer(t, "HTTP/1.1 200 OK\r\nContent-Length: 68719476736\r\n\r\n"))
		}, measure.ErrBodyTooLarge, []string{"response body of 68719476736 bytes (Content-Length) is over max_body 4MiB"}},
	}
	for _, c := range cases {
		eachClient(t, c.name, func(t *testing.T, h2 bool) {
			g := constVUs(get(c.name, "http://127.0.0.1:1/"), 1, 300*time.Millisecond)
			g.Think = scenarios.Think{Min: 20 * time.Millisecond, Max: 20 * time.Millisecond}
			g.HTTP2 = h2
			c.setup(t, &g)
			_, tk := run(t, scenario(time.Hour, g), Options{}, 10*time.Second)
			all := tk.All()
			last := all[len(all)-1]
			s := tk.sum()
			if s.Requests < 1 || s.Errors[c.kind] != s.Requests {
				t.Fatalf("%d requests, errors %v: want every one %s", s.Requests, s.Errors, c.kind)
			}
			if len(last.Failures) != 1 {
				t.Fatalf("failures %+v, want one row", last.Failures)
			}
			f := last.Failures[0]
			want := c.want[0] // fasthttp's words, then net/http's when they differ
			if h2 {
				want = c.want[len(c.want)-1]
			}
			t.Logf("%s: %q", f.Kind, f.Message)
			if f.Kind != c.kind || f.Count != s.Requests || f.Group != c.name || f.Endpoint != c.name {
				t.Errorf("row %+v: want kind %s, count %d", f, c.kind, s.Requests)
			}
			if !strings.Contains(f.Message, want) {
				t.Errorf("message %q does not say %q", f.Message, want)
			}
			if strings.ContainsAny(f.Message, "\x1b\r\n") || strings.Contains(f.Message, "127.0.0.1") {
				t.Errorf("message %q carries control characters or an address", f.Message)
			}
		})
	}
}

func quietLog() *log.Logger { return log.New(io.Discard, "", 0) }

// errText on errors the listeners above cannot easily produce: a trusted
// certificate for another host, an expired one, a DNS failure, a URL.
func TestErrTextNamesNoAddress(t *testing.T) {
	cert := &x509.Certificate{DNSNames: []string{"shop.example"}}
	tabletest.Run(t, "errText", errText, []struct {
		In   error
		Want string
	}{
		{x509.HostnameError{Certificate: cert, Host: "10.1.2.3"}, "tls: certificate is not valid for the target host (it is for shop.example)"},
		{x509.CertificateInvalidError{Cert: cert, Reason: x509.Expired, Detail: "current time 2026 is after 2025"},
			"x509: certificate has expired or is not yet valid: current time 2026 is after 2025"},
		{&dialError{&net.DNSError{Err: "no such host", Name: "secret.internal", IsNotFound: true}}, "dns lookup: no such host"},
		{&url.Error{Op: "Get", URL: "http://secret.internal/?token=s3cret", Err: &net.OpError{Op: "read", Net: "tcp",
			Addr: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 80}, Err: syscall.ECONNRESET}}, "read: connection reset by peer"},
		{&net.AddrError{Err: "too many colons in address", Addr: "bob:hunter2@10.0.0.1:80"}, "bad address: too many colons in address"},
		{fmt.Errorf("wrapped: %w", errors.New("plain")), "wrapped: plain"},
	})
}

// A dropped arrival is a group-level row that says why.
func TestFailureDropped(t *testing.T) {
	u := slowServer(t, 50*time.Millisecond)
	g := constRate(get("drops", u), 200, 300*time.Millisecond, 1)
	_, tk := run(t, scenario(time.Hour, g), Options{}, 10*time.Second)
	s := tk.sum()
	all := tk.All()
	var row *measure.Failure
	for i, f := range all[len(all)-1].Failures {
		if f.Kind == measure.ErrDropped {
			row = &all[len(all)-1].Failures[i]
		}
	}
	if s.Dropped == 0 || row == nil {
		t.Fatalf("%d dropped, failures %+v", s.Dropped, all[len(all)-1].Failures)
	}
	if row.Count != s.Dropped || row.Group != "drops" || row.Endpoint != "" ||
		row.Message != "arrival dropped: all 1 VUs (max_vus) busy at its start time" {
		t.Errorf("row %+v, want %d dropped", *row, s.Dropped)
	}
}

package engine

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
)

// faultServer is a raw HTTP/1.1 listener for hostile answers. For each
// request it calls answer with the parsed request (its body read) and its
// number on the connection (0 = first); answer writes whatever it likes
// to c and says whether to keep serving the connection. Every connection
// is closed at cleanup, so no goroutine outlives the test.
type faultServer struct {
	URL      string
	requests atomic.Int64
	mu       sync.Mutex
	conns    map[net.Conn]bool
	wg       sync.WaitGroup
}

func newFaultServer(t *testing.T, answer func(c net.Conn, r *http.Request, body []byte, nth int) (keep bool)) *faultServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &faultServer{URL: "http://" + l.Addr().String(), conns: map[net.Conn]bool{}}
	t.Cleanup(func() {
		l.Close()
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[c] = true
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				br := bufio.NewReader(c)
				for nth := 0; ; nth++ {
					r, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					body, err := io.ReadAll(r.Body)
					if err != nil {
						return
					}
					s.requests.Add(1)
					if !answer(c, r, body, nth) {
						return
					}
				}
			}()
		}
	}()
	return s
}

// writeUpTo writes head, then filler bytes up to n in all (bounded: the
// client closing the connection ends it early).
func writeUpTo(c net.Conn, head string, n int) {
	if _, err := io.WriteString(c, head); err != nil {
		return
	}
	chunk := bytes.Repeat([]byte("x"), 16<<10)
	for sent := 0; sent < n; sent += len(chunk) {
		if _, err := c.Write(chunk); err != nil {
			return
		}
	}
}

// peakRSS is the process's peak resident set (VmHWM) in KiB, or 0 where
// /proc is missing.
func peakRSS() int64 { return procStatusKiB("VmHWM") }

// A response that claims a huge body (Content-Length 64 GiB or 2^48, a
// chunk of 0xfffffffff bytes) or simply sends more than max_body is an
// error of its own kind, on both clients: nothing near that size is
// allocated, the connection is dropped, and the VU goes on to its next
// request. Before max_body the first two killed brink (out of memory)
// and the third panicked.
func TestBodyTooLarge(t *testing.T) {
	const limit = 64 << 10
	cases := []struct {
		name string
		head string
		send int // bytes of body actually sent (the client stops reading sooner)
	}{
		{"content_length_64GiB", "HTTP/1.1 200 OK\r\nContent-Length: 68719476736\r\n\r\n", 1 << 20},
		{"content_length_2^48", "HTTP/1.1 200 OK\r\nContent-Length: 281474976710656\r\n\r\n", 1 << 20},
		{"chunk_fffffffff", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffff\r\n", 1 << 20},
		{"content_length_over_limit", "HTTP/1.1 200 OK\r\nContent-Length: 65537\r\n\r\n", 65537},
		{"chunks_add_up_over_limit", "", 0}, // built below: many small chunks
		{"until_close_over_limit", "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", 1 << 20},
	}
	for _, c := range cases {
		eachClient(t, c.name, func(t *testing.T, h2 bool) {
			srv := newFaultServer(t, func(conn net.Conn, _ *http.Request, _ []byte, _ int) bool {
				if c.head == "" {
					io.WriteString(conn, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
					chunk := "1000\r\n" + strings.Repeat("y", 0x1000) + "\r\n"
					for range 2 * limit / 0x1000 {
						if _, err := io.WriteString(conn, chunk); err != nil {
							return false
						}
					}
					io.WriteString(conn, "0\r\n\r\n")
					return true
				}
				writeUpTo(conn, c.head, c.send)
				return false
			})
			// Long enough for a second request even on a loaded machine.
			g := constVUs(get(c.name, srv.URL+"/"), 1, 600*time.Millisecond)
			g.Think = scenarios.Think{Min: 20 * time.Millisecond, Max: 20 * time.Millisecond}
			g.HTTP2 = h2
			g.MaxBody = limit
			_, tk := run(t, scenario(time.Second, g), Options{}, 10*time.Second)
			s := tk.sum()
			if s.Requests < 2 {
				t.Fatalf("%d requests: the VU did not go on after the first", s.Requests)
			}
			if s.Errors[measure.ErrBodyTooLarge] != s.Requests || s.ErrorCount != s.Requests {
				t.Fatalf("%d requests, errors %v: want every one body_too_large", s.Requests, s.Errors)
			}
			if n := srv.requests.Load(); n != s.Requests {
				t.Errorf("server saw %d requests, brink counted %d", n, s.Requests)
			}
		})
	}
}

// A body of exactly max_body is read and judged as usual.
func TestBodyAtLimit(t *testing.T) {
	const limit = 4 << 10
	for _, h2 := range []bool{false, true} {
		srv := newFaultServer(t, func(conn net.Conn, _ *http.Request, _ []byte, _ int) bool {
			_, err := io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n"+strings.Repeat("z", limit-6)+"needle")
			return err == nil
		})
		g := constVUs(get("at_limit", srv.URL+"/"), 1, 200*time.Millisecond)
		g.Think = scenarios.Think{Min: 20 * time.Millisecond, Max: 20 * time.Millisecond}
		g.HTTP2 = h2
		g.MaxBody = limit
		g.Requests[0].Check = &scenarios.Check{BodyContains: "needle"}
		_, tk := run(t, scenario(time.Second, g), Options{}, 10*time.Second)
		s := tk.sum()
		if s.Requests == 0 || s.ErrorCount != 0 || s.ChecksPassed != s.Requests {
			t.Fatalf("http2=%v: %d requests, %d checks passed, errors %v", h2, s.Requests, s.ChecksPassed, s.Errors)
		}
	}
}

// The default max_body (4 MiB) against the two answers that used to kill
// brink, with peak RSS logged for the record: the limit is checked before
// anything is allocated, so the peak stays far below the claimed sizes.
func TestHugeBodyPeakRSS(t *testing.T) {
	heads := []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 68719476736\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffff\r\n",
	}
	before := peakRSS()
	for _, head := range heads {
		for _, h2 := range []bool{false, true} {
			srv := newFaultServer(t, func(conn net.Conn, _ *http.Request, _ []byte, _ int) bool {
				writeUpTo(conn, head, 6<<20) // past the 4 MiB default for the reader that counts
				return false
			})
			g := constVUs(get("huge", srv.URL+"/"), 4, 300*time.Millisecond)
			g.HTTP2 = h2
			_, tk := run(t, scenario(time.Second, g), Options{}, 20*time.Second)
			s := tk.sum()
			if s.Requests == 0 || s.Errors[measure.ErrBodyTooLarge] != s.Requests {
				t.Fatalf("%q http2=%v: %d requests, errors %v", head, h2, s.Requests, s.Errors)
			}
		}
	}
	t.Logf("peak RSS (VmHWM): %d KiB before, %d KiB after 4 VUs × 4 huge-body answers", before, peakRSS())
}

// A server that closes a keep-alive connection after reading a request on
// it (every request but a connection's first): a POST it read must never
// arrive twice — brink counts it as failed instead — while a GET is
// retried once on a fresh connection and succeeds. Both clients.
func TestNoReplayOfUnsafeRequests(t *testing.T) {
	for _, method := range []string{"POST", "GET"} {
		for _, h2 := range []bool{false, true} {
			name := method
			if h2 {
				name += "/net_http"
			}
			t.Run(name, func(t *testing.T) {
				var mu sync.Mutex
				seen := map[string]int{}
				var closes atomic.Int64
				srv := newFaultServer(t, func(c net.Conn, r *http.Request, body []byte, nth int) bool {
					id := r.URL.Query().Get("id")
					mu.Lock()
					seen[id]++
					mu.Unlock()
					if nth > 0 {
						closes.Add(1)
						return false // read it, then close without a word
					}
					_, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
					return err == nil
				})
				g := constVUs(get(name, srv.URL+"/?id={{vu}}-{{iter}}"), 2, 400*time.Millisecond)
				g.Requests[0].Method = method
				if method == "POST" {
					g.Requests[0].Body = scenarios.MustTemplate("{{vu}}-{{iter}}")
				}
				g.Think = scenarios.Think{Min: 10 * time.Millisecond, Max: 10 * time.Millisecond}
				g.HTTP2 = h2
				_, tk := run(t, scenario(time.Second, g), Options{}, 10*time.Second)
				s := tk.sum()
				mu.Lock()
				defer mu.Unlock()
				twice := 0
				for id, n := range seen {
					if n > 1 {
						twice++
						if method == "POST" {
							t.Errorf("POST %s arrived %d times", id, n)
						}
					}
				}
				if s.Requests < 4 || closes.Load() == 0 {
					t.Fatalf("%d requests, %d closes: the fault never happened", s.Requests, closes.Load())
				}
				switch method {
				case "POST":
					// Each POST arrived once; those the server closed on
					// are the errors, as resets.
					if int64(len(seen)) != s.Requests || srv.requests.Load() != s.Requests {
						t.Errorf("server saw %d requests (%d distinct), brink counted %d", srv.requests.Load(), len(seen), s.Requests)
					}
					if s.ErrorCount != closes.Load() || s.Errors[measure.ErrReset] != closes.Load() {
						t.Errorf("%d closes, errors %v", closes.Load(), s.Errors)
					}
					if !h2 { // net/http says "connection closed by the server without a response (EOF)"
						for _, x := range tk.All() {
							for _, f := range x.Failures {
								if !strings.HasPrefix(f.Message, "server closed the keep-alive connection after the POST was sent (not resent") {
									t.Errorf("failure %+v does not say why", f)
								}
							}
						}
					}
				case "GET":
					// Each GET the server dropped was resent once and
					// answered on a fresh connection.
					if s.ErrorCount != 0 || int64(twice) != closes.Load() || int64(len(seen)) != s.Requests {
						t.Errorf("%d requests, %d distinct at the server, %d twice, %d closes, errors %v",
							s.Requests, len(seen), twice, closes.Load(), s.Errors)
					}
				}
			})
		}
	}
}

// peerGone sees a close the server sent while the connection sat idle,
// and unsolicited bytes on plain HTTP, so a POST is not written into a
// connection already gone. Polled (bounded): the FIN takes a moment.
func TestPeerGone(t *testing.T) {
	for _, mode := range []string{"close", "goodbye"} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		accepted := make(chan net.Conn, 1)
		go func() {
			c, err := l.Accept()
			if err == nil {
				accepted <- c
			}
		}()
		g := constVUs(get("x", "http://"+l.Addr().String()+"/"), 1, time.Second)
		e, err := New(scenario(time.Second, g), Options{})
		if err != nil {
			t.Fatal(err)
		}
		e.vuCtx = context.Background()
		v := e.newVU(e.groups[0], 0)
		h, err := v.fastConn([]byte("http://" + l.Addr().String() + "/"))
		if err != nil {
			t.Fatal(err)
		}
		if err := h.connect(v, time.Now().Add(5*time.Second)); err != nil {
			t.Fatal(err)
		}
		srvConn := <-accepted
		l.Close()
		if h.peerGone() {
			t.Fatalf("%s: gone before the server did anything", mode)
		}
		if mode == "close" {
			srvConn.Close()
		} else {
			io.WriteString(srvConn, "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n")
			defer srvConn.Close()
		}
		deadline := time.Now().Add(5 * time.Second)
		for !h.peerGone() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not seen in 5 s", mode)
			}
			time.Sleep(5 * time.Millisecond)
		}
		h.close()
	}
}

// Big response headers (cookies, CSP) are read on both clients — the
// fasthttp path grows its reader past 4 KiB — up to 1 MiB; past it the
// response is an error that says so, and the VU goes on.
func TestBigResponseHeaders(t *testing.T) {
	for _, size := range []int{8 << 10, 300 << 10, 2 << 20} {
		for _, h2 := range []bool{false, true} {
			t.Run(fmt.Sprintf("%dKiB/http2=%v", size>>10, h2), func(t *testing.T) {
				u := handler(t, func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("X-Big", strings.Repeat("a", size))
					io.WriteString(w, "needle")
				})
				g := constVUs(get("big", u), 1, 400*time.Millisecond)
				g.HTTP2 = h2
				g.Think = scenarios.Think{Min: 10 * time.Millisecond, Max: 10 * time.Millisecond}
				g.Requests[0].Check = &scenarios.Check{BodyContains: "needle"}
				_, tk := run(t, scenario(time.Hour, g), Options{}, 10*time.Second)
				s := tk.sum()
				if s.Requests < 1 {
					t.Fatal("no requests")
				}
				if size < maxHeaderBytes {
					if s.ErrorCount != 0 || s.ChecksPassed != s.Requests {
						t.Fatalf("%d requests, errors %v", s.Requests, s.Errors)
					}
					return
				}
				all := tk.All()
				fs := all[len(all)-1].Failures
				if s.Errors[measure.ErrOther] != s.Requests || len(fs) != 1 {
					t.Fatalf("%d requests, errors %v, failures %+v", s.Requests, s.Errors, fs)
				}
				t.Logf("%q", fs[0].Message)
				if !strings.Contains(fs[0].Message, "header") {
					t.Errorf("message %q does not say the headers were too large", fs[0].Message)
				}
			})
		}
	}
}

package engine

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/brink-load/brink/engine/wstest"
	"github.com/brink-load/brink/scenarios"
	"github.com/brink-load/brink/testout"
)

// A url's user:password@ is the request's basic auth, on both clients
// (fasthttp's path took it for part of the address: every request failed
// with the password in its message), unless the scenario sets its own
// Authorization.
func TestURLUserinfo(t *testing.T) {
	var seen testout.List[string]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(r.Host + " " + r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	u := strings.Replace(srv.URL, "http://", "http://bob:hunter%402@", 1)
	for _, c := range []struct {
		name, header, want string
	}{
		{"from_url", "", "Basic " + base64.StdEncoding.EncodeToString([]byte("bob:hunter@2"))},
		{"header_wins", "Bearer t0k", "Bearer t0k"},
	} {
		eachClient(t, c.name, func(t *testing.T, h2 bool) {
			seen.Reset()
			g := constVUs(get("basic", u+"/x"), 1, 200*time.Millisecond)
			g.Think = scenarios.Think{Min: 20 * time.Millisecond, Max: 20 * time.Millisecond}
			g.HTTP2 = h2
			if c.header != "" {
				g.Requests[0].Headers = []scenarios.Header{{Name: "Authorization", Value: scenarios.MustTemplate(c.header)}}
			}
			_, tk := run(t, scenario(time.Hour, g), Options{}, 10*time.Second)
			s := tk.sum()
			got := seen.All()
			if s.Requests == 0 || s.ErrorCount != 0 || int64(len(got)) != s.Requests {
				t.Fatalf("%d requests, errors %v, %d at the server", s.Requests, s.Errors, len(got))
			}
			if want := strings.TrimPrefix(srv.URL, "http://") + " " + c.want; got[0] != want {
				t.Errorf("server saw %q, want %q", got[0], want)
			}
		})
	}
}

// A constant request (static url, headers and body) goes out as the bytes
// of its first sending every time after, byte for byte; its method still
// rules the exchange (a HEAD's answer has no body to read). A VU with a
// cookie to send builds its request each time (its Cookie header changes).
func TestConstantRequestBytes(t *testing.T) {
	for _, method := range []string{"POST", "HEAD", "GET-jar"} {
		t.Run(method, func(t *testing.T) {
			var seen testout.List[string]
			u := wstest.ListenTCP(t, func(c net.Conn) {
				defer c.Close()
				var raw bytes.Buffer // the bytes as sent: one request at a time
				br := bufio.NewReader(io.TeeReader(c, &raw))
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					seen.Add(raw.String())
					raw.Reset()
					if _, err := c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n")); err != nil {
						return
					}
					if req.Method != "HEAD" {
						_, _ = c.Write([]byte("ok"))
					}
				}
			})
			g := constVUs(get("const", "http://bob:pw@"+u+"/x?a=1"), 1, time.Second)
			r := &g.Requests[0]
			r.Method, r.Headers = strings.TrimSuffix(method, "-jar"), []scenarios.Header{{Name: "X-Api", Value: scenarios.MustTemplate("v1")}}
			if method == "POST" {
				r.Body = scenarios.MustTemplate(`{"a":1}`)
			}
			if method == "HEAD" {
				g.Cookies = new(bool) // no jar at all
			}
			e, v := soloVU(t, scenario(time.Hour, g))
			stop := v.setup()
			defer v.teardown(stop)
			if method == "GET-jar" {
				v.jar.store(jarCookie{name: "s", value: "1"}, "127.0.0.1", "/", false)
			}
			for range 3 {
				v.iterate(time.Time{})
			}
			if got := e.eps[0].wire.Load() != nil; got != (method != "GET-jar") {
				t.Errorf("wire bytes kept: %v", got)
			}
			tk := e.collect(newMerger(e), e.start, time.Now())
			all := seen.All()
			if tk.Requests != 3 || tk.ErrorCount != 0 || len(all) != 3 {
				t.Fatalf("requests %d errors %v, %d at the server", tk.Requests, tk.Errors, len(all))
			}
			for _, want := range []string{r.Method + " /x?a=1 HTTP/1.1\r\n", "Host: " + u, "X-Api: v1", "Authorization: Basic "} {
				if !strings.Contains(all[0], want) {
					t.Errorf("request lacks %q:\n%s", want, all[0])
				}
			}
			if method == "POST" && !strings.HasSuffix(all[0], `{"a":1}`) {
				t.Errorf("body lost:\n%s", all[0])
			}
			if method == "GET-jar" && !strings.Contains(all[0], "Cookie: s=1") {
				t.Errorf("cookie lost:\n%s", all[0])
			}
			for i, s := range all[1:] {
				if s != all[0] {
					t.Errorf("request %d:\n%s\nwant as the first:\n%s", i+2, s, all[0])
				}
			}
		})
	}
}

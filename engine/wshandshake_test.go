package engine

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brink-load/brink/engine/wstest"
	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
	"github.com/brink-load/brink/testout"
	"github.com/gorilla/websocket"
)

// A server that checks Origin and a subprotocol, as one in front of
// browsers does, refuses brink's handshakes without them (403, each a
// ws_failed status_4xx) and accepts them with headers: {Origin} and
// subprotocols: then sessions open, replies come, nothing fails. Without
// an Origin of its own, brink sends the url's (a browser always sends one).
func TestWebSocketLikeABrowser(t *testing.T) {
	const origin = "https://app.example"
	var seen testout.List[http.Header] // the headers of each handshake the server saw
	u := wstest.Browser(t, origin, "chat.v2", seen.Add)

	t.Run("refused without", func(t *testing.T) {
		g := wsGroupTo(u, 2, 300*time.Millisecond, time.Second)
		_, tk := run(t, scenario(time.Hour, g), Options{}, 10*time.Second)
		s := tk.sum()
		if s.WS.Opened != 0 || s.WS.Sessions == 0 || s.WS.Errors[measure.ErrStatus4xx] != s.WS.Sessions {
			t.Fatalf("opened %d, sessions %d, errors %v: want every handshake refused 403", s.WS.Opened, s.WS.Sessions, s.WS.Errors)
		}
		checkWSFailureRows(t, tk.All(), measure.ErrStatus4xx, "handshake refused: HTTP 403 Forbidden: origin not allowed")
		want := "http://" + strings.TrimPrefix(u, "ws://")
		for _, h := range seen.All() {
			if h.Get("Origin") != want || h.Get("Sec-WebSocket-Protocol") != "" {
				t.Fatalf("handshake with Origin %q and subprotocols %q, want the url's origin %q and none", h.Get("Origin"), h.Get("Sec-WebSocket-Protocol"), want)
			}
		}
	})

	t.Run("accepted with", func(t *testing.T) {
		seen.Reset()
		g := wsGroupTo(u, 2, 300*time.Millisecond, time.Second)
		g.WebSocket.Headers = []scenarios.Header{{Name: "Origin", Value: scenarios.MustTemplate(origin)},
			{Name: "X-Client", Value: scenarios.MustTemplate("brink-{{vu}}")}}
		g.WebSocket.Subprotocols = []string{"chat.v1", "chat.v2"}
		_, tk := run(t, scenario(time.Hour, g), Options{}, 10*time.Second)
		s := tk.sum()
		if s.WS.Opened < 2 || s.WS.Failed != 0 || s.WS.Received == 0 {
			t.Fatalf("opened %d, failed %d (%v), received %d: want sessions open and replies", s.WS.Opened, s.WS.Failed, s.WS.Errors, s.WS.Received)
		}
		hs := seen.All()
		if len(hs) == 0 {
			t.Fatal("the server saw no handshake")
		}
		for _, h := range hs {
			if h.Get("Origin") != origin || h.Get("Sec-WebSocket-Protocol") != "chat.v1, chat.v2" || !strings.HasPrefix(h.Get("X-Client"), "brink-") {
				t.Errorf("handshake headers %v", h)
			}
		}
	})
}

// A server that picks none of the subprotocols offered fails the session
// at once, as a browser fails it: check_failed, saying so; none opens.
func TestWebSocketSubprotocolNotChosen(t *testing.T) {
	g := wsGroupTo(wstest.Mute(t), 2, 300*time.Millisecond, time.Second)
	g.WebSocket.Subprotocols = []string{"chat.v2"}
	_, tk := run(t, scenario(time.Hour, g), Options{}, 10*time.Second)
	s := tk.sum()
	if s.WS.Opened != 0 || s.WS.Sessions == 0 || s.WS.Errors[measure.ErrCheckFailed] != s.WS.Sessions {
		t.Fatalf("opened %d, sessions %d, errors %v", s.WS.Opened, s.WS.Sessions, s.WS.Errors)
	}
	checkWSFailureRows(t, tk.All(), measure.ErrCheckFailed, "handshake: the server chose no subprotocol (offered chat.v2)")
	for _, x := range tk.All() {
		for _, f := range x.Failures {
			if f.Check != "subprotocol" {
				t.Errorf("row %+v: want check subprotocol", f)
			}
		}
	}
}

func TestWSOrigin(t *testing.T) {
	for _, c := range []struct{ url, host, want string }{
		{"ws://127.0.0.1:8080/ws?room=1", "", "http://127.0.0.1:8080"},
		{"wss://chat.example/ws", "", "https://chat.example"},
		{"wss://u:p@chat.example:8443", "", "https://chat.example:8443"},
		{"ws://10.0.0.5/ws", "chat.example", "http://chat.example"},
		{"http://x/ws", "", ""},
	} {
		if got := wsOrigin([]byte(c.url), c.host); got != c.want {
			t.Errorf("wsOrigin(%q, %q) = %q, want %q", c.url, c.host, got, c.want)
		}
	}
	if wsSubprotocolText([]string{"a", "b"}, "b") != "" || wsSubprotocolText(nil, "x") != "" {
		t.Error("a chosen subprotocol that was offered, or none offered, is fine")
	}
	if got := wsSubprotocolText([]string{"a"}, "z"); got != `handshake: the server chose subprotocol "z", not one offered (a)` {
		t.Errorf("text %q", got)
	}
}

// chatAfterLogin is a target that wants a browser's WebSocket after a
// login: POST /login sets a session cookie and answers a token; GET /ws
// upgrades only with that cookie, the app's Origin, the token in the query
// and in X-Token, and subprotocol chat.v2; each message must carry the
// token (else the session is closed as a policy violation) and is echoed.
type chatAfterLogin struct {
	mu       sync.Mutex
	sess     map[string]string // cookie → token
	accepted int
	refused  []string
}

func (c *chatAfterLogin) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		n := len(c.sess)
		sid, tok := "s"+strconv.Itoa(n), "tok-"+strconv.Itoa(n)+"-x"
		c.sess[sid] = tok
		c.mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "session", Value: sid, Path: "/", HttpOnly: true})
		io.WriteString(w, `{"token":"`+tok+`"}`)
	})
	up := websocket.Upgrader{Subprotocols: []string{"chat.v2"}, CheckOrigin: func(r *http.Request) bool { return r.Header.Get("Origin") == "https://app.example" }}
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie("session")
		c.mu.Lock()
		tok := ""
		if err == nil {
			tok = c.sess[ck.Value]
		}
		why := ""
		switch {
		case tok == "":
			why = "no session cookie"
		case r.URL.Query().Get("token") != tok || r.Header.Get("X-Token") != tok:
			why = "token missing from the url or X-Token"
		case r.Header.Get("Origin") != "https://app.example":
			why = "origin " + r.Header.Get("Origin")
		case !slices.Contains(websocket.Subprotocols(r), "chat.v2"):
			why = "no subprotocol chat.v2"
		}
		if why != "" {
			c.refused = append(c.refused, why)
			c.mu.Unlock()
			http.Error(w, why, http.StatusForbidden)
			return
		}
		c.accepted++
		c.mu.Unlock()
		wstest.Echo(w, r, &up, func(conn *websocket.Conn, msg []byte) bool {
			if !strings.Contains(string(msg), tok) {
				conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "message without the token"))
				return false
			}
			return true
		})
	})
	return mux
}

// A VU logs in (setup), then opens its WebSocket as the app's page would:
// the login's cookie from the VU's jar, the extracted token in the url, a
// header and every message, the app's Origin and subprotocol. Every
// handshake is accepted and every message answered; nothing fails.
func TestWebSocketAfterLogin(t *testing.T) {
	target := &chatAfterLogin{sess: map[string]string{}}
	srv := httptest.NewServer(target.handler())
	t.Cleanup(srv.Close)
	sc, err := scenarios.Parse("chat.yaml", []byte(`
base_url: `+srv.URL+`
groups:
  - name: chat
    executor: constant-vus
    vus: 2
    duration: 400ms
    timeout: 2s
    setup:
      - {name: login, method: POST, url: /login, extract: {token: {json: $.token}}}
    websocket:
      url: /ws?token={{.token}}
      headers: {Origin: https://app.example, X-Token: "{{.token}}"}
      subprotocols: [chat.v2]
      send: '{"token":"{{.token}}","n":{{iter}}}'
      every: 50ms
      expect_reply: true
      reply_contains: '"n":{{iter}}'
`))
	if err != nil {
		t.Fatal(err)
	}
	_, tk := run(t, sc, Options{}, 20*time.Second)
	s := tk.sum()
	target.mu.Lock()
	defer target.mu.Unlock()
	if len(target.refused) > 0 || target.accepted < 2 {
		t.Fatalf("%d handshakes accepted, refused: %v", target.accepted, target.refused)
	}
	if s.WS.Opened < 2 || s.WS.Failed != 0 || s.WS.Received == 0 || s.ErrorCount != 0 {
		t.Fatalf("opened %d, ws failed %d (%v), received %d, errors %v", s.WS.Opened, s.WS.Failed, s.WS.Errors, s.WS.Received, s.Errors)
	}
}

// A handshake answered with a page instead of 101 (a proxy that does not
// pass upgrades) fails the session as check_failed, row check upgrade.
func TestWebSocketNotUpgraded(t *testing.T) {
	u := handler(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<html>app</html>") })
	g := wsGroupTo("ws"+strings.TrimPrefix(u, "http"), 1, 300*time.Millisecond, time.Second)
	_, tk := run(t, scenario(time.Hour, g), Options{}, 10*time.Second)
	s := tk.sum()
	if s.WS.Opened != 0 || s.WS.Sessions == 0 || s.WS.Errors[measure.ErrCheckFailed] != s.WS.Sessions {
		t.Fatalf("opened %d, sessions %d, errors %v", s.WS.Opened, s.WS.Sessions, s.WS.Errors)
	}
	var counted int64
	for _, x := range tk.All() {
		for _, f := range x.Failures {
			counted += f.Count
			if f.Kind != measure.ErrCheckFailed || f.Check != "upgrade" || f.Status != 200 || f.Endpoint != measure.WSEndpoint ||
				f.Message != "handshake answered HTTP 200 OK, not 101 Switching Protocols" {
				t.Errorf("row %+v: want check upgrade, status 200", f)
			}
		}
	}
	if counted != s.WS.Failed {
		t.Errorf("rows count %d, ws_failed %d", counted, s.WS.Failed)
	}
}

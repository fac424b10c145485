package engine

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brink-load/brink/engine/wstest"
	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
)

// handshakes records the headers of each handshake a server saw.
type handshakes struct {
	mu  sync.Mutex
	hdr []http.Header
}

func (h *handshakes) add(x http.Header) {
	h.mu.Lock()
	h.hdr = append(h.hdr, x)
	h.mu.Unlock()
}

func (h *handshakes) all() []http.Header {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]http.Header(nil), h.hdr...)
}

// A server that checks Origin and a subprotocol, as one in front of
// browsers does, refuses brink's handshakes without them (403, each a
// ws_failed status_4xx) and accepts them with headers: {Origin} and
// subprotocols: then sessions open, replies come, nothing fails. Without
// an Origin of its own, brink sends the url's (a browser always sends one).
func TestWebSocketLikeABrowser(t *testing.T) {
	const origin = "https://app.example"
	var seen handshakes
	u := wstest.Browser(t, origin, "chat.v2", seen.add)

	t.Run("refused without", func(t *testing.T) {
		g := wsGroupTo(u, 2, 300*time.Millisecond, time.Second)
		_, tk := run(t, scenario(time.Hour, g), Options{}, 10*time.Second)
		s := tk.sum()
		if s.WS.Opened != 0 || s.WS.Sessions == 0 || s.WS.Errors[measure.ErrStatus4xx] != s.WS.Sessions {
			t.Fatalf("opened %d, sessions %d, errors %v: want every handshake refused 403", s.WS.Opened, s.WS.Sessions, s.WS.Errors)
		}
		checkWSFailureRows(t, tk.all(), measure.ErrStatus4xx, "handshake refused: HTTP 403 Forbidden: origin not allowed")
		want := "http://" + strings.TrimPrefix(u, "ws://")
		for _, h := range seen.all() {
			if h.Get("Origin") != want || h.Get("Sec-WebSocket-Protocol") != "" {
				t.Fatalf("handshake with Origin %q and subprotocols %q, want the url's origin %q and none", h.Get("Origin"), h.Get("Sec-WebSocket-Protocol"), want)
			}
		}
	})

	t.Run("accepted with", func(t *testing.T) {
		seen.mu.Lock()
		seen.hdr = nil
		seen.mu.Unlock()
		g := wsGroupTo(u, 2, 300*time.Millisecond, time.Second)
		g.WebSocket.Headers = []scenarios.Header{{Name: "Origin", Value: scenarios.MustTemplate(origin)},
			{Name: "X-Client", Value: scenarios.MustTemplate("brink-{{vu}}")}}
		g.WebSocket.Subprotocols = []string{"chat.v1", "chat.v2"}
		_, tk := run(t, scenario(time.Hour, g), Options{}, 10*time.Second)
		s := tk.sum()
		if s.WS.Opened < 2 || s.WS.Failed != 0 || s.WS.Received == 0 {
			t.Fatalf("opened %d, failed %d (%v), received %d: want sessions open and replies", s.WS.Opened, s.WS.Failed, s.WS.Errors, s.WS.Received)
		}
		hs := seen.all()
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
	checkWSFailureRows(t, tk.all(), measure.ErrCheckFailed, "handshake: the server chose no subprotocol (offered chat.v2)")
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

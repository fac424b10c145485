package engine

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
)

// chatServer is a chat room in miniature: a message from one client is
// broadcast at once to the others, the sender first hears another user's
// message too, and only ackDelay later gets its ack ("ack " + its message).
func chatServer(t *testing.T, ackDelay time.Duration) string {
	t.Helper()
	type client struct {
		mu sync.Mutex // one writer at a time
		c  *websocket.Conn
	}
	write := func(cl *client, b []byte) {
		cl.mu.Lock()
		defer cl.mu.Unlock()
		_ = cl.c.SetWriteDeadline(time.Now().Add(2 * time.Second))
		_ = cl.c.WriteMessage(websocket.TextMessage, b)
	}
	var mu sync.Mutex
	room := map[*client]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		me := &client{c: c}
		mu.Lock()
		room[me] = true
		mu.Unlock()
		var acks sync.WaitGroup
		defer func() {
			mu.Lock()
			delete(room, me)
			mu.Unlock()
			acks.Wait()
			c.Close()
		}()
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			mu.Lock()
			var others []*client
			for o := range room {
				if o != me {
					others = append(others, o)
				}
			}
			mu.Unlock()
			for _, o := range others {
				write(o, append([]byte("from another VU: "), msg...))
			}
			write(me, []byte(`{"from":"someone","text":"hello room"}`))
			acks.Add(1)
			time.AfterFunc(ackDelay, func() {
				defer acks.Done()
				write(me, append([]byte("ack "), msg...))
			})
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + srv.URL[len("http"):]
}

// Against a chat server that broadcasts other users' messages before it
// acks the sender, reply_contains times send → ack (the 50 ms ack delay);
// without it the first message after a send, someone else's, passes for
// the reply and the latency is wrongly short.
func TestWebSocketReplyContains(t *testing.T) {
	const ackDelay = 50 * time.Millisecond
	u := chatServer(t, ackDelay)
	replyOf := func(t *testing.T, contains *scenarios.Template) (measure.Latency, measure.Tick) {
		g := scenarios.Group{
			Name: "chat", Executor: scenarios.RampingVUs, Start: 3, Timeout: 2 * time.Second,
			Stages: []scenarios.Stage{{Duration: 1500 * time.Millisecond, Target: 3}},
			WebSocket: &scenarios.WebSocket{URL: scenarios.MustTemplate(u),
				Send:  scenarios.MustTemplate(`{"vu":{{vu}},"n":{{iter}}}`),
				Every: 150 * time.Millisecond, ExpectReply: true, ReplyContains: contains},
		}
		_, tk := run(t, scenario(10*time.Second, g), Options{}, 10*time.Second)
		var reply measure.Latency
		for _, x := range tk.All() {
			if x.WS.Reply.Count > reply.Count {
				reply = x.WS.Reply
			}
		}
		return reply, tk.sum()
	}

	t.Run("reply_contains", func(t *testing.T) {
		// The token is rendered with the send's own vu and iter: a
		// token one iteration off would only match the next send's
		// ack, 150 ms later, and the p50 would be ~200 ms.
		reply, s := replyOf(t, scenarios.MustTemplate(`"vu":{{vu}},"n":{{iter}}}`))
		if reply.Count < 15 || reply.P50 < ackDelay || reply.P50 > 140*time.Millisecond {
			t.Fatalf("reply latency %+v, want p50 ≥ the %s ack delay", reply, ackDelay)
		}
		// Broadcasts count as received, not as replies.
		if s.WS.Received < 3*s.WS.Sent || s.ErrorCount != 0 {
			t.Fatalf("sent %d received %d (each send: 2 broadcasts, 1 chatter, 1 ack) errors %v",
				s.WS.Sent, s.WS.Received, s.Errors)
		}
	})
	t.Run("first message", func(t *testing.T) {
		reply, _ := replyOf(t, nil)
		if reply.Count < 15 || reply.P50 >= ackDelay/2 {
			t.Fatalf("reply latency %+v: the first message after a send is someone else's, want p50 < %s",
				reply, ackDelay/2)
		}
	})
}

// Matching a reply allocates nothing once the VU's buffer has grown.
func TestWebSocketReplyMatchAllocs(t *testing.T) {
	v := &vu{}
	s := &wsSess{v: v, tok: []byte(`"vu":7,"n":42}`)}
	msg := []byte(`ack {"vu":7,"n":42}`)
	other := []byte(`from another VU: {"vu":8,"n":42}`)
	r := bytes.NewReader(nil)
	var got time.Duration
	allocs := testing.AllocsPerRun(100, func() {
		s.pending.Store(time.Now().Add(-time.Millisecond).UnixNano())
		for _, m := range [][]byte{other, msg} {
			r.Reset(m)
			var err error
			if v.respBuf, err = appendAll(v.respBuf[:0], r); err != nil {
				t.Fatal(err)
			}
			got = s.matchReply(v.respBuf)
		}
	})
	if allocs != 0 || got < time.Millisecond || s.pending.Load() != 0 {
		t.Fatalf("%v allocs per run, reply %s, pending %d", allocs, got, s.pending.Load())
	}
	r.Reset(other)
	v.respBuf, _ = appendAll(v.respBuf[:0], r)
	s.pending.Store(1)
	if d := s.matchReply(v.respBuf); d != 0 || s.pending.Load() != 1 {
		t.Fatalf("someone else's message taken as the reply (%s)", d)
	}
}

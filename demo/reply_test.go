package demo

import (
	"strings"
	"testing"
	"time"

	"github.com/brink-load/brink/scenarios"
	"github.com/gorilla/websocket"
)

// The chat group's reply_contains matches the demo's ack to the sender and
// not the broadcast of another user's message, which reaches the sender
// first when someone else in the room spoke.
func TestScenarioReplyContainsMatchesAck(t *testing.T) {
	s := startDemo(t, Options{})
	sc, err := Scenario(s.BaseURL(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var ws *scenarios.WebSocket
	for _, g := range sc.Groups {
		if g.Name == "chat" {
			ws = g.WebSocket
		}
	}
	if ws == nil || ws.ReplyContains == nil || !ws.ExpectReply {
		t.Fatalf("chat group websocket %+v, want expect_reply with reply_contains", ws)
	}
	a, b := twoInRoom(t, s, 7)

	ctx := &scenarios.TemplateContext{VU: 3, Iter: 9}
	tok := ws.ReplyContains.Render(ctx)
	if err := a.WriteMessage(websocket.TextMessage, ws.Send.Append(nil, ctx)); err != nil {
		t.Fatal(err)
	}
	read := func(c *websocket.Conn) string {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, m, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		return string(m)
	}
	if ack := read(a); !strings.Contains(ack, tok) {
		t.Errorf("sender's ack %s does not contain reply_contains %q", ack, tok)
	}
	if bc := read(b); strings.Contains(bc, tok) || !strings.Contains(bc, "hi from 3-9") {
		t.Errorf("broadcast %s: want the message, not matching reply_contains %q", bc, tok)
	}
}

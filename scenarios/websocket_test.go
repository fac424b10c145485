package scenarios

import (
	"fmt"
	"testing"
)

func TestParseWebSocketHandshake(t *testing.T) {
	s := mustParse(t, `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				websocket:
					url: /ws
					headers: {Origin: https://app.example, Cookie: "sid={{env \"HOME\"}}"}
					subprotocols: [chat.v2, chat.v1]
			- stages: [{duration: 1m, target: 5}]
				websocket: {url: /ws, subprotocols: graphql-ws}
		`)
	ws := s.Groups[0].WebSocket
	if fmt.Sprint(ws.Subprotocols) != "[chat.v2 chat.v1]" || ws.Headers[0].Name != "Origin" || ws.Headers[0].Value.Source() != "https://app.example" {
		t.Errorf("websocket %+v", ws)
	}
	if fmt.Sprint(s.Groups[1].WebSocket.Subprotocols) != "[graphql-ws]" {
		t.Errorf("one subprotocol as a string: %v", s.Groups[1].WebSocket.Subprotocols)
	}
	tests := []struct{ name, src, want string }{
		{"protocol as a header", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				websocket: {url: /ws, headers: {Sec-WebSocket-Protocol: chat}}
		`, `s.yaml:4:37: groups[0].websocket.headers.Sec-WebSocket-Protocol.name: Sec-WebSocket-Protocol cannot be set here: use subprotocols: [name, …] instead`},
		{"upgrade header", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				websocket: {url: /ws, headers: {upgrade: h2c}}
		`, `s.yaml:4:37: groups[0].websocket.headers.upgrade.name: upgrade cannot be set here: the handshake sets it`},
		{"bad subprotocol", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				websocket: {url: /ws, subprotocols: [chat, "chat v2"]}
		`, "s.yaml:4:48: groups[0].websocket.subprotocols[1]: \"chat v2\" is not a subprotocol name (a token: letters, digits and !#$%&'*+-.^_`|~)"},
		{"subprotocol twice", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				websocket: {url: /ws, subprotocols: [chat, chat]}
		`, `s.yaml:4:48: groups[0].websocket.subprotocols[1]: "chat" is offered twice`},
		{"misspelt key", `
		base_url: http://h
		groups:
			- stages: [{duration: 1m, target: 5}]
				websocket: {url: /ws, subprotocol: chat}
		`, `s.yaml:4:27: groups[0].websocket.subprotocol: unknown key (did you mean subprotocols?)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("s.yaml", yml(tc.src))
			if err == nil || err.Error() != tc.want {
				t.Errorf("error\n got %v\nwant %s", err, tc.want)
			}
		})
	}
}

package scenarios

import "net/http"

// wsHandshakeHeaders are the headers the WebSocket handshake sets itself:
// a scenario's value would be refused by the client or break the upgrade.
var wsHandshakeHeaders = map[string]string{
	"Upgrade":                  "the handshake sets it",
	"Connection":               "the handshake sets it",
	"Sec-Websocket-Key":        "the handshake sets it",
	"Sec-Websocket-Version":    "the handshake sets it",
	"Sec-Websocket-Extensions": "the handshake sets it (brink negotiates no extensions)",
	"Sec-Websocket-Protocol":   "use subprotocols: [name, …] instead",
}

// wsHandshake checks a websocket's headers and subprotocols.
func (v *validator) wsHandshake(ws *WebSocket, f string) {
	for _, h := range ws.Headers {
		if why, ok := wsHandshakeHeaders[http.CanonicalHeaderKey(h.Name)]; ok {
			v.add(f+".headers."+h.Name+".name", "%s cannot be set here: %s", h.Name, why)
		}
	}
	seen := map[string]bool{}
	for i, p := range ws.Subprotocols {
		pf := index(f+".subprotocols", i)
		switch {
		case !validHeaderName(p):
			v.add(pf, "%q is not a subprotocol name (a token: letters, digits and !#$%%&'*+-.^_`|~)", p)
		case seen[p]:
			v.add(pf, "%q is offered twice", p)
		}
		seen[p] = true
	}
}

package engine

import (
	"bytes"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/brink-load/brink/scenarios"
)

// wsHeader is the handshake's request headers as a browser sends them:
// the scenario's headers rendered for this VU, and an Origin — the
// scenario's, or else the page's own origin (http[s]:// and the Host the
// handshake names), since a browser always sends one and servers that
// check it refuse a handshake without.
func (v *vu) wsHeader(ws *scenarios.WebSocket) http.Header {
	hdr := make(http.Header, len(ws.Headers)+1)
	for i := range ws.Headers {
		h := &ws.Headers[i]
		v.hdrBuf = h.Value.Append(v.hdrBuf[:0], &v.tctx)
		hdr.Set(h.Name, string(v.hdrBuf))
	}
	if hdr.Get("Origin") == "" {
		if o := wsOrigin(v.urlBuf, hdr.Get("Host")); o != "" {
			hdr.Set("Origin", o)
		}
	}
	return hdr
}

// wsOrigin is the origin a browser's page at the WebSocket url's host
// would send: ws → http, wss → https, with host (a Host header) in place
// of the url's when given; "" for a url it cannot read.
func wsOrigin(u []byte, host string) string {
	scheme := "http://"
	rest, ok := bytes.CutPrefix(u, []byte("ws://"))
	if !ok {
		if rest, ok = bytes.CutPrefix(u, []byte("wss://")); !ok {
			return ""
		}
		scheme = "https://"
	}
	if host == "" {
		end := bytes.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		if i := bytes.LastIndexByte(rest[:end], '@'); i >= 0 { // userinfo is no part of an origin
			rest = rest[i+1:]
			end -= i + 1
		}
		host = string(rest[:end])
	}
	if host == "" {
		return ""
	}
	return scheme + host
}

// wsSubprotocolText says why an opened handshake is refused as a browser
// refuses it: the server chose no subprotocol of those offered, or one
// not offered. "" when the choice is fine.
func wsSubprotocolText(offered []string, chosen string) string {
	if len(offered) == 0 || slices.Contains(offered, chosen) {
		return ""
	}
	if chosen == "" {
		return "handshake: the server chose no subprotocol (offered " + strings.Join(offered, ", ") + ")"
	}
	return "handshake: the server chose subprotocol " + strconv.Quote(chosen) + ", not one offered (" + strings.Join(offered, ", ") + ")"
}

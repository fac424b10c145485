package report

import (
	"encoding/json"
	"strings"

	"github.com/brink-load/brink/scenarios"
	"github.com/brink-load/brink/termtext"
)

// Redacted replaces secret values in the report's copy of the scenario:
// the same word as in every message (termtext.Redacted).
const Redacted = termtext.Redacted

// credentialHeader reports whether a request header carries a credential
// by definition (RFC 9110's Authorization and Proxy-Authorization, RFC
// 6265's Cookie), whatever its value looks like.
func credentialHeader(name string) bool {
	switch strings.ToLower(name) {
	case "authorization", "proxy-authorization", "cookie":
		return true
	}
	return false
}

// Redact returns a copy of sc safe to write into a report. Templates keep
// their source, so the values brink treats as secrets ({{env}} values,
// extracted values, data rows: scenarios/secret.go) never appear. Of what
// is written literally, only what is a credential by its syntax is
// replaced: the password of a URL's user-info and the value of a
// credential header (credentialHeader). A literal that only has a
// credential-like name (?auth=1, X-Session-Token) is shown as written: it
// is in the scenario file already, and hiding it would hide what was run.
// Node-source URLs are shown as promquery shows them. sc itself is not
// changed.
func Redact(sc *scenarios.Scenario) *scenarios.Scenario {
	if sc == nil {
		return nil
	}
	c := *sc
	c.BaseURL = redactURL(c.BaseURL)
	c.Groups = make([]scenarios.Group, len(sc.Groups))
	for i, g := range sc.Groups {
		g.Requests = redactRequests(g.Requests)
		g.Setup = redactRequests(g.Setup)
		if g.WebSocket != nil {
			ws := *g.WebSocket
			ws.URL = redactTemplate(ws.URL)
			ws.Headers = redactHeaders(ws.Headers)
			g.WebSocket = &ws
		}
		c.Groups[i] = g
	}
	if sc.Nodes != nil {
		n := *sc.Nodes
		// Node-source URLs as promquery shows them in every message: a
		// user-info without a password (a token) goes whole too.
		n.Prometheus = termtext.Redact(redactURL(n.Prometheus))
		n.Scrape = make([]string, len(sc.Nodes.Scrape))
		for i, u := range sc.Nodes.Scrape {
			n.Scrape[i] = termtext.Redact(redactURL(u))
		}
		c.Nodes = &n
	}
	return &c
}

func redactRequests(rs []scenarios.Request) []scenarios.Request {
	if rs == nil {
		return nil
	}
	rs = append([]scenarios.Request(nil), rs...)
	for j := range rs {
		rs[j].URL = redactTemplate(rs[j].URL)
		rs[j].Headers = redactHeaders(rs[j].Headers)
	}
	return rs
}

func redactHeaders(hs []scenarios.Header) []scenarios.Header {
	if hs == nil {
		return nil
	}
	out := make([]scenarios.Header, len(hs))
	for i, h := range hs {
		if credentialHeader(h.Name) {
			// Keep the scheme ("Bearer …") so the report still says how it
			// authenticated.
			red := Redacted
			if scheme, _, ok := strings.Cut(h.Value.Source(), " "); ok && strings.EqualFold(h.Name, "authorization") && !strings.Contains(scheme, "{{") {
				red = scheme + " " + Redacted
			}
			h.Value = literal(red)
		}
		out[i] = h
	}
	return out
}

// literal is a template that renders s as written. Placeholders survive
// (they hold no secrets; {{env}} values are never in a source text), and
// text that no longer compiles stays as its source on marshalling anyway.
func literal(s string) *scenarios.Template {
	var t scenarios.Template
	b, _ := json.Marshal(s)
	_ = t.UnmarshalJSON(b) // keeps the source even when it does not compile
	return &t
}

func redactTemplate(t *scenarios.Template) *scenarios.Template {
	if t == nil {
		return nil
	}
	src := t.Source()
	if red := redactURL(src); red != src {
		// The redacted text may no longer be a valid template; keep it
		// literal.
		return literal(red)
	}
	return t
}

// redactURL hides the password of a URL's user-info. It works on text so
// templates with placeholders survive.
func redactURL(u string) string {
	i := strings.Index(u, "://")
	if i < 0 {
		return u
	}
	rest := u[i+3:]
	hostEnd := strings.IndexAny(rest, "/?#")
	if hostEnd < 0 {
		hostEnd = len(rest)
	}
	at := strings.LastIndex(rest[:hostEnd], "@")
	if at < 0 {
		return u
	}
	userinfo := rest[:at]
	if c := strings.Index(userinfo, ":"); c >= 0 {
		userinfo = userinfo[:c] + ":" + Redacted
	}
	return u[:i+3] + userinfo + rest[at:]
}

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

// Redact returns a copy of sc safe to write into a report. Templates keep
// their source, so the values brink treats as secrets ({{env}} values,
// extracted values, data rows: scenarios/secret.go) never appear. Of what
// is written literally, only what is a credential by its syntax is
// replaced: the password of a URL's user-info and the value of a
// credential header (redactCredential: a value of placeholders only keeps
// its source, as any template does). A literal that only has a
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
		if scenarios.CredentialHeader(h.Name) {
			if src, shown := h.Value.Source(), redactCredential(h.Name, h.Value.Source()); shown != src {
				h.Value = literal(shown)
			}
		}
		out[i] = h
	}
	return out
}

// redactCredential is what the report's copy shows of credential header
// name's value src (scenarios.CredentialHeader): the credential hidden when any of
// it is written literally, and src as written when it is placeholders
// only ("Bearer {{.token}}", "sid={{.sid}}"): a value that comes at run
// time is not in the source, and the source says how the run
// authenticated. Authorization and Proxy-Authorization keep their scheme
// (RFC 9110: auth-scheme, then the credentials) so the report still says
// how it authenticated; a Cookie's literal names and values go whole.
func redactCredential(name, src string) string {
	scheme, cred := "", src
	if !strings.EqualFold(name, "cookie") {
		if s, rest, ok := strings.Cut(src, " "); ok && !strings.Contains(s, "{{") {
			scheme, cred = s+" ", rest
		}
	}
	if placeholdersOnly(name, cred) {
		return src
	}
	return scheme + Redacted
}

// placeholdersOnly reports whether a credential (cred, the value after
// its scheme) writes nothing secret literally: with its placeholders
// taken out, only spaces are left, or for a Cookie only cookie names
// ("sid=; theme=").
func placeholdersOnly(name, cred string) bool {
	if !strings.Contains(cred, "{{") {
		return false
	}
	text := withoutPlaceholders(cred)
	if !strings.EqualFold(name, "cookie") {
		return strings.TrimSpace(text) == ""
	}
	for pair := range strings.SplitSeq(text, ";") {
		if _, v, _ := strings.Cut(pair, "="); strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// withoutPlaceholders is src with every {{…}} placeholder taken out, found
// as scenarios.CompileTemplate finds them (in "{{{vu}}}" the innermost
// pair): the text written literally.
func withoutPlaceholders(src string) string {
	var b strings.Builder
	for {
		i := strings.Index(src, "{{")
		for i >= 0 && i+2 < len(src) && src[i+2] == '{' {
			i++
		}
		j := -1
		if i >= 0 {
			j = strings.Index(src[i:], "}}")
		}
		if j < 0 {
			b.WriteString(src) // an unclosed {{ is text
			return b.String()
		}
		b.WriteString(src[:i])
		src = src[i+j+2:]
	}
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

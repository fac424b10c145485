package scenarios

import (
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/brink-load/brink/termtext"
)

// Secrets: the one rule for which values brink hides wherever it shows
// text that a target may echo (failure messages and their samples, and so
// the summary, the console and the report). A value is a secret when it
// came from {{env "NAME"}}, from an extract (often a token), or from a
// data column whose name looks like a credential's (termtext.SecretName:
// password, token, api_key, …) or that the data's secret: list names. A
// literal written in the scenario is not: it is in the file already —
// unless it is a credential by its syntax (LiteralSecrets), which the
// report's copy of the scenario hides too.

// MinSecret is the shortest value hidden: shorter ones (an id like 42)
// would blank unrelated text and hide nothing.
const MinSecret = 4

// SecretColumn reports whether the values of data column name are
// secrets.
func (d *Data) SecretColumn(name string) bool {
	return d != nil && (termtext.SecretName(name) || slices.Contains(d.Secret, name))
}

// SecretVars lists the slots of g.Vars (bound: Validate or BindFlows)
// whose values are secrets: the secret data columns and every extracted
// value.
func (g *Group) SecretVars() []int {
	cols := 0
	if g.Data != nil && g.Data.Table != nil {
		cols = len(g.Data.Table.Columns)
	}
	var out []int
	for i, name := range g.Vars {
		if i >= cols || g.Data.SecretColumn(name) {
			out = append(out, i)
		}
	}
	return out
}

// envSecrets are the values {{env}} placeholders resolved to (MinSecret
// bytes or more): a target that echoes one in an error body must not put
// it in a failure message. Written at load, read on failures.
var (
	envSecretsMu sync.Mutex
	envSecrets   atomic.Pointer[[]string]
)

func noteEnvSecret(v string) {
	if len(v) < MinSecret {
		return
	}
	envSecretsMu.Lock()
	defer envSecretsMu.Unlock()
	var cur []string
	if p := envSecrets.Load(); p != nil {
		cur = *p
	}
	if !slices.Contains(cur, v) {
		next := append(slices.Clip(cur), v)
		envSecrets.Store(&next)
	}
}

// EnvSecrets lists the values {{env}} placeholders resolved to (MinSecret
// bytes or more), to hide wherever outside text is shown. Do not modify it.
func EnvSecrets() []string {
	if p := envSecrets.Load(); p != nil {
		return *p
	}
	return nil
}

// CredentialHeader reports whether a request header carries a credential
// by definition (RFC 9110's Authorization and Proxy-Authorization, RFC
// 6265's Cookie), whatever its value looks like.
func CredentialHeader(name string) bool {
	switch strings.ToLower(name) {
	case "authorization", "proxy-authorization", "cookie":
		return true
	}
	return false
}

// LiteralSecrets lists what g writes literally that is a credential by
// its syntax (MinSecret bytes or more): of a credential header, its value,
// an Authorization's credentials after the scheme (and a Basic one's
// password), each cookie's value; of a url's user:password@, the password
// and the Basic credentials it is sent as. A target may echo them in a
// failure message.
func (g *Group) LiteralSecrets() []string {
	var out []string
	add := func(vs ...string) {
		for _, v := range vs {
			if len(v) >= MinSecret && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	header := func(h Header) {
		v := h.Value.Source()
		if !CredentialHeader(h.Name) || strings.Contains(v, "{{") {
			return // a template's values are secrets by the other rules
		}
		// The parts first, so a message keeps what is around them
		// ("Bearer [redacted]", "sid=[redacted]"); then the whole value.
		defer add(v)
		if strings.EqualFold(h.Name, "cookie") {
			for _, c := range strings.Split(v, ";") {
				if _, cv, ok := strings.Cut(c, "="); ok {
					add(strings.TrimSpace(cv))
				}
			}
			return
		}
		scheme, cred, ok := strings.Cut(v, " ")
		if !ok {
			return
		}
		add(cred)
		if b, err := base64.StdEncoding.DecodeString(cred); err == nil && strings.EqualFold(scheme, "basic") {
			_, pass, _ := strings.Cut(string(b), ":")
			add(pass)
		}
	}
	userinfo := func(t *Template) {
		src := t.Source()
		i := strings.Index(src, "://")
		if i < 0 {
			return
		}
		rest := src[i+3:]
		if end := strings.IndexAny(rest, "/?#"); end >= 0 {
			rest = rest[:end]
		}
		at := strings.LastIndex(rest, "@")
		if at < 0 || strings.Contains(rest[:at], "{{") {
			return
		}
		user, pass, ok := strings.Cut(rest[:at], ":")
		if !ok {
			return
		}
		if u, err := url.PathUnescape(user); err == nil {
			user = u
		}
		if p, err := url.PathUnescape(pass); err == nil {
			pass = p
		}
		add(pass, base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
	}
	for _, rs := range [][]Request{g.Setup, g.Requests} {
		for _, r := range rs {
			userinfo(r.URL)
			for _, h := range r.Headers {
				header(h)
			}
		}
	}
	if ws := g.WebSocket; ws != nil {
		userinfo(ws.URL)
		for _, h := range ws.Headers {
			header(h)
		}
	}
	return out
}

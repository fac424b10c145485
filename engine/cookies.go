package engine

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// cookieJar is one VU's cookies, as a browser tab keeps them (RFC 6265:
// domain and path matching, Secure, Expires and Max-Age; no public-suffix
// list — a load test talks to the hosts it names). The fasthttp path
// reads and writes it without allocating while no cookie is set; it is
// also an http.CookieJar for net/http groups and the VU's WebSocket
// handshake (gorilla/websocket's Dialer.Jar). The lock is uncontended but
// for a WebSocket handshake, which may run off the VU's goroutine.
type cookieJar struct {
	mu      sync.Mutex
	cookies []jarCookie
	parse   fasthttp.Cookie
	// n is len(cookies), set under mu: empty reads it without the lock,
	// as the VU does before every request.
	n atomic.Int32
}

type jarCookie struct {
	name, value string
	domain      string // lower case, no leading dot
	hostOnly    bool   // no Domain attribute: this host only
	path        string
	secure      bool
	expires     time.Time // zero: until the VU ends
}

// addFast puts the cookies for host and path (a request's path, with any
// query) on req.
func (j *cookieJar) addFast(req *fasthttp.Request, host string, path []byte, secure bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.cookies) == 0 {
		return
	}
	p := trimQuery(path)
	var now time.Time
	for i := range j.cookies {
		c := &j.cookies[i]
		if !c.expires.IsZero() {
			if now.IsZero() {
				now = time.Now()
			}
			if !c.expires.After(now) {
				continue
			}
		}
		if c.matches(host, p, secure) {
			req.Header.SetCookie(c.name, c.value)
		}
	}
}

// empty is whether the jar holds no cookie: a request then carries none.
func (j *cookieJar) empty() bool { return j.n.Load() == 0 }

// setFast stores the cookies a response sets (the lock is taken only for
// a response that sets one).
func (j *cookieJar) setFast(resp *fasthttp.Response, host string, path []byte) {
	for _, value := range resp.Header.Cookies() {
		j.mu.Lock()
		j.setCookie(value, host, path)
		j.mu.Unlock()
	}
}

// setCookie stores one Set-Cookie value from a response to host for path.
func (j *cookieJar) setCookie(value []byte, host string, path []byte) {
	j.parse.Reset()
	if j.parse.ParseBytes(value) != nil {
		return
	}
	c := jarCookie{
		name:   string(j.parse.Key()),
		value:  string(j.parse.Value()),
		domain: string(j.parse.Domain()),
		path:   string(j.parse.Path()),
		secure: j.parse.Secure(),
	}
	gone := false
	switch ma := j.parse.MaxAge(); {
	case ma < 0:
		gone = true
	case ma > 0:
		c.expires = time.Now().Add(time.Duration(ma) * time.Second)
	default:
		if exp := j.parse.Expire(); !exp.Equal(fasthttp.CookieExpireUnlimited) {
			c.expires = exp
			gone = !exp.After(time.Now())
		}
	}
	j.store(c, host, string(trimQuery(path)), gone)
}

// store adds or replaces c as set by a response from host for reqPath
// (RFC 6265 5.3), or removes it when gone.
func (j *cookieJar) store(c jarCookie, host, reqPath string, gone bool) {
	host = strings.ToLower(host)
	c.domain = strings.TrimPrefix(strings.ToLower(c.domain), ".")
	if c.domain == "" {
		c.domain, c.hostOnly = host, true
	} else if !domainMatch(host, c.domain) {
		return // a cookie for another site: refused, as a browser does
	}
	if c.path == "" || c.path[0] != '/' {
		c.path = defaultPath(reqPath)
	}
	defer func() { j.n.Store(int32(len(j.cookies))) }()
	for i := range j.cookies {
		o := &j.cookies[i]
		if o.name == c.name && o.domain == c.domain && o.path == c.path {
			if gone {
				j.cookies = append(j.cookies[:i], j.cookies[i+1:]...)
			} else {
				*o = c
			}
			return
		}
	}
	if !gone {
		j.cookies = append(j.cookies, c)
	}
}

func (c *jarCookie) matches(host string, path []byte, secure bool) bool {
	if c.secure && !secure {
		return false
	}
	if c.hostOnly {
		if !strings.EqualFold(host, c.domain) {
			return false
		}
	} else if !domainMatch(host, c.domain) {
		return false
	}
	return pathMatch(path, c.path)
}

// domainMatch is RFC 6265 5.1.3: host is domain or a name under it (not
// for IP addresses).
func domainMatch(host, domain string) bool {
	if strings.EqualFold(host, domain) {
		return true
	}
	return len(host) > len(domain) && host[len(host)-len(domain)-1] == '.' &&
		strings.EqualFold(host[len(host)-len(domain):], domain) && net.ParseIP(host) == nil
}

// pathMatch is RFC 6265 5.1.4. (string(b) == s compares without a copy.)
func pathMatch(reqPath []byte, cookiePath string) bool {
	if len(reqPath) < len(cookiePath) || string(reqPath[:len(cookiePath)]) != cookiePath {
		return false
	}
	return len(reqPath) == len(cookiePath) || strings.HasSuffix(cookiePath, "/") || reqPath[len(cookiePath)] == '/'
}

// defaultPath is RFC 6265 5.1.4's default-path: the request path's
// directory.
func defaultPath(p string) string {
	if p == "" || p[0] != '/' {
		return "/"
	}
	i := strings.LastIndexByte(p, '/')
	if i == 0 {
		return "/"
	}
	return p[:i]
}

// trimQuery is a request target's path: without its query or fragment,
// "/" when empty.
func trimQuery(b []byte) []byte {
	for i, c := range b {
		if c == '?' || c == '#' {
			b = b[:i]
			break
		}
	}
	if len(b) == 0 {
		return slash
	}
	return b
}

var slash = []byte("/")

// SetCookies is http.CookieJar's, for net/http groups and the WebSocket
// handshake.
func (j *cookieJar) SetCookies(u *url.URL, cs []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := time.Now()
	for _, hc := range cs {
		c := jarCookie{name: hc.Name, value: hc.Value, domain: hc.Domain, path: hc.Path, secure: hc.Secure}
		gone := false
		switch {
		case hc.MaxAge < 0:
			gone = true
		case hc.MaxAge > 0:
			c.expires = now.Add(time.Duration(hc.MaxAge) * time.Second)
		case !hc.Expires.IsZero():
			c.expires = hc.Expires
			gone = !hc.Expires.After(now)
		}
		p := u.Path
		if p == "" {
			p = "/"
		}
		j.store(c, u.Hostname(), p, gone)
	}
}

// Cookies is http.CookieJar's: the cookies to send to u.
func (j *cookieJar) Cookies(u *url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	secure := u.Scheme == "https" || u.Scheme == "wss"
	p := u.Path
	if p == "" {
		p = "/"
	}
	now := time.Now()
	var out []*http.Cookie
	for i := range j.cookies {
		c := &j.cookies[i]
		if (c.expires.IsZero() || c.expires.After(now)) && c.matches(u.Hostname(), []byte(p), secure) {
			out = append(out, &http.Cookie{Name: c.name, Value: c.value})
		}
	}
	return out
}

// cookieJar is the VU's jar as an http.CookieJar, nil (not a nil
// *cookieJar) with cookies: false.
func (v *vu) cookieJar() http.CookieJar {
	if v.jar == nil {
		return nil
	}
	return v.jar
}

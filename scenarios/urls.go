package scenarios

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Urls as scenarios write them: relative to base_url or absolute, with
// templates, checked on one rendering at load time.

// urlPath is the path part of a url as written, for default request names.
func urlPath(src string) string {
	if i := strings.Index(src, "://"); i >= 0 {
		rest := src[i+3:]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			return rest[j:]
		}
		return "/"
	}
	return src
}

// isAbsolute: a url with a scheme, or one that starts with a placeholder
// (e.g. {{env "TARGET"}}/x), which must then carry its own host.
func isAbsolute(src string) bool {
	i := strings.Index(src, "://")
	if i > 0 {
		scheme := src[:i]
		for _, c := range scheme {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
				return false
			}
		}
		return true
	}
	return strings.HasPrefix(src, "{{")
}

// resolveURL joins a relative url template to base_url by concatenation
// (base_url's path is a prefix, as in Artillery: base http://h/api and
// /rooms give http://h/api/rooms) and checks the scheme. For WebSocket,
// http(s) becomes ws(s).
func resolveURL(t *Template, baseRaw string, base *url.URL, ws bool) (*Template, error) {
	src := t.Source()
	if !isAbsolute(src) {
		if base == nil {
			if baseRaw != "" {
				return nil, fmt.Errorf("relative url %q needs a valid base_url", src)
			}
			return nil, fmt.Errorf("relative url %q needs base_url (or write http://host%s)", src, ensureSlash(src))
		}
		src = strings.TrimSuffix(baseRaw, "/") + ensureSlash(src)
	}
	if ws {
		switch {
		case strings.HasPrefix(src, "http://"):
			src = "ws://" + src[len("http://"):]
		case strings.HasPrefix(src, "https://"):
			src = "wss://" + src[len("https://"):]
		}
	}
	nt := t
	if src != t.Source() {
		var err error
		if nt, err = CompileTemplate(src); err != nil {
			return nil, err
		}
	}
	// Check one rendering now rather than fail on every request: it has
	// {{env}} values in place, and placeholders become numbers or UUIDs,
	// which are fine in any part of a url. Messages quote the source only,
	// never the rendering, which may hold a secret.
	sample := nt.Render(nil)
	want := []string{"http", "https"}
	if ws {
		want = []string{"ws", "wss"}
	}
	if strings.ContainsFunc(sample, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil, fmt.Errorf("url %q contains a space or control character (write %%20)", t.Source())
	}
	u, err := url.Parse(sample)
	switch {
	case err != nil:
		return nil, fmt.Errorf("bad url %q", t.Source())
	case !slices.Contains(want, u.Scheme):
		return nil, fmt.Errorf("want an %s:// or %s:// url, got %q", want[0], want[1], t.Source())
	case u.Host == "":
		return nil, fmt.Errorf("url %q has no host", t.Source())
	case badPort(u):
		return nil, fmt.Errorf("url %q: port %s is not 1–65535", t.Source(), u.Port())
	case ws && u.User != nil:
		// The WebSocket dialer refuses it on every handshake (browsers
		// send none either). Not quoted: it may hold a password.
		return nil, fmt.Errorf("a WebSocket url takes no user:password@ (every handshake would refuse it): send the credentials in headers, e.g. Authorization")
	}
	return nt, nil
}

func ensureSlash(s string) string {
	if strings.HasPrefix(s, "/") || strings.HasPrefix(s, "?") {
		return s
	}
	return "/" + s
}

func checkHTTPURL(s string) error {
	if !strings.Contains(s, "://") {
		return fmt.Errorf("want an http:// or https:// url, got %q", s)
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("bad url %q", s)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("want an http:// or https:// url, got %q", s)
	}
	if u.Host == "" {
		return fmt.Errorf("url %q has no host", s)
	}
	if badPort(u) {
		return fmt.Errorf("url %q: port %s is not 1–65535", s, u.Port())
	}
	return nil
}

// badPort: url.Parse takes any digits as a port; a dial to 99999 fails on
// every request, so it is a scenario error.
func badPort(u *url.URL) bool {
	p := u.Port()
	if p == "" {
		return false
	}
	n, err := strconv.Atoi(p)
	return err != nil || n < 1 || n > 65535
}

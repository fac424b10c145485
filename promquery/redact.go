package promquery

import (
	"encoding/base64"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/prometheus/common/config"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/termtext"
)

// Redacted replaces a credential in every message promquery gives out
// (the report's copy of the scenario uses the same word).
const Redacted = termtext.Redacted

// minSecret is the shortest known secret replaced wherever it appears:
// replacing a two-letter password everywhere would garble every message
// and protect nothing.
const minSecret = 4

// redactor takes credentials out of text: URL user-info, credential-looking
// query parameters, Authorization values, and every secret brink was given
// (URL passwords, password and token files, the http-client file's
// secrets) wherever a server echoed them.
type redactor struct {
	secrets []string // longest first, so a secret containing another goes whole
}

func newRedactor(c Config) *redactor {
	r := &redactor{}
	urls := append([]string{c.Prometheus, c.HTTP.ProxyURL}, c.Scrape...)
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil {
			continue
		}
		if u.User != nil {
			user := u.User.Username()
			if pw, ok := u.User.Password(); ok {
				r.add(pw)
				r.add(base64.StdEncoding.EncodeToString([]byte(user + ":" + pw)))
			} else {
				r.add(user) // a bare user-info is usually a token
			}
		}
		for k, vs := range u.Query() {
			if termtext.SecretName(k) {
				for _, v := range vs {
					r.add(v)
				}
			}
		}
	}
	if f := c.HTTP.BasicAuthPasswordFile; f != "" {
		if b, err := os.ReadFile(f); err == nil {
			pw := strings.TrimSpace(string(b))
			r.add(pw)
			r.add(base64.StdEncoding.EncodeToString([]byte(c.HTTP.BasicAuthUser + ":" + pw)))
		}
	}
	r.addFile(c.HTTP.CredentialsFile)
	if c.PromConfigFile != "" {
		if hc, _, err := config.LoadHTTPConfigFile(c.PromConfigFile); err == nil {
			r.addHTTPConfig(hc)
		}
	}
	slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
	return r
}

// addHTTPConfig adds the secrets of a Prometheus http-client config.
func (r *redactor) addHTTPConfig(hc *config.HTTPClientConfig) {
	if b := hc.BasicAuth; b != nil {
		r.add(string(b.Password))
		r.addFile(b.PasswordFile)
		if b.Password != "" {
			r.add(base64.StdEncoding.EncodeToString([]byte(string(b.Username) + ":" + string(b.Password))))
		}
	}
	if a := hc.Authorization; a != nil {
		r.add(string(a.Credentials))
		r.addFile(a.CredentialsFile)
	}
	if o := hc.OAuth2; o != nil {
		r.add(string(o.ClientSecret))
		r.addFile(o.ClientSecretFile)
	}
	r.add(string(hc.BearerToken))
	r.addFile(hc.BearerTokenFile)
	if hc.ProxyURL.URL != nil && hc.ProxyURL.User != nil {
		if pw, ok := hc.ProxyURL.User.Password(); ok {
			r.add(pw)
		}
	}
}

func (r *redactor) addFile(path string) {
	if path == "" {
		return
	}
	if b, err := os.ReadFile(path); err == nil {
		r.add(strings.TrimSpace(string(b)))
	}
}

// add remembers a secret, and the forms a URL or a query string gives it.
func (r *redactor) add(s string) {
	for _, v := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
		if len(v) >= minSecret && !slices.Contains(r.secrets, v) {
			r.secrets = append(r.secrets, v)
		}
	}
}

// text makes s safe to show: credentials out, then terminal control
// characters (s may come from a server).
func (r *redactor) text(s string) string {
	return termtext.Clean(r.redact(s))
}

func (r *redactor) redact(s string) string {
	if r != nil {
		for _, sec := range r.secrets {
			if strings.Contains(s, sec) {
				s = strings.ReplaceAll(s, sec, Redacted)
			}
		}
	}
	return RedactText(s)
}

// RedactText takes credentials that have a recognisable shape out of s
// (termtext.Redact).
func RedactText(s string) string { return termtext.Redact(s) }

// RedactURL is RedactText for a URL brink was given: what logs and
// headers may show of it.
func RedactURL(u string) string { return RedactText(u) }

// cleanError is an error whose text was redacted and cleaned; it still
// unwraps to the original, so errors.Is works.
type cleanError struct {
	msg string
	err error
}

func (e *cleanError) Error() string { return e.msg }
func (e *cleanError) Unwrap() error { return e.err }

// err returns err with its text made safe (nil stays nil).
func (r *redactor) err(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if clean := r.text(msg); clean != msg {
		return &cleanError{msg: clean, err: err}
	}
	return err
}

// poll makes every text of p safe: node names, roles, instances, devices,
// stale reasons, panel series labels, errors and warnings.
func (r *redactor) poll(p *measure.Poll) {
	p.Err = r.text(p.Err)
	for i, w := range p.Warnings {
		p.Warnings[i] = r.text(w)
	}
	for i := range p.Samples {
		s := &p.Samples[i]
		s.Node, s.Role, s.Instance = r.text(s.Node), r.text(s.Role), r.text(s.Instance)
		s.DiskDevice, s.StaleReason = r.text(s.DiskDevice), r.text(s.StaleReason)
	}
	for i := range p.Panels {
		pv := &p.Panels[i]
		pv.Title, pv.Unit, pv.Err = r.text(pv.Title), r.text(pv.Unit), r.text(pv.Err)
		for j := range pv.Series {
			pv.Series[j].Labels = r.text(pv.Series[j].Labels)
		}
	}
}

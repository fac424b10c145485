package promquery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"time"

	"github.com/prometheus/common/config"

	"github.com/brink-load/brink/termtext"
)

// New builds a Prometheus source (Config.Prometheus) or a direct-scrape
// source (Config.Scrape). It checks everything that can be checked without
// the network — URLs, selector, role regexps, the http-client file and the
// credential and TLS files it names — so a typo fails here in one line.
//
// No text it gives out — errors, Describe, anything in a Poll — carries a
// credential (URL passwords, token and password files' contents, token=
// parameters) or a terminal control character from a server.
func New(cfg Config) (Source, error) {
	red := newRedactor(cfg)
	src, err := newSource(cfg, red)
	if err != nil {
		return nil, red.err(err)
	}
	return src, nil
}

func newSource(cfg Config, red *redactor) (Source, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	nm, err := newNaming(cfg)
	if err != nil {
		return nil, err
	}
	client, err := httpClient(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Prometheus != "" {
		return newPromSource(cfg, client, nm, red)
	}
	return newScrapeSource(cfg, client, nm, red)
}

// httpClient builds the client from the http-client YAML file (if any)
// with the command-line options on top, through prometheus/common/config so
// auth, TLS and proxy behave exactly as in Prometheus itself.
func httpClient(cfg Config) (*http.Client, error) {
	hc := config.DefaultHTTPClientConfig
	if cfg.PromConfigFile != "" {
		c, _, err := config.LoadHTTPConfigFile(cfg.PromConfigFile)
		if err != nil {
			return nil, fmt.Errorf("prom config %s: %v", cfg.PromConfigFile, termtext.OneLine(termtext.BareErr(err).Error(), maxErrText))
		}
		hc = *c
	}
	o := cfg.HTTP
	if o.BasicAuthUser != "" || o.BasicAuthPasswordFile != "" {
		hc.BasicAuth = &config.BasicAuth{Username: o.BasicAuthUser, PasswordFile: o.BasicAuthPasswordFile}
	}
	if o.CredentialsFile != "" {
		t := o.AuthType
		if t == "" {
			t = "Bearer"
		}
		hc.Authorization = &config.Authorization{Type: t, CredentialsFile: o.CredentialsFile}
	}
	if o.CAFile != "" {
		hc.TLSConfig.CAFile = o.CAFile
	}
	if o.CertFile != "" {
		hc.TLSConfig.CertFile = o.CertFile
	}
	if o.KeyFile != "" {
		hc.TLSConfig.KeyFile = o.KeyFile
	}
	if o.InsecureSkipVerify {
		hc.TLSConfig.InsecureSkipVerify = true
	}
	if o.ProxyURL != "" {
		u, err := url.Parse(o.ProxyURL)
		if err != nil {
			return nil, fmt.Errorf("proxy URL %q: %v", o.ProxyURL, err)
		}
		hc.ProxyURL = config.URL{URL: u}
	}
	if err := hc.Validate(); err != nil {
		return nil, fmt.Errorf("prometheus http config: %v", termtext.OneLine(err.Error(), maxErrText))
	}
	// common reads credential files at request time; read them now so a
	// wrong path is a clear error before the first poll, not a failed one.
	files := []struct{ what, path string }{
		{"bearer token file", hc.BearerTokenFile},
		{"TLS CA file", hc.TLSConfig.CAFile},
		{"TLS cert file", hc.TLSConfig.CertFile},
		{"TLS key file", hc.TLSConfig.KeyFile},
	}
	if hc.BasicAuth != nil {
		files = append(files, struct{ what, path string }{"basic auth password file", hc.BasicAuth.PasswordFile})
	}
	if hc.Authorization != nil {
		files = append(files, struct{ what, path string }{"credentials file", hc.Authorization.CredentialsFile})
	}
	for _, f := range files {
		if f.path == "" {
			continue
		}
		b, err := os.ReadFile(f.path)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %v", f.what, f.path, termtext.BareErr(err))
		}
		if f.what == "credentials file" || f.what == "bearer token file" || f.what == "basic auth password file" {
			if len(b) == 0 {
				return nil, fmt.Errorf("%s %s: empty", f.what, f.path)
			}
		}
	}
	rt, err := config.NewRoundTripperFromConfig(hc, "brink", config.WithUserAgent("brink"))
	if err != nil {
		return nil, fmt.Errorf("prometheus http config: %v", termtext.OneLine(err.Error(), maxErrText))
	}
	return &http.Client{Transport: capResponses{rt}}, nil
}

// maxResponse caps any one response a node source reads: client_golang
// reads a whole API answer into memory, so a hostile or broken server (or
// a panel query matching millions of series) could otherwise take all of
// it. A real answer for a fleet is a few hundred KiB.
var maxResponse int64 = 64 << 20

// capResponses makes every response body fail past maxResponse.
type capResponses struct{ rt http.RoundTripper }

func (c capResponses) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > maxResponse {
		resp.Body.Close()
		return nil, errResponseTooLarge()
	}
	resp.Body = &cappedBody{ReadCloser: resp.Body, left: maxResponse}
	return resp, nil
}

func errResponseTooLarge() error {
	return fmt.Errorf("response too large: more than %d MiB", maxResponse>>20)
}

type cappedBody struct {
	io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly the cap from a larger one.
		var one [1]byte
		n, err := b.ReadCloser.Read(one[:])
		if n > 0 {
			return 0, errResponseTooLarge()
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

// pollTimeout is one poll's deadline: the configured timeout, else the
// interval, never below one second so a slow-but-alive server still answers.
func pollTimeout(timeout, interval time.Duration) time.Duration {
	if timeout > 0 {
		return timeout
	}
	if interval < time.Second {
		return time.Second
	}
	return interval
}

// describeHTTPErr turns transport errors into a few words a user can act
// on: "unreachable: connection refused", "no answer within 2s".
func describeHTTPErr(err error, timeout time.Duration) error {
	if err == nil {
		return nil
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Errorf("no answer within %s", timeout)
	}
	if errors.Is(err, context.Canceled) {
		return errors.New("canceled")
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return errors.New("unreachable: connection refused")
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return fmt.Errorf("unreachable: unknown host %s", dnsErr.Name)
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return fmt.Errorf("unreachable: %v", opErr.Err)
	}
	// *url.Error repeats method and URL, which the caller already names.
	var ue *url.Error
	if errors.As(err, &ue) {
		return errors.New(termtext.OneLine(ue.Err.Error(), maxErrText))
	}
	return errors.New(termtext.OneLine(err.Error(), maxErrText))
}

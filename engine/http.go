package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/valyala/fasthttp"
)

// hostClient is a VU's fasthttp client for one scheme://host[:port].
type hostClient struct {
	key string
	hc  *fasthttp.HostClient
}

// splitURL returns the scheme://host[:port] prefix of an absolute URL and
// whether it is https.
func splitURL(u []byte) (key []byte, isTLS bool, err error) {
	var rest []byte
	switch {
	case bytes.HasPrefix(u, []byte("http://")):
		rest = u[len("http://"):]
	case bytes.HasPrefix(u, []byte("https://")):
		rest, isTLS = u[len("https://"):], true
	default:
		return nil, false, fmt.Errorf("url %q: want http:// or https://", truncate(u))
	}
	end := bytes.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	if end == 0 {
		return nil, false, fmt.Errorf("url %q: no host", truncate(u))
	}
	return u[:len(u)-len(rest)+end], isTLS, nil
}

func truncate(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}

// hostAddr is host:port for a scheme://host[:port] key.
func hostAddr(key string, isTLS bool) string {
	host := key[strings.Index(key, "://")+3:]
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		return host
	}
	if isTLS {
		return host + ":443"
	}
	return host + ":80"
}

// fastHost returns the VU's client for u's host, creating it on first use.
// Lookup compares bytes against the few hosts seen: no allocation.
func (v *vu) fastHost(u []byte) (*fasthttp.HostClient, error) {
	key, isTLS, err := splitURL(u)
	if err != nil {
		return nil, err
	}
	for i := range v.hosts {
		if v.hosts[i].key == string(key) {
			return v.hosts[i].hc, nil
		}
	}
	ks := string(key)
	hc := &fasthttp.HostClient{
		Addr:  hostAddr(ks, isTLS),
		Name:  "brink",
		IsTLS: isTLS,
		// One connection per VU, as a real user's browser tab would hold.
		MaxConns:               1,
		TLSConfig:              v.e.tlsCfg,
		Dial:                   func(addr string) (net.Conn, error) { return v.dial(v.e.vuCtx, addr) },
		DisablePathNormalizing: true,
		// Retry only a keep-alive connection the server had closed; any
		// other failure is the server's answer and is counted.
		MaxIdemponentCallAttempts: 2,
		RetryIfErr: func(_ *fasthttp.Request, _ int, err error) (bool, bool) {
			return false, errors.Is(err, io.EOF) || errors.Is(err, fasthttp.ErrConnectionClosed)
		},
	}
	v.hosts = append(v.hosts, hostClient{key: ks, hc: hc})
	return hc, nil
}

// doFast sends one request through fasthttp. got is false when no response
// arrived (the kind says why).
func (v *vu) doFast(ep *endpoint) (k kind, chk checkResult, got bool) {
	u := ep.url
	if u == nil {
		v.urlBuf = ep.req.URL.Append(v.urlBuf[:0], &v.tctx)
		u = v.urlBuf
	}
	hc, err := v.fastHost(u)
	if err != nil {
		return kindOther, checkNone, false
	}
	req := v.req
	req.Reset()
	if ep.req.Method != "" {
		req.Header.SetMethod(ep.req.Method)
	}
	req.SetRequestURIBytes(u)
	for i := range ep.req.Headers {
		h := &ep.req.Headers[i]
		v.hdrBuf = h.Value.Append(v.hdrBuf[:0], &v.tctx)
		req.Header.SetBytesV(h.Name, v.hdrBuf)
	}
	switch {
	case ep.body != nil:
		req.SetBodyRaw(ep.body)
	case ep.req.Body != nil:
		v.bodyBuf = ep.req.Body.Append(v.bodyBuf[:0], &v.tctx)
		req.SetBodyRaw(v.bodyBuf)
	}
	if err := hc.DoTimeout(req, v.resp, v.g.timeout); err != nil {
		return classify(err), checkNone, false
	}
	k, chk = judge(ep, v.resp.StatusCode(), v.resp.Body())
	return k, chk, true
}

// newHTTPClient is the net/http client of an http2 group: HTTP/2 over TLS
// when the server offers it, one connection per VU, no compression, no
// redirects (as fasthttp).
func (v *vu) newHTTPClient() *http.Client {
	dt := v.e.dialTimeout(v.g)
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			return v.dial(ctx, addr)
		},
		TLSClientConfig:     v.e.tlsCfg.Clone(),
		TLSHandshakeTimeout: dt,
		DisableCompression:  true,
		MaxIdleConnsPerHost: 1,
		MaxConnsPerHost:     1,
		ForceAttemptHTTP2:   true,
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       v.g.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// doNetHTTP sends one request through net/http. It allocates per request
// (net/http does anyway); HTTP/2 groups are not the throughput path.
func (v *vu) doNetHTTP(ep *endpoint) (k kind, chk checkResult, got bool) {
	u := ep.url
	if u == nil {
		v.urlBuf = ep.req.URL.Append(v.urlBuf[:0], &v.tctx)
		u = v.urlBuf
	}
	var body io.Reader
	switch {
	case ep.body != nil:
		body = bytes.NewReader(ep.body)
	case ep.req.Body != nil:
		v.bodyBuf = ep.req.Body.Append(v.bodyBuf[:0], &v.tctx)
		body = bytes.NewReader(v.bodyBuf)
	}
	method := ep.req.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(v.e.vuCtx, method, string(u), body)
	if err != nil {
		return kindOther, checkNone, false
	}
	req.Header.Set("User-Agent", "brink")
	for i := range ep.req.Headers {
		h := &ep.req.Headers[i]
		v.hdrBuf = h.Value.Append(v.hdrBuf[:0], &v.tctx)
		if strings.EqualFold(h.Name, "Host") {
			req.Host = string(v.hdrBuf)
			continue
		}
		req.Header.Set(h.Name, string(v.hdrBuf))
	}
	resp, err := v.hc.Do(req)
	if err != nil {
		return classify(err), checkNone, false
	}
	defer resp.Body.Close()
	var rb []byte
	if ep.needle != nil {
		buf := bytes.NewBuffer(v.respBuf[:0])
		_, err = buf.ReadFrom(resp.Body)
		rb = buf.Bytes()
		v.respBuf = rb
	} else {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	if err != nil {
		return classify(err), checkNone, false
	}
	k, chk = judge(ep, resp.StatusCode, rb)
	return k, chk, true
}

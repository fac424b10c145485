package engine

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/brink-load/brink/scenarios"
	"github.com/valyala/fasthttp"
)

// h1conn is a VU's single HTTP/1.1 keep-alive connection to one
// scheme://host[:port]. fasthttp's Request/Response do the (zero-alloc)
// wire format; the connection handling is ours: no pool, no lock, no
// cleaner goroutine left behind after Stop — a VU holds one connection as
// one browser tab would, and a hard stop closes it mid-request.
type h1conn struct {
	key   string
	addr  string
	host  string // for TLS SNI
	isTLS bool
	// hostHdr is the Host header: host[:port] as the URL wrote it.
	hostHdr []byte
	auth    []byte // Authorization from the URL's user:password@, or nil
	c       net.Conn
	raw     syscall.RawConn // the TCP socket under c, to see a peer's close before writing
	br      *bufio.Reader
	bw      *bufio.Writer
	lr      io.LimitedReader // discardBody's, kept here so it allocates nothing
	// peerGone's state, kept here so a peek allocates nothing.
	peekFn  func(fd uintptr) bool
	peekBuf [1]byte
	gone    bool
}

func (h *h1conn) close() {
	if h.c != nil {
		h.c.Close()
		h.c = nil
	}
}

// connect dials (and for https shakes hands) within the dial timeout.
// Failures are dialErrors, so a slow handshake is a connect_timeout and a
// bad certificate is tls.
func (h *h1conn) connect(v *vu, deadline time.Time) error {
	ctx, cancel := context.WithDeadline(v.e.vuCtx, deadline)
	defer cancel()
	c, err := v.dial(ctx, h.addr)
	if err != nil {
		return err
	}
	h.raw = nil
	if cc, ok := c.(*countingConn); ok {
		if sc, ok := cc.Conn.(syscall.Conn); ok {
			h.raw, _ = sc.SyscallConn()
		}
	}
	if h.isTLS {
		cfg := v.e.tlsCfg.Clone()
		cfg.ServerName = h.host
		tc := tls.Client(c, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return &dialError{err}
		}
		c = tc
	}
	h.c = c
	if h.br == nil {
		h.br = bufio.NewReaderSize(c, 4096)
		h.bw = bufio.NewWriterSize(c, 4096)
	} else {
		h.br.Reset(c)
		h.bw.Reset(c)
	}
	return nil
}

// roundTrip writes req (or, when not nil, wire: a constant request's
// bytes) and reads resp. A keep-alive connection the server
// had already closed is retried once on a fresh one — but a request that
// is not safe to repeat (POST, PUT, PATCH, DELETE) only when not a byte of
// it reached the socket, since the server may have read and acted on it
// before closing: such a request is never sent twice. To spare it that
// error in the common case (the server's idle timeout), a reused
// connection is first checked for a close already received. Any other
// failure is the answer and is counted.
//
// With discard, the body is read through and thrown away rather than
// buffered (a request whose check reads no body): a VU then holds no body in
// memory whatever the target sends, and the start of an error status's
// body is kept in v.respBuf for its failure message.
func (h *h1conn) roundTrip(v *vu, req *fasthttp.Request, wire []byte, resp *fasthttp.Response, timeout time.Duration, discard bool) error {
	deadline := v.e.mono.Add(v.began + timeout) // the request's start + timeout
	var method []byte
	if wire != nil {
		method = wire[:bytes.IndexByte(wire, ' ')] // the request line's
	} else {
		method = req.Header.Method()
	}
	replayable := safeMethod(method)
	for attempt := 0; ; attempt++ {
		if h.c != nil && !replayable && h.peerGone() {
			h.close()
		}
		fresh := h.c == nil
		if fresh {
			dl := time.Now().Add(v.e.dialTimeout(v.g))
			if deadline.Before(dl) {
				dl = deadline
			}
			if err := h.connect(v, dl); err != nil {
				return err
			}
		}
		_ = h.c.SetDeadline(deadline)
		sent := v.e.clock()
		out0 := v.bytesOut.Load()
		var err error
		if wire != nil {
			_, err = h.bw.Write(wire)
		} else {
			err = req.Write(h.bw)
		}
		if err == nil {
			err = h.bw.Flush()
		}
		if err == nil {
			// Peek first: fasthttp reports any failure before the first
			// byte as EOF, and we want the real one (reset, timeout).
			_, err = h.br.Peek(1)
			v.ttfb = v.e.clock() - sent
		}
		if err == nil {
			// The limit is checked against Content-Length and each chunk
			// size before anything is allocated: a hostile length can
			// neither exhaust memory nor make fasthttp panic. A header
			// block bigger than the reader's buffer is read again with a
			// bigger one (fasthttp only peeks while parsing headers).
			for {
				resp.Reset()
				resp.SkipBody = string(method) == fasthttp.MethodHead
				resp.StreamBody = discard
				if err = resp.ReadLimitBody(h.br, v.g.maxBody); err == nil || !smallBuffer(err) || !h.growReader() {
					break
				}
			}
			if err == nil && resp.BodyStream() != nil {
				if err = h.discardBody(v, resp); err != nil {
					h.close() // the rest of the body is still on the wire
					return err
				}
			}
			if err == nil {
				if resp.ConnectionClose() {
					h.close()
				}
				return nil
			}
			if smallBuffer(err) {
				h.close()
				return &headersTooLargeError{err}
			}
			if errors.Is(err, fasthttp.ErrBodyTooLarge) {
				// The rest of the body is still on the wire: the
				// connection cannot be reused, and is not retried.
				h.close()
				return &bodyTooLargeError{limit: v.g.maxBody, length: int64(resp.Header.ContentLength())}
			}
		}
		h.close()
		if !fresh && attempt == 0 && staleConn(err) && !replayable && v.bytesOut.Load() != out0 {
			return &notResentError{method: string(method), err: err}
		}
		if fresh || attempt > 0 || !staleConn(err) || !replayable && v.bytesOut.Load() != out0 {
			return err
		}
	}
}

// safeMethod is whether a request may be sent again after a failure that
// leaves unknown whether the server acted on it: the methods net/http
// replays too (RFC 9110's safe methods).
func safeMethod(m []byte) bool {
	switch string(m) {
	case "GET", "HEAD", "OPTIONS", "TRACE":
		return true
	}
	return false
}

// discardBody reads a streamed body to its end without keeping it, up to
// max_body, keeping the first failBodyBytes of an error status's body.
func (h *h1conn) discardBody(v *vu, resp *fasthttp.Response) error {
	defer resp.CloseBodyStream() //nolint:errcheck // a response stream's Close only releases it
	limit := v.g.maxBody
	if cl := resp.Header.ContentLength(); cl > limit {
		return &bodyTooLargeError{limit: limit, length: int64(cl)}
	}
	h.lr = io.LimitedReader{R: resp.BodyStream(), N: int64(limit) + 1}
	if resp.StatusCode() >= 400 {
		if cap(v.respBuf) < failBodyBytes {
			v.respBuf = make([]byte, failBodyBytes)
		}
		buf := v.respBuf[:failBodyBytes]
		n := 0
		for n < len(buf) {
			m, err := h.lr.Read(buf[n:])
			n += m
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
		}
		v.respBuf = buf[:n]
	}
	if _, err := io.Copy(io.Discard, &h.lr); err != nil {
		return err
	}
	if h.lr.N <= 0 {
		return &bodyTooLargeError{limit: limit, length: int64(resp.Header.ContentLength())}
	}
	return nil
}

// maxHeaderBytes bounds a response's header block: the reader grows from
// 4 KiB to this for a VU whose target sends big headers (cookies, CSP).
const maxHeaderBytes = 1 << 20

// growReader replaces the connection's reader by one four times the size
// holding the same unread bytes; false at maxHeaderBytes. The bigger
// reader stays with the VU (reset onto each new connection).
func (h *h1conn) growReader() bool {
	size := h.br.Size() * 4
	if size > maxHeaderBytes {
		return false
	}
	pending, _ := h.br.Peek(h.br.Buffered())
	unread := bytes.Clone(pending)
	h.br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(unread), h.c), size)
	return true
}

// smallBuffer is fasthttp saying a header block does not fit the reader.
func smallBuffer(err error) bool {
	var small *fasthttp.ErrSmallBuffer
	return errors.As(err, &small)
}

// headersTooLargeError is a response header block over maxHeaderBytes.
type headersTooLargeError struct{ err error }

func (e *headersTooLargeError) Error() string {
	return "response headers larger than " + scenarios.FormatSize(maxHeaderBytes)
}

func (e *headersTooLargeError) Unwrap() error { return e.err }

// notResentError is a request that is not safe to repeat, lost when the
// server closed its keep-alive connection after it was written.
type notResentError struct {
	method string
	err    error
}

func (e *notResentError) Error() string {
	return "server closed the keep-alive connection after the " + e.method +
		" was sent (not resent: the server may have acted on it): " + e.err.Error()
}

func (e *notResentError) Unwrap() error { return e.err }

// bodyTooLargeError is a response body over the group's max_body.
type bodyTooLargeError struct {
	limit  int
	length int64 // Content-Length, or < 0 when chunked or unknown
}

func (e *bodyTooLargeError) Error() string {
	if e.length >= 0 {
		return fmt.Sprintf("response body of %d bytes (Content-Length) is over max_body %s", e.length, scenarios.FormatSize(int64(e.limit)))
	}
	return fmt.Sprintf("response body is over max_body %s", scenarios.FormatSize(int64(e.limit)))
}

// staleConn is what a reused keep-alive connection the server had closed
// looks like on the next request.
func staleConn(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
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

// hostAddr is host:port for a scheme://[userinfo@]host[:port] key.
func hostAddr(key string, isTLS bool) string {
	host := keyHost(key)
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		return host
	}
	if isTLS {
		return host + ":443"
	}
	return host + ":80"
}

// keyHost is a key's host[:port] without the user:password@ a URL may
// carry: that is the request's Authorization, never part of the address.
func keyHost(key string) string {
	host := key[strings.Index(key, "://")+3:]
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		host = host[i+1:]
	}
	return host
}

// basicAuth is the Authorization value a key's user:password@ stands for,
// as net/http sends it (each part %-decoded); nil without one.
func basicAuth(key string) []byte {
	a := key[strings.Index(key, "://")+3:]
	i := strings.LastIndexByte(a, '@')
	if i < 0 {
		return nil
	}
	user, pass, _ := strings.Cut(a[:i], ":")
	if u, err := url.PathUnescape(user); err == nil {
		user = u
	}
	if p, err := url.PathUnescape(pass); err == nil {
		pass = p
	}
	return []byte("Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
}

// fastConn returns the VU's connection for u's host, creating it on
// first use. Lookup compares bytes against the few hosts seen: no
// allocation.
func (v *vu) fastConn(u []byte) (*h1conn, error) {
	key, isTLS, err := splitURL(u)
	if err != nil {
		return nil, err
	}
	return v.hostConn(key, isTLS)
}

// hostConn is fastConn for a url already split.
func (v *vu) hostConn(key []byte, isTLS bool) (*h1conn, error) {
	for _, h := range v.hosts {
		if h.key == string(key) {
			return h, nil
		}
	}
	ks := string(key)
	addr := hostAddr(ks, isTLS)
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	h := &h1conn{key: ks, addr: addr, host: host, isTLS: isTLS, hostHdr: []byte(keyHost(ks)), auth: basicAuth(ks)}
	v.hosts = append(v.hosts, h)
	return h, nil
}

// doFast sends one request through fasthttp. got is false when no response
// arrived (the kind says why).
func (v *vu) doFast(ep *endpoint) (k kind, chk checkResult, got bool) {
	u := ep.url
	var hc *h1conn
	var err error
	if u != nil {
		hc, err = v.hostConn(ep.key, ep.isTLS)
	} else {
		v.urlBuf = ep.req.URL.Append(v.urlBuf[:0], &v.tctx)
		u = v.urlBuf
		hc, err = v.fastConn(u)
	}
	if err != nil {
		v.failErr = err
		return kindOther, checkNone, false
	}
	if ep.req.URL.Secret() {
		v.failRedact = hc.host
	}
	// A constant request (static url, headers and body, no cookie to send)
	// goes out as the bytes fasthttp wrote for it the first time: the same
	// bytes, without rebuilding and re-serialising its header each time.
	var wire []byte
	constant := ep.fixed && (v.jar == nil || v.jar.empty())
	if constant {
		if w := ep.wire.Load(); w != nil {
			wire = *w
		}
	}
	// Request line and Host from the URL we already split, so fasthttp
	// never parses the URI.
	path := u[len(hc.key):]
	if len(path) == 0 || path[0] != '/' {
		v.pathBuf = append(append(v.pathBuf[:0], '/'), path...)
		path = v.pathBuf
	}
	req := v.req
	if wire == nil {
		v.buildFast(ep, hc, path)
		if constant {
			wire = ep.saveWire(req)
		}
	}
	discard := !ep.chk.needsBody() && !ep.needBody
	if err := hc.roundTrip(v, req, wire, v.resp, v.g.timeout, discard); err != nil {
		v.failErr = err
		return classify(err), checkNone, false
	}
	if v.jar != nil {
		v.jar.setFast(v.resp, hc.host, path)
	}
	v.failStatus = v.resp.StatusCode()
	if discard {
		v.failBody = nil
		if v.failStatus >= 400 {
			v.failBody = v.respBuf
		}
	} else {
		v.failBody = v.resp.Body()
	}
	k, chk = v.judge(ep, v.failStatus, v.failBody, respHeaders{fast: &v.resp.Header})
	if len(ep.extracts) > 0 {
		k, chk = v.extractAfter(ep, k, chk, v.resp.Body(), v.resp, nil)
	}
	return k, chk, true
}

// buildFast sets v.req to ep's request for the host hc (path is the
// request-target). A Host header in the scenario overrides the URL's
// (virtual hosts behind one address).
func (v *vu) buildFast(ep *endpoint, hc *h1conn, path []byte) {
	req := v.req
	req.Reset()
	if ep.req.Method != "" {
		req.Header.SetMethod(ep.req.Method)
	}
	req.Header.SetRequestURIBytes(path)
	req.Header.SetHostBytes(hc.hostHdr)
	req.Header.SetUserAgent("brink")
	if hc.auth != nil {
		req.Header.SetBytesV("Authorization", hc.auth) // a scenario's own header below replaces it, as in net/http
	}
	for i := range ep.req.Headers {
		h := &ep.req.Headers[i]
		v.hdrBuf = h.Value.Append(v.hdrBuf[:0], &v.tctx)
		req.Header.SetBytesV(h.Name, v.hdrBuf)
	}
	if v.jar != nil {
		v.jar.addFast(req, hc.host, path, hc.isTLS)
	}
	switch {
	case ep.body != nil:
		req.SetBodyRaw(ep.body)
	case ep.req.Body != nil:
		v.bodyBuf = ep.req.Body.Append(v.bodyBuf[:0], &v.tctx)
		req.SetBodyRaw(v.bodyBuf)
	}
}

// saveWire keeps req's serialisation as ep's wire bytes and returns them
// (VUs racing to it write the same bytes; one copy stays).
func (ep *endpoint) saveWire(req *fasthttp.Request) []byte {
	var b bytes.Buffer
	bw := bufio.NewWriter(&b)
	if req.Write(bw) != nil || bw.Flush() != nil {
		return nil // a bytes.Buffer does not fail; the request goes out the usual way
	}
	w := b.Bytes()
	if !ep.wire.CompareAndSwap(nil, &w) {
		w = *ep.wire.Load()
	}
	return w
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
		// The same bound on headers as the fasthttp path.
		MaxResponseHeaderBytes: maxHeaderBytes,
		MaxIdleConnsPerHost:    1,
		MaxConnsPerHost:        1,
		ForceAttemptHTTP2:      true,
	}
	return &http.Client{
		Jar:           v.cookieJar(),
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
		v.failErr = err
		return kindOther, checkNone, false
	}
	if ep.req.URL.Secret() {
		v.failRedact = req.URL.Hostname()
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
	var gotConn time.Time
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn:              func(httptrace.GotConnInfo) { gotConn = time.Now() },
		GotFirstResponseByte: func() { v.ttfb = time.Since(gotConn) },
	}))
	resp, err := v.hc.Do(req)
	if err != nil {
		v.failErr = err
		return classify(err), checkNone, false
	}
	v.failStatus = resp.StatusCode
	// Closing a body that was not read to the end closes the connection
	// (HTTP/1) or resets the stream (HTTP/2): nothing more is read.
	defer resp.Body.Close()
	limit := int64(v.g.maxBody)
	if resp.ContentLength > limit {
		v.failErr = &bodyTooLargeError{limit: v.g.maxBody, length: resp.ContentLength}
		return kindBodyTooLarge, checkNone, false
	}
	lr := io.LimitReader(resp.Body, limit+1)
	var rb []byte
	var n int64
	switch {
	case ep.chk.needsBody() || ep.needBody:
		buf := bytes.NewBuffer(v.respBuf[:0])
		n, err = buf.ReadFrom(lr)
		rb = buf.Bytes()
		v.respBuf = rb
	case resp.StatusCode >= 400:
		// Keep the start of an error body: the failure's message shows it.
		buf := bytes.NewBuffer(v.respBuf[:0])
		n, err = buf.ReadFrom(io.LimitReader(lr, failBodyBytes))
		v.respBuf = buf.Bytes()
		v.failBody = v.respBuf
		if err == nil {
			var rest int64
			rest, err = io.Copy(io.Discard, lr)
			n += rest
		}
	default:
		n, err = io.Copy(io.Discard, lr)
	}
	if err != nil {
		v.failErr = err
		return classify(err), checkNone, false
	}
	if n > limit {
		v.failErr = &bodyTooLargeError{limit: v.g.maxBody, length: -1}
		return kindBodyTooLarge, checkNone, false
	}
	if rb != nil {
		v.failBody = rb
	}
	k, chk = v.judge(ep, resp.StatusCode, rb, respHeaders{std: resp.Header})
	if len(ep.extracts) > 0 {
		k, chk = v.extractAfter(ep, k, chk, rb, nil, resp)
	}
	return k, chk, true
}

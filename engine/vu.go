package engine

import (
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/brink-load/brink/scenarios"
	"github.com/valyala/fasthttp"
)

// vu is one virtual user. Everything it touches on the hot path is its
// own: template buffers, request/response objects, connections, and a
// shard of the recorder shared with a few other VUs.
type vu struct {
	e   *Engine
	g   *group
	idx int // slot within the group
	// gslot is that slot's place in the whole run's group (idx itself
	// without a segment), so generators sharing a run never share a
	// per-vu data row.
	gslot int
	sh    *shard
	tctx  scenarios.TemplateContext
	iter  int64

	urlBuf, bodyBuf, hdrBuf, respBuf, pathBuf []byte

	// HTTP/1.1 through fasthttp's wire format: one connection per target host.
	hosts []*h1conn
	req   *fasthttp.Request
	resp  *fasthttp.Response
	// net/http (http2: true)
	hc *http.Client

	// Why the last request failed, for its failure sample (failures.go):
	// the transport error, the status and (a view of) the body, and a
	// rendered host to hide when the URL came from an {{env}} template.
	failErr    error
	failStatus int
	failBody   []byte
	failRedact string
	// failCheck is the id of the check that failed (checker.names), and
	// failDetail what it found instead (a header's value, the time taken).
	failCheck  uint8
	failDetail []byte
	detailBuf  []byte // failDetail's own bytes when it is not a view into the response

	work  chan time.Time // open model: intended start of the next iteration
	ttfb  time.Duration  // the last request's time to first byte (0: unknown)
	began time.Duration  // the current request's start (Engine.clock)
	timer *time.Timer    // think time, reused

	bytesIn, bytesOut atomic.Int64

	// Variables (flows.go): which slots of tctx.Vars hold a value.
	have      []bool
	setupDone bool // every setup request succeeded
	// After a failed setup: when it may run again, and the wait after
	// the next failure (flows.go).
	setupAt      time.Time
	setupBackoff time.Duration
	jar          *cookieJar // nil with cookies: false

	sendMu sync.Mutex // WebSocket: one send callback at a time

	connMu sync.Mutex
	conns  map[*countingConn]struct{}
}

func (e *Engine) newVU(g *group, idx int) *vu {
	id := int(e.nextVU.Add(1))
	v := &vu{
		e:     e,
		g:     g,
		idx:   idx,
		gslot: g.slots.global(e.opts.Segment, idx),
		sh:    e.rec.shard(id),
		tctx:  scenarios.TemplateContext{VU: id, Rand: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(id)))},
	}
	return v
}

// setup is the VU's start in its own goroutine: client objects, and a hook
// that closes its connections when in-flight requests must be cut.
func (v *vu) setup() (stop func() bool) {
	v.g.active.Add(1)
	v.initVars()
	if v.g.cfg.CookiesOn() && (len(v.g.eps) > 0 || len(v.g.setupEps) > 0 || v.g.isWS) {
		v.jar = &cookieJar{}
	}
	if len(v.g.eps) > 0 || len(v.g.setupEps) > 0 {
		if v.g.cfg.HTTP2 {
			v.hc = v.newHTTPClient()
		} else {
			v.req = fasthttp.AcquireRequest()
			v.resp = fasthttp.AcquireResponse()
		}
	}
	return context.AfterFunc(v.e.vuCtx, v.closeConns)
}

func (v *vu) teardown(stop func() bool) {
	stop()
	v.closeConns()
	for _, h := range v.hosts {
		h.close()
	}
	if v.hc != nil {
		v.hc.CloseIdleConnections()
	}
	if v.req != nil {
		fasthttp.ReleaseRequest(v.req)
		fasthttp.ReleaseResponse(v.resp)
	}
	v.g.active.Add(-1)
	v.e.vuWG.Done()
}

// runClosed is the closed model: iterate, think, repeat while the group's
// target keeps this slot.
func (v *vu) runClosed() {
	stop := v.setup()
	defer v.teardown(stop)
	v.runSetup()
	for v.g.keep(v.idx) {
		if v.e.vuCtx.Err() != nil {
			v.g.leave(v.idx)
			return
		}
		connErr := v.iterate(time.Time{})
		if !v.think(connErr) || !v.waitSetup() {
			return
		}
	}
}

// runOpen is the open model: wait for an arrival, run one iteration, offer
// itself again. A non-zero first is the arrival it was started for, run
// before it is first offered (offered with it pending, another arrival
// could queue behind it).
func (v *vu) runOpen(first time.Time) {
	stop := v.setup()
	defer v.teardown(stop)
	v.runSetup()
	if !first.IsZero() {
		v.g.busy.Add(1)
		v.iterate(first)
		v.g.busy.Add(-1)
	}
	for {
		v.g.idle <- v // never blocks: capacity is max VUs
		select {
		case intended := <-v.work:
			v.g.busy.Add(1)
			v.iterate(intended)
			v.g.busy.Add(-1)
		case <-v.g.quit:
			// An arrival handed over just before quit still runs.
			select {
			case intended := <-v.work:
				v.iterate(intended)
			default:
			}
			return
		}
	}
}

// think pauses between iterations. It returns false when the VU must
// leave, its slot already released: the engine is cutting requests, or the
// target dropped below this slot (a ramp-down does not wait out a long
// think). After a connection-level failure a VU without think time still
// pauses briefly, so a refused port is not a busy loop burning the
// generator's CPU.
func (v *vu) think(connErr bool) bool {
	th := v.g.cfg.Think
	d := th.Min
	if th.Max > th.Min {
		d += time.Duration(v.tctx.Rand.Int64N(int64(th.Max - th.Min)))
	}
	if connErr && d < 10*time.Millisecond {
		d = 10 * time.Millisecond
	}
	return v.pause(d)
}

// pause waits d, returning false (as think) when the VU must leave.
func (v *vu) pause(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	if v.timer == nil {
		v.timer = time.NewTimer(d)
	} else {
		v.timer.Reset(d)
	}
	wake := v.g.leaveChan(v.idx)
	for {
		select {
		case <-v.timer.C:
			return true
		case <-v.e.vuCtx.Done():
			v.timer.Stop()
			v.g.leave(v.idx)
			return false
		case <-wake:
			if !v.g.keep(v.idx) {
				v.timer.Stop()
				return false
			}
			wake = v.g.leaveChan(v.idx)
		}
	}
}

// iterate runs the group's requests once. intended is the open model's
// scheduled start (zero for closed VUs): the first request's latency counts
// from it, so a late start shows as latency (coordinated omission).
// It reports whether a connection-level error happened.
func (v *vu) iterate(intended time.Time) (connErr bool) {
	v.tctx.Iter = v.iter
	v.iter++
	v.nextRow()
	if !v.setupDone {
		v.retrySetup() // the last try failed: log in again first, after its backoff
	}
	eps := v.g.eps
	if v.g.cum != nil { // pick: weighted runs one request
		j := v.g.pick(v.tctx.Rand.Float64())
		eps = eps[j : j+1]
	}
	for i, ep := range eps {
		first := time.Time{}
		if i == 0 {
			first = intended
		}
		if _, ce := v.do(ep, first); ce {
			connErr = true
		}
		if v.e.vuCtx.Err() != nil {
			return true
		}
	}
	v.sh.iteration(v.g.idx)
	return connErr
}

// do sends one request and records it. intended, when not zero, is the
// open model's scheduled start of the iteration it begins. It returns the
// request's error kind and whether a connection-level error happened, or
// the request could not be sent for want of a variable (either way the VU
// should pause before trying again, not spin).
func (v *vu) do(ep *endpoint, intended time.Time) (k kind, connErr bool) {
	start := v.e.clock()
	v.began = start
	var due time.Duration // intended, on the same clock
	if !intended.IsZero() {
		due = intended.Sub(v.e.mono)
		v.sh.sendLag(start - due)
	}
	in0, out0 := v.bytesIn.Load(), v.bytesOut.Load()
	var chk checkResult
	var got bool
	v.ttfb = 0
	v.failErr, v.failStatus, v.failBody, v.failRedact, v.failCheck = nil, 0, nil, "", 0
	switch {
	case len(ep.needs) > 0 && !v.ready(ep):
		k, chk = kindExtract, checkFail
		connErr = true
	case v.hc != nil:
		k, chk, got = v.doNetHTTP(ep)
	default:
		k, chk, got = v.doFast(ep)
	}
	end := v.e.clock()
	if v.e.vuCtx.Err() != nil {
		return k, true // cut by a hard stop: not the server's fault, not recorded
	}
	var lat, svc time.Duration
	if got {
		svc = end - start
		lat = svc
		if !intended.IsZero() {
			lat = end - due
		}
		if lat <= 0 {
			lat = 1
		}
		if svc <= 0 {
			svc = 1
		}
		k, chk = v.judgeDuration(ep, svc, k, chk)
	} else if k <= kindTLS {
		connErr = true
	}
	v.sh.request(ep.id, v.g.idx, k, chk, lat, svc, v.ttfb, v.bytesIn.Load()-in0, v.bytesOut.Load()-out0)
	if k != kindNone {
		body := v.failBody
		switch {
		case k == kindCheck:
			body = v.failDetail // what the failed check found
		case k != kind4xx && k != kind5xx:
			body = nil // only an error status shows its body
		}
		v.sh.failure(ep.id, k, v.failStatus, v.failCheck, v.failErr, body, v.failRedact, v.secrets())
	}
	return k, connErr
}

// countingConn counts wire bytes for the VU that dialled it, so byte
// counts need no header arithmetic and cost two atomic adds.
type countingConn struct {
	net.Conn
	v      *vu
	closed atomic.Bool
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.v.bytesIn.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.v.bytesOut.Add(int64(n))
	return n, err
}

func (c *countingConn) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	c.v.connMu.Lock()
	delete(c.v.conns, c)
	c.v.connMu.Unlock()
	return c.Conn.Close()
}

// dialError marks a failure to connect, so classify can tell a connect
// timeout from a request timeout.
type dialError struct{ err error }

func (d *dialError) Error() string { return d.err.Error() }
func (d *dialError) Unwrap() error { return d.err }

// dial opens a TCP connection for this VU, timing it and tracking it so a
// hard stop can close it mid-request.
func (v *vu) dial(ctx context.Context, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: v.e.dialTimeout(v.g)}
	t0 := time.Now()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, &dialError{err}
	}
	v.sh.connected(time.Since(t0))
	cc := &countingConn{Conn: c, v: v}
	v.connMu.Lock()
	if v.conns == nil {
		v.conns = map[*countingConn]struct{}{}
	}
	v.conns[cc] = struct{}{}
	v.connMu.Unlock()
	if v.e.vuCtx.Err() != nil {
		cc.Close()
		return nil, &dialError{context.Canceled}
	}
	return cc, nil
}

func (v *vu) closeConns() {
	v.connMu.Lock()
	cs := make([]*countingConn, 0, len(v.conns))
	for c := range v.conns {
		cs = append(cs, c)
	}
	v.connMu.Unlock()
	for _, c := range cs {
		c.Close()
	}
}

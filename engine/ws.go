package engine

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// wsWriteBuffers is shared by every WebSocket VU: a connection only holds a
// write buffer while writing, which keeps idle connections small.
var wsWriteBuffers = &sync.Pool{}

const (
	wsDefaultEvery = time.Second
	wsMaxBackoff   = 5 * time.Second
)

// shrinkChan returns a channel closed the next time the group's VU target
// drops, so idle WebSocket VUs notice a ramp-down without polling.
func (g *group) shrinkChan() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.shrink == nil {
		g.shrink = make(chan struct{})
	}
	return g.shrink
}

// runWS holds one WebSocket connection open while the group's target keeps
// this slot, reconnecting with a backoff after an unexpected close.
func (v *vu) runWS() {
	stop := v.setup()
	defer v.teardown(stop)
	backoff := 100 * time.Millisecond
	for v.g.keep(v.idx) {
		if v.e.vuCtx.Err() != nil {
			v.g.leave(v.idx)
			return
		}
		connected, leave := v.wsSession()
		if leave {
			return
		}
		if connected {
			backoff = 100 * time.Millisecond
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-v.e.vuCtx.Done():
			t.Stop()
		case <-v.g.shrinkChan():
			t.Stop()
		}
		backoff = min(2*backoff, wsMaxBackoff)
	}
}

// wsSession connects, sends and reads until the VU must leave (leave=true,
// its slot already released) or the connection broke (leave=false).
func (v *vu) wsSession() (connected, leave bool) {
	ws := v.g.cfg.WebSocket
	v.urlBuf = ws.URL.Append(v.urlBuf[:0], &v.tctx)
	var hdr http.Header
	if len(ws.Headers) > 0 {
		hdr = make(http.Header, len(ws.Headers))
		for i := range ws.Headers {
			h := &ws.Headers[i]
			v.hdrBuf = h.Value.Append(v.hdrBuf[:0], &v.tctx)
			hdr.Set(h.Name, string(v.hdrBuf))
		}
	}
	d := websocket.Dialer{
		NetDialContext:   func(ctx context.Context, _, addr string) (net.Conn, error) { return v.dial(ctx, addr) },
		HandshakeTimeout: v.e.dialTimeout(v.g),
		TLSClientConfig:  v.e.tlsCfg,
		ReadBufferSize:   1024,
		WriteBufferSize:  1024,
		WriteBufferPool:  wsWriteBuffers,
	}
	t0 := time.Now()
	conn, resp, err := dialOffStack(v.e.vuCtx, &d, string(v.urlBuf), hdr)
	if err != nil {
		if v.e.vuCtx.Err() != nil {
			v.g.leave(v.idx)
			return false, true
		}
		k := classify(err)
		if errors.Is(err, websocket.ErrBadHandshake) && resp != nil {
			switch {
			case resp.StatusCode >= 500:
				k = kind5xx
			case resp.StatusCode >= 400:
				k = kind4xx
			default:
				k = kindCheck // answered, but not with an upgrade
			}
		}
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		v.sh.wsError(v.g.idx, k, false)
		return false, false
	}
	v.sh.wsOpened(time.Since(t0))
	v.e.wsOpen.Add(1)
	defer v.e.wsOpen.Add(-1)

	// The reader owns all reads (gorilla allows one reader and one writer
	// at a time); it takes the first message after a send as its reply.
	var pending atomic.Int64 // unix ns of the unanswered send, 0 if none
	readerDone := make(chan error, 1)
	go func() {
		for {
			_, r, err := conn.NextReader()
			if err != nil {
				readerDone <- err
				return
			}
			n, err := io.Copy(io.Discard, r)
			if err != nil {
				readerDone <- err
				return
			}
			var reply time.Duration
			if ws.ExpectReply {
				if s := pending.Swap(0); s != 0 {
					reply = max(time.Duration(time.Now().UnixNano()-s), 1)
				}
			}
			v.sh.wsReceived(n, reply)
		}
	}()

	every := ws.Every
	if every <= 0 {
		every = wsDefaultEvery
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	shrink := v.g.shrinkChan()
	for {
		select {
		case <-tick.C:
			if ws.Send == nil {
				continue
			}
			v.bodyBuf = ws.Send.Append(v.bodyBuf[:0], &v.tctx)
			v.tctx.Iter = v.iter
			v.iter++
			if ws.ExpectReply {
				now := time.Now().UnixNano()
				// A reply overdue by the group's timeout is a timeout
				// error; measuring restarts from this send.
				if old := pending.Load(); old != 0 && time.Duration(now-old) > v.g.timeout {
					if pending.CompareAndSwap(old, now) {
						v.sh.wsError(v.g.idx, kindTimeout, false)
					}
				} else {
					pending.CompareAndSwap(0, now)
				}
			}
			_ = conn.SetWriteDeadline(time.Now().Add(v.g.timeout))
			if err := conn.WriteMessage(websocket.TextMessage, v.bodyBuf); err != nil {
				conn.Close()
				<-readerDone
				if v.e.vuCtx.Err() != nil {
					v.g.leave(v.idx)
					return true, true
				}
				v.sh.wsError(v.g.idx, kindWSClosed, true)
				return true, false
			}
			v.sh.wsSent(int64(len(v.bodyBuf)))
			v.sh.iteration(v.g.idx)
		case <-shrink:
			if v.g.keep(v.idx) {
				shrink = v.g.shrinkChan()
				continue
			}
			v.wsClose(conn, readerDone)
			return true, true
		case <-readerDone:
			conn.Close()
			if v.e.vuCtx.Err() != nil {
				v.g.leave(v.idx)
				return true, true
			}
			v.sh.wsError(v.g.idx, kindWSClosed, true)
			return true, false
		case <-v.e.vuCtx.Done():
			conn.Close()
			<-readerDone
			v.g.leave(v.idx)
			return true, true
		}
	}
}

// wsClose ends a connection politely: a close frame, a short wait for the
// server's answer, then the socket.
func (v *vu) wsClose(conn *websocket.Conn, readerDone <-chan error) {
	_ = conn.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	t := time.NewTimer(time.Second)
	select {
	case <-readerDone:
		conn.Close()
	case <-t.C:
		conn.Close()
		<-readerDone
	}
	t.Stop()
}

type wsDialed struct {
	conn *websocket.Conn
	resp *http.Response
	err  error
}

// dialOffStack runs the handshake on a short-lived goroutine. The dial's
// deep call chain (HTTP upgrade, TLS) would grow the VU's own stack to
// 8 KB and keep it there for the life of the connection; done elsewhere,
// the long-lived VU goroutine stays small (~12 KB → ~6 KB of stack per
// WebSocket VU, measured by BenchmarkWSVUMemory).
func dialOffStack(ctx context.Context, d *websocket.Dialer, url string, hdr http.Header) (*websocket.Conn, *http.Response, error) {
	ch := make(chan wsDialed, 1)
	go func() {
		c, r, err := d.DialContext(ctx, url, hdr)
		ch <- wsDialed{c, r, err}
	}()
	r := <-ch
	return r.conn, r.resp, r.err
}

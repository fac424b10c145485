package engine

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/brink-load/brink/scenarios"
	"github.com/gorilla/websocket"
)

// wsWriteBuffers is shared by every WebSocket VU: a connection only holds a
// write buffer while writing, which keeps idle connections small.
var wsWriteBuffers = &sync.Pool{}

const (
	wsMaxBackoff = 5 * time.Second
	// wsCloseGrace is how long a kicked connection waits for the server to
	// answer its close frame before the socket is cut.
	wsCloseGrace = time.Second
	// wsKeepMsgBuf is the largest message buffer (reply_contains) a VU
	// keeps between messages; a bigger one is dropped after use.
	wsKeepMsgBuf = 64 << 10
)

// wsReadLimit is the largest message a VU of g accepts: the group's
// max_body. A frame claiming more ends the session as ws_too_large before
// its payload is read, so a hostile server cannot make a VU buffer
// gigabytes.
func (g *group) wsReadLimit() int64 { return int64(g.maxBody) }

// runWS holds one WebSocket connection open while the group's target keeps
// this slot, reconnecting with a backoff after an unexpected close.
func (v *vu) runWS() {
	stop := v.setup()
	defer v.teardown(stop)
	v.runSetup()
	backoff := 100 * time.Millisecond
	for v.g.keep(v.idx) {
		if v.e.vuCtx.Err() != nil {
			v.g.leave(v.idx)
			return
		}
		// A failed setup (its failure recorded) leaves variables the
		// handshake may need unset: no connection until it succeeds.
		if v.setupDone {
			connected, leave := v.wsSession()
			if leave {
				return
			}
			if connected {
				backoff = 100 * time.Millisecond
			}
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-v.e.vuCtx.Done():
			t.Stop()
		case <-v.g.leaveChan(v.idx):
			t.Stop()
		}
		backoff = min(2*backoff, wsMaxBackoff)
		if !v.setupDone && v.e.vuCtx.Err() == nil {
			v.retrySetup() // log in again before connecting, after its backoff
		}
	}
}

// wsSession connects, sends and reads until the VU must leave (leave=true,
// its slot already released) or the connection broke (leave=false).
func (v *vu) wsSession() (connected, leave bool) {
	ws := v.g.cfg.WebSocket
	v.urlBuf = ws.URL.Append(v.urlBuf[:0], &v.tctx)
	hdr := v.wsHeader(ws)
	d := websocket.Dialer{
		Subprotocols:     ws.Subprotocols,
		NetDialContext:   func(ctx context.Context, _, addr string) (net.Conn, error) { return v.dial(ctx, addr) },
		HandshakeTimeout: v.e.dialTimeout(v.g),
		TLSClientConfig:  v.e.tlsCfg,
		ReadBufferSize:   1024,
		WriteBufferSize:  1024,
		WriteBufferPool:  wsWriteBuffers,
		Jar:              v.cookieJar(),
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
		status, msg := 0, ""
		if errors.Is(err, websocket.ErrBadHandshake) && resp != nil {
			status, msg = resp.StatusCode, wsRefusedText(resp)
		} else if k == kindTimeout {
			msg = "handshake not answered within " + v.e.dialTimeout(v.g).String() + " (" + errText(err) + ")"
		} else {
			msg = "handshake failed: " + errText(err)
		}
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		v.sh.wsRefused(v.g.idx, k)
		check := uint8(0)
		if k == kindCheck {
			check = wsCheckUpgrade
		}
		v.sh.wsCheckFailure(v.g.idx, k, status, check, msg, v.wsRedact(), v.secrets())
		return false, false
	}
	if msg := wsSubprotocolText(ws.Subprotocols, conn.Subprotocol()); msg != "" {
		// A browser fails such a connection at once: so does brink.
		conn.NetConn().Close()
		v.sh.wsRefused(v.g.idx, kindCheck)
		v.sh.wsCheckFailure(v.g.idx, kindCheck, 0, wsCheckSubprotocol, msg, v.wsRedact(), nil)
		return false, false
	}
	v.sh.wsOpened(v.g.idx, time.Since(t0))
	v.e.wsOpen.Add(1)
	defer v.e.wsOpen.Add(-1)
	conn.SetReadLimit(v.g.wsReadLimit())

	// One goroutine per VU: this one reads until the connection ends. Sends
	// run on a timer callback (a short-lived goroutine per send), and a
	// ramp-down reaches the VU through the group's registry (kick), so an
	// idle connection costs one goroutine stack, not two.
	ss := &wsSess{v: v, conn: conn, every: ws.Every}
	if ss.every <= 0 {
		ss.every = scenarios.DefaultEvery
	}
	v.g.setWS(v.idx, ss)
	// Unregister only this session: once the slot is released, a new VU
	// may already hold it with its own.
	defer v.g.unsetWS(v.idx, ss)
	if !v.g.keep(v.idx) {
		// The target dropped while we were connecting: slot released.
		v.wsClosePolitely(conn)
		ss.finish()
		v.sh.wsEnded(v.g.idx, kindNone, time.Since(t0))
		return true, true
	}
	if ws.Send != nil {
		v.sendMu.Lock()
		ss.timer = time.AfterFunc(ss.every, ss.send)
		v.sendMu.Unlock()
	}
	readErr := ss.read()
	ss.finish()
	// A reply still awaited when the session ends has failed if it was
	// already overdue; a younger one is neither (the session ended first).
	if p := ss.pending.Load(); p != 0 && time.Duration(time.Now().UnixNano()-p) > v.g.timeout {
		v.wsReplyTimedOut()
	}
	end := kindWSClosed
	if errors.Is(readErr, websocket.ErrReadLimit) {
		end = kindWSTooLarge
	}
	switch {
	case v.e.vuCtx.Err() != nil:
		v.sh.wsEnded(v.g.idx, kindNone, time.Since(t0))
		v.g.leave(v.idx)
		return true, true
	case ss.kicked.Load():
		v.sh.wsEnded(v.g.idx, kindNone, time.Since(t0))
		if !v.g.keep(v.idx) {
			return true, true // ramped down: slot released
		}
		return true, false // the target came back meanwhile: reconnect
	default:
		v.sh.wsEnded(v.g.idx, end, time.Since(t0))
		v.sh.wsFailure(v.g.idx, end, 0, ss.endText(readErr, end), v.wsRedact(), v.secrets())
		return true, false
	}
}

// wsRefusedText says how the server answered a handshake that did not
// upgrade: its status and the start of its body.
func wsRefusedText(resp *http.Response) string {
	if resp.StatusCode < 400 {
		return "handshake answered " + statusText(resp.StatusCode, "") + ", not 101 Switching Protocols"
	}
	var body []byte
	if resp.Body != nil {
		body, _ = io.ReadAll(io.LimitReader(resp.Body, failBodyBytes))
	}
	return "handshake refused: " + statusText(resp.StatusCode, string(body))
}

// endText says why an opened session ended early (kind end), after
// finish: the server's close (frame or EOF), the send that failed, or
// the broken read.
func (s *wsSess) endText(readErr error, end kind) string {
	var ce *websocket.CloseError
	switch {
	case end == kindWSTooLarge:
		return "message larger than max_body " + scenarios.FormatSize(int64(s.v.g.maxBody)) + " (cut before its payload was read)"
	case errors.As(readErr, &ce):
		// "1006 (abnormal closure): unexpected EOF", "1008 (policy violation): banned"
		return "closed by the server: " + strings.TrimPrefix(ce.Error(), "websocket: close ")
	case s.sendErr != nil:
		// brink cut the socket on it: the read only says "closed".
		return "send failed: " + errText(s.sendErr)
	case readErr != nil:
		return "connection lost: " + errText(readErr)
	}
	return "closed by the server"
}

// wsReplyTimedOut counts a reply overdue by the group's timeout, and says
// so in the failures table.
func (v *vu) wsReplyTimedOut() {
	v.sh.wsReplyTimedOut(v.g.idx)
	v.sh.wsFailure(v.g.idx, kindWSReplyTimeout, 0, "no reply within the timeout "+v.g.timeout.String(), "", nil)
}

// wsRedact is the host to hide from a failure's message when the URL
// came from an {{env}} template (whose values are never shown).
func (v *vu) wsRedact() string {
	if !v.g.cfg.WebSocket.URL.Secret() {
		return ""
	}
	u, err := url.Parse(string(v.urlBuf))
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// wsSess is one WebSocket connection of a VU.
type wsSess struct {
	v       *vu
	conn    *websocket.Conn
	every   time.Duration
	timer   *time.Timer  // the next send; guarded by v.sendMu
	pending atomic.Int64 // unix ns of the unanswered send, 0 if none
	kicked  atomic.Bool  // the ramp asked this connection to close
	done    atomic.Bool  // over: callbacks stop
	closeMu sync.Mutex   // guards closer against finish
	closer  *time.Timer  // cuts the socket if the server ignores our close
	// With reply_contains: replyMu guards pending's changes together with
	// tok, the pending send's token (reply_contains rendered with that
	// send's template context).
	replyMu sync.Mutex
	tok     []byte
	// sendErr is why a send failed (the session ends on it); guarded by
	// v.sendMu, read after finish.
	sendErr error
}

// read counts messages until the connection ends, and returns why it
// ended. Without reply_contains it takes the first message after a send as
// that send's reply; with it, the first that contains the send's token
// (one outstanding per VU).
func (s *wsSess) read() error {
	v := s.v
	ws := v.g.cfg.WebSocket
	expect := ws.ExpectReply
	match := expect && ws.ReplyContains != nil
	for {
		_, r, err := s.conn.NextReader()
		if err != nil {
			return err
		}
		var n int64
		var reply time.Duration
		if match && s.pending.Load() != 0 {
			// The reader is this VU's only user of respBuf (a WebSocket
			// VU sends no HTTP requests).
			v.respBuf, err = appendAll(v.respBuf[:0], r)
			if err != nil {
				if cap(v.respBuf) > wsKeepMsgBuf {
					v.respBuf = nil
				}
				return err
			}
			n = int64(len(v.respBuf))
			reply = s.matchReply(v.respBuf)
			if cap(v.respBuf) > wsKeepMsgBuf {
				v.respBuf = nil
			}
		} else {
			if n, err = io.Copy(io.Discard, r); err != nil {
				return err
			}
			if expect && !match {
				if p := s.pending.Swap(0); p != 0 {
					reply = max(time.Duration(time.Now().UnixNano()-p), 1)
				}
			}
		}
		v.sh.wsReceived(v.g.idx, n, reply)
	}
}

// matchReply is msg's reply latency if it contains the pending send's
// token (which it then answers), else 0.
func (s *wsSess) matchReply(msg []byte) time.Duration {
	s.replyMu.Lock()
	defer s.replyMu.Unlock()
	p := s.pending.Load()
	if p == 0 || !bytes.Contains(msg, s.tok) {
		return 0
	}
	s.pending.Store(0)
	return max(time.Duration(time.Now().UnixNano()-p), 1)
}

// appendAll reads r to the end onto buf, growing it only when full.
func appendAll(buf []byte, r io.Reader) ([]byte, error) {
	if cap(buf) == 0 {
		buf = make([]byte, 0, 512)
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// send is the timer callback: one message, then re-arm. v.sendMu keeps
// callbacks of this VU (and of its previous connection) from overlapping,
// since they share the VU's template context and buffer.
func (s *wsSess) send() {
	v := s.v
	v.sendMu.Lock()
	defer v.sendMu.Unlock()
	if s.done.Load() || s.kicked.Load() {
		return
	}
	ws := v.g.cfg.WebSocket
	v.tctx.Iter = v.iter
	v.iter++
	v.bodyBuf = ws.Send.Append(v.bodyBuf[:0], &v.tctx)
	if ws.ExpectReply {
		match := ws.ReplyContains != nil
		if match {
			s.replyMu.Lock()
		}
		now := time.Now().UnixNano()
		set := false
		// A reply overdue by the group's timeout is a timeout error;
		// measuring restarts from this send.
		if old := s.pending.Load(); old != 0 && time.Duration(now-old) > v.g.timeout {
			if s.pending.CompareAndSwap(old, now) {
				v.wsReplyTimedOut()
				set = true
			}
		} else {
			set = s.pending.CompareAndSwap(0, now)
		}
		if match {
			// The token of the send being timed, rendered with this
			// send's context (same vu and iter as the message).
			if set {
				s.tok = ws.ReplyContains.Append(s.tok[:0], &v.tctx)
			}
			s.replyMu.Unlock()
		}
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(v.g.timeout))
	if err := s.conn.WriteMessage(websocket.TextMessage, v.bodyBuf); err != nil {
		s.sendErr = err
		s.conn.Close() // the reader sees it and ends the session
		return
	}
	v.sh.wsSent(int64(len(v.bodyBuf)))
	v.sh.iteration(v.g.idx)
	s.timer.Reset(s.every)
}

// kick closes the connection (the ramp went below this VU's slot, or the
// stages ended): a WebSocket VU has no iteration to finish, so it does not
// wait for a reply or its next send. It sends a close frame and cuts the
// socket wsCloseGrace later if the server has not answered by then. The
// cut does not wait for v.sendMu: a send blocked on a server that stopped
// reading holds it for up to the group timeout. Called under the group
// lock, so the write happens on a short goroutine the engine waits for.
func (s *wsSess) kick() {
	if s.kicked.Swap(true) {
		return
	}
	s.closeMu.Lock()
	if !s.done.Load() {
		s.closer = time.AfterFunc(wsCloseGrace, func() { s.conn.Close() })
	}
	s.closeMu.Unlock()
	v := s.v
	v.e.vuWG.Add(1) // the VU is alive, so the count is not zero
	go func() {
		defer v.e.vuWG.Done()
		_ = s.conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(wsCloseGrace))
	}()
}

// finish ends the session: no more sends, the socket closed, and no send
// callback still running when it returns.
func (s *wsSess) finish() {
	s.done.Store(true)
	s.conn.Close()
	s.closeMu.Lock()
	if s.closer != nil {
		s.closer.Stop()
	}
	s.closeMu.Unlock()
	v := s.v
	v.sendMu.Lock()
	if s.timer != nil {
		s.timer.Stop()
	}
	v.sendMu.Unlock()
}

// setWS registers slot idx's live connection so a ramp-down can kick it.
func (g *group) setWS(idx int, s *wsSess) {
	g.mu.Lock()
	for len(g.ws) <= idx {
		g.ws = append(g.ws, nil)
	}
	g.ws[idx] = s
	g.mu.Unlock()
}

// unsetWS unregisters s from slot idx, unless the slot already holds a
// newer session.
func (g *group) unsetWS(idx int, s *wsSess) {
	g.mu.Lock()
	if idx < len(g.ws) && g.ws[idx] == s {
		g.ws[idx] = nil
	}
	g.mu.Unlock()
}

// wsClosePolitely sends a close frame and closes the socket.
func (v *vu) wsClosePolitely(conn *websocket.Conn) {
	_ = conn.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	conn.Close()
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

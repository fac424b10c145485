// Package wstest holds WebSocket servers that fail brink's sessions in
// each of the ways a real one does — a refused handshake, a session closed
// at once, replies that never come, a frame claiming 2^62 bytes — plus one
// that replies after known delays, for tests of the engine and the command
// line against real listeners on loopback.
package wstest

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// wsURL turns an httptest server's url into its ws:// form.
func wsURL(srv *httptest.Server) string { return "ws" + srv.URL[len("http"):] }

func serve(t testing.TB, h http.HandlerFunc) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return wsURL(srv)
}

// Echo upgrades the request with up (nil: a default Upgrader) and echoes
// every message until the client goes. before, when not nil, runs ahead of
// each reply with the session and the message: it may sleep (a reply
// latency) or return false to break the socket instead of answering
// (after writing a close frame of its own, if it likes).
func Echo(w http.ResponseWriter, r *http.Request, up *websocket.Upgrader, before func(c *websocket.Conn, msg []byte) bool) {
	if up == nil {
		up = &websocket.Upgrader{}
	}
	c, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	for {
		mt, msg, err := c.ReadMessage()
		if err != nil {
			return
		}
		if before != nil && !before(c, msg) {
			return
		}
		if err := c.WriteMessage(mt, msg); err != nil {
			return
		}
	}
}

// Refusing answers every handshake 403 Forbidden.
func Refusing(t testing.TB) string {
	return serve(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "forbidden", http.StatusForbidden)
	})
}

// Closing accepts every session and closes it at once.
func Closing(t testing.TB) string {
	return serve(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c.Close()
	})
}

// Mute accepts sessions and reads every message, answering none.
func Mute(t testing.TB) string {
	return serve(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	})
}

// ListenTCP accepts TCP connections on loopback until the test ends and
// hands each to handle on a goroutine of its own. It returns host:port.
func ListenTCP(t testing.TB, handle func(net.Conn)) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go handle(c)
		}
	}()
	return l.Addr().String()
}

// Silent accepts TCP connections and never answers the handshake. It
// returns host:port.
func Silent(t testing.TB) string {
	return ListenTCP(t, func(c net.Conn) {
		defer c.Close()
		_, _ = io.Copy(io.Discard, c) // until the client gives up
	})
}

// Delayed echoes each message after delay(n), n counting every message the
// server has received (from 0, across sessions), so a test knows the
// distribution of reply latencies it should see.
func Delayed(t testing.TB, delay func(n int64) time.Duration) string {
	var count atomic.Int64
	return serve(t, func(w http.ResponseWriter, r *http.Request) {
		Echo(w, r, nil, func(*websocket.Conn, []byte) bool { time.Sleep(delay(count.Add(1) - 1)); return true })
	})
}

// Browser checks each handshake as an nginx or a chat server in front of
// browsers does: 403 unless its Origin is origin and it offers
// subprotocol; then it chooses that subprotocol and echoes every message.
// Headers of each handshake, accepted or not, go to seen (when not nil).
func Browser(t testing.TB, origin, subprotocol string, seen func(http.Header)) string {
	up := &websocket.Upgrader{
		Subprotocols: []string{subprotocol},
		CheckOrigin:  func(r *http.Request) bool { return r.Header.Get("Origin") == origin },
	}
	return serve(t, func(w http.ResponseWriter, r *http.Request) {
		if seen != nil {
			seen(r.Header.Clone())
		}
		if r.Header.Get("Origin") != origin {
			http.Error(w, "origin not allowed", http.StatusForbidden)
			return
		}
		if !slices.Contains(websocket.Subprotocols(r), subprotocol) {
			http.Error(w, "subprotocol "+subprotocol+" required", http.StatusForbidden)
			return
		}
		Echo(w, r, up, nil)
	})
}

// HugeFrame answers each handshake by hand and, once the client has sent
// its first message (so a reply is awaited and would be buffered), sends a
// binary frame whose header claims claim bytes, follows it with up to send
// bytes of payload (what a hostile or broken server does), and holds the
// connection until the client goes. It returns host:port.
func HugeFrame(t testing.TB, claim uint64, send int) string {
	return ListenTCP(t, func(c net.Conn) { serveHugeFrame(c, claim, send) })
}

func serveHugeFrame(c net.Conn, claim uint64, send int) {
	defer c.Close()
	br := bufio.NewReader(c)
	var key string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "Sec-WebSocket-Key") {
			key = strings.TrimSpace(v)
		}
		if line == "\r\n" {
			break
		}
	}
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		base64.StdEncoding.EncodeToString(h[:]) + "\r\n\r\n"
	if _, err := c.Write([]byte(resp)); err != nil {
		return
	}
	if _, err := br.ReadByte(); err != nil { // the client's first message
		return
	}
	hdr := []byte{0x82, 127, 0, 0, 0, 0, 0, 0, 0, 0} // FIN, binary, 64-bit length
	binary.BigEndian.PutUint64(hdr[2:], claim)
	if _, err := c.Write(hdr); err != nil {
		return
	}
	chunk := make([]byte, 32<<10)
	for sent := 0; sent < send; sent += len(chunk) {
		_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(chunk[:min(len(chunk), send-sent)]); err != nil {
			return
		}
	}
	var buf [4096]byte
	for { // hold until the client closes
		if _, err := br.Read(buf[:]); err != nil {
			return
		}
	}
}

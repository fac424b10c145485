//go:build unix

package engine

import "syscall"

// peerGone reports whether the server has already closed (or reset) this
// idle keep-alive connection, or sent bytes nobody asked for (a plain-HTTP
// goodbye such as 408, or anything already read past the last response):
// a peek at the socket that never blocks. Unread TLS records are normal
// (session tickets), so on TLS only a close counts at the socket.
func (h *h1conn) peerGone() bool {
	if h.br.Buffered() > 0 {
		return true
	}
	if h.raw == nil {
		return false
	}
	if h.peekFn == nil {
		h.peekFn = h.peek // once: a method value allocates
	}
	h.gone = false
	err := h.raw.Read(h.peekFn)
	return h.gone || err != nil
}

func (h *h1conn) peek(fd uintptr) bool {
	n, _, err := syscall.Recvfrom(int(fd), h.peekBuf[:], syscall.MSG_PEEK) // Go's sockets are non-blocking
	switch {
	case err == syscall.EAGAIN || err == syscall.EWOULDBLOCK || err == syscall.EINTR:
	case err != nil, n == 0: // reset, or an orderly close (EOF)
		h.gone = true
	case !h.isTLS:
		h.gone = true
	}
	return true // never wait for readability
}

//go:build !unix

package engine

// peerGone cannot peek at a socket here: a request that is not safe to
// repeat then fails (is counted) when its keep-alive connection turns out
// closed, and is never resent.
func (h *h1conn) peerGone() bool { return false }

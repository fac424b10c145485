package engine

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/gorilla/websocket"
	"github.com/valyala/fasthttp"
)

// classify maps a transport error to its kind. Order matters: a dial that
// timed out is connect_timeout, not timeout; a TLS failure inside a dial is
// tls.
func classify(err error) kind {
	if err == nil {
		return kindNone
	}
	var big *bodyTooLargeError
	if errors.As(err, &big) {
		return kindBodyTooLarge
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return kindDNS
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return kindRefused
	}
	if isTLSError(err) {
		return kindTLS
	}
	var de *dialError
	if errors.Is(err, fasthttp.ErrDialTimeout) || (errors.As(err, &de) && isTimeout(de.err)) {
		return kindConnectTimeout
	}
	if isTimeout(err) {
		return kindTimeout
	}
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, fasthttp.ErrConnectionClosed) ||
		errors.Is(err, net.ErrClosed) {
		return kindReset
	}
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return kindWSClosed
	}
	// Some stacks only say it in words.
	msg := err.Error()
	switch {
	case strings.Contains(msg, "connection reset"), strings.Contains(msg, "broken pipe"):
		return kindReset
	case strings.Contains(msg, "tls: "), strings.Contains(msg, "x509: "),
		strings.Contains(msg, "HTTP response to HTTPS client"): // net/http's plain-server check
		return kindTLS
	}
	return kindOther
}

func isTimeout(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, fasthttp.ErrTimeout) || errors.Is(err, os.ErrDeadlineExceeded) ||
		errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isTLSError(err error) bool {
	var (
		rh  tls.RecordHeaderError
		rhp *tls.RecordHeaderError
		al  tls.AlertError
		cv  *tls.CertificateVerificationError
		ua  x509.UnknownAuthorityError
		he  x509.HostnameError
		ci  x509.CertificateInvalidError
	)
	return errors.As(err, &rh) || errors.As(err, &rhp) || errors.As(err, &al) || errors.As(err, &cv) ||
		errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci)
}

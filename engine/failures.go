package engine

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/termtext"
)

// Failure samples: per shard window, failed requests are counted by
// (endpoint, kind, status) and the first of each keeps what it said (its
// error, or the start of its body), so a tick can say why, not only how
// many. Only failures pay: the success path does not touch this.
const (
	maxFailKeys    = 64  // distinct keys kept per shard window; more are counted by kind only
	maxFailureRows = 50  // rows per Tick
	failBodyBytes  = 120 // of a failed response's body kept for its message
	maxMessage     = 200 // runes of a Failure.Message
)

type failKey struct {
	ep     int32 // endpoint id, or -1-group for a group-level failure
	kind   kind
	status int32
	ws     bool  // the group's WebSocket (ep is -1-group)
	check  uint8 // the check that failed (checker.names), 0 for none
}

type failSample struct {
	count int64
	err   error  // the transport error, if any
	body  string // the start of the response body (status and check failures)
	// redact is a rendered host to hide from the message: the URL came
	// from an {{env}} template, whose values are never shown.
	redact string
	msg    string // the message, already said (a WebSocket failure)
	// secrets are the VU's extracted values (tokens), hidden from the
	// message; the body sample has them hidden already.
	secrets []string
}

// failure records why a request failed; the count is request's.
// secrets are hidden from the body before it is cut, so no part of one
// is left at the cut.
func (s *shard) failure(ep int, k kind, status int, check uint8, err error, body []byte, redact string, secrets []string) {
	fs := failSample{count: 1, err: err, redact: redact, secrets: secrets}
	if len(body) > 0 {
		b := hideSecrets(string(body), secrets)
		fs.body = cutSecrets(b[:min(len(b), failBodyBytes)], secrets)
	}
	s.addFailure(failKey{ep: int32(ep), kind: k, status: int32(status), check: check}, fs)
}

// wsFailure records why a session of group grp's WebSocket failed, in
// words (wsFailText); the count is ws_failed's.
func (s *shard) wsFailure(grp int, k kind, status int, msg, redact string, secrets []string) {
	s.wsCheckFailure(grp, k, status, 0, msg, redact, secrets)
}

// WebSocket handshake checks, named in failure rows as a request's are.
const (
	wsCheckUpgrade     uint8 = 1 // answered, but not 101 Switching Protocols
	wsCheckSubprotocol uint8 = 2 // none of the subprotocols offered chosen
)

var wsCheckNames = [...]string{wsCheckUpgrade: "upgrade", wsCheckSubprotocol: "subprotocol"}

// wsCheckFailure is wsFailure of a handshake check (wsCheck…; 0: none).
func (s *shard) wsCheckFailure(grp int, k kind, status int, check uint8, msg, redact string, secrets []string) {
	s.addFailure(failKey{ep: int32(-1 - grp), kind: k, status: int32(status), ws: true, check: check},
		failSample{count: 1, msg: cutSecrets(hideSecrets(msg, secrets), secrets), redact: redact})
}

// addFailure counts fs under key, keeping the window's first sample.
func (s *shard) addFailure(key failKey, fs failSample) {
	s.mu.Lock()
	w := s.cur
	if old, ok := w.fails[key]; ok {
		old.count++
		w.fails[key] = old
	} else if len(w.fails) < maxFailKeys {
		if w.fails == nil {
			w.fails = make(map[failKey]failSample, 8)
		}
		w.fails[key] = fs
	}
	s.mu.Unlock()
}

// mergeFailures adds a shard window's samples to acc, keeping the first
// sample of each key.
func mergeFailures(acc map[failKey]failSample, w *window) {
	for k, fs := range w.fails {
		if a, ok := acc[k]; ok {
			a.count += fs.count
			acc[k] = a
		} else {
			acc[k] = fs
		}
	}
}

// failureRows turns the window's samples into Tick rows, most frequent
// first.
func (e *Engine) failureRows(acc map[failKey]failSample) []measure.Failure {
	if len(acc) == 0 {
		return nil
	}
	rows := make([]measure.Failure, 0, len(acc))
	for k, fs := range acc {
		f := measure.Failure{Kind: k.kind.ErrorKind(), Status: int(k.status), Count: fs.count}
		var ep *endpoint
		if k.ep >= 0 {
			ep = e.eps[k.ep]
			f.Group, f.Endpoint, f.Check = ep.group.cfg.Name, ep.name, ep.chk.name(k.check)
		} else if gi := int(-1 - k.ep); gi < len(e.sc.Groups) {
			f.Group = e.sc.Groups[gi].Name
			if k.ws {
				f.Endpoint = measure.WSEndpoint
				if int(k.check) < len(wsCheckNames) {
					f.Check = wsCheckNames[k.check]
				}
			}
		}
		f.Message = e.failMessage(ep, k, fs)
		rows = append(rows, f)
	}
	slices.SortFunc(rows, measure.CompareFailures)
	if len(rows) > maxFailureRows {
		rows = rows[:maxFailureRows]
	}
	return rows
}

// failMessage says why, in one clean line.
func (e *Engine) failMessage(ep *endpoint, k failKey, fs failSample) string {
	var msg string
	switch {
	case fs.msg != "":
		msg = fs.msg
	case k.kind == kindDropped:
		msg = "arrival dropped: every VU busy"
		for _, g := range e.groups {
			if g.idx == int(-1-k.ep) && g.open {
				msg = "arrival dropped: all " + strconv.Itoa(g.maxVUs) + " VUs (max_vus) busy at its start time"
				break
			}
		}
	case k.kind == kindTimeout && ep != nil && fs.err != nil:
		msg = "no complete response within the timeout " + ep.group.timeout.String() + " (" + errText(fs.err) + ")"
	case fs.err != nil:
		msg = errText(fs.err)
	case k.kind == kind4xx || k.kind == kind5xx:
		msg = statusText(int(k.status), fs.body)
	case k.kind == kindCheck && ep != nil:
		msg = checkText(ep, int(k.status), k.check, fs.body)
	default:
		msg = string(k.kind.ErrorKind())
	}
	if fs.redact != "" {
		msg = strings.ReplaceAll(msg, fs.redact, "<target>")
	}
	msg = hideSecrets(msg, fs.secrets)
	msg = termtext.Clean(msg)
	if utf8.RuneCountInString(msg) > maxMessage {
		r := []rune(msg)
		msg = string(r[:maxMessage-1]) + "…"
	}
	return msg
}

func statusText(status int, body string) string {
	s := "HTTP " + strconv.Itoa(status)
	if t := http.StatusText(status); t != "" {
		s += " " + t
	}
	if b := strings.TrimSpace(termtext.Clean(body)); b != "" {
		s += ": " + b
	}
	return s
}

// errText is a transport error as one line that names no address or URL
// (a rendered URL may carry an {{env}} value, and the endpoint is named
// beside it anyway), keeping what was wrong: "dial: connect: connection
// refused", the malformed part of a response, the certificate's problem.
func errText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return errText(ue.Err)
	}
	var de *dialError
	if errors.As(err, &de) {
		return errText(de.err)
	}
	var ae *net.AddrError // net.SplitHostPort's: its Addr is the address
	if errors.As(err, &ae) {
		return "bad address: " + ae.Err
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "dns lookup: " + dns.Err
	}
	var he x509.HostnameError
	if errors.As(err, &he) {
		return "tls: certificate is not valid for the target host" + certNames(he.Certificate)
	}
	var cv *tls.CertificateVerificationError
	if errors.As(err, &cv) {
		return "tls: failed to verify certificate: " + errText(cv.Err)
	}
	var big *headersTooLargeError
	if errors.As(err, &big) {
		return big.Error()
	}
	var nr *notResentError
	if errors.As(err, &nr) {
		return "server closed the keep-alive connection after the " + nr.method +
			" was sent (not resent: the server may have acted on it): " + errText(nr.err)
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		inner := op.Err.Error()
		if strings.HasPrefix(inner, op.Op+": ") { // "read: read: connection reset by peer"
			return inner
		}
		return op.Op + ": " + inner
	}
	switch {
	case err == io.EOF:
		return "connection closed by the server without a response (EOF)"
	case err == io.ErrUnexpectedEOF:
		return "connection closed by the server in the middle of the response (unexpected EOF)"
	}
	var bc fasthttp.ErrBrokenChunk
	if errors.As(err, &bc) {
		return "malformed chunked body: " + bc.Error()
	}
	msg := err.Error()
	// fasthttp says a bad header block at length, with the buffer after
	// it; net/http prefixes its own words. Keep what was malformed.
	if rest, ok := strings.CutPrefix(msg, "error when reading response headers: "); ok {
		if i := strings.Index(rest, ": buffer size="); i >= 0 {
			rest = rest[:i]
		}
		return "malformed response headers: " + rest
	}
	if rest, ok := strings.CutPrefix(msg, "net/http: HTTP/1.x transport connection broken: "); ok {
		return rest
	}
	switch msg {
	case "empty hex number", "too large hex number": // fasthttp reading a chunk size
		return "malformed chunked body: bad chunk size (" + msg + ")"
	}
	return msg
}

// certNames is what a certificate is valid for, briefly.
func certNames(c *x509.Certificate) string {
	if c == nil {
		return ""
	}
	var names []string
	names = append(names, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 && c.Subject.CommonName != "" {
		names = append(names, c.Subject.CommonName)
	}
	if len(names) == 0 {
		return " (it names no host)"
	}
	if len(names) > 4 {
		names = append(names[:4], "…")
	}
	return " (it is for " + strings.Join(names, ", ") + ")"
}

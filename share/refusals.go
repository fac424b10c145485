package share

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// refusalWindow is how long refusals from one source are gathered into one
// log line; a var so tests can check the roll-over.
var refusalWindow = time.Minute

const (
	maxSaidAtOnce = 10 // refusals logged on their own per window, all sources together
	maxSources    = 32 // sources tallied one by one per window; the rest together
	maxListed     = 4  // keys (and user names) named in a summary line
	maxUserRunes  = 64 // of a client-chosen user name in any message
)

// refusalKind is what was refused.
type refusalKind int

const (
	refusedLogin     refusalKind = iota // a key that may not log in
	refusedThrottled                    // a connection over the per-source rate
	refusedTimeout                      // not authenticated in time
	refusalKinds
)

// refusalLog keeps refused logins from flooding the event log (which SSH
// viewers see and the report keeps): 2 000 attempts made 2 000 events and a
// 20 KB user name a 4.6 MB report. Per source address and window, the first
// refusal of each kind is said at once (within a budget for all sources),
// the rest in one line when the window ends.
type refusalLog struct {
	logf func(format string, args ...any)
	now  func() time.Time

	mu      sync.Mutex
	open    bool // a window is gathering; its timer is set
	timer   *time.Timer
	closed  bool
	said    int // lines logged at once in this window
	sources map[netip.Addr]*tally
	order   []netip.Addr // first-seen order, for stable output
	others  tally        // sources past maxSources
	nOthers int
}

type tally struct {
	n     [refusalKinds]int  // refusals by kind
	said  [refusalKinds]bool // the first was logged at once
	keys  []string           // distinct fingerprints, at most maxListed
	users []string           // distinct (cleaned) user names, at most maxListed
	more  [2]map[string]bool // keys, users not listed, at most maxUnlisted each
	why   string             // the first login refusal's reason
}

// maxUnlisted bounds the distinct keys and names counted past the listed.
const maxUnlisted = 100

func newRefusalLog(logf func(string, ...any)) *refusalLog {
	return &refusalLog{logf: logf, now: time.Now, sources: map[netip.Addr]*tally{}}
}

// login records a refused key for user from ip, and why.
func (r *refusalLog) login(ip netip.Addr, fp, user, why string) {
	user = safeText(user, maxUserRunes)
	r.add(ip, refusedLogin, func(t *tally) {
		t.keys, t.more[0] = addListed(t.keys, t.more[0], fp)
		t.users, t.more[1] = addListed(t.users, t.more[1], user)
		if t.why == "" {
			t.why = why
		}
	}, func() string {
		return fmt.Sprintf("share: refused key %s for user %q from %s: %s", fp, user, ip, why)
	})
}

// throttled records a connection closed at once for going over the rate.
func (r *refusalLog) throttled(ip netip.Addr, perMinute, burst int) {
	r.add(ip, refusedThrottled, nil, func() string {
		return fmt.Sprintf("share: %s: over %d connections a minute (after a burst of %d); closing the excess at once", ip, perMinute, burst)
	})
}

// timeout records a connection closed for not authenticating in time.
func (r *refusalLog) timeout(ip netip.Addr, d time.Duration) {
	r.add(ip, refusedTimeout, nil, func() string {
		return fmt.Sprintf("share: %s: not authenticated within %s, closed", ip, d)
	})
}

func (r *refusalLog) add(ip netip.Addr, kind refusalKind, note func(*tally), line func() string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	if !r.open {
		r.open = true
		r.timer = time.AfterFunc(refusalWindow, r.flush)
	}
	t := r.sources[ip]
	if t == nil {
		if len(r.sources) < maxSources {
			t = &tally{}
			r.sources[ip] = t
			r.order = append(r.order, ip)
		} else {
			t = &r.others
			r.nOthers++ // counts refusals, not distinct addresses: cheap and bounded
		}
	}
	t.n[kind]++
	if note != nil {
		note(t)
	}
	if !t.said[kind] && r.said < maxSaidAtOnce && t != &r.others {
		t.said[kind] = true
		r.said++
		r.logf("%s", line())
	}
}

func addListed(list []string, more map[string]bool, s string) ([]string, map[string]bool) {
	for _, x := range list {
		if x == s {
			return list, more
		}
	}
	if len(list) < maxListed {
		return append(list, s), more
	}
	if more == nil {
		more = map[string]bool{}
	}
	if len(more) < maxUnlisted {
		more[s] = true
	}
	return list, more
}

// flush ends the window: one line per source for what was not said at once.
func (r *refusalLog) flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.flushLocked()
}

func (r *refusalLog) flushLocked() {
	for _, ip := range r.order {
		if line := r.sources[ip].summary(ip.String()); line != "" {
			r.logf("%s", line)
		}
	}
	if r.nOthers > 0 {
		r.others.said = [refusalKinds]bool{} // none were said at once
		if line := r.others.summary("other addresses"); line != "" {
			r.logf("%s", line)
		}
	}
	r.open, r.said, r.order, r.others, r.nOthers = false, 0, r.order[:0], tally{}, 0
	clear(r.sources)
}

// summary is the source's line for the window, or "" when everything was
// already said (a single refusal of each kind).
func (t *tally) summary(from string) string {
	unsaid := false
	for k := range refusalKinds {
		if t.n[k] > 1 || (t.n[k] == 1 && !t.said[k]) {
			unsaid = true
		}
	}
	if !unsaid {
		return ""
	}
	var parts []string
	if n := t.n[refusedLogin]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d refused %s from %s in the last %s (keys: %s; users: %s; first: %s)",
			n, plural(n, "login"), from, fmtWindow(), listed(t.keys, t.more[0]), quotedList(t.users, t.more[1]), t.why))
	}
	if n := t.n[refusedThrottled]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d %s from %s closed over the rate limit in the last %s", n, plural(n, "connection"), from, fmtWindow()))
	}
	if n := t.n[refusedTimeout]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d %s from %s closed unauthenticated in the last %s", n, plural(n, "connection"), from, fmtWindow()))
	}
	return "share: " + strings.Join(parts, "; ")
}

func fmtWindow() string {
	if refusalWindow == time.Minute {
		return "minute"
	}
	return refusalWindow.String()
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func listed(list []string, more map[string]bool) string {
	s := strings.Join(list, ", ")
	switch n := len(more); {
	case n >= maxUnlisted:
		s += fmt.Sprintf(" and %d+ more", n)
	case n > 0:
		s += fmt.Sprintf(" and %d more", n)
	}
	return s
}

func quotedList(list []string, more map[string]bool) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return listed(q, more)
}

// close says what is left and stops the window's timer.
func (r *refusalLog) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.closed = true
	if r.open {
		r.timer.Stop()
		r.flushLocked()
	}
}

// rateLimiter allows each source a burst of connections, then one per
// interval (a token bucket per address). Buckets that have refilled are
// forgotten, so the map holds only recent, busy sources.
type rateLimiter struct {
	burst int
	every time.Duration

	mu      sync.Mutex
	buckets map[netip.Addr]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxBuckets bounds the limiter's memory; past it, full buckets are swept
// and, if none are, new sources share the strictest treatment: refused.
const maxBuckets = 4096

func newRateLimiter(perMinute, burst int) *rateLimiter {
	if perMinute <= 0 {
		return nil // unlimited
	}
	return &rateLimiter{burst: burst, every: time.Minute / time.Duration(perMinute), buckets: map[netip.Addr]*bucket{}}
}

func (l *rateLimiter) allow(ip netip.Addr, now time.Time) bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[ip]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.sweep(now)
			if len(l.buckets) >= maxBuckets {
				return false
			}
		}
		b = &bucket{tokens: float64(l.burst), last: now}
		l.buckets[ip] = b
	}
	b.tokens = min(float64(l.burst), b.tokens+float64(now.Sub(b.last))/float64(l.every))
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// sweep forgets sources whose bucket would be full again by now.
func (l *rateLimiter) sweep(now time.Time) {
	for ip, b := range l.buckets {
		if b.tokens+float64(now.Sub(b.last))/float64(l.every) >= float64(l.burst) {
			delete(l.buckets, ip)
		}
	}
}

package share

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/brink-load/brink/testout"
)

func TestRefusalLogAggregates(t *testing.T) {
	log := &testout.Logs{}
	r := newRefusalLog(log.Logf)
	defer r.close()
	ip := netip.MustParseAddr("10.0.0.1")
	long := "\x1b[2J" + strings.Repeat("u", 20000)
	for i := range 2000 {
		r.login(ip, fmt.Sprintf("SHA256:key%d", i%6), long, "not listed")
	}
	if len(log.Lines()) != 1 || !strings.Contains(log.Lines()[0], "refused key SHA256:key0") {
		t.Fatalf("before the window ends: %q", log.Lines())
	}
	r.flush()
	if len(log.Lines()) != 2 {
		t.Fatalf("after the window: %d lines: %q", len(log.Lines()), log.Lines())
	}
	sum := log.Lines()[1]
	for _, want := range []string{
		"2000 refused logins from 10.0.0.1 in the last minute",
		"keys: SHA256:key0, SHA256:key1, SHA256:key2, SHA256:key3 and 2 more",
		"first: not listed",
	} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary %q lacks %q", sum, want)
		}
	}
	for _, l := range log.Lines() {
		if len(l) > 400 || strings.ContainsRune(l, 0x1b) || !strings.Contains(l, strings.Repeat("u", maxUserRunes-1)+"…") {
			t.Errorf("line of %d bytes, want a short clean one with the name cut at %d runes: %.200q", len(l), maxUserRunes, l)
		}
	}

	// A single refusal is said once, not again as a summary.
	log.Reset()
	r.login(ip, "SHA256:k", "bob", "expired")
	r.flush()
	if len(log.Lines()) != 1 {
		t.Errorf("one refusal: %q", log.Lines())
	}
}

func TestRefusalLogBoundsSources(t *testing.T) {
	log := &testout.Logs{}
	r := newRefusalLog(log.Logf)
	for i := range 1000 {
		ip := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		r.login(ip, "SHA256:k", "u", "not listed")
		r.throttled(ip, 60, 20)
	}
	r.close() // says what is left
	// At most maxSaidAtOnce at once, one line per tallied source, one for
	// the rest: bounded whatever the number of sources.
	if n := len(log.Lines()); n > maxSaidAtOnce+maxSources+1 {
		t.Errorf("%d lines for 1000 sources", n)
	}
	last := log.Lines()[len(log.Lines())-1]
	if want := fmt.Sprintf("%d refused logins from other addresses", 1000-maxSources); !strings.Contains(last, want) {
		t.Errorf("last line %q, want %q", last, want)
	}
	r.login(netip.MustParseAddr("10.9.9.9"), "SHA256:k", "u", "x") // after close: dropped
	if strings.Contains(strings.Join(log.Lines(), "\n"), "10.9.9.9") {
		t.Error("logged after close")
	}
}

func TestRateLimiter(t *testing.T) {
	l := newRateLimiter(60, 3) // a burst of 3, then one a second
	a, b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for i := range 3 {
		if !l.allow(a, t0) {
			t.Fatalf("burst connection %d refused", i)
		}
	}
	if l.allow(a, t0) {
		t.Fatal("4th connection at once allowed")
	}
	if !l.allow(b, t0) {
		t.Fatal("another source refused")
	}
	if l.allow(a, t0.Add(900*time.Millisecond)) || !l.allow(a, t0.Add(1100*time.Millisecond)) {
		t.Fatal("not one a second after the burst")
	}
	// Idle sources are forgotten once the map is full.
	for i := range maxBuckets {
		l.allow(netip.AddrFrom4([4]byte{11, 0, byte(i >> 8), byte(i)}), t0.Add(2*time.Second))
	}
	if !l.allow(netip.MustParseAddr("12.0.0.1"), t0.Add(time.Hour)) {
		t.Fatal("a new source refused after the others went quiet")
	}
	if len(l.buckets) > maxBuckets {
		t.Fatalf("%d buckets", len(l.buckets))
	}
	if newRateLimiter(-1, 3).allow(a, t0) != true {
		t.Fatal("negative rate: not unlimited")
	}
}

// Many refused logins from one client with a 20 KB user name: a bounded
// number of short log lines, not one each.
func TestRefusedLoginsAggregated(t *testing.T) {
	const attempts = 150
	f := startServer(t, func(c *Config) { c.ConnsPerMinute = -1 })
	stranger := newKey(t)
	user := "\x1b]0;pwned\a" + strings.Repeat("x", 20000)
	began := time.Now()
	for i := range attempts {
		if _, err := dial(t, f.srv.Addr(), user, gossh.PublicKeys(stranger.signer)); err == nil {
			t.Fatalf("attempt %d got in", i)
		}
	}
	if err := f.srv.Close(); err != nil { // says the window's summary
		t.Fatal(err)
	}
	if time.Since(began) > refusalWindow*9/10 {
		t.Skip("the attempts spanned more than one window on this machine")
	}
	var refusals []string
	total := 0
	for _, l := range f.log.Lines() {
		if strings.Contains(l, "refused") {
			refusals = append(refusals, l)
			total += len(l)
		}
	}
	if len(refusals) != 2 || !strings.Contains(refusals[1], fmt.Sprintf("%d refused logins from 127.0.0.1 in the last minute (keys: %s;",
		attempts, fingerprint(stranger.signer.PublicKey()))) {
		t.Fatalf("refusal lines: %q", refusals)
	}
	if total > 1000 || strings.Contains(strings.Join(refusals, ""), "\x1b") {
		t.Errorf("%d bytes of refusals, or an escape in them: %q", total, refusals)
	}
}

// Connections over the per-source rate are closed before the handshake.
func TestConnectionRateLimited(t *testing.T) {
	f := startServer(t, func(c *Config) { c.ConnsPerMinute = 1 }) // after the burst: one a minute
	in, out := 0, 0
	for range DefaultConnBurst + 5 {
		c, err := dial(t, f.srv.Addr(), "alice", gossh.PublicKeys(f.alice.signer))
		if err != nil {
			out++
			continue
		}
		in++
		c.Close()
	}
	if in > DefaultConnBurst+1 || out < 4 { // +1: a token may come back if this took a minute
		t.Errorf("%d connections served, %d closed; want the burst of %d then closed", in, out, DefaultConnBurst)
	}
	f.log.WaitFor(t, "127.0.0.1: over 1 connections a minute (after a burst of 20)", waitLimit)
}

package share

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestParseKeyOptions(t *testing.T) {
	cases := []struct {
		opts    string // comma-separated, as x/crypto/ssh splits them
		refused string // part of the reason, "" = honoured
		from    string
	}{
		{"", "", ""},
		{`from="10.9.9.9"`, "", "10.9.9.9"},
		{`FROM="10.0.0.0/8,!10.9.9.9"`, "", "10.0.0.0/8,!10.9.9.9"},
		{`from="a\"b"`, "", `a"b`},
		{`from=10.9.9.9`, "not a quoted", ""},
		{`from`, "not a quoted", ""},
		{`from="a",from="b"`, "twice", ""},
		{`command="/bin/false"`, "command= cannot be honoured", ""},
		{`from="10.9.9.9",no-pty,command="/bin/false"`, "command= cannot be honoured", ""},
		{`no-pty`, "no-pty/restrict", ""},
		{`restrict`, "no-pty/restrict", ""},
		{`restrict,pty`, "", ""},
		{`pty,restrict`, "no-pty/restrict", ""},
		{`no-port-forwarding,no-agent-forwarding,no-X11-forwarding,no-user-rc`, "", ""},
		{`permitopen="127.0.0.1:80",permitlisten="8080"`, "", ""},
		{`environment="A=b"`, "environment= cannot be honoured", ""},
		{`cert-authority`, "cert-authority cannot be honoured", ""},
		{`tunnel="1"`, "tunnel= cannot be honoured", ""},
		{`verify-required`, "verify-required cannot be honoured", ""},
		{`frobnicate`, "unknown option frobnicate", ""},
		{"x\x1b[2Jevil=1", "unknown option xevil=", ""},
		{`no-pty="x"`, "unknown option no-pty=", ""},
		{`expiry-time="20991231"`, "", ""},
		{`expiry-time="2099"`, "want YYYYMMDD", ""},
	}
	for _, tc := range cases {
		opts := splitOptions(tc.opts)
		kl := parseKeyOptions(opts, 7)
		if tc.refused == "" && kl.refused != "" || !strings.Contains(kl.refused, tc.refused) {
			t.Errorf("%s: refused = %q, want %q", tc.opts, kl.refused, tc.refused)
		}
		if tc.refused == "" && kl.from != tc.from {
			t.Errorf("%s: from = %q, want %q", tc.opts, kl.from, tc.from)
		}
		if strings.ContainsRune(kl.refused, 0x1b) {
			t.Errorf("%s: reason carries an escape: %q", tc.opts, kl.refused)
		}
	}
}

func TestExpiryTime(t *testing.T) {
	kl := parseKeyOptions([]string{`expiry-time="202612011200Z"`}, 1)
	if kl.refused != "" {
		t.Fatal(kl.refused)
	}
	before := time.Date(2026, 12, 1, 11, 59, 0, 0, time.UTC)
	after := time.Date(2026, 12, 1, 12, 0, 1, 0, time.UTC)
	if ok, why := kl.permits(loopback, before); !ok {
		t.Errorf("before expiry: %s", why)
	}
	if ok, why := kl.permits(loopback, after); ok || !strings.Contains(why, "expired") {
		t.Errorf("after expiry: ok=%v why=%q", ok, why)
	}
}

// TestMatchFrom follows sshd's match_host_and_ip with UseDNS off: the
// patterns are matched as addresses/networks and as globs on the address.
func TestMatchFrom(t *testing.T) {
	cases := []struct {
		ip, patterns string
		want         bool
	}{
		{"127.0.0.1", "127.0.0.1", true},
		{"127.0.0.1", "10.9.9.9", false},
		{"127.0.0.1", "10.9.9.9,127.0.0.1", true},
		{"127.0.0.1", "127.0.0.0/8", true},
		{"127.0.0.1", "10.0.0.0/8", false},
		{"127.0.0.1", "127.0.0.1/32", true},
		{"127.0.0.1", "127.0.0.1/8", false}, // host bits set: malformed, refused
		{"127.0.0.1", "127.0.0.0/33", false},
		{"127.0.0.1", "127.0.0.*", true},
		{"127.0.0.1", "127.0.0.?", true},
		{"127.0.0.12", "127.0.0.?", false},
		{"127.0.0.1", "*", true},
		{"127.0.0.1", "!127.0.0.1,*", false},
		{"127.0.0.1", "*,!127.0.0.1", false}, // a negated match wins wherever it is
		{"127.0.0.1", "!127.0.0.0/8,*", false},
		{"127.0.0.1", "!10.0.0.0/8,*", true},
		{"127.0.0.1", "!10.0.0.0/8", false}, // only negations: nothing positive
		{"127.0.0.1", "!127.0.0.*,127.0.0.1", false},
		{"127.0.0.1", "", false},
		{"127.0.0.1", "127.0.0.1,", false}, // an empty pattern: malformed
		{"127.0.0.1", "!", false},
		{"127.0.0.1", "localhost", false}, // names are not resolved (UseDNS no)
		{"127.0.0.1", "*.example.com", false},
		{"::1", "::1", true},
		{"::1", "::/0", true},
		{"::1", "0.0.0.0/0", false},
		{"::1", "::1/128,!::1", false},
		{"::ffff:127.0.0.1", "127.0.0.1", true}, // a v4 client on a dual-stack socket
		{"::ffff:127.0.0.1", "127.0.0.0/8", true},
		{"fe80::1%eth0", "fe80::/10", true},
		{"2001:db8::5", "2001:DB8::*", true}, // globs ignore case, like host names
		{"10.1.2.3", "10.1.2.3/32,!10.1.2.3", false},
	}
	for _, tc := range cases {
		ip := netip.MustParseAddr(tc.ip)
		if got := matchFrom(ip, tc.patterns); got != tc.want {
			t.Errorf("matchFrom(%s, %q) = %v, want %v", tc.ip, tc.patterns, got, tc.want)
		}
	}
	if matchFrom(netip.Addr{}, "*") && matchFrom(netip.Addr{}, "127.0.0.1") {
		t.Error("an unknown address matched an address pattern")
	}
}

func TestGlobMatch(t *testing.T) {
	cases := []struct {
		s, p string
		want bool
	}{
		{"", "", true},
		{"", "*", true},
		{"a", "", false},
		{"abc", "a*c", true},
		{"abc", "a*b", false},
		{"abc", "*b*", true},
		{"abc", "???", true},
		{"abc", "??", false},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", "*a*a*a*a*a*a*a*a*a*a*c", false},
	}
	for _, tc := range cases {
		if got := globMatch(tc.s, tc.p); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tc.s, tc.p, got, tc.want)
		}
	}
}

func FuzzMatchFrom(f *testing.F) {
	f.Add([]byte{127, 0, 0, 1}, "!10.0.0.0/8,127.0.0.*")
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, "::1/128,!*")
	f.Fuzz(func(t *testing.T, raw []byte, patterns string) {
		ip, ok := netip.AddrFromSlice(raw)
		if !ok {
			return
		}
		got := matchFrom(ip, patterns)
		// A negated "*" refuses everything.
		if got && matchFrom(ip, patterns+",!*") {
			t.Fatalf("%s matched %q despite !*", ip, patterns+",!*")
		}
	})
}

// splitOptions splits at commas outside quotes, as x/crypto/ssh does.
func splitOptions(s string) []string {
	var opts []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '"' && (i == 0 || s[i-1] != '\\'):
			quoted = !quoted
		case s[i] == ',' && !quoted:
			opts = append(opts, s[start:i])
			start = i + 1
		}
	}
	if s != "" {
		opts = append(opts, s[start:])
	}
	return opts
}

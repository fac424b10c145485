package share

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// keyLine is what one authorized_keys line lets its key do, as sshd reads
// the options before the key.
type keyLine struct {
	line    int
	from    string    // from= patterns, "" = from anywhere
	expiry  time.Time // expiry-time=, zero = never
	refused string    // why brink cannot honour the line's options; "" = it can
}

// parseKeyOptions reads a line's options. Options that only restrict what
// brink never allows anyway (forwarding, user rc) are honoured by doing
// nothing; options whose effect brink cannot give (a forced command, no
// terminal, an environment, a certificate authority) make the line
// refused: a key meant to run /bin/false must not get a console.
// Names are case-insensitive, as in sshd.
func parseKeyOptions(opts []string, line int) keyLine {
	kl := keyLine{line: line}
	pty := true
	for _, opt := range opts {
		name, value, hasValue := strings.Cut(opt, "=")
		name = strings.ToLower(name)
		switch name {
		case "from":
			v, err := dequote(value)
			if err != nil || !hasValue {
				return refuseLine(kl, "from= is not a quoted pattern list")
			}
			if kl.from != "" { // sshd refuses a repeated from= too
				return refuseLine(kl, "from= given twice")
			}
			kl.from = v
		case "expiry-time":
			v, err := dequote(value)
			if err != nil || !hasValue {
				return refuseLine(kl, "expiry-time= is not quoted")
			}
			t, err := parseExpiry(v)
			if err != nil {
				return refuseLine(kl, "expiry-time="+v+": "+err.Error())
			}
			if kl.expiry.IsZero() || t.Before(kl.expiry) {
				kl.expiry = t
			}
		case "restrict", "no-pty":
			if hasValue {
				return refuseLine(kl, "unknown option "+name+"=")
			}
			pty = false
		case "pty":
			if hasValue {
				return refuseLine(kl, "unknown option "+name+"=")
			}
			pty = true
		case "no-port-forwarding", "no-agent-forwarding", "no-x11-forwarding", "no-user-rc",
			"port-forwarding", "agent-forwarding", "x11-forwarding", "user-rc", "no-touch-required":
			// brink forwards nothing and runs no rc file: honoured as is.
			// (The grants only undo a restrict; brink still grants none.)
			if hasValue {
				return refuseLine(kl, "unknown option "+name+"=")
			}
		case "permitopen", "permitlisten":
			// Limits forwarding to the listed ports; brink forwards none.
		case "command", "environment", "cert-authority", "principals", "tunnel", "verify-required":
			return refuseLine(kl, name+optEq(hasValue)+" cannot be honoured (brink serves only its console)")
		default:
			return refuseLine(kl, "unknown option "+safeText(name, 32)+optEq(hasValue))
		}
	}
	if !pty {
		return refuseLine(kl, "no-pty/restrict forbid the terminal the console needs (add pty after restrict to allow it)")
	}
	return kl
}

func optEq(hasValue bool) string {
	if hasValue {
		return "="
	}
	return ""
}

func refuseLine(kl keyLine, why string) keyLine {
	kl.refused = why
	return kl
}

// dequote undoes sshd's option quoting: a value in double quotes, where
// \" stands for a quote (other backslashes are kept).
func dequote(v string) (string, error) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", fmt.Errorf("not quoted")
	}
	v = v[1 : len(v)-1]
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) && v[i+1] == '"' {
			i++
		} else if v[i] == '"' {
			return "", fmt.Errorf("stray quote")
		}
		b.WriteByte(v[i])
	}
	return b.String(), nil
}

// parseExpiry reads sshd's YYYYMMDD[HHMM[SS]] in local time, or UTC with a
// trailing Z.
func parseExpiry(v string) (time.Time, error) {
	loc := time.Local
	if s, ok := strings.CutSuffix(v, "Z"); ok {
		v, loc = s, time.UTC
	}
	var layout string
	switch len(v) {
	case 8:
		layout = "20060102"
	case 12:
		layout = "200601021504"
	case 14:
		layout = "20060102150405"
	default:
		return time.Time{}, fmt.Errorf("want YYYYMMDD[HHMM[SS]][Z]")
	}
	return time.ParseInLocation(layout, v, loc)
}

// permits says whether the line lets its key in from ip at now, and if not
// why.
func (kl keyLine) permits(ip netip.Addr, now time.Time) (bool, string) {
	if kl.refused != "" {
		return false, kl.refused
	}
	if !kl.expiry.IsZero() && now.After(kl.expiry) {
		return false, "expired " + kl.expiry.Format("2006-01-02 15:04:05")
	}
	if kl.from != "" && !matchFrom(ip, kl.from) {
		return false, fmt.Sprintf("not from a permitted host (from=%q)", safeText(kl.from, 64))
	}
	return true, ""
}

// matchFrom is sshd's match_host_and_ip with UseDNS off (its default), so
// the host name is the address's text: patterns are comma-separated, each
// an address, a CIDR network or a glob (* and ?), a leading ! negating it.
// A negated match refuses whatever else matches; a malformed list (an
// empty pattern, a network with host bits set) refuses too.
func matchFrom(ip netip.Addr, patterns string) bool {
	ip = ip.Unmap().WithZone("")
	mip := addrMatchList(ip, patterns)
	if mip != 1 && mip != 0 { // -1 negated, -2 malformed
		return false
	}
	mhost := matchPatternList(strings.ToLower(ip.String()), patterns)
	if mhost == -1 {
		return false
	}
	return mip == 1 || mhost == 1
}

// addrMatchList is sshd's addr_match_list: 1 a match, 0 none, -1 a
// negated match, -2 a malformed list.
func addrMatchList(ip netip.Addr, list string) int {
	ret := 0
	for p := range strings.SplitSeq(list, ",") {
		neg := strings.HasPrefix(p, "!")
		if neg {
			p = p[1:]
		}
		if p == "" {
			return -2
		}
		var matched bool
		switch prefix, err := parseCIDR(p); {
		case err == errHostBits:
			return -2
		case err == nil:
			matched = prefix.Contains(ip)
		default: // not an address: a glob against the address's text
			matched = globMatch(ip.String(), p)
		}
		if matched {
			if neg {
				return -1
			}
			ret = 1
		}
	}
	return ret
}

var errHostBits = fmt.Errorf("host bits set")

// parseCIDR reads an address (a /32 or /128) or a network; a network with
// bits set past its mask is malformed, as sshd's addr_pton_cidr says.
func parseCIDR(p string) (netip.Prefix, error) {
	if !strings.Contains(p, "/") {
		a, err := netip.ParseAddr(p)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("not an address")
		}
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
	}
	prefix, err := netip.ParsePrefix(p)
	if err != nil {
		return netip.Prefix{}, err
	}
	if prefix.Masked() != prefix {
		return netip.Prefix{}, errHostBits
	}
	return prefix, nil
}

// matchPatternList is sshd's match_pattern_list on a lower-cased host:
// 1 a match, 0 none, -1 a negated match.
func matchPatternList(s, list string) int {
	got := 0
	for p := range strings.SplitSeq(list, ",") {
		neg := strings.HasPrefix(p, "!")
		if neg {
			p = p[1:]
		}
		if globMatch(s, strings.ToLower(p)) {
			if neg {
				return -1
			}
			got = 1
		}
	}
	return got
}

// globMatch is sshd's match_pattern: * any run of bytes, ? one byte.
func globMatch(s, p string) bool {
	// Iterative with one backtrack point, so a pattern of many stars costs
	// O(len(s)·len(p)) at worst, not exponential time.
	si, pi := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			si++
			pi++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

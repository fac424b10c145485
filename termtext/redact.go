package termtext

import (
	"encoding/base64"
	"regexp"
	"strings"
)

// Redacted replaces a credential in every message brink gives out (the
// report's copy of the scenario uses the same word).
const Redacted = "[redacted]"

var (
	// userInfoRE is the user-info of a URL in free text: scheme://…@.
	userInfoRE = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)([^/?#\s"'<>]*)@`)
	// secretParamRE is a credential-looking query parameter's value.
	secretParamRE = regexp.MustCompile(`(?i)([?&;][^=&?#\s"'<>]*(?:token|key|secret|passw|pwd|session|auth|signature|sig|credential)[^=&?#\s"'<>]*=)[^&#\s"'<>]*`)
	// bearerRE is a bearer token echoed back.
	bearerRE = regexp.MustCompile(`(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}`)
	// basicRE is a Basic credential echoed back: base64 of user:password
	// (decoded to tell it from the words "basic auth").
	basicRE = regexp.MustCompile(`(?i)\bbasic\s+([A-Za-z0-9+/]{4,}={0,2})`)
)

// SecretName reports whether a name (a query parameter's, a data
// column's) looks like it carries a credential: it contains token, key,
// secret, passw, pwd, session, auth, signature, sig or credential, in any
// case.
func SecretName(name string) bool { return secretParamRE.MatchString("?" + name + "=") }

// Redact takes credentials that have a recognisable shape out of s:
// the password of every URL's user-info (a user-info without a password,
// often a token, goes whole), credential-looking query parameters
// (token=, api_key=, password=…) and Authorization values (Bearer …).
func Redact(s string) string {
	if lower := strings.ToLower(s); !strings.Contains(s, "@") && !strings.Contains(s, "=") &&
		!strings.Contains(lower, "bearer") && !strings.Contains(lower, "basic") {
		return s
	}
	s = userInfoRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := userInfoRE.FindStringSubmatch(m)
		scheme, info := sub[1], sub[2]
		if info == "" || info == Redacted {
			return m
		}
		if user, _, ok := strings.Cut(info, ":"); ok {
			return scheme + user + ":" + Redacted + "@"
		}
		return scheme + Redacted + "@"
	})
	s = secretParamRE.ReplaceAllStringFunc(s, func(m string) string {
		k, v, _ := strings.Cut(m, "=")
		// "…?token=x: HTTP 401": the colon is the message's, not the value's.
		tail := ""
		if strings.HasSuffix(v, ":") {
			tail = ":"
		}
		return k + "=" + Redacted + tail
	})
	s = basicRE.ReplaceAllStringFunc(s, func(m string) string {
		scheme, cred, _ := strings.Cut(m, " ")
		if dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred)); err == nil && strings.Contains(string(dec), ":") {
			return scheme + " " + Redacted
		}
		return m
	})
	s = bearerRE.ReplaceAllStringFunc(s, func(m string) string {
		scheme, _, _ := strings.Cut(m, " ")
		if strings.HasSuffix(m, Redacted) {
			return m
		}
		return scheme + " " + Redacted
	})
	return s
}

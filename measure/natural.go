package measure

import (
	"cmp"
	"strings"
)

// NaturalCompare orders strings with digit runs compared as numbers, so db-2
// comes before db-10 and 10.0.0.9 before 10.0.0.13: the order of nodes,
// instances and series everywhere brink lists them.
func NaturalCompare(a, b string) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		ca, cb := a[i], b[j]
		if isDigit(ca) && isDigit(cb) {
			si, sj := i, j
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
			// Compare the digit runs as numbers without parsing them, so
			// arbitrarily long runs cannot overflow: strip leading zeros,
			// then longer is bigger, then lexical.
			na, nb := trimZeros(a[si:i]), trimZeros(b[sj:j])
			if c := cmp.Compare(len(na), len(nb)); c != 0 {
				return c
			}
			if c := cmp.Compare(na, nb); c != 0 {
				return c
			}
			// Equal numbers: fewer leading zeros first, for a total order.
			if c := cmp.Compare(i-si, j-sj); c != 0 {
				return c
			}
			continue
		}
		if ca != cb {
			return cmp.Compare(ca, cb)
		}
		i++
		j++
	}
	return cmp.Compare(len(a)-i, len(b)-j)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func trimZeros(s string) string {
	for len(s) > 1 && s[0] == '0' {
		s = s[1:]
	}
	return s
}

// GroupDigits writes a run of digits in groups of three with a space
// between: "1840" → "1 840", as brink prints every count.
func GroupDigits(digits string) string {
	var b strings.Builder
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}

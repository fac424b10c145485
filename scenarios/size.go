package scenarios

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxMaxBody is the largest max_body accepted: one VU may hold this much at
// once, so a typo like 40GiB must not pass.
const MaxMaxBody = 1 << 30

const sizeHint = "want bytes or e.g. 512KiB, 4MiB, 10MB"

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	// Longest first, so "KiB" is not read as "B".
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30},
	{"b", 1},
}

// ParseSize reads a byte count: a whole number ("4194304") or a whole
// number with a unit, KiB/MiB/GiB (powers of 1024, also K/M/G) or
// KB/MB/GB (powers of 1000), case-insensitive, e.g. "4MiB", "512 KiB".
func ParseSize(s string) (int64, error) {
	in := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(in, u.suffix) {
			in, mult = strings.TrimSpace(strings.TrimSuffix(in, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(in, 10, 64)
	if err != nil || n < 0 || in[0] == '+' {
		return 0, fmt.Errorf("bad size %q (%s)", s, sizeHint)
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return n * mult, nil
}

// FormatSize writes a byte count the way ParseSize reads it back, in the
// largest binary unit that divides it (4194304 → "4MiB").
func FormatSize(n int64) string {
	for _, u := range []struct {
		name string
		mult int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.mult && n%u.mult == 0 {
			return strconv.FormatInt(n/u.mult, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

package scenarios

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

const durationHint = "want e.g. 90s, 1m30s, 500ms, 2h"

// ParseDuration reads a k6-style duration: Go's syntax ("90s", "1m30s",
// "500ms", "1.5s", "2h") plus a leading whole number of days ("1d12h").
// Negative durations and bare numbers (other than "0") are errors, because a
// unit-less "60" is ambiguous between seconds and milliseconds.
func ParseDuration(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, fmt.Errorf("empty duration (%s)", durationHint)
	}
	if in[0] == '-' {
		return 0, fmt.Errorf("negative duration %q", s)
	}
	if in[0] == '+' {
		in = in[1:]
	}
	if in == "0" {
		return 0, nil
	}
	var days int64
	if i := strings.IndexByte(in, 'd'); i >= 0 {
		n, err := strconv.ParseInt(in[:i], 10, 64)
		if err != nil || n < 0 || in[:i] == "" || in[0] == '+' || in[0] == '-' {
			return 0, fmt.Errorf("bad duration %q (%s; days as a leading whole number, 1d12h)", s, durationHint)
		}
		days = n
		in = in[i+1:]
		if in == "" {
			in = "0"
		}
	}
	if in != "" && (in[0] == '-' || in[0] == '+') {
		return 0, fmt.Errorf("bad duration %q (%s)", s, durationHint)
	}
	d, err := time.ParseDuration(in)
	if err != nil {
		if _, numErr := strconv.ParseFloat(in, 64); numErr == nil {
			return 0, fmt.Errorf("duration %q needs a unit (%s)", s, durationHint)
		}
		return 0, fmt.Errorf("bad duration %q (%s)", s, durationHint)
	}
	const day = 24 * time.Hour
	if days > 0 {
		if days > math.MaxInt64/int64(day) || int64(d) > math.MaxInt64-days*int64(day) {
			return 0, fmt.Errorf("duration %q is too long", s)
		}
		d += time.Duration(days) * day
	}
	return d, nil
}

// ParseThink reads a think time: fixed ("1s") or a uniform range
// ("1s-3s"). An empty string means no think time.
func ParseThink(s string) (Think, error) {
	in := strings.TrimSpace(s)
	if in == "" || in == "0" {
		return Think{}, nil
	}
	lo, hi, isRange := strings.Cut(in, "-")
	if !isRange {
		d, err := ParseDuration(in)
		if err != nil {
			return Think{}, err
		}
		return Think{Min: d, Max: d}, nil
	}
	if strings.TrimSpace(lo) == "" {
		return Think{}, fmt.Errorf("negative think time %q", s)
	}
	from, err := ParseDuration(lo)
	if err != nil {
		return Think{}, err
	}
	to, err := ParseDuration(hi)
	if err != nil {
		return Think{}, err
	}
	if from > to {
		return Think{}, fmt.Errorf("think range %q runs backwards (want MIN-MAX, e.g. 1s-3s)", s)
	}
	return Think{Min: from, Max: to}, nil
}

// String writes a think time back in the syntax ParseThink reads.
func (t Think) String() string {
	if t.Min == t.Max {
		return formatDuration(t.Min)
	}
	return formatDuration(t.Min) + "-" + formatDuration(t.Max)
}

// formatDuration prints d the way people write it in scenarios: "1m30s",
// not "1m30.000s"; "500ms".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

package tui

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// fmtMs formats milliseconds in at most 5 ASCII bytes: "0.4ms" is too long,
// so sub-ms values show as "<1ms"; seconds past 10 s lose the fraction.
func fmtMs(v float64) string {
	switch {
	case math.IsNaN(v) || v <= 0:
		return "0ms"
	case v < 1:
		return "<1ms"
	case v < 1000:
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64) + "ms"
	case v < 10000:
		return strconv.FormatFloat(v/1000, 'f', 1, 64) + "s"
	}
	return strconv.FormatFloat(math.Round(v/1000), 'f', 0, 64) + "s"
}

// fmtCount formats a count or rate in at most 5 ASCII bytes: 1840, 12.3k,
// 1.2M; small fractions keep one decimal.
func fmtCount(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v):
		return "-"
	case a == 0:
		return "0"
	case a < 10 && a != math.Trunc(a):
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a < 10000:
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	case a < 100000:
		return strconv.FormatFloat(v/1000, 'f', 1, 64) + "k"
	case a < 1e6:
		return strconv.FormatFloat(math.Round(v/1000), 'f', 0, 64) + "k"
	case a < 1e7:
		return strconv.FormatFloat(v/1e6, 'f', 1, 64) + "M"
	}
	return strconv.FormatFloat(math.Round(v/1e6), 'f', 0, 64) + "M"
}

// fmtPct formats a percentage 0..100+ in at most 4 bytes.
func fmtPct(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	if v < 10 && v != math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(math.Round(v), 'f', 0, 64) + "%"
}

// fmtLoad formats a load average: one decimal below 100.
func fmtLoad(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	if v < 100 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
}

// fmtClock formats an elapsed duration as m:ss or h:mm:ss.
func fmtClock(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// fmtWindow names a chart window: 1m, 5m, 15m, all.
func fmtWindow(d time.Duration) string {
	if d <= 0 {
		return "all"
	}
	if d%time.Hour == 0 {
		return strconv.Itoa(int(d/time.Hour)) + "h"
	}
	return strconv.Itoa(int(d/time.Minute)) + "m"
}

// padLeft right-aligns s in w cells (ASCII only: labels are measured in
// bytes by ntcharts).
func padLeft(s string, w int) string {
	if len(s) >= w {
		return s
	}
	return strings.Repeat(" ", w-len(s)) + s
}

// niceCeil rounds v up to 1, 2, 2.5 or 5 × 10^k so axis labels are round.
func niceCeil(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if v <= m*e*(1+1e-9) {
			return m * e
		}
	}
	return 10 * e
}

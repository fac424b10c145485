package tui

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// fmtMs formats milliseconds in at most 5 ASCII bytes (ntcharts measures
// labels in bytes): "212ms", "1.5s", "13s", then minutes and hours.
func fmtMs(v float64) string {
	switch {
	case math.IsNaN(v) || v <= 0:
		return "0ms"
	case v < 1:
		return "<1ms"
	case v < 999.5:
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64) + "ms"
	}
	return scaled(v/1000, []unit{{"s", 1}, {"m", 60}, {"h", 3600}})
}

// fmtCount formats a count or rate in at most 5 ASCII bytes: 1840, 12.3k,
// 457k, 1.2M; small fractions keep one decimal.
func fmtCount(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v):
		return "-"
	case a == 0:
		return "0"
	case a < 10 && a != math.Trunc(a):
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a < 9999.5:
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
	return scaled(v, []unit{{"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}})
}

type unit struct {
	name string
	div  float64
}

// scaled picks the first unit in which v has at most 3 digits: one decimal
// below 10, whole numbers above; past the last unit it says ">999".
func scaled(v float64, units []unit) string {
	for _, u := range units {
		x := math.Abs(v / u.div)
		sign := ""
		if v < 0 {
			sign = "-"
		}
		switch {
		case x < 9.95:
			return sign + strconv.FormatFloat(x, 'f', 1, 64) + u.name
		case x < 999.5:
			return sign + strconv.FormatFloat(math.Round(x), 'f', 0, 64) + u.name
		}
	}
	return ">999" + units[len(units)-1].name
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

package promquery

import "math"

// counterRate is the per-second rate of a counter between two scrapes dt
// seconds apart, following Prometheus's irate rule: when the counter went
// down it was reset, and it has counted cur since the reset. ok is false
// when the inputs make no rate (non-finite, negative, dt ≤ 0) or the
// result would overflow, so callers can leave the metric NaN instead of
// showing garbage.
func counterRate(prev, cur, dt float64) (rate float64, ok bool) {
	if !(dt > 0) || math.IsInf(dt, 0) || !finiteNonNeg(prev) || !finiteNonNeg(cur) {
		return 0, false
	}
	delta := cur - prev
	if cur < prev {
		delta = cur
	}
	rate = delta / dt
	if math.IsInf(rate, 0) || math.IsNaN(rate) || rate < 0 {
		return 0, false
	}
	return rate, true
}

func finiteNonNeg(v float64) bool { return v >= 0 && !math.IsInf(v, 0) }

// counterSet is one scrape's counters, keyed by series.
type counterSet = map[seriesKey]float64

// rates returns the per-series rates from prev to cur over dt seconds.
// Series present in only one of the two scrapes are skipped: a series that
// just appeared has no rate yet, and one that vanished has no current value.
func rates(prev, cur counterSet, dt float64) counterSet {
	out := make(counterSet, len(cur))
	for k, c := range cur {
		p, ok := prev[k]
		if !ok {
			continue
		}
		if r, ok := counterRate(p, c, dt); ok {
			out[k] = r
		}
	}
	return out
}

package measure

import (
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// LatencyOf reads a window's latency figures from its histogram (µs): the
// engine's per-window merge and the fleet's merge of agents' windows
// summarise the same way.
func LatencyOf(h *hdrhistogram.Histogram) Latency {
	n := h.TotalCount()
	if n == 0 {
		return Latency{}
	}
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	return Latency{
		Count: n,
		Min:   us(h.Min()),
		Mean:  time.Duration(h.Mean() * float64(time.Microsecond)),
		P50:   us(h.ValueAtQuantile(50)),
		P90:   us(h.ValueAtQuantile(90)),
		P95:   us(h.ValueAtQuantile(95)),
		P99:   us(h.ValueAtQuantile(99)),
		P999:  us(h.ValueAtQuantile(99.9)),
		Max:   us(h.Max()),
	}
}

// CompareFailures is the order of a window's failure rows: most frequent
// first, then by group, endpoint, kind, status and check, so equal counts
// list the same way every time.
func CompareFailures(a, b Failure) int {
	switch {
	case a.Count != b.Count:
		return int(b.Count - a.Count)
	case a.Group != b.Group:
		return strings.Compare(a.Group, b.Group)
	case a.Endpoint != b.Endpoint:
		return strings.Compare(a.Endpoint, b.Endpoint)
	case a.Kind != b.Kind:
		return strings.Compare(string(a.Kind), string(b.Kind))
	case a.Status != b.Status:
		return a.Status - b.Status
	}
	return strings.Compare(a.Check, b.Check)
}

package report

import (
	"math"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/brink-load/brink/measure"
)

// latAcc folds many windows of one latency metric into a whole-run
// distribution. Windows that carry an HDR snapshot are added exactly, count by
// count; windows that only carry quantiles (WebSocket replies, or an engine
// that sent no snapshot) are approximated from their quantiles. The exact
// part wins whenever there is one.
type latAcc struct {
	exact  snapAcc
	approx *hdrhistogram.Histogram // µs, built from window quantiles
	count  int64
	sum    float64 // µs, for an exact mean even on the approximate path
	min    time.Duration
	max    time.Duration
}

// snapAcc is a mergeable histogram kept as raw counts: adding a snapshot of
// the same layout is a plain element-wise sum with no allocation.
type snapAcc struct {
	lo, hi, sig int64
	counts      []int64
}

func (a *snapAcc) empty() bool { return len(a.counts) == 0 }

// reset empties the accumulator and keeps its buffer for reuse.
func (a *snapAcc) reset() { a.counts = a.counts[:0] }

func (a *snapAcc) add(s *hdrhistogram.Snapshot) {
	if !validSnap(s) {
		return
	}
	if len(a.counts) == 0 {
		a.lo, a.hi, a.sig = s.LowestTrackableValue, s.HighestTrackableValue, s.SignificantFigures
		a.counts = append(a.counts[:0], s.Counts...)
		return
	}
	if a.lo == s.LowestTrackableValue && a.hi == s.HighestTrackableValue &&
		a.sig == s.SignificantFigures && len(a.counts) == len(s.Counts) {
		for i, c := range s.Counts {
			a.counts[i] += c
		}
		return
	}
	// Different layouts (another generator's settings): merge through the
	// library, into the wider of the two.
	h := a.histogram()
	if s.HighestTrackableValue > a.hi {
		wide := hdrhistogram.New(min(a.lo, s.LowestTrackableValue), s.HighestTrackableValue, int(max(a.sig, s.SignificantFigures)))
		wide.Merge(h)
		h = wide
	}
	h.Merge(importCopy(s))
	ex := h.Export()
	a.lo, a.hi, a.sig, a.counts = ex.LowestTrackableValue, ex.HighestTrackableValue, ex.SignificantFigures, ex.Counts
}

// histogram returns a Histogram over a copy of the counts.
func (a *snapAcc) histogram() *hdrhistogram.Histogram {
	return importCopy(&hdrhistogram.Snapshot{LowestTrackableValue: a.lo, HighestTrackableValue: a.hi,
		SignificantFigures: a.sig, Counts: a.counts})
}

// importCopy imports a snapshot without taking ownership of its counts:
// the engine (or a reader of the view) may still look at them.
func importCopy(s *hdrhistogram.Snapshot) *hdrhistogram.Histogram {
	c := *s
	c.Counts = append([]int64(nil), s.Counts...)
	return hdrhistogram.Import(&c)
}

// approxWeights spread a window's count over its quantiles so the whole-run
// approximation keeps the shape of the tail.
var approxWeights = [...]struct {
	q float64
	w float64
}{{50, 0.50}, {90, 0.40}, {95, 0.05}, {99, 0.04}, {100, 0.01}}

// add folds one window: snap may be nil.
func (a *latAcc) add(l measure.Latency, snap *hdrhistogram.Snapshot) {
	if l.Count <= 0 {
		if snap != nil {
			a.exact.add(snap)
		}
		return
	}
	a.count += l.Count
	a.sum += float64(l.Mean/time.Microsecond) * float64(l.Count)
	if a.min == 0 || (l.Min > 0 && l.Min < a.min) {
		a.min = l.Min
	}
	if l.Max > a.max {
		a.max = l.Max
	}
	if snap != nil {
		a.exact.add(snap)
		return
	}
	if a.approx == nil {
		a.approx = hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3)
	}
	vals := [...]time.Duration{l.P50, l.P90, l.P95, l.P99, l.Max}
	for i, w := range approxWeights {
		n := int64(float64(l.Count)*w.w + 0.5)
		if n == 0 {
			continue
		}
		us := max(int64(vals[i]/time.Microsecond), 1)
		_ = a.approx.RecordValues(min(us, a.approx.HighestTrackableValue()), n)
	}
}

// Dist is a whole-run latency distribution in milliseconds.
type Dist struct {
	Count int64 `json:"count"`
	Mean  Num   `json:"mean"`
	Min   Num   `json:"min"`
	Med   Num   `json:"p50"`
	P90   Num   `json:"p90"`
	P95   Num   `json:"p95"`
	P99   Num   `json:"p99"`
	P999  Num   `json:"p999"`
	Max   Num   `json:"max"`
	// Exact is false when percentiles were rebuilt from per-window
	// quantiles (no HDR snapshots were available).
	Exact bool `json:"exact"`
}

// histOf returns the best histogram of the run and whether it is exact.
func (a *latAcc) histOf() (*hdrhistogram.Histogram, bool) {
	if !a.exact.empty() {
		return a.exact.histogram(), true
	}
	if a.approx != nil {
		return a.approx, false
	}
	return nil, false
}

// quantile returns percentile p (0..100) of the run in ms; ok is false with
// no data.
func (a *latAcc) quantile(p float64) (float64, bool) {
	h, _ := a.histOf()
	if h == nil || h.TotalCount() == 0 {
		return 0, false
	}
	return usToMs(h.ValueAtPercentile(p)), true
}

func (a *latAcc) dist() Dist {
	h, exact := a.histOf()
	if h == nil || h.TotalCount() == 0 {
		if a.count == 0 {
			return Dist{Mean: nan(), Min: nan(), Med: nan(), P90: nan(), P95: nan(), P99: nan(), P999: nan(), Max: nan()}
		}
	}
	d := Dist{Count: a.count, Exact: exact}
	if h != nil && h.TotalCount() > 0 {
		d.Med = Num(usToMs(h.ValueAtPercentile(50)))
		d.P90 = Num(usToMs(h.ValueAtPercentile(90)))
		d.P95 = Num(usToMs(h.ValueAtPercentile(95)))
		d.P99 = Num(usToMs(h.ValueAtPercentile(99)))
		d.P999 = Num(usToMs(h.ValueAtPercentile(99.9)))
		if exact {
			d.Count = h.TotalCount()
			d.Mean = Num(h.Mean() / 1000)
			d.Min = Num(usToMs(h.Min()))
			d.Max = Num(usToMs(h.Max()))
			return d
		}
	}
	d.Mean = Num(a.sum / float64(a.count) / 1000)
	d.Min = Num(ms(a.min))
	d.Max = Num(ms(a.max))
	return d
}

func usToMs(us int64) float64 { return float64(us) / 1000 }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// windowQuantile returns percentile p of one window in ms, from the
// snapshot when there is one, else from the nearest reported quantile at or
// above p (conservative).
func windowQuantile(l measure.Latency, snap *hdrhistogram.Snapshot, p float64) float64 {
	if v, ok := snapQuantile(snap, p); ok {
		return usToMs(v)
	}
	switch {
	case p <= 50:
		return ms(l.P50)
	case p <= 90:
		return ms(l.P90)
	case p <= 95:
		return ms(l.P95)
	case p <= 99:
		return ms(l.P99)
	default:
		return ms(l.Max)
	}
}

// snapQuantile is Histogram.ValueAtPercentile computed straight from a
// snapshot's counts: no import, no allocation (it runs for every SLO in
// every window). The index arithmetic is the library's own layout.
func snapQuantile(s *hdrhistogram.Snapshot, p float64) (int64, bool) {
	if !validSnap(s) {
		return 0, false
	}
	var total int64
	for _, c := range s.Counts {
		total += c
	}
	if total == 0 {
		return 0, false
	}
	sig := min(max(s.SignificantFigures, 1), 5)
	lo := max(s.LowestTrackableValue, 1)
	subMag := int64(math.Ceil(math.Log2(2 * math.Pow10(int(sig)))))
	halfMag := max(subMag, 1) - 1
	unitMag := int64(math.Floor(math.Log2(float64(lo))))
	subCount := int64(1) << (halfMag + 1)
	half := subCount / 2

	p = min(p, 100)
	want := max(int64(p/100*float64(total)+0.5), 1)
	var cum int64
	for i, c := range s.Counts {
		cum += c
		if cum < want {
			continue
		}
		idx := int64(i)
		bucket, sub := int64(0), idx
		if idx >= subCount {
			bucket = (idx >> halfMag) - 1
			sub = idx&(half-1) + half
		}
		v := sub << (bucket + unitMag)
		if p == 0 {
			return v, true
		}
		return v + int64(1)<<(bucket+unitMag) - 1, true
	}
	return 0, false
}

// layoutLens caches the counts length of each histogram layout seen.
var layoutLens sync.Map // [3]int64 → int

// validSnap reports whether a snapshot's counts fit its layout. A snapshot
// that does not (another generator's bug, a damaged message) is ignored —
// the window's quantiles stand in — rather than indexed out of range.
func validSnap(s *hdrhistogram.Snapshot) bool {
	if s == nil || len(s.Counts) == 0 || s.LowestTrackableValue < 1 || s.SignificantFigures < 1 ||
		s.SignificantFigures > 5 || s.HighestTrackableValue < 2*s.LowestTrackableValue ||
		s.HighestTrackableValue > 1<<50 {
		return false
	}
	key := [3]int64{s.LowestTrackableValue, s.HighestTrackableValue, s.SignificantFigures}
	n, ok := layoutLens.Load(key)
	if !ok {
		n = len(hdrhistogram.New(key[0], key[1], int(key[2])).Export().Counts)
		layoutLens.Store(key, n)
	}
	return len(s.Counts) == n.(int)
}

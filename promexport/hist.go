package promexport

import (
	"math"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Buckets are the classic bucket bounds (seconds) of brink's latency
// histograms: about ten a decade from 250 µs to 60 s (neighbours at most
// 1.34× apart), so histogram_quantile's linear interpolation inside one
// bucket stays within a few percent for a smooth distribution, with 48
// series per histogram. Prometheus servers that ingest native histograms
// use the native buckets instead (NativeSchema).
var Buckets = []float64{
	0.00025, 0.0005, 0.00075,
	0.001, 0.00125, 0.0015, 0.002, 0.0025, 0.003, 0.004, 0.005, 0.006, 0.008,
	0.01, 0.0125, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.06, 0.08,
	0.1, 0.125, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8,
	1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8,
	10, 15, 20, 30, 60,
}

// NativeSchema is the native histograms' schema: 3 is 2^(1/8), buckets
// 9 % wide, client_golang's own default (NativeHistogramBucketFactor 1.1).
const NativeSchema = 3

// latHist is one latency histogram over the whole run, classic and native
// buckets side by side, fed one window's HDR snapshot at a time.
//
// How exact: an HDR snapshot holds counts per value range ("bar"; its
// width is at most 1/128 of its value at 2 significant figures, the
// engine's per-endpoint precision, 1/1024 at 3). Each bar is counted whole
// at its highest equivalent value — the value HDR itself reports as a
// quantile — so a classic or native bucket's count is exact but for the
// bars that straddle its bound: samples less than 0.8 % below a bound may
// be counted in the next bucket. The sum adds each bar's count times its
// middle value, as HDR's own mean does. Feeding per window costs one pass
// over the recorded bars, never one Observe per request.
type latHist struct {
	count   uint64
	sum     float64       // seconds
	classic []uint64      // per bucket of Buckets, not cumulative; the rest is +Inf
	native  map[int]int64 // native bucket index → count
}

func newLatHist() *latHist {
	return &latHist{classic: make([]uint64, len(Buckets)), native: map[int]int64{}}
}

// add folds one window's snapshot (µs) in. Bars come in ascending order
// and are much finer than either kind of bucket, so a run of bars in one
// native bucket is counted once (one map write per bucket, not per bar).
func (h *latHist) add(s *hdrhistogram.Snapshot) {
	key, run := 0, int64(0)
	eachBar(s, func(lo, hi, n int64) {
		v := float64(hi) * 1e-6
		h.count += uint64(n)
		h.sum += float64(lo+hi+1) / 2 * 1e-6 * float64(n)
		if i := classicIndex(v); i < len(h.classic) {
			h.classic[i] += uint64(n)
		}
		if k := nativeIndex(v); k != key || run == 0 {
			if run > 0 {
				h.native[key] += run
			}
			key, run = k, 0
		}
		run += n
	})
	if run > 0 {
		h.native[key] += run
	}
}

// eachBar calls fn with each non-empty value range [lo, hi] of an HDR
// snapshot and its count, reading the counts in place with HDR's own index
// layout (hdrhistogram-go's New and countsIndex): Import and Distribution
// would copy and allocate a bar for every slot up to the largest value.
func eachBar(s *hdrhistogram.Snapshot, fn func(lo, hi, n int64)) {
	if s == nil {
		return
	}
	sf := min(max(s.SignificantFigures, 1), 5)
	subMag := int64(math.Ceil(math.Log2(2 * math.Pow10(int(sf)))))
	halfMag := max(subMag, 1) - 1
	half := int64(1) << halfMag
	unitMag := max(int64(math.Floor(math.Log2(float64(max(s.LowestTrackableValue, 1))))), 0)
	for i, n := range s.Counts {
		if n <= 0 {
			continue
		}
		// Bucket 0 holds sub-buckets 0 … 2·half-1 at indexes 0 … 2·half-1;
		// bucket b ≥ 1 holds sub-buckets half … 2·half-1 at b·half + sub.
		idx := int64(i)
		b, sub := int64(0), idx
		if idx >= 2*half {
			b = idx/half - 1
			sub = idx - b*half
		}
		lo := sub << (b + unitMag)
		fn(lo, lo+(int64(1)<<(b+unitMag))-1, n)
	}
}

// classicIndex is the first classic bound at or above v (le is "less or
// equal"); len(Buckets) for +Inf.
func classicIndex(v float64) int {
	lo, hi := 0, len(Buckets)
	for lo < hi {
		m := (lo + hi) / 2
		if Buckets[m] >= v {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// nativeBounds are the bucket bounds within one power of two at
// NativeSchema, as fractions in [0.5, 1): 2^(j/8 - 1), j = 0 … 7.
var nativeBounds = func() (b [1 << NativeSchema]float64) {
	for j := range b {
		b[j] = math.Exp2(float64(j)/float64(len(b)) - 1)
	}
	return b
}()

// nativeIndex is the native bucket of v > 0 at NativeSchema: bucket i holds
// (2^((i-1)/8), 2^(i/8)]. As client_golang finds it: v = frac × 2^exp
// with frac in [0.5, 1), then the first bound at or above frac.
func nativeIndex(v float64) int {
	frac, exp := math.Frexp(v)
	j := 0
	for j < len(nativeBounds) && nativeBounds[j] < frac {
		j++
	}
	return j + (exp-1)*len(nativeBounds)
}

// metric is the histogram as one const metric with both kinds of buckets.
func (h *latHist) metric(desc *prometheus.Desc, created time.Time, labels ...string) (prometheus.Metric, error) {
	nat, err := prometheus.NewConstNativeHistogram(desc, h.count, h.sum, h.native, nil, 0, NativeSchema,
		math.Exp2(-128), created, labels...)
	if err != nil {
		return nil, err
	}
	cum := make([]*dto.Bucket, len(Buckets))
	var acc uint64
	for i, ub := range Buckets {
		acc += h.classic[i]
		cum[i] = &dto.Bucket{CumulativeCount: new(acc), UpperBound: new(ub)}
	}
	return bothHist{Metric: nat, classic: cum}, nil
}

// bothHist adds classic buckets to a const native histogram, which
// client_golang has no constructor for: the text format then carries the
// classic buckets, protobuf both.
type bothHist struct {
	prometheus.Metric
	classic []*dto.Bucket
}

func (b bothHist) Write(out *dto.Metric) error {
	if err := b.Metric.Write(out); err != nil {
		return err
	}
	out.Histogram.Bucket = b.classic
	return nil
}

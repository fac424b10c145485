package engine

import (
	"math/bits"
	"time"
)

// lagHist is a small log-linear histogram of send lags in µs: exact below
// 16 µs, then 16 buckets per power of two (within 6 %) up to 2²⁷ µs. At
// 1.5 KB it lives inside every shard's window as a plain array, so
// recording is an index computation and an increment, with no allocation.
// Send lag is a health signal (was brink on time?), so a few per cent of
// resolution is plenty; the request latencies keep their HDR histograms.
type lagHist struct {
	counts [lagBuckets]uint32
	n      uint32
}

const (
	lagSubBits = 4
	lagSub     = 1 << lagSubBits
	lagMaxBits = 27
	lagBuckets = (lagMaxBits - lagSubBits + 1) * lagSub
)

func lagIndex(us int64) int {
	if us < lagSub {
		return int(max(us, 0))
	}
	us = min(us, 1<<lagMaxBits-1)
	shift := bits.Len64(uint64(us)) - lagSubBits - 1
	return shift*lagSub + int(us>>shift)
}

// lagValue is the middle of bucket i, in µs.
func lagValue(i int) int64 {
	if i < lagSub {
		return int64(i)
	}
	shift := i/lagSub - 1
	top := int64(i%lagSub + lagSub)
	return top<<shift + (int64(1)<<shift)/2
}

func (h *lagHist) record(d time.Duration) {
	h.counts[lagIndex(int64(d/time.Microsecond))]++
	h.n++
}

func (h *lagHist) add(o *lagHist) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

// quantile returns percentile p (0..100) of the recorded lags.
func (h *lagHist) quantile(p float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	want := max(uint64(p/100*float64(h.n)+0.5), 1)
	var cum uint64
	for i, c := range h.counts {
		cum += uint64(c)
		if cum >= want {
			return time.Duration(lagValue(i)) * time.Microsecond
		}
	}
	return time.Duration(lagValue(lagBuckets-1)) * time.Microsecond
}

// sendLag records how late an arrival-rate iteration started: its actual
// send minus its intended start.
func (s *shard) sendLag(d time.Duration) {
	s.mu.Lock()
	s.cur.lag.record(d)
	s.mu.Unlock()
}

package engine

import (
	"fmt"
	"math/bits"
	"sync"
)

// Segment is this engine's share of a scenario that several generators run
// together (k6's execution segment): the part [From, To) of the unit
// interval. Segments that partition [0, 1) add up to the whole run exactly:
// every VU slot and every arrival of the whole scenario is owned by exactly
// one segment. Ownership follows the van der Corput sequence (bit-reversed
// index), so each segment's share is spread evenly over time and grows
// monotonically with the target — no generator drops a VU while the whole
// ramps up. The zero Segment is the whole run.
type Segment struct {
	From float64 `json:"from"`
	To   float64 `json:"to"`
}

func (s Segment) whole() bool { return s.From == 0 && (s.To == 0 || s.To == 1) }

func (s Segment) validate() error {
	if s.whole() {
		return nil
	}
	if !(s.From >= 0 && s.From < s.To && s.To <= 1) {
		return fmt.Errorf("engine: segment %v:%v: want 0 ≤ from < to ≤ 1", s.From, s.To)
	}
	return nil
}

// position is index i's place in [0, 1): the van der Corput sequence.
func position(i int64) float64 {
	return float64(bits.Reverse64(uint64(i))>>11) / (1 << 53)
}

// owns reports whether the whole run's VU slot or arrival i is this
// segment's.
func (s Segment) owns(i int64) bool {
	if s.whole() {
		return true
	}
	p := position(i)
	return p >= s.From && p < s.To
}

// segCounter counts the owned indices below n, incrementally, so a closed
// group's target for this segment costs O(change) per ramp step.
type segCounter struct {
	n, owned int64
}

func (c *segCounter) count(s Segment, n int64) int64 {
	if s.whole() {
		return n
	}
	for c.n < n {
		if s.owns(c.n) {
			c.owned++
		}
		c.n++
	}
	for c.n > n {
		c.n--
		if s.owns(c.n) {
			c.owned--
		}
	}
	return c.owned
}

// slotMap maps this generator's k-th VU slot of a group to the whole
// run's slot it owns, so what is numbered per slot (a per-vu data row)
// is never the same on two generators of one run.
type slotMap struct {
	mu    sync.Mutex
	owned []int
	next  int64
}

func (m *slotMap) global(s Segment, k int) int {
	if s.whole() {
		return k
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for len(m.owned) <= k {
		if s.owns(m.next) {
			m.owned = append(m.owned, int(m.next))
		}
		m.next++
	}
	return m.owned[k]
}

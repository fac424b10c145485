package engine

import (
	"sync/atomic"
	"testing"
	"time"
)

// Segments that partition [0, 1) own every index exactly once, each
// segment's count grows monotonically with n, and its share stays within a
// few indices of its width.
func TestSegmentsAddUp(t *testing.T) {
	parts := [][]Segment{
		{{0, 0.5}, {0.5, 1}},
		{{0, 1.0 / 3}, {1.0 / 3, 2.0 / 3}, {2.0 / 3, 1}},
		{{0, 0.1}, {0.1, 0.75}, {0.75, 1}},
	}
	for _, segs := range parts {
		counters := make([]segCounter, len(segs))
		prev := make([]int64, len(segs))
		for n := int64(0); n <= 2000; n++ {
			var sum int64
			for i, s := range segs {
				c := counters[i].count(s, n)
				if c < prev[i] {
					t.Fatalf("%v: count fell from %d to %d at n=%d", s, prev[i], c, n)
				}
				if d := float64(c) - float64(n)*(s.To-s.From); d > 12 || d < -12 {
					t.Fatalf("%v: %d of %d, want ≈ %.0f", s, c, n, float64(n)*(s.To-s.From))
				}
				prev[i] = c
				sum += c
			}
			if sum != n {
				t.Fatalf("%v: counts add to %d at n=%d", segs, sum, n)
			}
		}
		// Down again (a ramp-down), incrementally.
		for i, s := range segs {
			if got, want := counters[i].count(s, 10), (&segCounter{}).count(s, 10); got != want {
				t.Fatalf("%v: %d after going down, want %d", s, got, want)
			}
		}
		for k := int64(0); k < 5000; k++ {
			owners := 0
			for _, s := range segs {
				if s.owns(k) {
					owners++
				}
			}
			if owners != 1 {
				t.Fatalf("index %d owned by %d segments", k, owners)
			}
		}
	}
	if err := (Segment{0.5, 0.5}).validate(); err == nil {
		t.Fatal("empty segment should be refused")
	}
	if !(Segment{}).owns(7) || (&segCounter{}).count(Segment{}, 9) != 9 {
		t.Fatal("the zero segment is the whole run")
	}
}

// Two generators with half the run each: arrivals add up to the whole
// schedule (200/s for 1 s), each doing about half.
func TestSegmentsSplitArrivals(t *testing.T) {
	var hits atomic.Int64
	srv := okServer(t, &hits)
	var totals [2]int64
	done := make(chan struct{}, 2)
	for i, seg := range []Segment{{0, 0.5}, {0.5, 1}} {
		go func() {
			defer func() { done <- struct{}{} }()
			g := constRate(get("half", srv.URL), 200, time.Second, 20)
			_, tk := run(t, scenario(400*time.Millisecond, g), Options{Segment: seg}, 10*time.Second)
			s := tk.sum()
			totals[i] = s.Iterations + s.Dropped
			if tr := tk.All()[0].TargetRate; tr != 100 {
				t.Errorf("segment %v: target rate %v, want 100", seg, tr)
			}
		}()
	}
	<-done
	<-done
	if sum := totals[0] + totals[1]; sum < 198 || sum > 202 {
		t.Fatalf("segments did %v arrivals, want 200 together", totals)
	}
	if totals[0] < 95 || totals[0] > 105 {
		t.Fatalf("segments did %v arrivals, want ~100 each", totals)
	}
}

// Each generator's VU slots map to distinct slots of the whole run, and
// together to all of them.
func TestSlotMapPartitionsTheWholeRun(t *testing.T) {
	segs := []Segment{{0, 1.0 / 3}, {1.0 / 3, 2.0 / 3}, {2.0 / 3, 1}}
	seen := map[int]bool{}
	total := 0
	for _, s := range segs {
		var m slotMap
		var c segCounter
		n := int(c.count(s, 300)) // this segment's share of 300 slots
		total += n
		for k := range n {
			g := m.global(s, k)
			if seen[g] || g >= 300 || !s.owns(int64(g)) {
				t.Fatalf("segment %v slot %d → %d: taken, out of range or not owned", s, k, g)
			}
			seen[g] = true
		}
	}
	if total != 300 || len(seen) != 300 {
		t.Fatalf("%d slots over %d distinct, want 300", total, len(seen))
	}
	var whole slotMap
	if g := whole.global(Segment{}, 7); g != 7 {
		t.Fatalf("whole run: slot 7 → %d", g)
	}
}

package engine

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/brink-load/brink/measure"
)

// Every lag lands in a bucket whose middle is within 6 % of it (exact
// below 16 µs), and quantiles read back the recorded values.
func TestLagHistBuckets(t *testing.T) {
	for _, us := range []int64{0, 1, 15, 16, 17, 31, 32, 100, 999, 1000, 12345, 600_000, 60_000_000} {
		i := lagIndex(us)
		if i < 0 || i >= lagBuckets {
			t.Fatalf("%d µs: index %d out of [0,%d)", us, i, lagBuckets)
		}
		got := lagValue(i)
		if us < lagSub && got != us {
			t.Fatalf("%d µs reads back %d", us, got)
		}
		if us >= lagSub && math.Abs(float64(got-us)) > 0.06*float64(us) {
			t.Fatalf("%d µs reads back %d (bucket %d)", us, got, i)
		}
	}
	if i := lagIndex(1 << 40); i != lagBuckets-1 {
		t.Fatalf("a huge lag lands in bucket %d, want the last (%d)", i, lagBuckets-1)
	}
	if i := lagIndex(-5); i != 0 {
		t.Fatalf("a negative lag lands in bucket %d", i)
	}

	var h, o lagHist
	for range 98 {
		h.record(200 * time.Microsecond)
	}
	o.record(30 * time.Millisecond)
	o.record(30 * time.Millisecond)
	h.add(&o)
	if h.n != 100 {
		t.Fatalf("count %d", h.n)
	}
	near := func(got, want time.Duration) bool { return math.Abs(float64(got-want)) <= 0.06*float64(want) }
	if p := h.quantile(50); !near(p, 200*time.Microsecond) {
		t.Fatalf("p50 %s", p)
	}
	if p := h.quantile(99); !near(p, 30*time.Millisecond) {
		t.Fatalf("p99 %s", p)
	}
	var empty lagHist
	if empty.quantile(99) != 0 {
		t.Fatal("an empty histogram has a quantile")
	}
}

// The overload rule, window by window: a stretched window and the one after
// it (its requests were in flight through the stall), a saturated CPU, a
// late open-model clock; a healthy window is not marked.
func TestJudgeHealth(t *testing.T) {
	cases := []struct {
		name        string
		s           measure.GeneratorStats
		afterStall  bool
		over, stall bool
		why         string
	}{
		{"healthy", measure.GeneratorStats{Stretch: 1.02, CPUPercent: 40, Cores: 2, SendLag: measure.Lag{Count: 50, P99: time.Millisecond}}, false, false, false, ""},
		{"stalled", measure.GeneratorStats{Stretch: 4.26, CPUPercent: 2, Cores: 2}, false, true, true, "brink stalled"},
		{"after a stall", measure.GeneratorStats{Stretch: 0.4, Cores: 2}, true, true, false, "in flight through the stall"},
		{"cpu saturated", measure.GeneratorStats{Stretch: 1.1, CPUPercent: 185, Cores: 2}, false, true, false, "CPU 185 % of 2 cores"},
		{"cpu busy, not saturated", measure.GeneratorStats{Stretch: 1, CPUPercent: 170, Cores: 2}, false, false, false, ""},
		{"send lag", measure.GeneratorStats{Stretch: 1, Cores: 2, SendLag: measure.Lag{Count: 10, P99: 140 * time.Millisecond}}, false, true, false, "send lag p99 140ms"},
		{"lag of the slowest few", measure.GeneratorStats{Stretch: 1, Cores: 2, SendLag: measure.Lag{Count: 90, P50: 100 * time.Microsecond, P99: 60 * time.Millisecond}}, false, false, false, ""},
		{"lag at the limit", measure.GeneratorStats{Stretch: 1, Cores: 2, SendLag: measure.Lag{Count: 10, P99: SendLagLimit}}, false, false, false, ""},
		{"stretch at the limit", measure.GeneratorStats{Stretch: StallStretch, Cores: 2}, false, false, false, ""},
		// The run's last, partial window: its teardown burst and few
		// sends are not the load's.
		{"final partial window, CPU burst", measure.GeneratorStats{Stretch: 0.03, CPUPercent: 195, Cores: 2}, false, false, false, ""},
		{"final partial window, one late send", measure.GeneratorStats{Stretch: 0.2, Cores: 2, SendLag: measure.Lag{Count: 2, P99: 300 * time.Millisecond}}, false, false, false, ""},
		{"half a window, CPU saturated", measure.GeneratorStats{Stretch: MinJudgedStretch, CPUPercent: 190, Cores: 2}, false, true, false, "CPU 190 %"},
	}
	for _, c := range cases {
		s := c.s
		stall := judgeHealth(&s, c.afterStall)
		if s.Overloaded != c.over || stall != c.stall || (c.why != "" && !strings.Contains(s.Reason, c.why)) || (!c.over && s.Reason != "") {
			t.Errorf("%s: overloaded %v stalled %v reason %q; want %v %v %q", c.name, s.Overloaded, stall, s.Reason, c.over, c.stall, c.why)
		}
	}
}

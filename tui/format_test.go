package tui

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/brink-load/brink/report"
)

func TestFormatters(t *testing.T) {
	cases := []struct {
		f    func(float64) string
		in   float64
		want string
	}{
		{fmtMs, 0, "0ms"}, {fmtMs, 0.4, "<1ms"}, {fmtMs, 212.4, "212ms"}, {fmtMs, 999.6, "1.0s"}, {fmtMs, 125000, "125s"}, {fmtMs, 2e6, "33m"},
		{fmtMs, 1500, "1.5s"}, {fmtMs, 12500, "13s"}, {fmtMs, math.NaN(), "0ms"},
		{fmtCount, 0, "0"}, {fmtCount, 0.26, "0.3"}, {fmtCount, 7, "7"}, {fmtCount, 1840, "1840"},
		{fmtCount, 9999.7, "10k"}, {fmtCount, 12345, "12k"}, {fmtCount, 99999, "100k"}, {fmtCount, 456789, "457k"}, {fmtCount, 1.2e6, "1.2M"}, {fmtCount, 3.4e7, "34M"},
		{fmtPct, 0, "0%"}, {fmtPct, 2.26, "2.3%"}, {fmtPct, 87.4, "87%"}, {fmtPct, 100, "100%"},
		{fmtLoad, 3.14, "3.1"}, {fmtLoad, 104.4, "104"}, {fmtLoad, math.NaN(), "-"},
	}
	for _, c := range cases {
		if got := c.f(c.in); got != c.want {
			t.Errorf("format(%v) = %q, want %q", c.in, got, c.want)
		}
	}
	// Y labels are measured in bytes by ntcharts: ASCII and at most the
	// fixed width, for any value.
	for _, v := range []float64{0, 0.5, 9.99, 999.9, 1234.5, 9999.9, 99999, 999999, 1e9, 1e14} {
		for _, s := range []string{fmtMs(v), fmtCount(v)} {
			if len(s) > yLabelWidth || strings.ContainsFunc(s, func(r rune) bool { return r > 127 }) {
				t.Errorf("label %q for %v is not ASCII within %d bytes", s, v, yLabelWidth)
			}
		}
	}
}

func TestClockAndWindow(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0:00", 61 * time.Second: "1:01", 3725 * time.Second: "1:02:05"} {
		if got := fmtClock(d); got != want {
			t.Errorf("fmtClock(%v) = %q, want %q", d, got, want)
		}
	}
	for d, want := range map[time.Duration]string{0: "all", time.Minute: "1m", 15 * time.Minute: "15m"} {
		if got := fmtWindow(d); got != want {
			t.Errorf("fmtWindow(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestNiceCeil(t *testing.T) {
	for in, want := range map[float64]float64{0: 1, 0.7: 1, 1.1: 2, 2.2: 2.5, 3: 5, 7: 10, 120: 200, 2400: 2500} {
		if got := niceCeil(in); math.Abs(got-want) > 1e-9 {
			t.Errorf("niceCeil(%v) = %v, want %v", in, got, want)
		}
	}
}

func TestNaturalLess(t *testing.T) {
	cases := []struct {
		a, b string
		less bool
	}{{"db-2", "db-10", true}, {"db-10", "db-2", false}, {"db-3", "web-1", true}, {"web-01", "web-1", false}, {"a", "ab", true}}
	for _, c := range cases {
		if got := naturalLess(c.a, c.b); got != c.less {
			t.Errorf("naturalLess(%q, %q) = %v", c.a, c.b, got)
		}
	}
}

func TestRingColumns(t *testing.T) {
	var r ring
	if got := r.columns(4, 10, nil); len(got) != 0 {
		t.Errorf("empty ring gave %v", got)
	}
	for i := 1; i <= 300; i++ {
		r.push(float64(i))
	}
	cases := []struct {
		cols, span int
		want       []float64
	}{
		{4, 4, []float64{297, 298, 299, 300}},
		{2, 4, []float64{298, 300}}, // bucket maxima
		{3, 8, []float64{297, 300}}, // whole buckets only
	}
	for _, c := range cases {
		got := r.columns(c.cols, c.span, nil)
		if len(got) != len(c.want) {
			t.Errorf("columns(%d, %d) = %v, want %v", c.cols, c.span, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("columns(%d, %d) = %v, want %v", c.cols, c.span, got, c.want)
				break
			}
		}
	}
}

func TestVisibleDownsamples(t *testing.T) {
	var pts []point
	for s := 0; s < 900; s++ {
		pts = append(pts, point{t: synthStart.Add(time.Duration(s) * time.Second), p99: float64(s % 100), rps: 10})
	}
	pts[450].p99 = 5000 // a one-second spike must survive
	got := visible(pts, 0, 100, nil)
	if len(got) != 100 || !got[len(got)-1].t.Equal(pts[899].t) {
		t.Fatalf("visible: %d points ending %v", len(got), got[len(got)-1].t)
	}
	spike := false
	for _, p := range got {
		spike = spike || p.p99 == 5000
		if p.rps != 10 {
			t.Errorf("rates must be averaged, got %v", p.rps)
		}
	}
	if !spike {
		t.Error("the latency spike was averaged away")
	}
	if got := visible(pts, time.Minute, 100, nil); len(got) != 61 {
		t.Errorf("1m window holds %d points, want 61", len(got))
	}
}

func TestLevels(t *testing.T) {
	cases := []struct {
		v, limit float64
		want     level
	}{{50, 0, levelNone}, {50, 100, levelOK}, {80, 100, levelNear}, {100, 100, levelNear}, {100.5, 100, levelOver}, {math.NaN(), 100, levelNone}}
	for _, c := range cases {
		if got := levelOf(c.v, c.limit); got != c.want {
			t.Errorf("levelOf(%v, %v) = %v, want %v", c.v, c.limit, got, c.want)
		}
	}
}

// Several crossings coexist on both charts, each labelled.
func TestSeveralMarkers(t *testing.T) {
	v := synthView(goldenSecs, 5)
	v.Events = append(v.Events, report.Event{Time: synthStart.Add(100 * time.Second), Kind: report.EventNodeOver,
		Node: "db-1", Metric: "cpu", Value: 93, Threshold: 90, Text: "db-1 cpu 93 > 90"})
	m, _ := newTestModel(t, v, Options{}, 200, 60)
	out := m.View()
	for _, want := range []string{"db-3 load1>100", "db-1 cpu>90"} {
		if n := strings.Count(out, want); n != 2 {
			t.Errorf("%q appears %d times, want once per chart:\n%s", want, n, out)
		}
	}
}

// The log is in time order even when report notices a crossing after a
// later event (the crossing is stamped at its first sample).
func TestEventsInTimeOrder(t *testing.T) {
	d := newData()
	at := func(s int) time.Time { return synthStart.Add(time.Duration(s) * time.Second) }
	v := report.View{Version: 1, Events: []report.Event{{Time: at(1), Text: "a"}, {Time: at(5), Text: "c"}}}
	d.ingest(&v)
	v.Events = append(v.Events, report.Event{Time: at(3), Text: "b"}, report.Event{Time: at(6), Text: "d"})
	v.Version++
	d.ingest(&v)
	var got string
	for _, e := range d.events {
		got += e.Text
	}
	if got != "abcd" {
		t.Errorf("event order %q, want abcd", got)
	}
}

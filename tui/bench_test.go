package tui

import (
	"testing"
	"time"
)

// BenchmarkView measures one frame at 200×60 over 15 minutes of 1 s data
// and 20 nodes. "redraw" is a frame after new data (every panel and both
// charts rebuilt, the cost paid at most once per data tick); "cached" is a
// frame with nothing new (a key press or resize-free refresh).
func BenchmarkView(b *testing.B) {
	const secs = 15 * 60
	v := synthView(secs, 20)
	end := synthStart.Add(secs * time.Second)
	for _, win := range []int{2, 3} { // 15m and all
		m, _ := newTestModel(b, v, Options{Now: func() time.Time { return end }}, 200, 60)
		m.win = win
		m.View()
		b.Run("redraw/window="+fmtWindow(windows[win]), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m.dirtyData, m.dirty = true, true
				_ = m.View()
			}
		})
	}
	m, _ := newTestModel(b, v, Options{Now: func() time.Time { return end }}, 200, 60)
	m.View()
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.dirty = true // recompose the frame from cached panels
			_ = m.View()
		}
	})
}

// BenchmarkIngest is the cost of picking up one new tick and poll of 20
// nodes under the recorder's read lock.
func BenchmarkIngest(b *testing.B) {
	const secs = 15 * 60
	full := synthView(secs+1000, 20)
	d := newData()
	v := full
	v.Ticks, v.Polls, v.Events = full.Ticks[:secs], full.Polls[:secs], nil
	d.ingest(&v)
	n := secs
	b.ReportAllocs()
	for b.Loop() {
		if n == len(full.Ticks) { // out of new ticks: start a fresh copy (rare)
			b.StopTimer()
			d, n = newData(), secs
			v.Ticks, v.Polls = full.Ticks[:n], full.Polls[:n]
			d.ingest(&v)
			b.StartTimer()
		}
		n++
		v.Ticks, v.Polls = full.Ticks[:n], full.Polls[:n]
		v.Version++
		d.ingest(&v)
	}
}

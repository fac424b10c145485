package engine

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestRecordAllocatesNothing(t *testing.T) {
	r := newRecorder(4, 3, 2, true)
	sh := r.shard(1)
	allocs := testing.AllocsPerRun(1000, func() {
		sh.request(2, 1, kind5xx, checkFail, 12*time.Millisecond, 11*time.Millisecond, 3*time.Millisecond, 300, 120)
		sh.iteration(1)
		sh.wsReceived(1, 20, time.Millisecond)
		sh.wsOpened(1, time.Millisecond)
		sh.wsEnded(1, kindWSClosed, time.Minute)
		sh.wsReplyTimedOut(1)
		sh.wsRefused(1, kind4xx)
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per record", allocs)
	}
}

// The double buffer: what was recorded before a swap is in the swapped-out
// windows, what comes after lands in the fresh ones, and released windows
// come back empty.
func TestRecordSwap(t *testing.T) {
	r := newRecorder(2, 1, 1, false)
	r.shard(0).request(0, 0, kindNone, checkPass, time.Millisecond, time.Millisecond, 0, 10, 5)
	r.shard(1).request(0, 0, kindTimeout, checkNone, 0, 0, 0, 0, 5)
	ws := r.swap(nil)
	r.shard(0).request(0, 0, kindNone, checkNone, time.Millisecond, time.Millisecond, 0, 1, 1)
	var req, errs, hist int64
	for _, w := range ws {
		req += w.requests
		errs += w.errors[kindTimeout]
		hist += w.endpoints[0].hist.TotalCount()
	}
	if req != 2 || errs != 1 || hist != 1 {
		t.Fatalf("swapped: requests %d timeouts %d hist %d, want 2 1 1 (a failure without response stays out of the histogram)", req, errs, hist)
	}
	r.release(ws)
	ws = r.swap(ws)
	req = 0
	for _, w := range ws {
		req += w.requests
	}
	if req != 1 {
		t.Fatalf("second window has %d requests, want 1", req)
	}
	r.release(ws)
	ws = r.swap(ws)
	for _, w := range ws {
		if w.requests != 0 || w.endpoints[0].hist.TotalCount() != 0 || w.service.TotalCount() != 0 {
			t.Fatalf("released window not reset: %+v", w)
		}
	}
}

func TestToMicrosClamps(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want int64
	}{{0, 1}, {500 * time.Nanosecond, 1}, {1500 * time.Microsecond, 1500}, {2 * time.Minute, histMax}} {
		if got := toMicros(c.d); got != c.want {
			t.Errorf("toMicros(%v) = %d, want %d", c.d, got, c.want)
		}
	}
}

// BenchmarkRecord is the hot path of every request: one lock, two HDR
// records and a few counters. Must stay at 0 allocs/op, well under 100 ns.
func BenchmarkRecord(b *testing.B) {
	r := newRecorder(shardCount(), 4, 2, false)
	sh := r.shard(3)
	lat := []time.Duration{900 * time.Microsecond, 4 * time.Millisecond, 52 * time.Millisecond, 3 * time.Second}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d := lat[i&3]
		sh.request(i&3, i&1, kindNone, checkPass, d, d, d/2, 512, 128)
	}
}

// BenchmarkRecordParallel records from every P at once, each into its own
// shard as VUs do.
func BenchmarkRecordParallel(b *testing.B) {
	r := newRecorder(shardCount(), 4, 2, false)
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		sh := r.shard(int(next.Add(1)))
		i := 0
		for pb.Next() {
			sh.request(i&3, i&1, kindNone, checkNone, time.Millisecond, time.Millisecond, time.Millisecond, 512, 128)
			i++
		}
	})
}

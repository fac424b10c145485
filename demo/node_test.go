package demo

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"
)

// TestStepCountersConsistent drives the integrator with synthetic work and
// clock, no sleeping: every counter is monotonic and each core's modes add
// up to the wall time that passed.
func TestStepCountersConsistent(t *testing.T) {
	tests := []struct {
		name     string
		spec     NodeSpec
		cpuPerS  time.Duration // booked per simulated second
		ioPerS   time.Duration
		wantBusy float64 // fraction of all cores, approximately
	}{
		{"idle", NodeSpec{Name: "x", Cores: 4, Workers: 8}, 0, 0, 0},
		{"half busy", NodeSpec{Name: "x", Cores: 4, Workers: 8}, 2 * time.Second, 0, 0.5},
		{"overbooked caps at 97%", NodeSpec{Name: "x", Cores: 2}, 10 * time.Second, 0, 0.97},
		{"io only", NodeSpec{Name: "x", Cores: 4, Workers: 4}, 0, 2 * time.Second, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t0 := time.Unix(1_700_000_000, 0)
			n := newNode(tc.spec, t0)
			sum := func() (busy, all float64, disk float64) {
				for c := range n.acc.user {
					busy += n.acc.user[c] + n.acc.system[c]
					all += n.acc.user[c] + n.acc.system[c] + n.acc.iowait[c] + n.acc.idle[c]
				}
				return busy, all, n.acc.diskIO
			}
			busy0, all0, disk0 := sum()
			prev := append([]float64(nil), n.acc.idle...)
			const steps = 40
			for i := 1; i <= steps; i++ {
				n.cpuWork.Add(int64(tc.cpuPerS / 4))
				n.ioWork.Add(int64(tc.ioPerS / 4))
				n.step(t0.Add(time.Duration(i)*250*time.Millisecond), 1)
				for c, v := range n.acc.idle {
					if v < prev[c]-1e-9 {
						t.Fatalf("step %d: idle of cpu %d went down: %v -> %v", i, c, prev[c], v)
					}
					prev[c] = v
				}
			}
			busy1, all1, disk1 := sum()
			wall := float64(steps) * 0.25
			if got, want := all1-all0, wall*float64(tc.spec.Cores); math.Abs(got-want) > 1e-6 {
				t.Errorf("modes add up to %.6f s, want %.6f", got, want)
			}
			if got := (busy1 - busy0) / (wall * float64(tc.spec.Cores)); math.Abs(got-tc.wantBusy) > 0.02 {
				t.Errorf("busy fraction %.3f, want %.3f", got, tc.wantBusy)
			}
			if tc.ioPerS > 0 && disk1-disk0 <= 0 {
				t.Errorf("disk io_time did not grow with I/O work")
			}
			if disk1-disk0 > wall+1e-9 {
				t.Errorf("disk busy %.3f s in %.3f s of wall time", disk1-disk0, wall)
			}
		})
	}
}

// TestLoadAverageLikeLinux holds the run queue at n and checks load1 after
// k five-second samples is n·(1-e^(-5k/60)), as the kernel's damping gives.
func TestLoadAverageLikeLinux(t *testing.T) {
	tests := []struct {
		queued  int64
		speed   float64
		elapsed time.Duration // real time
		samples int
	}{
		{150, 1, 60 * time.Second, 12},
		{150, 10, 6 * time.Second, 12},
		{40, 100, 600 * time.Millisecond, 12},
		{300, 20, 2500 * time.Millisecond, 10},
	}
	for _, tc := range tests {
		t0 := time.Unix(1_700_000_000, 0)
		n := newNode(NodeSpec{Name: "db", Cores: 4, Workers: 8}, t0)
		n.queued.Store(tc.queued)
		const slices = 200
		for i := 1; i <= slices; i++ {
			n.step(t0.Add(tc.elapsed*time.Duration(i)/slices), tc.speed)
		}
		want := float64(tc.queued) * (1 - math.Pow(exp1, float64(tc.samples)))
		if got := n.Load1(); math.Abs(got-want) > 0.01*want {
			t.Errorf("queued %d speed %v after %s: load1 %.2f, want %.2f", tc.queued, tc.speed, tc.elapsed, got, want)
		}
	}
}

func TestDoQueueFullAndTimeout(t *testing.T) {
	n := newNode(NodeSpec{Name: "db", Cores: 1, Workers: 1, QueueCap: 1, Timeout: 50 * time.Millisecond}, time.Now())
	ctx := context.Background()
	first := make(chan error, 1)
	go func() { first <- n.Do(ctx, Work{IO: 400 * time.Millisecond}) }()
	waitFor(t, func() bool { return n.running.Load() == 1 })
	second := make(chan error, 1)
	go func() { second <- n.Do(ctx, Work{IO: time.Millisecond}) }()
	waitFor(t, func() bool { return n.queued.Load() == 1 })
	if err := n.Do(ctx, Work{}); !errors.Is(err, ErrQueueFull) {
		t.Errorf("third request: %v, want ErrQueueFull", err)
	}
	if err := <-second; !errors.Is(err, ErrTimeout) {
		t.Errorf("second request: %v, want ErrTimeout", err)
	}
	if err := <-first; err != nil {
		t.Errorf("first request: %v", err)
	}
	st := n.Stats()
	if st.Served != 1 || st.Rejected != 1 || st.TimedOut != 1 || st.InFlight != 0 {
		t.Errorf("stats %+v, want 1 served, 1 rejected, 1 timed out, none in flight", st)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	busy := make(chan error, 1)
	go func() { busy <- n.Do(ctx, Work{IO: 100 * time.Millisecond}) }()
	waitFor(t, func() bool { return n.running.Load() == 1 })
	if err := n.Do(cctx, Work{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled request: %v, want context.Canceled", err)
	}
	<-busy
}

// waitFor polls cond for up to 2 s; for ordering goroutines in tests.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 2s")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestDoNoTimeoutWaitsForContext: Timeout 0 waits as long as the caller's
// context allows.
func TestDoNoTimeoutWaitsForContext(t *testing.T) {
	n := newNode(NodeSpec{Name: "db", Workers: 1}, time.Now())
	busy := make(chan error, 1)
	go func() { busy <- n.Do(context.Background(), Work{IO: 200 * time.Millisecond}) }()
	waitFor(t, func() bool { return n.running.Load() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := n.Do(ctx, Work{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want the context's deadline", err)
	}
	if err := n.Do(context.Background(), Work{}); err != nil { // waits for the busy one
		t.Errorf("got %v after waiting, want success", err)
	}
	<-busy
}

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

// TestDoQueueFullAndTimeout takes the one worker by hand (its slot in
// sem) instead of with a timed request, so what it checks — a full queue
// refuses at once, a wait past Timeout fails, a cancelled caller stops
// waiting — does not depend on how fast a busy machine runs the test.
func TestDoQueueFullAndTimeout(t *testing.T) {
	ctx := context.Background()
	// Timeout 0: the queued request waits for its context, so it is still
	// queued whenever the third one comes.
	q := newNode(NodeSpec{Name: "db", Cores: 1, Workers: 1, QueueCap: 1}, time.Now())
	q.sem <- struct{}{}
	qctx, cancel := context.WithCancel(ctx)
	queued := make(chan error, 1)
	go func() { queued <- q.Do(qctx, Work{}) }()
	waitFor(t, func() bool { return q.queued.Load() == 1 })
	if err := q.Do(ctx, Work{}); !errors.Is(err, ErrQueueFull) {
		t.Errorf("request past the queue's capacity: %v, want ErrQueueFull", err)
	}
	cancel()
	if err := <-queued; !errors.Is(err, context.Canceled) {
		t.Errorf("queued request whose caller gave up: %v, want context.Canceled", err)
	}
	<-q.sem
	if err := q.Do(ctx, Work{IO: time.Millisecond}); err != nil {
		t.Errorf("request with the worker free: %v", err)
	}
	if st := q.Stats(); st.Served != 1 || st.Rejected != 1 || st.TimedOut != 0 || st.InFlight != 0 {
		t.Errorf("stats %+v, want 1 served, 1 rejected, none timed out or in flight", st)
	}

	n := newNode(NodeSpec{Name: "db", Cores: 1, Workers: 1, QueueCap: 1, Timeout: 50 * time.Millisecond}, time.Now())
	n.sem <- struct{}{}
	if err := n.Do(ctx, Work{}); !errors.Is(err, ErrTimeout) {
		t.Errorf("request while the worker stays busy: %v, want ErrTimeout", err)
	}
	cctx, cancelled := context.WithCancel(ctx)
	cancelled()
	if err := n.Do(cctx, Work{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled request: %v, want context.Canceled", err)
	}
	<-n.sem
	if st := n.Stats(); st.Served != 0 || st.Rejected != 0 || st.TimedOut != 1 || st.InFlight != 0 {
		t.Errorf("stats %+v, want 1 timed out, nothing else", st)
	}
}

// waitFor polls cond for up to 10 s; for ordering goroutines in tests. The
// bound only ends a broken test: a busy machine may take seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestDoNoTimeoutWaitsForContext: Timeout 0 waits as long as the caller's
// context allows. The worker is taken by hand, so the waits do not race a
// timed request.
func TestDoNoTimeoutWaitsForContext(t *testing.T) {
	n := newNode(NodeSpec{Name: "db", Workers: 1}, time.Now())
	n.sem <- struct{}{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := n.Do(ctx, Work{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want the context's deadline", err)
	}
	waited := make(chan error, 1)
	go func() { waited <- n.Do(context.Background(), Work{}) }()
	waitFor(t, func() bool { return n.queued.Load() == 1 })
	<-n.sem // the worker frees up
	if err := <-waited; err != nil {
		t.Errorf("got %v after waiting, want success", err)
	}
}

package report

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brink-load/brink/scenarios"
)

func TestAutosave(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "live.json")
	r := NewRecorder(scenario(false, []scenarios.Threshold{p95lt500}), t0, Options{})
	feed(t, r, ramp(5, 10, func(int) float64 { return 50 }), nil)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		Autosave(ctx, r, path, 5*time.Millisecond, func(err error) { t.Errorf("autosave: %v", err) })
		close(done)
	}()
	deadline := time.Now().Add(5 * time.Second)
	var rep *Report
	for time.Now().Before(deadline) {
		if got, err := ReadFile(path); err == nil {
			rep = got
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if rep == nil {
		t.Fatal("no snapshot written")
	}
	if rep.Complete || len(rep.Timeline) != 5 {
		t.Errorf("snapshot complete=%v with %d windows", rep.Complete, len(rep.Timeline))
	}
	r.Finish(at(6))
	if err := r.Save(path); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond) // several autosave intervals
	cancel()
	<-done
	if final, err := ReadFile(path); err != nil || !final.Complete {
		t.Fatalf("final report replaced by a snapshot (err %v)", err)
	}

	// A disk that fails: every failure is reported and the loop keeps going.
	var fails atomic.Int32
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	r2 := NewRecorder(nil, t0, Options{})
	done2 := make(chan struct{})
	go func() {
		Autosave(ctx2, r2, filepath.Join(dir, "missing", "r.json"), time.Millisecond, func(error) { fails.Add(1) })
		close(done2)
	}()
	for deadline := time.Now().Add(5 * time.Second); fails.Load() < 3 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	cancel2()
	<-done2
	if fails.Load() < 3 {
		t.Errorf("%d failures reported, want the loop to keep trying", fails.Load())
	}
}

// TestFinishStopsAutosave: after Finish no snapshot lands, so a final report
// written with plain WriteFile stays.
func TestFinishStopsAutosave(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	r := NewRecorder(scenario(false, nil), t0, Options{})
	feed(t, r, ramp(3, 10, func(int) float64 { return 50 }), nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { Autosave(ctx, r, path, time.Millisecond, nil); close(done) }()
	time.Sleep(20 * time.Millisecond)
	r.Finish(at(4))
	if err := WriteFile(path, r.Report()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	cancel()
	<-done
	if rep, err := ReadFile(path); err != nil || !rep.Complete {
		t.Fatalf("final report replaced (err %v)", err)
	}
}

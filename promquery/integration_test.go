package promquery_test

import (
	"context"
	"math"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/promquery"
	"github.com/brink-load/brink/promquery/promtest"
)

// TestRealServers runs both sources against a real node_exporter and a
// real Prometheus scraping it as db-3, then burns CPU and watches it rise.
func TestRealServers(t *testing.T) {
	promtest.Long(t, "starts real servers")
	neURL := promtest.StartNodeExporter(t)
	u, _ := url.Parse(neURL)
	promURL := promtest.StartPrometheus(t, promtest.Target{Addr: u.Host,
		Labels: map[string]string{"node": "db-3", "role": "db"}})

	prom, err := promquery.New(promquery.Config{Prometheus: promURL, NameLabel: "node", RoleLabel: "role"})
	if err != nil {
		t.Fatal(err)
	}
	direct, err := promquery.New(promquery.Config{Scrape: []string{neURL}, Names: map[string]string{u.Host: "db-3"},
		Roles: []promquery.Role{{Name: "db", Pattern: "db-.*"}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Prometheus needs a few scrapes inside the 4s rate window; poll until
	// the rates exist (bounded).
	promSample := pollUntil(t, ctx, prom, func(s measure.Sample) bool { return !math.IsNaN(s.CPU) && !s.Stale })
	if prom.Interval() != time.Second {
		t.Errorf("prometheus interval = %s, want 1s from the targets API", prom.Interval())
	}
	if _, err := direct.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	directSample := pollUntil(t, ctx, direct, func(s measure.Sample) bool { return !math.IsNaN(s.CPU) })

	for name, s := range map[string]measure.Sample{"prometheus": promSample, "direct": directSample} {
		t.Logf("%s: %+v", name, s)
		if s.Node != "db-3" || s.Role != "db" || s.Instance != u.Host {
			t.Errorf("%s: node %q role %q instance %q, want db-3 db %s", name, s.Node, s.Role, s.Instance, u.Host)
		}
		checkRange(t, name+" cpu", s.CPU, 0, 100)
		checkRange(t, name+" iowait", s.IOWait, 0, 100)
		checkRange(t, name+" mem", s.Mem, 0.1, 100)
		checkRange(t, name+" load1", s.Load1, 0, 1e4)
		if s.Cores != runtime.NumCPU() && s.Cores < 1 {
			t.Errorf("%s: cores %d", name, s.Cores)
		}
		checkRange(t, name+" load1/core", s.Load1PerCore, 0, 1e4)
		checkRange(t, name+" net rx", s.NetRxBps, 0, 1e12)
		if s.Time.IsZero() || time.Since(s.Time) > 10*time.Second {
			t.Errorf("%s: sample time %v", name, s.Time)
		}
		if !math.IsNaN(s.DiskUtil) {
			checkRange(t, name+" disk", s.DiskUtil, 0, 100)
		}
	}

	t.Run("cpu burn raises busy", func(t *testing.T) {
		// Baseline over a full second first (rates between scrapes a few ms
		// apart are noise), then spin every core for at most 4s.
		time.Sleep(time.Second)
		before := pollUntil(t, ctx, direct, func(s measure.Sample) bool { return !math.IsNaN(s.CPU) }).CPU
		var stop atomic.Bool
		var wg sync.WaitGroup
		for range runtime.NumCPU() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				x := 0
				for deadline := time.Now().Add(4 * time.Second); !stop.Load() && time.Now().Before(deadline); x++ {
				}
				_ = x
			}()
		}
		defer func() { stop.Store(true); wg.Wait() }()
		time.Sleep(1500 * time.Millisecond)
		during := pollUntil(t, ctx, direct, func(s measure.Sample) bool { return !math.IsNaN(s.CPU) }).CPU
		var promDuring float64
		// Prometheus's 4s window lags; sample it near the end of the burn.
		time.Sleep(1500 * time.Millisecond)
		promDuring = pollUntil(t, ctx, prom, func(s measure.Sample) bool { return !math.IsNaN(s.CPU) }).CPU
		stop.Store(true)
		wg.Wait()
		t.Logf("cpu busy: before %.1f%%, during burn direct %.1f%%, prometheus %.1f%%", before, during, promDuring)
		if during < before+20 && during < 80 {
			t.Errorf("direct: cpu busy %.1f%% during burn, %.1f%% before: not visibly raised", during, before)
		}
		if promDuring < before+15 && promDuring < 70 {
			t.Errorf("prometheus: cpu busy %.1f%% during burn, %.1f%% before: not visibly raised", promDuring, before)
		}
	})
}

func pollUntil(t *testing.T, ctx context.Context, src promquery.Source, ok func(measure.Sample) bool) measure.Sample {
	t.Helper()
	var last measure.Poll
	for ctx.Err() == nil {
		p, err := src.Poll(ctx)
		last = p
		if err == nil && len(p.Samples) == 1 && ok(p.Samples[0]) {
			return p.Samples[0]
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("%s: no usable sample in time; last poll %+v", src.Describe(), last)
	return measure.Sample{}
}

func checkRange(t *testing.T, what string, v, lo, hi float64) {
	t.Helper()
	if math.IsNaN(v) || v < lo || v > hi {
		t.Errorf("%s = %v, want in [%v, %v]", what, v, lo, hi)
	}
}

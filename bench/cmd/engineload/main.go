// Command engineload runs the brink engine directly against one URL with
// the shape of `brink probe URL --vus N --duration D --headless`: fixed
// VUs, no think time, per-window histograms and ticks on as in a real run.
// bench/throughput.sh uses it when the brink binary cannot be built, and to
// measure the engine alone. It prints one line: RESULT rps=… requests=…
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/brink-load/brink/engine"
	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
)

func main() {
	vus := flag.Int("vus", 50, "VUs (one connection each)")
	dur := flag.Duration("duration", 10*time.Second, "how long")
	prof := flag.String("cpuprofile", "", "write a CPU profile here")
	rate := flag.Float64("rate", 0, "open model: this many iterations/s instead of --vus looping (max VUs = --vus)")
	every := flag.Duration("rss-every", 0, "print the process RSS and heap at this interval (soak runs)")
	flag.Parse()
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			fmt.Fprintln(os.Stderr, "engineload:", err)
			os.Exit(1)
		}
		_ = pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: engineload [--vus N] [--duration D] URL")
		os.Exit(2)
	}
	u, err := scenarios.CompileTemplate(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "engineload:", err)
		os.Exit(2)
	}
	g := scenarios.Group{
		Name: "probe", Executor: scenarios.RampingVUs, Start: float64(*vus),
		Stages:   []scenarios.Stage{{Duration: *dur, Target: float64(*vus)}},
		Requests: []scenarios.Request{{Name: "probe", Method: "GET", URL: u}},
	}
	if *rate > 0 {
		g.Executor, g.Start, g.MaxVUs = scenarios.RampingArrivalRate, *rate, *vus
		g.Stages = []scenarios.Stage{{Duration: *dur, Target: *rate}}
	}
	sc := &scenarios.Scenario{Name: "engineload", Window: time.Second, Groups: []scenarios.Group{g}}
	var last time.Duration
	var total measure.Tick
	var p99 time.Duration
	var cpu float64
	n := 0
	e, err := engine.New(sc, engine.Options{OnTick: func(t measure.Tick) {
		total.Requests += t.Requests
		total.ErrorCount += t.ErrorCount
		total.BytesIn += t.BytesIn
		p99 = max(p99, t.Latency.P99)
		if *every > 0 && t.Elapsed-last >= *every {
			last = t.Elapsed
			fmt.Printf("t=%s rss_mib=%.1f heap_mib=%.1f rps=%.0f goroutines=%d cpu=%.0f%%\n", t.Elapsed.Round(time.Second),
				float64(rssBytes())/(1<<20), float64(t.Generator.HeapBytes)/(1<<20), t.RPS(), t.Generator.Goroutines, t.Generator.CPUPercent)
		}
		if t.Window > 500*time.Millisecond {
			cpu += t.Generator.CPUPercent
			n++
		}
	}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "engineload:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	t0 := time.Now()
	_ = e.Run(ctx)
	el := time.Since(t0)
	if n > 0 {
		cpu /= float64(n)
	}
	fmt.Printf("RESULT rps=%.0f requests=%d errors=%d bytes_in=%d worst_p99=%s cpu=%.0f%% elapsed=%s\n",
		float64(total.Requests)/el.Seconds(), total.Requests, total.ErrorCount, total.BytesIn, p99, cpu, el.Round(time.Millisecond))
}

// rssBytes reads VmRSS from /proc/self/status (0 if unavailable).
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

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
	"time"

	"github.com/brink-load/brink/engine"
	"github.com/brink-load/brink/scenarios"
)

func main() {
	vus := flag.Int("vus", 50, "VUs (one connection each)")
	dur := flag.Duration("duration", 10*time.Second, "how long")
	prof := flag.String("cpuprofile", "", "write a CPU profile here")
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
	sc := &scenarios.Scenario{Name: "engineload", Window: time.Second, Groups: []scenarios.Group{{
		Name: "probe", Executor: scenarios.RampingVUs, Start: float64(*vus),
		Stages:   []scenarios.Stage{{Duration: *dur, Target: float64(*vus)}},
		Requests: []scenarios.Request{{Name: "probe", Method: "GET", URL: u}},
	}}}
	var total engine.Tick
	var p99 time.Duration
	var cpu float64
	n := 0
	e, err := engine.New(sc, engine.Options{OnTick: func(t engine.Tick) {
		total.Requests += t.Requests
		total.ErrorCount += t.ErrorCount
		total.BytesIn += t.BytesIn
		p99 = max(p99, t.Latency.P99)
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

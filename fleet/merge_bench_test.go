package fleet

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/brink-load/brink/fleet/proto"
	"github.com/brink-load/brink/measure"
)

// simTick is one simulated agent's window: 20 endpoints at 1 000 rps in
// all, latencies spread from about 1 ms to a long tail, as the engine
// would send it.
func simTick(r *rand.Rand, seq int) []byte {
	const endpoints, rps = 20, 1000
	total := hdrhistogram.New(1, 60_000_000, 3)
	group := hdrhistogram.New(1, 60_000_000, 3)
	t := measure.Tick{Elapsed: time.Duration(seq+1) * time.Second, Window: time.Second, VUs: 50, TargetVUs: 50,
		Requests: rps, Iterations: rps / endpoints, Errors: map[measure.ErrorKind]int64{}}
	for e := range endpoints {
		h := hdrhistogram.New(1, 60_000_000, 2)
		for range rps / endpoints {
			v := int64(800+r.ExpFloat64()*float64(2000*(e+1))) + 1
			_ = h.RecordValue(v)
			_ = total.RecordValue(v)
			_ = group.RecordValue(v)
		}
		t.Endpoints = append(t.Endpoints, measure.EndpointStats{Group: "browse", Name: fmt.Sprintf("endpoint-%02d", e),
			Requests: rps / endpoints, Hist: h.Export()})
	}
	t.Hist, t.ServiceHist = total.Export(), total.Export()
	t.Groups = []measure.GroupStats{{Name: "browse", Executor: "ramping-vus", VUs: 50, TargetVUs: 50, Requests: rps, Hist: group.Export()}}
	t.Generator = measure.GeneratorStats{CPUPercent: 40, Cores: 2, Stretch: 1}
	w, err := proto.FromTick(&t, seq, false)
	if err != nil {
		panic(err)
	}
	b, err := proto.Encode(&proto.Msg{Type: proto.TypeTick, Agent: "x", Tick: w})
	if err != nil {
		panic(err)
	}
	return b
}

// BenchmarkMerge100Agents20Endpoints is the controller's work for one 1 s
// window of 100 agents × 20 endpoints: decode every agent's message, add
// its histograms and counters, build the merged Tick. ns/op is CPU per
// window (1e7 ns = 1 % of a core); B/agent-window is one agent's message.
func BenchmarkMerge100Agents20Endpoints(b *testing.B) {
	const n = 100
	r := rand.New(rand.NewPCG(1, 2))
	msgs := make([][]byte, n)
	agents := make([]*agent, n)
	size := 0
	for i := range n {
		msgs[i] = simTick(r, 0)
		size += len(msgs[i])
		agents[i] = &agent{name: fmt.Sprintf("a%03d", i)}
	}
	var out measure.Tick
	col := newCollector(time.Now(), time.Second, agents, func(t measure.Tick) { out = t }, b.Logf)
	b.ReportAllocs()
	cpu0 := cpuTime()
	windows := 0
	for i := 0; b.Loop(); i++ {
		windows++
		now := time.Now()
		for j, raw := range msgs {
			m, err := proto.Decode(raw)
			if err != nil {
				b.Fatal(err)
			}
			m.Tick.Seq = i
			col.add(agents[j], m.Tick, now)
		}
		col.flush(now, false)
	}
	b.StopTimer()
	// CPU time, not wall time: on a shared box the wall clock counts
	// other processes' turns too. GC's own threads are included.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(windows)/1e7, "%core/window")
	if out.Requests != n*1000 || len(out.Endpoints) != 20 {
		b.Fatalf("merged %d requests over %d endpoints", out.Requests, len(out.Endpoints))
	}
	b.ReportMetric(float64(size)/n, "B/agent-window")
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

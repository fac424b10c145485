package engine

import (
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"strings"
	"syscall"
	"time"

	"github.com/brink-load/brink/measure"
)

// genSampler reads brink's own health once per tick: CPU from getrusage,
// goroutines, open files from /proc/self/fd against RLIMIT_NOFILE, heap
// from runtime/metrics (which, unlike ReadMemStats, does not stop the
// world).
type genSampler struct {
	lastCPU  time.Duration
	lastWall time.Time
	heap     []metrics.Sample
}

func (g *genSampler) init() {
	g.lastCPU = cpuTime()
	g.lastWall = time.Now()
	g.heap = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (g *genSampler) sample(now time.Time) measure.GeneratorStats {
	cpu := cpuTime()
	s := measure.GeneratorStats{Goroutines: runtime.NumGoroutine(), Cores: runtime.GOMAXPROCS(0)}
	if wall := now.Sub(g.lastWall); wall > 0 {
		s.CPUPercent = 100 * float64(cpu-g.lastCPU) / float64(wall)
	}
	g.lastCPU, g.lastWall = cpu, now
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		s.OpenFiles = len(ents)
	}
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err == nil {
		s.MaxFiles = int(min(rl.Cur, 1<<31-1))
	}
	metrics.Read(g.heap)
	if g.heap[0].Value.Kind() == metrics.KindUint64 {
		s.HeapBytes = g.heap[0].Value.Uint64()
	}
	return s
}

// Past these limits a window is one where brink itself was the bottleneck
// (GeneratorStats.Overloaded), so its latencies are partly brink's own and
// it cannot be the breakpoint.
const (
	// StallStretch: the window lasted more than 1.5 × its nominal length.
	// The ticker only runs late when the process was stopped (SIGSTOP, a
	// VM pause) or starved of CPU; a loaded but healthy generator keeps it
	// within a few per cent.
	StallStretch = 1.5
	// CPUSaturated: brink used 90 % or more of the cores it may use
	// (GOMAXPROCS), so goroutines wait for a core before reading replies.
	CPUSaturated = 0.90
	// SendLagLimit: the 99th percentile of the window's arrival-rate send
	// lag passed 100 ms. On an idle box it is well under 1 ms; on a 2-core
	// box shared with a dozen busy processes (load average 17) the demo's
	// p99 swung between 1 and 60 ms with p50 under 1 ms, a wobble of the
	// slowest 1 % that moves no p95. Past 100 ms brink's own lateness is a
	// good part of any latency worth an SLO: its open-model clock has
	// really slipped.
	SendLagLimit = 100 * time.Millisecond
	// MinJudgedStretch: CPU and send lag are judged only on a window of at
	// least half its length. The run's last window is partial (it ends
	// when the VUs are done), often a few ms of teardown — VUs leaving,
	// sockets closing, the final GC — whose CPU is no measure of the load,
	// and whose handful of sends make p99 their max: marking it put a
	// generator_overloaded event on a run's 0-user tail.
	MinJudgedStretch = 0.5
)

// judgeHealth sets s.Overloaded and s.Reason from the window's figures
// (CPU and send lag only on a window of MinJudgedStretch or more).
// afterStall is true when the window before was stretched: requests in
// flight through a stall complete (and are recorded) in the window after
// it, with the stall in their latency, so that window is marked too. It
// returns whether this window was stretched.
func judgeHealth(s *measure.GeneratorStats, afterStall bool) (stalled bool) {
	var why []string
	if s.Stretch > StallStretch {
		stalled = true
		why = append(why, fmt.Sprintf("window lasted %.1f× its length (brink stalled)", s.Stretch))
	} else if afterStall {
		why = append(why, "requests in flight through the stall before")
	}
	judged := s.Stretch >= MinJudgedStretch
	if judged && s.Cores > 0 && s.CPUPercent >= CPUSaturated*100*float64(s.Cores) {
		why = append(why, fmt.Sprintf("CPU %.0f %% of %d cores", s.CPUPercent, s.Cores))
	}
	if judged && s.SendLag.Count > 0 && s.SendLag.P99 > SendLagLimit {
		why = append(why, fmt.Sprintf("send lag p99 %s", s.SendLag.P99.Round(time.Millisecond/10)))
	}
	s.Overloaded = len(why) > 0
	s.Reason = strings.Join(why, "; ")
	return stalled
}

package engine

import (
	"os"
	"runtime"
	"runtime/metrics"
	"syscall"
	"time"
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

func (g *genSampler) sample(now time.Time) GeneratorStats {
	cpu := cpuTime()
	s := GeneratorStats{Goroutines: runtime.NumGoroutine()}
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

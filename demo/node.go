// Package demo is brink's built-in target: a small chat service on loopback
// (REST + WebSocket) in front of simulated machines — two app servers, a
// Redis, and a MongoDB-style replica set of three whose read replica db-3
// takes most reads. Each simulated database is a real queue: requests wait
// for one of a fixed number of workers, then sleep their service time, so
// latency, load average and finally errors rise on their own when it
// saturates. Every machine serves node_exporter text consistent with the
// work it did.
package demo

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Errors a simulated node returns; the HTTP layer maps them to 503 and 504.
var (
	ErrQueueFull = errors.New("queue full")
	ErrTimeout   = errors.New("timed out waiting for a worker")
)

// NodeSpec describes one simulated machine.
type NodeSpec struct {
	Name  string
	Role  string // db, web, cache
	Cores int
	// Workers is how many requests are in service at once (threads doing
	// disk I/O, in Linux's D state). Zero makes an account-only node: its
	// work is booked but nobody waits for it (app servers, Redis).
	Workers int
	// QueueCap bounds requests waiting for a worker; beyond it Do fails
	// with ErrQueueFull at once.
	QueueCap int
	// Timeout bounds the wait for a worker (0: wait as long as the
	// caller's context allows).
	Timeout  time.Duration
	MemTotal uint64
	// MemBase is the fraction of memory used at rest; each request in the
	// node (waiting or served) adds MemPerTask bytes.
	MemBase    float64
	MemPerTask uint64
	// DiskDevice names the busy disk in the metrics (e.g. nvme0n1).
	DiskDevice string
}

// Work is what one request costs a node. CPU and IO together are its
// service time; the split decides how it shows in cpu modes and disk
// utilisation.
type Work struct {
	CPU, IO          time.Duration
	ReadBytes        int64
	WriteBytes       int64
	RxBytes, TxBytes int64
}

// Node is one simulated machine. Do and Account are safe for concurrent
// use; the integrator (step) runs on the server's ticker goroutine.
type Node struct {
	spec NodeSpec
	sem  chan struct{} // worker slots; nil for account-only nodes

	queued  atomic.Int64
	running atomic.Int64

	// Work done so far, in nanoseconds and bytes, booked when a request
	// finishes (or at once for Account).
	cpuWork    atomic.Int64
	ioWork     atomic.Int64
	bgWork     atomic.Int64 // cpu+io of Account calls: background threads for load
	readBytes  atomic.Int64
	writeBytes atomic.Int64
	rxBytes    atomic.Int64
	txBytes    atomic.Int64
	served     atomic.Int64
	rejected   atomic.Int64
	timeouts   atomic.Int64
	// memTasks are long-lived holders of memory besides requests in
	// flight, e.g. open WebSocket connections on an app server.
	memTasks atomic.Int64

	mu  sync.Mutex
	acc accounting
}

// accounting holds the counters exported as node_exporter metrics. They
// are advanced only by step, in whole time slices, so every counter is
// monotonic and each core's modes add up to wall time.
type accounting struct {
	last                    time.Time
	seenCPU, seenIO, seenBG int64
	pendingCPU, pendingIO   float64 // seconds of work not yet shown (a busy core cannot exceed 100 %)
	user, system            []float64
	iowait, idle            []float64
	diskIO                  float64 // node_disk_io_time_seconds_total
	diskWeighted            float64 // node_disk_io_time_weighted_seconds_total
	load1, load5, load15    float64
	sim                     float64 // simulated seconds since the last load sample
	inst                    float64 // last instantaneous running+queued count
}

func newNode(s NodeSpec, now time.Time) *Node {
	if s.Cores <= 0 {
		s.Cores = 1
	}
	if s.DiskDevice == "" {
		s.DiskDevice = "sda"
	}
	n := &Node{spec: s}
	if s.Workers > 0 {
		n.sem = make(chan struct{}, s.Workers)
	}
	n.acc = accounting{
		last:   now,
		user:   make([]float64, s.Cores),
		system: make([]float64, s.Cores),
		iowait: make([]float64, s.Cores),
		idle:   make([]float64, s.Cores),
	}
	// The machine booted a while ago: start counters from a quiet hour so
	// the first rate() is a normal one, not a jump from zero.
	const uptime = 3600.0
	for c := 0; c < s.Cores; c++ {
		n.acc.user[c] = uptime * 0.015
		n.acc.system[c] = uptime * 0.005
		n.acc.iowait[c] = uptime * 0.002
		n.acc.idle[c] = uptime * 0.978
	}
	return n
}

// jitter spreads a service time uniformly over ±25 % so latency has a
// distribution and workers do not finish in lock step.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(float64(d) * (0.75 + 0.5*rand.Float64()))
}

// Do queues for a worker, then holds it for the work's service time. It
// fails with ErrQueueFull when QueueCap requests already wait, and with
// ErrTimeout when no worker frees up within the node's Timeout.
func (n *Node) Do(ctx context.Context, w Work) error {
	if n.sem == nil {
		n.Account(w)
		return nil
	}
	if q := n.queued.Add(1); n.spec.QueueCap > 0 && q > int64(n.spec.QueueCap) {
		n.queued.Add(-1)
		n.rejected.Add(1)
		return ErrQueueFull
	}
	select {
	case n.sem <- struct{}{}: // fast path: a worker is free, no timer needed
	default:
		var expired <-chan time.Time // nil: no timeout, wait for ctx
		if n.spec.Timeout > 0 {
			t := time.NewTimer(n.spec.Timeout)
			defer t.Stop()
			expired = t.C
		}
		select {
		case n.sem <- struct{}{}:
		case <-expired:
			n.queued.Add(-1)
			n.timeouts.Add(1)
			return ErrTimeout
		case <-ctx.Done():
			n.queued.Add(-1)
			return ctx.Err()
		}
	}
	n.queued.Add(-1)
	n.running.Add(1)
	cpu, io := jitter(w.CPU), jitter(w.IO)
	// A sleep, not a spin: brink's own load generator shares the machine.
	time.Sleep(cpu + io)
	n.running.Add(-1)
	<-n.sem
	n.book(cpu, io, w)
	n.served.Add(1)
	return nil
}

// Account books work that nobody waits for (an app server's CPU per
// request, Redis publishing, a secondary applying replicated writes). It
// shows in CPU, disk, network and — as background threads — in load.
func (n *Node) Account(w Work) {
	n.book(w.CPU, w.IO, w)
	n.bgWork.Add(int64(w.CPU + w.IO))
	n.served.Add(1)
}

// AddNet books network bytes only (e.g. a WebSocket frame fanned out).
func (n *Node) AddNet(rx, tx int64) {
	n.rxBytes.Add(rx)
	n.txBytes.Add(tx)
}

func (n *Node) book(cpu, io time.Duration, w Work) {
	n.cpuWork.Add(int64(cpu))
	n.ioWork.Add(int64(io))
	n.readBytes.Add(w.ReadBytes)
	n.writeBytes.Add(w.WriteBytes)
	n.rxBytes.Add(w.RxBytes)
	n.txBytes.Add(w.TxBytes)
}

// AddMemTasks changes the count of long-lived memory holders (open
// WebSocket connections) by d.
func (n *Node) AddMemTasks(d int64) { n.memTasks.Add(d) }

// InFlight is how many requests are in the node now: in service plus
// waiting.
func (n *Node) InFlight() int64 { return n.running.Load() + n.queued.Load() }

// Linux samples the run queue every 5 s and damps it with these factors
// (kernel/sched/loadavg.c: EXP_1, EXP_5, EXP_15 in fixed point).
const loadSample = 5.0

var (
	exp1  = math.Exp(-loadSample / 60)
	exp5  = math.Exp(-loadSample / 300)
	exp15 = math.Exp(-loadSample / 900)
)

// step advances the node's exported counters to now. speed compresses time
// for the load average only (a 5 s sample every 5/speed real seconds), so
// the demo shows a minute's damping in a few seconds while every rate
// stays real.
func (n *Node) step(now time.Time, speed float64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	a := &n.acc
	dt := now.Sub(a.last).Seconds()
	if dt <= 0 {
		return
	}
	a.last = now
	cores := float64(n.spec.Cores)

	cpuNow, ioNow, bgNow := n.cpuWork.Load(), n.ioWork.Load(), n.bgWork.Load()
	a.pendingCPU += float64(cpuNow-a.seenCPU) / 1e9
	a.pendingIO += float64(ioNow-a.seenIO) / 1e9
	bg := float64(bgNow-a.seenBG) / 1e9
	a.seenCPU, a.seenIO, a.seenBG = cpuNow, ioNow, bgNow

	// CPU: show booked work up to 97 % of every core, carry the rest to
	// the next slice, but never more than a slice's worth (work beyond
	// what the cores could do is lost, as it would be on a real box).
	capacity := dt * cores * 0.97
	used := math.Min(a.pendingCPU, capacity)
	a.pendingCPU = math.Min(a.pendingCPU-used, capacity)
	// Disk: the device is busy while any I/O is in flight; with Workers
	// parallel requests, Workers seconds of I/O fill one second.
	par := float64(max(n.spec.Workers, 1))
	ioUsed := math.Min(a.pendingIO, dt*par)
	a.pendingIO = math.Min(a.pendingIO-ioUsed, dt*par)
	util := ioUsed / (dt * par)
	a.diskIO += util * dt
	a.diskWeighted += ioUsed + float64(n.queued.Load())*dt

	busy := used / cores
	for c := range a.user {
		// A little skew between cores, as the scheduler leaves it.
		share := busy * (1 + 0.1*(float64(c)-float64(len(a.user)-1)/2)/cores)
		share = math.Min(share, dt*0.99)
		wait := math.Min(dt-share, util*(dt-share)*0.5)
		a.user[c] += share * 0.75
		a.system[c] += share * 0.25
		a.iowait[c] += wait
		a.idle[c] += dt - share - wait
	}

	// Load: running and uninterruptible tasks. Queued requests are
	// threads blocked on the disk or a lock; background work counts by
	// how many threads it kept busy on average.
	inst := float64(n.running.Load()+n.queued.Load()) + bg/dt
	a.inst = inst
	if speed <= 0 {
		speed = 1
	}
	a.sim += dt * speed
	for a.sim >= loadSample-1e-9 { // tolerate float drift in the sum
		a.sim -= loadSample
		a.load1 = a.load1*exp1 + inst*(1-exp1)
		a.load5 = a.load5*exp5 + inst*(1-exp5)
		a.load15 = a.load15*exp15 + inst*(1-exp15)
	}
}

// Load1 is the node's current one-minute load average.
func (n *Node) Load1() float64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.acc.load1
}

// Stats are a node's request counts, for tests and the alone-mode banner.
type Stats struct {
	Served, Rejected, TimedOut int64
	InFlight                   int64
	Load1                      float64
}

// Stats returns the node's counts so far.
func (n *Node) Stats() Stats {
	return Stats{
		Served:   n.served.Load(),
		Rejected: n.rejected.Load(),
		TimedOut: n.timeouts.Load(),
		InFlight: n.InFlight(),
		Load1:    n.Load1(),
	}
}

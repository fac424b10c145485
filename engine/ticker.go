package engine

import (
	"math"
	"sort"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/brink-load/brink/measure"
)

// merger holds the tick's aggregate histograms, allocated once and reused,
// so a tick costs merges and one export per histogram, whatever the load.
type merger struct {
	total, service, connect, ttfb, wsConnect, wsReply *hdrhistogram.Histogram
	wsSession                                         *hdrhistogram.Histogram
	grps                                              []*hdrhistogram.Histogram
	ep                                                *hdrhistogram.Histogram // scratch: one endpoint at a time (2 figures)
	epEmpty                                           *hdrhistogram.Snapshot  // read-only, shared by every endpoint idle in a window
	wins                                              []*window
	gen                                               genSampler
	lag                                               lagHist // the window's send lags, all shards
	stalled                                           bool    // the previous window was stretched
	fails                                             map[failKey]failSample
}

func newMerger(e *Engine) *merger {
	m := &merger{
		total: newHist(), service: newHist(), connect: newHist(), ttfb: newHist(), wsConnect: newHist(), wsReply: newHist(),
		wsSession: newSessionHist(),
		grps:      make([]*hdrhistogram.Histogram, len(e.sc.Groups)),
		ep:        newEndpointHist(),
	}
	m.epEmpty = m.ep.Export()
	m.fails = map[failKey]failSample{}
	for i := range m.grps {
		m.grps[i] = newHist()
	}
	m.gen.init()
	return m
}

// ticker emits one Tick per window and a final partial one when stop is
// closed. It is the only goroutine that swaps the recorder's windows.
func (e *Engine) ticker(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	m := newMerger(e)
	last := e.start
	t := time.NewTicker(e.window)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			now := time.Now()
			e.emit(m, last, now)
			last = now
		case <-stop:
			e.emit(m, last, time.Now())
			return
		}
	}
}

func (e *Engine) emit(m *merger, from, now time.Time) {
	tk := e.collect(m, from, now)
	if e.opts.OnTick != nil {
		e.opts.OnTick(tk)
	}
}

// collect swaps the shards' windows, merges them and builds the Tick.
func (e *Engine) collect(m *merger, from, now time.Time) measure.Tick {
	m.reset()
	tk := measure.Tick{
		Time:    now,
		Elapsed: now.Sub(e.start),
		Window:  now.Sub(from),
		Errors:  make(map[measure.ErrorKind]int64, 4),
	}
	// The gauges belong to the window's end: read them before the merges,
	// which can take a while on a busy machine, so a tick never shows the
	// VUs of a moment after the time it is stamped with.
	gauges := e.gauges()
	tk.WS.Open = int(e.wsOpen.Load())
	st := e.controlState(&tk, now)
	sums := windowSums{
		epReq: make([]int64, len(e.eps)),
		epErr: make([]int64, len(e.eps)),
		gs:    make([]groupWindow, len(e.sc.Groups)),
	}
	m.lag = lagHist{}

	m.wins = e.rec.swap(m.wins)
	for _, w := range m.wins {
		foldWindow(m, &tk, &sums, w)
	}
	e.rec.release(m.wins)
	tk.Failures = e.failureRows(m.fails)
	clear(m.fails)
	sums.setErrors(&tk)

	for _, h := range m.grps {
		mergeNonEmpty(m.total, h)
	}
	tk.Endpoints = e.endpointStats(m, &sums)
	m.summarize(&tk)
	tk.Stage = e.stageAt(st)
	e.groupStats(m, &tk, gauges, sums.gs)
	tk.Generator = m.gen.sample(now)
	e.health(m, &tk)
	return tk
}

// windowSums is what the shards' windows add up to beyond the Tick's own
// counters, kept apart so folding and building are separate steps.
type windowSums struct {
	epReq, epErr []int64
	gs           []groupWindow
	errs, wsErrs [numKinds]int64
}

// reset empties the tick's aggregate histograms before a window is merged,
// so each tick counts only its own window.
func (m *merger) reset() {
	for _, h := range append([]*hdrhistogram.Histogram{m.total, m.service, m.connect, m.ttfb, m.wsConnect, m.wsReply, m.wsSession}, m.grps...) {
		resetHist(h)
	}
}

// gauges reads every group's instantaneous figures, so they are taken at
// one moment, the window's end.
func (e *Engine) gauges() []groupGauge {
	gauges := make([]groupGauge, len(e.groups))
	for i, g := range e.groups {
		gauges[i] = groupGauge{active: int(g.active.Load()), target: int(g.targetN.Load()), rate: math.Float64frombits(g.rateBits.Load()),
			busy: int(g.busy.Load())}
	}
	return gauges
}

// controlState copies the controls (hold, scale, planned length) into tk
// under one lock and returns the stage clock at now, so the Tick's figures
// agree with each other.
func (e *Engine) controlState(tk *measure.Tick, now time.Time) time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	tk.Held = e.held
	st := e.stageTimeLocked(now.Sub(e.start))
	// Planned as Engine.Planned says it, at the window's end.
	tk.Planned, tk.Scale = e.sc.Duration()+e.heldTotal, e.scale
	if e.held && e.once.Running() {
		tk.Planned += now.Sub(e.start) - e.heldSince
	}
	return st
}

// foldWindow adds one shard's window into the tick, the merger and the sums,
// so collect reads as one loop over the shards.
func foldWindow(m *merger, tk *measure.Tick, sums *windowSums, w *window) {
	tk.Requests += w.requests
	tk.Iterations += w.iterations
	tk.BytesIn += w.bytesIn
	tk.BytesOut += w.bytesOut
	tk.ChecksPassed += w.checksPassed
	tk.ChecksFailed += w.checksFailed
	for k := range sums.errs {
		sums.errs[k] += w.errors[k]
	}
	mergeNonEmpty(m.service, w.service)
	mergeNonEmpty(m.connect, w.connect)
	mergeNonEmpty(m.ttfb, w.ttfb)
	mergeNonEmpty(m.wsConnect, w.wsConnect)
	mergeNonEmpty(m.wsReply, w.wsReply)
	mergeNonEmpty(m.wsSession, w.wsSession)
	for i := range w.endpoints {
		ew := &w.endpoints[i]
		sums.epReq[i] += ew.requests
		sums.epErr[i] += ew.errors
	}
	for i, h := range w.groupHist {
		mergeNonEmpty(m.grps[i], h)
	}
	for i := range w.groups {
		g := &sums.gs[i]
		g.requests += w.groups[i].requests
		g.iterations += w.groups[i].iterations
		g.errors += w.groups[i].errors
		g.dropped += w.groups[i].dropped
		g.started += w.groups[i].started
		g.wsSessions += w.groups[i].wsSessions
		g.wsFailed += w.groups[i].wsFailed
		g.wsOutcomes += w.groups[i].wsOutcomes
	}
	tk.WS.Opened += w.wsOpened
	tk.WS.Closed += w.wsClosed
	tk.WS.Sent += w.wsSent
	tk.WS.Received += w.wsReceived
	m.lag.add(&w.lag)
	mergeFailures(m.fails, w)
	tk.WS.Sessions += w.wsSessions
	tk.WS.Failed += w.wsFailed
	tk.WS.Outcomes += w.wsOutcomes
	for k := range sums.wsErrs {
		sums.wsErrs[k] += w.wsErrors[k]
	}
}

// setErrors writes the summed error kinds into tk, keeping dropped arrivals
// and WebSocket failures out of ErrorCount (HTTP requests that failed).
func (s *windowSums) setErrors(tk *measure.Tick) {
	for k := kindDNS; k < numKinds; k++ {
		if s.errs[k] == 0 {
			continue
		}
		tk.Errors[k.ErrorKind()] = s.errs[k]
		if k != kindDropped {
			tk.ErrorCount += s.errs[k]
		}
	}
	tk.Dropped = s.errs[kindDropped]
	for k := kindDNS; k < numKinds; k++ {
		if s.wsErrs[k] == 0 {
			continue
		}
		if tk.WS.Errors == nil {
			tk.WS.Errors = make(map[measure.ErrorKind]int64, 2)
		}
		tk.WS.Errors[k.ErrorKind()] = s.wsErrs[k]
		// WebSocket failures are in Errors by kind, not in ErrorCount
		// (HTTP requests that failed, at most Requests).
		tk.ErrorCount -= s.wsErrs[k]
	}
}

// endpointStats builds one row per (group, name), draining each endpoint's
// latencies, hotspots first, so the console's table needs no sorting.
func (e *Engine) endpointStats(m *merger, sums *windowSums) []measure.EndpointStats {
	// Every shard is swapped: no VU writes this parity's endpoint counts
	// until the next swap.
	parity := m.wins[0].parity
	eps := make([]measure.EndpointStats, 0, len(e.rows))
	for _, ids := range e.rows {
		ep := e.eps[ids[0]]
		es := measure.EndpointStats{Group: ep.group.cfg.Name, Name: ep.name, Hist: m.epEmpty}
		resetHist(m.ep)
		drained := false
		for _, i := range ids {
			es.Requests += sums.epReq[i]
			es.Errors += sums.epErr[i]
			// A latency is recorded with its request, in the same
			// window: an endpoint without requests has nothing to drain
			// (no scan).
			if sums.epReq[i] > 0 && e.rec.eps[i].drain(parity, m.ep) {
				drained = true
			}
		}
		if drained {
			es.Latency, es.Hist = measure.LatencyOf(m.ep), m.ep.Export()
		}
		eps = append(eps, es)
	}
	// Hotspots first: the endpoint holding users waiting the longest.
	sort.SliceStable(eps, func(i, j int) bool {
		return eps[i].Hotspot() > eps[j].Hotspot()
	})
	return eps
}

// summarize writes the merged histograms' figures and snapshots into tk, the
// run-wide latencies in one place.
func (m *merger) summarize(tk *measure.Tick) {
	tk.Latency = measure.LatencyOf(m.total)
	tk.Service = measure.LatencyOf(m.service)
	tk.Connect = measure.LatencyOf(m.connect)
	tk.TTFB = measure.LatencyOf(m.ttfb)
	tk.Hist = m.total.Export()
	tk.ServiceHist = m.service.Export()
	tk.ConnectHist = exportNonEmpty(m.connect)
	tk.TTFBHist = exportNonEmpty(m.ttfb)
	tk.WS.Connect = measure.LatencyOf(m.wsConnect)
	tk.WS.Reply = measure.LatencyOf(m.wsReply)
	tk.WS.Session = measure.LatencyOf(m.wsSession)
	tk.WS.ConnectHist = exportNonEmpty(m.wsConnect)
	tk.WS.ReplyHist = exportNonEmpty(m.wsReply)
	tk.WS.SessionHist = exportNonEmpty(m.wsSession)
}

// stageAt is the stage index at stage clock st, read on the longest group,
// so the Tick names the stage the whole run is in.
func (e *Engine) stageAt(st time.Duration) int {
	var longest *group
	for _, g := range e.groups {
		if longest == nil || g.dur > longest.dur {
			longest = g
		}
	}
	_, stage := longest.sch.At(st)
	return min(stage, max(0, len(longest.sch.Stages)-1))
}

// groupStats appends one GroupStats per scenario group to tk and sums the
// run's VUs and targets, folding a websocket twin into its group.
func (e *Engine) groupStats(m *merger, tk *measure.Tick, gauges []groupGauge, gs []groupWindow) {
	for gi, g := range e.groups {
		i := g.idx
		if g.twin {
			// The websocket half of a group with requests: same slots, so
			// the group's VUs are the larger of the two halves.
			s := &tk.Groups[len(tk.Groups)-1]
			if n := gauges[gi].active; n > s.VUs {
				tk.VUs += n - s.VUs
				s.VUs = n
			}
			continue
		}
		s := measure.GroupStats{
			Name:       g.cfg.Name,
			Executor:   string(g.cfg.Executor),
			VUs:        gauges[gi].active,
			Requests:   gs[i].requests,
			Iterations: gs[i].iterations,
			Errors:     gs[i].errors,
			Dropped:    gs[i].dropped,
			Started:    gs[i].started,
			Latency:    measure.LatencyOf(m.grps[i]),
			Hist:       exportNonEmpty(m.grps[i]),
			WSSessions: gs[i].wsSessions,
			WSFailed:   gs[i].wsFailed,
			WSOutcomes: gs[i].wsOutcomes,
		}
		if s.Executor == "" {
			s.Executor = "ramping-vus"
		}
		if g.open {
			s.BusyVUs = gauges[gi].busy
			if secs := tk.Window.Seconds(); secs > 0 {
				s.Rate = float64(s.Started) / secs
			}
			s.TargetRate = gauges[gi].rate
			tk.TargetRate += s.TargetRate
		} else {
			s.TargetVUs = gauges[gi].target
			tk.TargetVUs += s.TargetVUs
		}
		tk.VUs += s.VUs
		tk.Groups = append(tk.Groups, s)
	}
}

// health adds the window's stretch and send lag to the generator figures
// and judges whether brink itself was the bottleneck.
func (e *Engine) health(m *merger, tk *measure.Tick) {
	g := &tk.Generator
	if e.window > 0 {
		g.Stretch = float64(tk.Window) / float64(e.window)
	}
	if m.lag.n > 0 {
		g.SendLag = measure.Lag{Count: int64(m.lag.n), P50: m.lag.quantile(50), P99: m.lag.quantile(99), Max: m.lag.quantile(100)}
	}
	m.stalled = judgeHealth(g, m.stalled)
}

// exportNonEmpty is h's mergeable snapshot, nil when empty (most windows
// of a run without WebSocket replies or ends).
func exportNonEmpty(h *hdrhistogram.Histogram) *hdrhistogram.Snapshot {
	if h.TotalCount() == 0 {
		return nil
	}
	return h.Export()
}

func mergeNonEmpty(dst, src *hdrhistogram.Histogram) {
	if src != nil && src.TotalCount() > 0 {
		dst.Merge(src)
	}
}

// groupGauge is one group's instantaneous figures at a window's end.
type groupGauge struct {
	active, target, busy int
	rate                 float64
}

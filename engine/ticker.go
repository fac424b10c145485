package engine

import (
	"math"
	"sort"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
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
func (e *Engine) collect(m *merger, from, now time.Time) Tick {
	for _, h := range append([]*hdrhistogram.Histogram{m.total, m.service, m.connect, m.ttfb, m.wsConnect, m.wsReply, m.wsSession}, m.grps...) {
		resetHist(h)
	}
	tk := Tick{
		Time:    now,
		Elapsed: now.Sub(e.start),
		Window:  now.Sub(from),
		Errors:  make(map[ErrorKind]int64, 4),
	}
	// The gauges belong to the window's end: read them before the merges,
	// which can take a while on a busy machine, so a tick never shows the
	// VUs of a moment after the time it is stamped with.
	gauges := make([]groupGauge, len(e.groups))
	for i, g := range e.groups {
		gauges[i] = groupGauge{active: int(g.active.Load()), target: int(g.targetN.Load()), rate: math.Float64frombits(g.rateBits.Load()),
			busy: int(g.busy.Load())}
	}
	tk.WS.Open = int(e.wsOpen.Load())
	e.mu.Lock()
	tk.Held = e.held
	st := e.stageTimeLocked(now.Sub(e.start))
	// Planned as Engine.Planned says it, at the window's end.
	tk.Planned, tk.Scale = e.sc.Duration()+e.heldTotal, e.scale
	if e.held && e.running {
		tk.Planned += now.Sub(e.start) - e.heldSince
	}
	e.mu.Unlock()
	epReq := make([]int64, len(e.eps))
	epErr := make([]int64, len(e.eps))
	gs := make([]groupWindow, len(e.sc.Groups))
	var errs, wsErrs [numKinds]int64
	m.lag = lagHist{}

	m.wins = e.rec.swap(m.wins)
	for _, w := range m.wins {
		tk.Requests += w.requests
		tk.Iterations += w.iterations
		tk.BytesIn += w.bytesIn
		tk.BytesOut += w.bytesOut
		tk.ChecksPassed += w.checksPassed
		tk.ChecksFailed += w.checksFailed
		for k := range errs {
			errs[k] += w.errors[k]
		}
		mergeNonEmpty(m.service, w.service)
		mergeNonEmpty(m.connect, w.connect)
		mergeNonEmpty(m.ttfb, w.ttfb)
		mergeNonEmpty(m.wsConnect, w.wsConnect)
		mergeNonEmpty(m.wsReply, w.wsReply)
		mergeNonEmpty(m.wsSession, w.wsSession)
		for i := range w.endpoints {
			ew := &w.endpoints[i]
			epReq[i] += ew.requests
			epErr[i] += ew.errors
		}
		for i, h := range w.groupHist {
			mergeNonEmpty(m.grps[i], h)
		}
		for i := range w.groups {
			g := &gs[i]
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
		for k := range wsErrs {
			wsErrs[k] += w.wsErrors[k]
		}
	}
	e.rec.release(m.wins)
	tk.Failures = e.failureRows(m.fails)
	clear(m.fails)

	for k := kindDNS; k < numKinds; k++ {
		if errs[k] == 0 {
			continue
		}
		tk.Errors[k.ErrorKind()] = errs[k]
		if k != kindDropped {
			tk.ErrorCount += errs[k]
		}
	}
	tk.Dropped = errs[kindDropped]
	for k := kindDNS; k < numKinds; k++ {
		if wsErrs[k] == 0 {
			continue
		}
		if tk.WS.Errors == nil {
			tk.WS.Errors = make(map[ErrorKind]int64, 2)
		}
		tk.WS.Errors[k.ErrorKind()] = wsErrs[k]
		// WebSocket failures are in Errors by kind, not in ErrorCount
		// (HTTP requests that failed, at most Requests).
		tk.ErrorCount -= wsErrs[k]
	}

	for _, h := range m.grps {
		mergeNonEmpty(m.total, h)
	}
	// Every shard is swapped: no VU writes this parity's endpoint counts
	// until the next swap.
	parity := m.wins[0].parity
	tk.Endpoints = make([]EndpointStats, 0, len(e.rows))
	for _, ids := range e.rows {
		ep := e.eps[ids[0]]
		es := EndpointStats{Group: ep.group.cfg.Name, Name: ep.name, Hist: m.epEmpty}
		resetHist(m.ep)
		drained := false
		for _, i := range ids {
			es.Requests += epReq[i]
			es.Errors += epErr[i]
			// A latency is recorded with its request, in the same
			// window: an endpoint without requests has nothing to drain
			// (no scan).
			if epReq[i] > 0 && e.rec.eps[i].drain(parity, m.ep) {
				drained = true
			}
		}
		if drained {
			es.Latency, es.Hist = summarize(m.ep), m.ep.Export()
		}
		tk.Endpoints = append(tk.Endpoints, es)
	}
	// Hotspots first: the endpoint holding users waiting the longest.
	sort.SliceStable(tk.Endpoints, func(i, j int) bool {
		return tk.Endpoints[i].Hotspot() > tk.Endpoints[j].Hotspot()
	})
	tk.Latency = summarize(m.total)
	tk.Service = summarize(m.service)
	tk.Connect = summarize(m.connect)
	tk.TTFB = summarize(m.ttfb)
	tk.Hist = m.total.Export()
	tk.ServiceHist = m.service.Export()
	tk.WS.Connect = summarize(m.wsConnect)
	tk.WS.Reply = summarize(m.wsReply)
	tk.WS.Session = summarize(m.wsSession)
	tk.WS.ConnectHist = exportNonEmpty(m.wsConnect)
	tk.WS.ReplyHist = exportNonEmpty(m.wsReply)
	tk.WS.SessionHist = exportNonEmpty(m.wsSession)

	var longest *group
	for _, g := range e.groups {
		if longest == nil || g.dur > longest.dur {
			longest = g
		}
	}
	_, tk.Stage = longest.sch.At(st)
	tk.Stage = min(tk.Stage, max(0, len(longest.sch.Stages)-1))

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
		s := GroupStats{
			Name:       g.cfg.Name,
			Executor:   string(g.cfg.Executor),
			VUs:        gauges[gi].active,
			Requests:   gs[i].requests,
			Iterations: gs[i].iterations,
			Errors:     gs[i].errors,
			Dropped:    gs[i].dropped,
			Started:    gs[i].started,
			Latency:    summarize(m.grps[i]),
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
	tk.Generator = m.gen.sample(now)
	e.health(m, &tk)
	return tk
}

// health adds the window's stretch and send lag to the generator figures
// and judges whether brink itself was the bottleneck.
func (e *Engine) health(m *merger, tk *Tick) {
	g := &tk.Generator
	if e.window > 0 {
		g.Stretch = float64(tk.Window) / float64(e.window)
	}
	if m.lag.n > 0 {
		g.SendLag = Lag{Count: int64(m.lag.n), P50: m.lag.quantile(50), P99: m.lag.quantile(99), Max: m.lag.quantile(100)}
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

// summarize reads a window's latency figures from its histogram (µs).
func summarize(h *hdrhistogram.Histogram) Latency {
	n := h.TotalCount()
	if n == 0 {
		return Latency{}
	}
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	return Latency{
		Count: n,
		Min:   us(h.Min()),
		Mean:  time.Duration(h.Mean() * float64(time.Microsecond)),
		P50:   us(h.ValueAtQuantile(50)),
		P90:   us(h.ValueAtQuantile(90)),
		P95:   us(h.ValueAtQuantile(95)),
		P99:   us(h.ValueAtQuantile(99)),
		P999:  us(h.ValueAtQuantile(99.9)),
		Max:   us(h.Max()),
	}
}

package fleet

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/brink-load/brink/fleet/proto"
	"github.com/brink-load/brink/measure"
)

// maxFailureRows bounds a merged window's failures table, as the engine
// bounds its own.
const maxFailureRows = 50

// window is one window's sum over the agents that sent it: counters added,
// histograms added count by count. One is reused for every window.
type window struct {
	seq     int
	agents  int // ticks folded in
	elapsed time.Duration
	length  time.Duration
	tk      measure.Tick // counters, gauges, maps
	hist    map[string]*proto.HistSum
	eps     map[[2]string]*epSum
	epOrder [][2]string
	groups  map[string]*groupSum
	gOrder  []string
	fails   map[failKey]*measure.Failure
	gen     genSum
	wsSeen  bool
}

type epSum struct {
	requests, errors int64
	hist             proto.HistSum
}

type groupSum struct {
	s    measure.GroupStats
	hist proto.HistSum
}

type failKey struct {
	group, endpoint string
	kind            measure.ErrorKind
	status          int
	check           string // one row per failed check, as the engine keeps them
}

// genSum keeps the busiest agent's health: a window is as healthy as its
// worst generator.
type genSum struct {
	g      measure.GeneratorStats
	set    bool
	who    []string // agents overloaded in the window
	reason string
}

func newWindow() *window {
	return &window{hist: map[string]*proto.HistSum{}, eps: map[[2]string]*epSum{}, groups: map[string]*groupSum{},
		fails: map[failKey]*measure.Failure{}}
}

// reset empties w for window seq, keeping its histograms' buffers.
func (w *window) reset(seq int) {
	w.seq, w.agents, w.elapsed, w.length, w.wsSeen = seq, 0, 0, 0, false
	w.tk = measure.Tick{}
	for _, h := range w.hist {
		h.Reset()
	}
	for k, e := range w.eps {
		e.requests, e.errors = 0, 0
		e.hist.Reset()
		w.eps[k] = e
	}
	w.epOrder = w.epOrder[:0]
	for _, g := range w.groups {
		g.s = measure.GroupStats{}
		g.hist.Reset()
	}
	w.gOrder = w.gOrder[:0]
	clear(w.fails)
	w.gen = genSum{}
}

func (w *window) sum(key string) *proto.HistSum {
	h := w.hist[key]
	if h == nil {
		h = &proto.HistSum{}
		w.hist[key] = h
	}
	return h
}

// add folds one agent's tick into the window.
func (w *window) add(name string, t *proto.Tick) error {
	w.agents++
	w.elapsed = max(w.elapsed, t.Elapsed)
	w.length = max(w.length, t.Window)
	k := &w.tk
	k.Stage = max(k.Stage, t.Stage)
	k.Held = k.Held || t.Held
	k.Planned = max(k.Planned, t.Planned)
	if t.Scale != 0 {
		k.Scale = t.Scale
	}
	// Agents' levels add up, as their counters do.
	k.VUs += t.VUs
	k.TargetVUs += t.TargetVUs
	k.TargetRate += t.TargetRate
	in := t.Counters()
	k.AddCounts(&in)
	var err error
	add := func(key, enc string) {
		if e := w.sum(key).Add(enc); e != nil && err == nil {
			err = e
		}
	}
	add("total", t.Hist)
	add("service", t.ServiceHist)
	add("connect", t.ConnectHist)
	add("ttfb", t.TTFBHist)
	for i := range t.Endpoints {
		e := &t.Endpoints[i]
		key := [2]string{e.Group, e.Name}
		s := w.eps[key]
		if s == nil {
			s = &epSum{}
			w.eps[key] = s
		}
		if !slices.Contains(w.epOrder, key) {
			w.epOrder = append(w.epOrder, key)
		}
		s.requests += e.Requests
		s.errors += e.Errors
		if e2 := s.hist.Add(e.Hist); e2 != nil && err == nil {
			err = e2
		}
	}
	for i := range t.Groups {
		g := &t.Groups[i]
		s := w.groups[g.Name]
		if s == nil {
			s = &groupSum{}
			w.groups[g.Name] = s
		}
		if !slices.Contains(w.gOrder, g.Name) {
			w.gOrder = append(w.gOrder, g.Name)
			s.s.Name, s.s.Executor = g.Name, g.Executor
		}
		gs := &s.s
		gs.VUs += g.VUs
		gs.TargetVUs += g.TargetVUs
		gs.TargetRate += g.TargetRate
		gs.BusyVUs += g.BusyVUs
		gin := g.Counters()
		gs.AddCounts(&gin)
		if e2 := s.hist.Add(g.Hist); e2 != nil && err == nil {
			err = e2
		}
	}
	if ws := t.WS; ws != nil {
		w.wsSeen = true
		k.WS.Open += ws.Open
		add("ws.connect", ws.ConnectHist)
		add("ws.reply", ws.ReplyHist)
		add("ws.session", ws.SessionHist)
	}
	for _, f := range t.Failures {
		fk := failKey{f.Group, f.Endpoint, f.Kind, f.Status, f.Check}
		if have := w.fails[fk]; have != nil {
			have.Count += f.Count
		} else {
			f := f
			w.fails[fk] = &f
		}
	}
	w.gen.add(name, &t.Generator)
	return err
}

func (g *genSum) add(name string, w *proto.Generator) {
	// The busiest agent (by its share of its cores) speaks for the window.
	load := func(s *measure.GeneratorStats) float64 { return s.CPUPercent / float64(max(1, s.Cores)) }
	in := measure.GeneratorStats{CPUPercent: w.CPUPercent, Cores: w.Cores, Stretch: w.Stretch}
	if !g.set || load(&in) > load(&g.g) {
		g.g.CPUPercent, g.g.Cores = in.CPUPercent, in.Cores
	}
	g.set = true
	g.g.Goroutines += w.Goroutines
	g.g.OpenFiles = max(g.g.OpenFiles, w.OpenFiles)
	g.g.MaxFiles = max(g.g.MaxFiles, w.MaxFiles)
	g.g.HeapBytes = max(g.g.HeapBytes, w.HeapBytes)
	g.g.Stretch = max(g.g.Stretch, w.Stretch)
	l := &g.g.SendLag
	l.Count += w.LagCount
	l.P50 = max(l.P50, w.LagP50)
	l.P99 = max(l.P99, w.LagP99)
	l.Max = max(l.Max, w.LagMax)
	if w.Overloaded {
		g.who = append(g.who, name)
		if g.reason == "" {
			g.reason = w.Reason
		}
	}
}

// tick builds the merged measure.Tick; start is the run's common start on
// the controller's clock, so windows align on it.
func (w *window) tick(start time.Time) measure.Tick {
	t := w.tk
	t.Elapsed, t.Window = w.elapsed, w.length
	t.Time = start.Add(w.elapsed)
	if t.Errors == nil {
		t.Errors = map[measure.ErrorKind]int64{}
	}
	snap := func(key string) *hdrhistogram.Snapshot {
		if h := w.hist[key]; h != nil {
			return h.Snapshot()
		}
		return nil
	}
	t.Hist, t.ServiceHist, t.ConnectHist, t.TTFBHist = snap("total"), snap("service"), snap("connect"), snap("ttfb")
	t.Latency, t.Service, t.Connect, t.TTFB = summarize(t.Hist), summarize(t.ServiceHist), summarize(t.ConnectHist), summarize(t.TTFBHist)
	if t.Hist == nil {
		// The engine always sends an overall snapshot, empty or not.
		t.Hist = emptyLatency()
	}
	if t.ServiceHist == nil {
		t.ServiceHist = emptyLatency()
	}
	if w.wsSeen {
		ws := &t.WS
		ws.ConnectHist, ws.ReplyHist, ws.SessionHist = snap("ws.connect"), snap("ws.reply"), snap("ws.session")
		ws.Connect, ws.Reply, ws.Session = summarize(ws.ConnectHist), summarize(ws.ReplyHist), summarize(ws.SessionHist)
	}
	for _, key := range w.epOrder {
		s := w.eps[key]
		es := measure.EndpointStats{Group: key[0], Name: key[1], Requests: s.requests, Errors: s.errors, Hist: s.hist.Snapshot()}
		es.Latency = summarize(es.Hist)
		if es.Hist == nil {
			es.Hist = emptyEndpoint()
		}
		t.Endpoints = append(t.Endpoints, es)
	}
	sort.SliceStable(t.Endpoints, func(i, j int) bool { return t.Endpoints[i].Hotspot() > t.Endpoints[j].Hotspot() })
	secs := w.length.Seconds()
	for _, name := range w.gOrder {
		s := w.groups[name]
		gs := s.s
		gs.Hist = s.hist.Snapshot()
		gs.Latency = summarize(gs.Hist)
		if gs.Open() && secs > 0 {
			gs.Rate = float64(gs.Started) / secs
		}
		t.Groups = append(t.Groups, gs)
	}
	for _, f := range w.fails {
		t.Failures = append(t.Failures, *f)
	}
	slices.SortFunc(t.Failures, measure.CompareFailures)
	if len(t.Failures) > maxFailureRows {
		t.Failures = t.Failures[:maxFailureRows]
	}
	t.Generator = w.gen.g
	if len(w.gen.who) > 0 {
		t.Generator.Overloaded = true
		t.Generator.Reason = "agent " + strings.Join(w.gen.who, ", ") + ": " + w.gen.reason
	}
	return t
}

// Layouts of the engine's histograms, for the empty snapshots a Tick
// carries where the engine always sends one.
var (
	emptyLatency  = sync.OnceValue(func() *hdrhistogram.Snapshot { return hdrhistogram.New(1, 60_000_000, 3).Export() })
	emptyEndpoint = sync.OnceValue(func() *hdrhistogram.Snapshot { return hdrhistogram.New(1, 60_000_000, 2).Export() })
)

// summarize reads a window's latency figures from its histogram (µs), as
// the engine does.
func summarize(s *hdrhistogram.Snapshot) measure.Latency {
	if s == nil {
		return measure.Latency{}
	}
	return measure.LatencyOf(hdrhistogram.Import(s))
}

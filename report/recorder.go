// Package report owns a run's timeline — engine ticks, node polls, events —
// evaluates SLO and node thresholds as the run goes, finds the breakpoint,
// and writes, reads and compares JSON reports. It reads engine, promquery
// and scenarios types only.
package report

import (
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/brink-load/brink/engine"
	"github.com/brink-load/brink/promquery"
	"github.com/brink-load/brink/scenarios"
)

// EventKind values are contracts (JSON report): never rename.
type EventKind string

const (
	EventNodeOver    EventKind = "node_over"    // a node crossed its threshold (sustained)
	EventNodeClear   EventKind = "node_clear"   // and came back under
	EventSLOBreach   EventKind = "slo_breach"   // an SLO threshold failed in a window (sustained)
	EventSLORecover  EventKind = "slo_recover"  //
	EventBreakpoint  EventKind = "breakpoint"   // the verdict's breakpoint
	EventStage       EventKind = "stage"        // a new stage started
	EventNote        EventKind = "note"         // a user annotation (m)
	EventControl     EventKind = "control"      // hold, resume, scale, abort, with who did it
	EventAbort       EventKind = "abort"        // the run was aborted (key, signal, abort_on_breakpoint)
	EventSourceError EventKind = "source_error" // node source failed / recovered
	// An arrival-rate group could not start its iterations on schedule
	// (achieved < 99 % of target, or dropped iterations), sustained.
	EventRateShort   EventKind = "rate_short"
	EventRateRecover EventKind = "rate_recover"
	// A custom panel's series (scenario nodes.panels with above) crossed
	// its threshold (sustained), and came back under.
	EventPanelOver  EventKind = "panel_over"
	EventPanelClear EventKind = "panel_clear"
)

// Load is the engine's load at an event's moment.
type Load struct {
	VUs        int           `json:"vus"`
	TargetVUs  int           `json:"target_vus"`
	TargetRate float64       `json:"target_rate,omitempty"`
	RPS        float64       `json:"rps"`
	P95        time.Duration `json:"-"`
	P95Ms      float64       `json:"p95_ms"`
	ErrorRate  float64       `json:"error_rate"`
}

// Event is one line of the event log. Time is when it happened (for a
// crossing: the first sample over the threshold), not when it was noticed.
type Event struct {
	Time      time.Time `json:"time"`
	Kind      EventKind `json:"kind"`
	Node      string    `json:"node,omitempty"`
	Metric    string    `json:"metric,omitempty"`
	Value     float64   `json:"value,omitempty"`
	Threshold float64   `json:"threshold,omitempty"`
	Text      string    `json:"text"`
	// Who did it, for control actions and notes ("local" for the local
	// console, "user (SHA256:…)" for an SSH viewer).
	Who  string `json:"who,omitempty"`
	Load Load   `json:"load"`
}

// State is the run's headline state for the console header.
type State string

const (
	StateOK         State = "OK"         // every threshold holds
	StateWarn       State = "WARN"       // something is over but not yet sustained, or near
	StateBreakpoint State = "BREAKPOINT" // the breakpoint has been found
)

// View is a read-only look at the recorder, valid only inside the function
// passed to Recorder.View. Slices must not be modified or retained.
//
// Ticks keep their summary numbers; the HDR snapshots (Tick.Hist,
// Tick.ServiceHist and EndpointStats.Hist) of every tick but the last are dropped once folded into
// the whole-run histograms, and Tick.Endpoints of ticks older than the
// latest 60 (the report has whole-run endpoints). Events are in the order they were noticed; each
// one's Time is when it happened, so a crossing may carry an earlier time
// than the event before it.
type View struct {
	Scenario *scenarios.Scenario
	Start    time.Time
	Ticks    []engine.Tick
	Polls    []promquery.Poll
	Events   []Event
	State    State
	Done     bool
	// Version counts changes, so a console can skip redrawing when nothing
	// changed.
	Version uint64
}

// keepEndpoints is how many recent ticks keep their per-endpoint rows.
const keepEndpoints = 60

// Options tune a Recorder. Zero values take the scenario's settings.
type Options struct {
	// Version is brink's version, written into the report.
	Version string
	// Host is the generator's host name (default os.Hostname).
	Host string
	// Sustain overrides the scenario's sustain (default 3s).
	Sustain time.Duration
	// Window overrides the scenario's window (default 1s); it only sets
	// how many windows make a sustained SLO breach.
	Window time.Duration
}

// Recorder owns the timeline. Writers (engine tick callback, node poller,
// consoles adding notes) and many readers (consoles, the report writer) may
// use it concurrently.
type Recorder struct {
	mu sync.RWMutex
	v  View

	opts    Options
	sustain time.Duration
	window  time.Duration // nominal window length
	need    int           // consecutive windows for a sustained SLO or rate violation
	// openOnly: every group is arrival-rate, so load is measured in rate,
	// not VUs.
	openOnly bool
	longest  int // index of the longest group (its stages name the stage)

	slos    []sloState
	nodeThs []scenarios.NodeThreshold
	panels  []scenarios.Panel // scenario nodes.panels
	panelTh int               // how many of them have a threshold (above)
	cross   map[crossKey]*crossState
	rates   map[string]*rateState
	run     runAcc
	// held[i] is true when every SLO and rate evaluated in tick i held.
	held       []bool
	violations []violation
	bpFound    bool
	onBreak    []func(Verdict)
	sourceDown bool
	abortAt    time.Time
	abortWhy   string
	end        time.Time
	scratch    snapAcc

	saveMu     sync.Mutex // orders autosaves before the final save
	finalSaved bool
}

// streak applies the sustain rule to a series of windows.
type streak struct {
	bad, good int
	on        bool // a sustained violation is in effect
	runStart  int  // tick index where the current bad (or good) run began
	runVal    float64
	badTotal  int
	first     time.Time // start of the first sustained violation
}

// step feeds one window; it returns +1 when a violation becomes sustained
// and -1 when a sustained one has cleared for long enough. runStart then
// names the window the change is stamped at.
func (s *streak) step(i int, bad bool, v float64, need int) int {
	if bad {
		s.badTotal++
		s.good = 0
		if s.on {
			return 0
		}
		if s.bad == 0 {
			s.runStart, s.runVal = i, v
		}
		s.bad++
		if s.bad >= need {
			s.on, s.bad = true, 0
			return +1
		}
		return 0
	}
	s.bad = 0
	if !s.on {
		return 0
	}
	if s.good == 0 {
		s.runStart, s.runVal = i, v
	}
	s.good++
	if s.good >= need {
		s.on, s.good = false, 0
		return -1
	}
	return 0
}

type sloState struct {
	th scenarios.Threshold
	streak
	near bool // the last window held, but within 10 % of the limit
}

// nearFrac is how close to a limit counts as "near" for the WARN state.
const nearFrac = 0.9

// nearLimit reports whether a value that holds is within 10 % of an upper
// limit. Lower limits (checks rate>0.99) have no useful "near".
func nearLimit(v float64, th scenarios.Threshold) bool {
	return (th.Op == "<" || th.Op == "<=") && th.Value > 0 && v >= nearFrac*th.Value
}

type rateState struct {
	streak
	prevTarget float64
	// started: the engine reported GroupStats.Started for this group, so
	// a window with none started really started none.
	started bool
	// prev and pending are the last two windows seen; pending is judged
	// when the window after it arrives (or at the end), so an arrival that
	// fell just across a window edge counts for either side.
	prev, pending rateWin
	target        float64 // at the start of the current bad run
	dropped       int64   // dropped iterations over the current bad run
}

// rateWin is one window of one arrival-rate group.
type rateWin struct {
	ok       bool // holds a window
	judge    bool // there was a target to meet
	known    bool // counted says what started (else only drops count)
	i        int  // tick index
	target   float64
	expected float64 // arrivals scheduled in the window
	counted  float64 // arrivals started (or, from an older engine, iterations completed)
	dropped  int64
	secs     float64
}

// rateShort reports whether arrivals counted fall short of those scheduled:
// fewer than 99 % of them, with a slack of one arrival.
func rateShort(expected, counted float64) bool {
	return counted < 0.99*expected-1
}

// crossKey names one series against one threshold: a node against node
// threshold th, or (panel set) one series of custom panel th, named by its
// labels.
type crossKey struct {
	th    int
	node  string
	panel bool
}

// crossState is one series (a node's metric, a panel's series) against one
// threshold, sample by sample.
type crossState struct {
	over     bool      // a sustained crossing is in effect
	runStart time.Time // first sample of the current run towards a change
	runVal   float64
	last     time.Time
	near     bool // under, but within 10 % of the threshold
}

// violation is a sustained SLO, node or rate violation, a breakpoint
// candidate.
type violation struct {
	at   time.Time
	load Load
	// loadTime is the end of the window load was taken from; for a node
	// crossing it may precede at. Zero means at.
	loadTime time.Time
	signal   Signal
}

// cut is where "before the breakpoint" ends: the window whose load the
// breakpoint reports is not stable load.
func (v *violation) cut() time.Time {
	if !v.loadTime.IsZero() && v.loadTime.Before(v.at) {
		return v.loadTime
	}
	return v.at
}

// runAcc folds every tick into whole-run totals.
type runAcc struct {
	lat        latAcc
	service    latAcc
	wsReply    latAcc
	wsConnect  latAcc
	endpoints  map[string]*endpointAcc
	epOrder    []string
	groups     map[string]*groupAcc
	groupOrder []string

	requests, iterations, errors, dropped int64
	checksPassed, checksFailed            int64
	bytesIn, bytesOut                     int64
	errorsByKind                          map[engine.ErrorKind]int64
	vusMax, targetVUsMax                  int
	targetRateMax, rpsMax                 float64
	active                                time.Duration
	wsOpened, wsClosed, wsSent, wsRecv    int64
	wsOpenMax                             int
}

type endpointAcc struct {
	group, name      string
	requests, errors int64
	lat              latAcc
}

type groupAcc struct {
	name, executor                        string
	requests, iterations, errors, dropped int64
	vusMax, targetVUsMax                  int
	targetRateMax                         float64
	lat                                   latAcc // from group windows (quantiles only)
}

// NewRecorder starts an empty timeline for sc, started at start.
func NewRecorder(sc *scenarios.Scenario, start time.Time, opts Options) *Recorder {
	r := &Recorder{opts: opts, cross: map[crossKey]*crossState{}, rates: map[string]*rateState{}}
	r.v = View{Scenario: sc, Start: start, State: StateOK}
	r.run.endpoints = map[string]*endpointAcc{}
	r.run.groups = map[string]*groupAcc{}
	r.run.errorsByKind = map[engine.ErrorKind]int64{}
	if r.opts.Host == "" {
		r.opts.Host, _ = os.Hostname()
	}
	window, sustain := opts.Window, opts.Sustain
	if sc != nil {
		if window <= 0 {
			window = sc.Window
		}
		if sustain <= 0 {
			sustain = sc.Sustain
		}
		for _, th := range sc.Thresholds {
			r.slos = append(r.slos, sloState{th: th})
		}
		if sc.Nodes != nil {
			r.nodeThs = sc.Nodes.Thresholds
			r.panels = sc.Nodes.Panels
			for _, p := range r.panels {
				if p.Above != nil {
					r.panelTh++
				}
			}
		}
		r.openOnly = len(sc.Groups) > 0
		var longest time.Duration
		for i, g := range sc.Groups {
			if g.Executor != scenarios.RampingArrivalRate {
				r.openOnly = false
			}
			var d time.Duration
			for _, st := range g.Stages {
				d += st.Duration
			}
			if d > longest {
				longest, r.longest = d, i
			}
		}
	}
	if window <= 0 {
		window = time.Second
	}
	if sustain <= 0 {
		sustain = 3 * time.Second
	}
	r.sustain, r.window = sustain, window
	r.need = max(int((sustain+window-1)/window), 1)
	return r
}

// View calls fn with a consistent read-only view under a read lock; fn must
// be quick (copy what it needs) and must not call back into the Recorder.
func (r *Recorder) View(fn func(v *View)) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	fn(&r.v)
}

// OnBreakpoint registers fn, called once, on its own goroutine, when the
// breakpoint is found (so it may stop the engine or call back into the
// Recorder). Registered after the fact, it is called at once.
func (r *Recorder) OnBreakpoint(fn func(Verdict)) {
	r.mu.Lock()
	found := r.bpFound
	if !found {
		r.onBreak = append(r.onBreak, fn)
	}
	r.mu.Unlock()
	if found {
		go fn(r.Verdict())
	}
}

// fullWindow reports whether a window is long enough for its rates to
// count towards maxima and peaks: the last window of a run may last a few
// milliseconds, and 6 requests in 16 ms are no 378 rps. Short windows still
// count in totals.
func fullWindow(d, nominal time.Duration) bool {
	return d > 0 && d >= nominal/2
}

// tickLoad is the load of one window.
func tickLoad(t *engine.Tick) Load {
	return Load{VUs: t.VUs, TargetVUs: t.TargetVUs, TargetRate: t.TargetRate, RPS: t.RPS(),
		P95: t.Latency.P95, P95Ms: ms(t.Latency.P95), ErrorRate: t.ErrorRate()}
}

// loadAt is the load of the nearest tick at or before at (the first tick
// when at precedes them all).
func (r *Recorder) loadAt(at time.Time) Load {
	l, _ := r.loadTickAt(at)
	return l
}

// loadTickAt is loadAt with the time of the tick it came from.
func (r *Recorder) loadTickAt(at time.Time) (Load, time.Time) {
	ts := r.v.Ticks
	if len(ts) == 0 {
		return Load{}, time.Time{}
	}
	i := sort.Search(len(ts), func(i int) bool { return ts[i].Time.After(at) })
	if i == 0 {
		return tickLoad(&ts[0]), ts[0].Time
	}
	return tickLoad(&ts[i-1]), ts[i-1].Time
}

func (r *Recorder) lastLoad() Load {
	if n := len(r.v.Ticks); n > 0 {
		return tickLoad(&r.v.Ticks[n-1])
	}
	return Load{}
}

// loadText is the load as an event's tail: "630 VUs, 1840 rps, p95 212 ms".
func (r *Recorder) loadText(l Load) string {
	var b strings.Builder
	if r.openOnly && l.TargetRate > 0 {
		fmt.Fprintf(&b, "%s/s target, ", trimFloat(l.TargetRate, 1))
	} else {
		fmt.Fprintf(&b, "%d VUs, ", l.VUs)
	}
	p95 := fmtMs(l.P95Ms)
	if l.RPS == 0 && l.P95Ms == 0 {
		p95 = "-" // no request finished in the window
	}
	fmt.Fprintf(&b, "%.0f rps, p95 %s", l.RPS, p95)
	if l.ErrorRate > 0 {
		fmt.Fprintf(&b, ", errors %s", fmtPct(l.ErrorRate))
	}
	return b.String()
}

func (r *Recorder) addEvent(e Event) {
	r.v.Events = append(r.v.Events, e)
}

// AddTick appends one engine window: it folds the window into the whole-run
// totals, evaluates every SLO and arrival rate for it, and drops the previous
// window's histograms. Ticks after Finish are ignored.
func (r *Recorder) AddTick(t engine.Tick) {
	r.mu.Lock()
	if r.v.Done {
		r.mu.Unlock()
		return
	}
	// Own copies: the previous tick's histograms are dropped below, and the
	// engine's slices must not be written.
	t.Endpoints = slices.Clone(t.Endpoints)
	t.Groups = slices.Clone(t.Groups)
	t.Errors = maps.Clone(t.Errors)
	i := len(r.v.Ticks)
	r.v.Ticks = append(r.v.Ticks, t)
	tp := &r.v.Ticks[i]
	r.fold(tp)
	if i >= keepEndpoints {
		// Per-endpoint rows are folded into the whole-run endpoints; only
		// recent windows need them (hotspots).
		r.v.Ticks[i-keepEndpoints].Endpoints = nil
	}
	if i == 0 {
		r.stageEvent(tp)
	} else {
		prev := &r.v.Ticks[i-1]
		prev.Hist, prev.ServiceHist = nil, nil
		for j := range prev.Endpoints {
			prev.Endpoints[j].Hist = nil
		}
		if tp.Stage != prev.Stage {
			r.stageEvent(tp)
		}
	}
	r.held = append(r.held, r.evalSLOs(i, tp))
	if r.abortAt.IsZero() {
		r.evalRates(i, tp)
	} else {
		// Once aborted, arrivals stop on purpose: no shortfall to report
		// after it.
		r.flushRates(r.abortAt)
	}
	fns := r.changed()
	r.mu.Unlock()
	r.fire(fns)
}

// fold adds a tick to the whole-run accumulators.
func (r *Recorder) fold(t *engine.Tick) {
	a := &r.run
	a.lat.add(t.Latency, t.Hist)
	a.service.add(t.Service, t.ServiceHist)
	a.wsReply.add(t.WS.Reply, nil)
	a.wsConnect.add(t.WS.Connect, nil)
	a.requests += t.Requests
	a.iterations += t.Iterations
	a.errors += t.ErrorCount
	a.dropped += t.Dropped
	a.checksPassed += t.ChecksPassed
	a.checksFailed += t.ChecksFailed
	a.bytesIn += t.BytesIn
	a.bytesOut += t.BytesOut
	for k, n := range t.Errors {
		a.errorsByKind[k] += n
	}
	a.vusMax = max(a.vusMax, t.VUs)
	a.targetVUsMax = max(a.targetVUsMax, t.TargetVUs)
	a.targetRateMax = max(a.targetRateMax, t.TargetRate)
	if fullWindow(t.Window, r.window) {
		a.rpsMax = max(a.rpsMax, t.RPS())
	}
	a.active += t.Window
	a.wsOpened += t.WS.Opened
	a.wsClosed += t.WS.Closed
	a.wsSent += t.WS.Sent
	a.wsRecv += t.WS.Received
	a.wsOpenMax = max(a.wsOpenMax, t.WS.Open)
	for j := range t.Endpoints {
		e := &t.Endpoints[j]
		key := e.Group + "\x00" + e.Name
		ea := a.endpoints[key]
		if ea == nil {
			ea = &endpointAcc{group: e.Group, name: e.Name}
			a.endpoints[key] = ea
			a.epOrder = append(a.epOrder, key)
		}
		ea.requests += e.Requests
		ea.errors += e.Errors
		ea.lat.add(e.Latency, e.Hist)
	}
	for j := range t.Groups {
		g := &t.Groups[j]
		ga := a.groups[g.Name]
		if ga == nil {
			ga = &groupAcc{name: g.Name, executor: g.Executor}
			a.groups[g.Name] = ga
			a.groupOrder = append(a.groupOrder, g.Name)
		}
		ga.requests += g.Requests
		ga.iterations += g.Iterations
		ga.errors += g.Errors
		ga.dropped += g.Dropped
		ga.vusMax = max(ga.vusMax, g.VUs)
		ga.targetVUsMax = max(ga.targetVUsMax, g.TargetVUs)
		ga.targetRateMax = max(ga.targetRateMax, g.TargetRate)
		ga.lat.add(g.Latency, nil)
	}
}

func (r *Recorder) stageEvent(t *engine.Tick) {
	text := fmt.Sprintf("stage %d", t.Stage+1)
	if sc := r.v.Scenario; sc != nil && r.longest < len(sc.Groups) {
		g := sc.Groups[r.longest]
		if t.Stage >= 0 && t.Stage < len(g.Stages) {
			st := g.Stages[t.Stage]
			unit := " VUs"
			if g.Executor == scenarios.RampingArrivalRate {
				unit = "/s"
			}
			text = fmt.Sprintf("stage %d/%d: to %s%s over %s", t.Stage+1, len(g.Stages),
				trimFloat(st.Target, 1), unit, st.Duration)
		}
	}
	r.addEvent(Event{Time: t.Time, Kind: EventStage, Text: text, Load: tickLoad(t)})
}

// evalSLOs tests every per-window SLO on tick i; it reports whether all held.
func (r *Recorder) evalSLOs(i int, t *engine.Tick) bool {
	held := true
	for k := range r.slos {
		s := &r.slos[k]
		if !perWindow(s.th) {
			continue
		}
		v, ok := windowValue(s.th, t, &r.scratch)
		if !ok {
			continue
		}
		bad := !holds(v, s.th)
		if bad {
			held = false
		}
		s.near = !bad && nearLimit(v, s.th)
		switch s.step(i, bad, v, r.need) {
		case +1:
			at := &r.v.Ticks[s.runStart]
			if s.first.IsZero() {
				s.first = at.Time
			}
			sig := Signal{Kind: SignalSLO, Metric: metricLabel(s.th), Expr: s.th.Expr,
				Value: Num(s.runVal), Threshold: Num(s.th.Value), Text: sloWithValue(s.th, s.runVal)}
			if s.th.TagKey == "group" {
				sig.Group = s.th.TagValue
			}
			load := tickLoad(at)
			r.addEvent(Event{Time: at.Time, Kind: EventSLOBreach, Metric: sig.Metric, Value: s.runVal,
				Threshold: s.th.Value, Text: sig.Text + " — " + r.loadText(load), Load: load})
			r.violate(violation{at: at.Time, load: load, signal: sig})
		case -1:
			at := &r.v.Ticks[s.runStart]
			load := tickLoad(at)
			r.addEvent(Event{Time: at.Time, Kind: EventSLORecover, Metric: metricLabel(s.th), Value: s.runVal,
				Threshold: s.th.Value, Text: aggLabel(s.th) + " back within " + s.th.Expr + " (" +
					fmtThresholdValue(s.th.Metric, s.th.Agg, s.runVal) + ") — " + r.loadText(load), Load: load})
		}
	}
	return held
}

// evalRates checks that every arrival-rate group started its iterations on
// schedule. Tick i is recorded; the window before it, pending until now, is
// judged, so a shortfall at a window's end made up at the start of the next
// (or the other way round) is jitter, not a shortfall.
//
// A window is judged on the arrivals the engine started plus those it
// dropped (GroupStats.Started), never on completions: slow responses alone
// are not a shortfall. Ticks from an engine that does not count starts
// (Started 0 with iterations completed) fall back to completed iterations;
// with neither, only dropped arrivals say anything.
func (r *Recorder) evalRates(i int, t *engine.Tick) {
	secs := t.Window.Seconds()
	if secs <= 0 {
		return
	}
	add := func(name string, target float64, iterations, started, dropped int64) {
		st := r.rates[name]
		if st == nil {
			st = &rateState{prevTarget: target}
			r.rates[name] = st
		}
		// The target ramps within the window: expect the average of its
		// two ends.
		w := rateWin{ok: true, i: i, target: target, expected: (st.prevTarget + target) / 2 * secs,
			dropped: dropped, secs: secs}
		st.prevTarget = target
		if started > 0 {
			st.started = true
		}
		switch {
		case st.started:
			w.counted = float64(started)
		case iterations > 0:
			w.counted = float64(iterations)
		default:
			// No evidence of what started (an older engine, and nothing
			// completed yet: slow responses): only drops count, and what
			// was not dropped is taken as started.
			w.counted = max(w.expected-float64(dropped), 0)
		}
		w.known = st.started || iterations > 0
		w.judge = target > 0 || w.expected > 0
		r.judgeRate(name, st, &w)
		st.prev, st.pending = st.pending, w
	}
	open := false
	for j := range t.Groups {
		g := &t.Groups[j]
		if g.TargetRate > 0 || g.Executor == string(scenarios.RampingArrivalRate) {
			open = true
			add(g.Name, g.TargetRate, g.Iterations, g.Started, g.Dropped)
		}
	}
	if !open && t.TargetRate > 0 && len(t.Groups) == 0 {
		add("", t.TargetRate, t.Iterations, 0, t.Dropped)
	}
}

// flushRates judges every pending window that ended before cut (zero: all)
// without a next window, and forgets them; after an abort, or at the end.
func (r *Recorder) flushRates(cut time.Time) {
	names := make([]string, 0, len(r.rates))
	for name := range r.rates {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		st := r.rates[name]
		if p := st.pending; p.ok && (cut.IsZero() || r.v.Ticks[p.i].Time.Before(cut)) {
			r.judgeRate(name, st, nil)
		}
		st.prev, st.pending = rateWin{}, rateWin{}
	}
}

// judgeRate judges st.pending given the window after it (nil: none yet)
// and steps the group's sustain rule.
func (r *Recorder) judgeRate(name string, st *rateState, next *rateWin) {
	w := st.pending
	if !w.ok || !w.judge {
		return
	}
	short := w.known && rateShort(w.expected, w.counted)
	// Arrivals counted across an edge: the window is short only if it is
	// short together with each neighbour too.
	for _, n := range []*rateWin{&st.prev, next} {
		if short && n != nil && n.ok && n.known && (n.i == w.i-1 || n.i == w.i+1) {
			short = rateShort(w.expected+n.expected, w.counted+n.counted)
		}
	}
	bad := short || w.dropped > 0
	if bad && w.i < len(r.held) {
		r.held[w.i] = false
	}
	achieved := w.counted / w.secs
	if bad && st.bad == 0 && !st.on {
		st.target, st.dropped = w.target, 0
	}
	if bad && !st.on {
		st.dropped += w.dropped
	}
	what := "the arrival rate"
	if name != "" {
		what = name
	}
	switch st.step(w.i, bad, achieved, r.need) {
	case +1:
		at := &r.v.Ticks[st.runStart]
		if st.first.IsZero() {
			st.first = at.Time
		}
		text := fmt.Sprintf("%s could not sustain %s/s (achieved %s/s", what, trimFloat(st.target, 1),
			trimFloat(st.runVal, 1))
		if st.dropped > 0 {
			text += fmt.Sprintf(", %d dropped", st.dropped)
		}
		text += ")"
		sig := Signal{Kind: SignalRate, Group: name, Metric: "iterations_rate", Value: Num(st.runVal),
			Threshold: Num(st.target), Text: text}
		load := tickLoad(at)
		r.addEvent(Event{Time: at.Time, Kind: EventRateShort, Metric: sig.Metric, Value: st.runVal,
			Threshold: st.target, Text: text + " — " + r.loadText(load), Load: load})
		r.violate(violation{at: at.Time, load: load, signal: sig})
	case -1:
		at := &r.v.Ticks[st.runStart]
		load := tickLoad(at)
		r.addEvent(Event{Time: at.Time, Kind: EventRateRecover, Metric: "iterations_rate", Value: st.runVal,
			Text: fmt.Sprintf("%s back on schedule (%s/s) — %s", what, trimFloat(st.runVal, 1), r.loadText(load)),
			Load: load})
	}
}

// AddPoll appends one node poll and runs every node threshold over its
// samples, and every custom panel threshold over its series.
func (r *Recorder) AddPoll(p promquery.Poll) {
	r.mu.Lock()
	if r.v.Done {
		r.mu.Unlock()
		return
	}
	r.v.Polls = append(r.v.Polls, p)
	switch {
	case p.Err != "" && !r.sourceDown:
		r.sourceDown = true
		r.addEvent(Event{Time: p.Time, Kind: EventSourceError, Text: "node metrics failed: " + p.Err, Load: r.lastLoad()})
	case p.Err == "" && r.sourceDown:
		r.sourceDown = false
		r.addEvent(Event{Time: p.Time, Kind: EventSourceError, Text: "node metrics back", Load: r.lastLoad()})
	}
	for si := range p.Samples {
		s := &p.Samples[si]
		if s.Stale {
			continue
		}
		for k, th := range r.nodeThs {
			if (th.Node != "" && th.Node != s.Node) || (th.Role != "" && th.Role != s.Role) {
				continue
			}
			v, ok := s.Metric(th.Metric)
			if !ok {
				continue
			}
			r.stepNode(k, th, s, v)
		}
	}
	for pi := range p.Panels {
		r.stepPanel(p.Time, &p.Panels[pi], pi)
	}
	fns := r.changed()
	r.mu.Unlock()
	r.fire(fns)
}

// crossing is a sustained change of one series against its threshold:
// over (or back under) since at, when the value was val, with the load then.
type crossing struct {
	over     bool
	at       time.Time
	val      float64
	load     Load
	loadTime time.Time
}

// stepCross applies the sustain rule to one sample (at t, value v) of the
// series key against the threshold above. The value must stay over (or
// under) for the sustain time, measured from the first sample of the run to
// the end of the interval the latest sample stands for. ok is true when a
// crossing up or down has just become sustained; it is stamped at the
// run's first sample.
func (r *Recorder) stepCross(key crossKey, t time.Time, v, above float64) (c crossing, ok bool) {
	cs := r.cross[key]
	if cs == nil {
		cs = &crossState{}
		r.cross[key] = cs
	}
	if !cs.last.IsZero() && !t.After(cs.last) {
		return c, false // the same scrape seen again
	}
	var gap time.Duration
	if !cs.last.IsZero() {
		gap = min(t.Sub(cs.last), r.sustain)
	}
	cs.last = t
	over := v > above
	cs.near = !over && above > 0 && v >= nearFrac*above
	if over == cs.over {
		cs.runStart = time.Time{}
		return c, false
	}
	if cs.runStart.IsZero() {
		cs.runStart, cs.runVal = t, v
	}
	if t.Sub(cs.runStart)+gap < r.sustain {
		return c, false
	}
	cs.over = over
	c = crossing{over: over, at: cs.runStart, val: cs.runVal}
	cs.runStart = time.Time{}
	c.load, c.loadTime = r.loadTickAt(c.at)
	return c, true
}

// stepNode applies the sustain rule to one node sample.
func (r *Recorder) stepNode(k int, th scenarios.NodeThreshold, s *promquery.Sample, v float64) {
	c, ok := r.stepCross(crossKey{th: k, node: s.Node}, s.Time, v, th.Above)
	if !ok {
		return
	}
	at, val, load := c.at, c.val, c.load
	if c.over {
		sig := Signal{Kind: SignalNode, Node: s.Node, Metric: th.Metric, Value: Num(val), Threshold: Num(th.Above),
			Text: fmt.Sprintf("%s %s %s > %s", s.Node, th.Metric, fmtOver(th.Metric, val, th.Above), fmtNodeValue(th.Metric, th.Above))}
		r.addEvent(Event{Time: at, Kind: EventNodeOver, Node: s.Node, Metric: th.Metric, Value: val, Threshold: th.Above,
			Text: sig.Text + " — " + r.loadText(load), Load: load})
		r.violate(violation{at: at, load: load, loadTime: c.loadTime, signal: sig})
		return
	}
	r.addEvent(Event{Time: at, Kind: EventNodeClear, Node: s.Node, Metric: th.Metric, Value: val, Threshold: th.Above,
		Text: fmt.Sprintf("%s %s back under %s (%s) — %s", s.Node, th.Metric, fmtNodeValue(th.Metric, th.Above),
			fmtNodeValue(th.Metric, val), r.loadText(load)), Load: load})
}

// panelOf finds the scenario panel a polled panel value answers: the one
// at the same position (the sources poll them in scenario order), else the
// first with its title. k is -1 when there is none.
func (r *Recorder) panelOf(pv *promquery.PanelValue, i int) (k int, p *scenarios.Panel) {
	if i < len(r.panels) && r.panels[i].Title == pv.Title {
		return i, &r.panels[i]
	}
	for j := range r.panels {
		if r.panels[j].Title == pv.Title {
			return j, &r.panels[j]
		}
	}
	return -1, nil
}

// stepPanel applies a custom panel's threshold to each of its series, at
// the poll's time, like a node threshold. A failed query, a NaN or an
// infinite value says nothing either way.
func (r *Recorder) stepPanel(t time.Time, pv *promquery.PanelValue, i int) {
	k, pa := r.panelOf(pv, i)
	if pa == nil || pa.Above == nil || pv.Err != "" {
		return
	}
	above := *pa.Above
	for _, s := range pv.Series {
		if math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
			continue
		}
		c, ok := r.stepCross(crossKey{th: k, node: s.Labels, panel: true}, t, s.Value, above)
		if !ok {
			continue
		}
		name := pa.Title
		if len(pv.Series) > 1 {
			name += " " + s.Labels
		}
		at, val, load := c.at, c.val, c.load
		if c.over {
			sig := Signal{Kind: SignalPanel, Node: s.Labels, Metric: pa.Title, Value: Num(val), Threshold: Num(above),
				Text: fmt.Sprintf("%s %s > %s", name, fmtPanelOver(pa.Unit, val, above), fmtPanelValue(pa.Unit, above))}
			r.addEvent(Event{Time: at, Kind: EventPanelOver, Node: s.Labels, Metric: pa.Title, Value: val, Threshold: above,
				Text: sig.Text + " — " + r.loadText(load), Load: load})
			r.violate(violation{at: at, load: load, loadTime: c.loadTime, signal: sig})
			continue
		}
		r.addEvent(Event{Time: at, Kind: EventPanelClear, Node: s.Labels, Metric: pa.Title, Value: val, Threshold: above,
			Text: fmt.Sprintf("%s back under %s (%s) — %s", name, fmtPanelValue(pa.Unit, above),
				fmtPanelValue(pa.Unit, val), r.loadText(load)), Load: load})
	}
}

// violate records a sustained violation; the first one (before any abort)
// is the breakpoint.
func (r *Recorder) violate(v violation) {
	r.violations = append(r.violations, v)
	if r.bpFound || (!r.abortAt.IsZero() && !v.at.Before(r.abortAt)) {
		return
	}
	r.bpFound = true
	r.addEvent(Event{Time: v.at, Kind: EventBreakpoint, Node: v.signal.Node, Metric: v.signal.Metric,
		Value: float64(v.signal.Value), Threshold: float64(v.signal.Threshold),
		Text: "breakpoint: " + v.signal.Text + " — " + r.loadText(v.load), Load: v.load})
}

// changed bumps the version, refreshes the headline state and hands back
// the breakpoint callbacks that are now due (called after unlocking).
func (r *Recorder) changed() []func(Verdict) {
	r.v.Version++
	r.v.State = r.state()
	if r.bpFound && len(r.onBreak) > 0 {
		fns := r.onBreak
		r.onBreak = nil
		return fns
	}
	return nil
}

func (r *Recorder) fire(fns []func(Verdict)) {
	if len(fns) == 0 {
		return
	}
	v := r.Verdict()
	for _, fn := range fns {
		go fn(v)
	}
}

func (r *Recorder) state() State {
	if r.bpFound {
		return StateBreakpoint
	}
	for k := range r.slos {
		if s := &r.slos[k]; s.on || s.bad > 0 || s.near {
			return StateWarn
		}
	}
	for _, s := range r.rates {
		if s.on || s.bad > 0 {
			return StateWarn
		}
	}
	for _, c := range r.cross {
		if c.over || !c.runStart.IsZero() || c.near {
			return StateWarn
		}
	}
	return StateOK
}

// Note adds a user annotation.
func (r *Recorder) Note(who, text string, at time.Time) {
	r.mu.Lock()
	r.addEvent(Event{Time: at, Kind: EventNote, Who: who, Text: text, Load: r.loadAt(at)})
	r.changed()
	r.mu.Unlock()
}

// Control logs a control action (hold, resume, scale ×1.1, …) and who did it.
func (r *Recorder) Control(who, action string, at time.Time) {
	r.mu.Lock()
	text := action
	if who != "" {
		text += " by " + who
	}
	r.addEvent(Event{Time: at, Kind: EventControl, Who: who, Text: text, Load: r.loadAt(at)})
	r.changed()
	r.mu.Unlock()
}

// Abort logs that the run is being stopped early and why (a key, a signal,
// abort_on_breakpoint). Violations that start after it are logged but never
// become the breakpoint: they belong to the ramp-down.
func (r *Recorder) Abort(reason string, at time.Time) {
	r.mu.Lock()
	if r.abortAt.IsZero() {
		r.abortAt, r.abortWhy = at, reason
		r.addEvent(Event{Time: at, Kind: EventAbort, Text: "aborted: " + reason, Load: r.loadAt(at)})
		r.changed()
	}
	r.mu.Unlock()
}

// Finish closes the timeline at end; later ticks and polls are ignored.
// It waits for an autosave in flight, and no snapshot is written after it,
// so the final report written next (WriteFile or Save) is never replaced by
// an older snapshot.
func (r *Recorder) Finish(end time.Time) {
	r.saveMu.Lock()
	defer r.saveMu.Unlock()
	r.mu.Lock()
	if !r.v.Done {
		// The last window has no next one to share its edge with. A
		// breakpoint found here is in the verdict; the run is over, so no
		// OnBreakpoint callback reacts to it.
		r.flushRates(r.abortAt)
		r.v.Done, r.end = true, end
		r.changed()
	}
	r.mu.Unlock()
}

// Passed reports whether every threshold held over the whole run: exit code
// 0 when true, 99 when false.
func (r *Recorder) Passed() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, t := range r.thresholdResults() {
		if !t.OK {
			return false
		}
	}
	return true
}

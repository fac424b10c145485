// Package report owns a run's timeline — engine ticks, node polls, events —
// evaluates SLO and node thresholds as the run goes, finds the breakpoint,
// and writes, reads and compares JSON reports. It reads measure and scenarios
// types only (never engine or promquery, so no load or Prometheus client).
package report

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
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
	Ticks    []measure.Tick
	Polls    []measure.Poll
	Events   []Event
	// Failures is the run's failures table so far (FailureRow), most
	// frequent first.
	Failures []FailureRow
	// Final is the finished run's verdict and whole-run figures: nil
	// until Finish.
	Final *Final
	State State
	Done  bool
	// Search is brink find's state (nil for other runs).
	Search *Search
	// Version counts changes, so a console can skip redrawing when nothing
	// changed.
	Version uint64
	// Agents is the generators' health now, for a run sent by several
	// (Options.Agents); nil for one process.
	Agents func() []measure.Agent
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
	// GeneratorBottleneck judges whether brink itself was the bottleneck
	// in a window (its own stall or CPU): such a window is never the
	// breakpoint, and a first signal there leaves the run inconclusive.
	// Nil: no window is.
	GeneratorBottleneck func(t *measure.Tick) bool
	// Agents, for a run sent by several generators, is their health now
	// (report.agents[]); nil for one process.
	Agents func() []measure.Agent
	// Find: the run is brink find's, whose plan is a placeholder the
	// search overrides: no stage events ("stage 1/1: probe to 0 users
	// over 4m0s" said what was not so).
	Find bool
}

// Recorder owns the timeline. Writers (engine tick callback, node poller,
// consoles adding notes) and many readers (consoles, the report writer) may
// use it concurrently.
type Recorder struct {
	mu sync.RWMutex
	v  View

	genOver bool // the last window's generator was overloaded

	opts    Options
	sustain time.Duration
	window  time.Duration // nominal window length
	need    int           // consecutive windows for a sustained SLO or rate violation
	// openOnly: every group is arrival-rate, so load is measured in rate,
	// not VUs.
	openOnly bool
	longest  int // index of the longest group (its stages name the stage)

	slos    []sloDetector
	nodeThs []scenarios.NodeThreshold
	panels  []scenarios.Panel // scenario nodes.panels
	panelTh int               // how many of them have a threshold (above)
	cross   map[crossKey]*crossDetector
	rates   map[string]*rateDetector
	run     runAcc
	// wins[i] is what the detectors said of tick i.
	wins []winInfo
	// nodeSeen[k]: node threshold k judged a sample under load;
	// nodePreSeen[k]: it had one before the load.
	nodeSeen, nodePreSeen []bool
	// loadStart is when the first VU started: zero until the first
	// window says so.
	loadStart time.Time
	// early indexes the polls that came before the first window, judged
	// when it comes.
	early []int
	// baseline is the node poll taken before any load (nil: none).
	baseline *measure.Poll
	// pendingLoads are crossings in a window that has not ended yet.
	pendingLoads []pendingLoad
	violations   []violation
	bpFound      bool
	onBreak      []func(Verdict)
	sourceDown   bool
	abortAt      time.Time
	abortWhy     string
	end          time.Time
	scratch      snapAcc

	search *Search // brink find's state (SetSearch); nil for other runs

	saveMu     sync.Mutex // orders autosaves before the final save
	finalSaved bool
}

// NewRecorder starts an empty timeline for sc, started at start.
func NewRecorder(sc *scenarios.Scenario, start time.Time, opts Options) *Recorder {
	r := &Recorder{opts: opts, cross: map[crossKey]*crossDetector{}, rates: map[string]*rateDetector{}}
	r.v = View{Scenario: sc, Start: start, State: StateOK, Agents: opts.Agents}
	r.run.endpoints = map[string]*endpointAcc{}
	r.run.groups = map[string]*groupAcc{}
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
			r.slos = append(r.slos, sloDetector{th: th})
		}
		r.slos = append(r.slos, defaultSLOs(sc.Thresholds)...)
		if sc.Nodes != nil {
			r.nodeThs = sc.Nodes.Thresholds
			r.nodeSeen = make([]bool, len(r.nodeThs))
			r.nodePreSeen = make([]bool, len(r.nodeThs))
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

// defaultFailure are the failure thresholds brink applies when a scenario
// sets none on the metric: most requests (or WebSocket sessions) failing is
// never a pass.
var defaultFailure = []struct{ metric, expr string }{{"http_req_failed", "rate<5%"}, {"ws_failed", "rate<5%"}}

// defaultSLOs are the default failure thresholds the scenario's own
// thresholds (ths) leave unset: a threshold on the metric, with any tag,
// is the scenario's choice.
func defaultSLOs(ths []scenarios.Threshold) []sloDetector {
	var out []sloDetector
	for _, d := range defaultFailure {
		set := false
		for _, th := range ths {
			set = set || th.Metric == d.metric
		}
		if set {
			continue
		}
		th, err := scenarios.ParseThreshold(d.metric, d.expr)
		if err != nil {
			panic("report: bad default threshold: " + err.Error()) // a constant above
		}
		out = append(out, sloDetector{th: th, dflt: true})
	}
	return out
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
func tickLoad(t *measure.Tick) Load {
	return Load{VUs: tickUsers(t), TargetVUs: t.TargetVUs, TargetRate: t.TargetRate, RPS: t.RPS(),
		P95: t.Latency.P95, P95Ms: ms(t.Latency.P95), ErrorRate: t.ErrorRate(), Groups: groupLoads(t)}
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

// loadText is the load as an event's tail: "630 users (210 browse + 210
// chat + 210 search) + 70/s writes, 1840 rps, p95 212 ms".
func (r *Recorder) loadText(l Load) string {
	var b strings.Builder
	if r.openOnly && l.TargetRate > 0 && len(l.Groups) == 0 {
		fmt.Fprintf(&b, "%s/s target, ", trimFloat(l.TargetRate, 1))
	} else {
		b.WriteString(l.words() + ", ")
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
func (r *Recorder) AddTick(t measure.Tick) {
	r.mu.Lock()
	if r.v.Done {
		r.mu.Unlock()
		return
	}
	// Own copies: the previous tick's histograms are dropped below, and the
	// engine's slices must not be written.
	t.Endpoints = slices.Clone(t.Endpoints)
	t.Failures = slices.Clone(t.Failures)
	t.Groups = slices.Clone(t.Groups)
	t.Errors = maps.Clone(t.Errors)
	t.WS.Errors = maps.Clone(t.WS.Errors)
	i := len(r.v.Ticks)
	r.v.Ticks = append(r.v.Ticks, t)
	tp := &r.v.Ticks[i]
	stalled := r.opts.GeneratorBottleneck != nil && r.opts.GeneratorBottleneck(tp)
	r.fold(tp, stalled)
	r.run.failures.add(tp.Failures)
	r.v.Failures = r.run.failures.table()
	if i == 0 {
		r.startLoad(tp)
	}
	r.resolveLoads(tp)
	if i >= keepEndpoints {
		// Per-endpoint rows are folded into the whole-run endpoints; only
		// recent windows need them (hotspots).
		r.v.Ticks[i-keepEndpoints].Endpoints = nil
		r.v.Ticks[i-keepEndpoints].Failures = nil // whole run in View.Failures
	}
	if i == 0 {
		r.stageEvent(tp)
	} else {
		prev := &r.v.Ticks[i-1]
		prev.Hist, prev.ServiceHist = nil, nil
		prev.WS.ConnectHist, prev.WS.ReplyHist, prev.WS.SessionHist = nil, nil, nil
		for j := range prev.Endpoints {
			prev.Endpoints[j].Hist = nil
		}
		if tp.Stage != prev.Stage {
			r.stageEvent(tp)
		}
	}
	r.genHealth(tp)
	r.wins = append(r.wins, winInfo{genBottleneck: stalled})
	r.wins[i].held = r.evalSLOs(i, tp)
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

func (r *Recorder) stageEvent(t *measure.Tick) {
	if r.opts.Find {
		return
	}
	text := fmt.Sprintf("stage %d", t.Stage+1)
	if sc := r.v.Scenario; sc != nil && r.longest < len(sc.Groups) {
		if n := len(sc.Groups[r.longest].Stages); t.Stage >= 0 && t.Stage < n {
			text = fmt.Sprintf("stage %d/%d: %s", t.Stage+1, n, stageTargets(sc, r.longest, t))
		}
	}
	r.addEvent(Event{Time: t.Time, Kind: EventStage, Text: text, Load: tickLoad(t)})
}

// stageTargets says where every group is heading at the tick, after the
// +/- scale: "browse to 880 users (800 ×1.1) over 5m, writes to 300/s over
// 6m". Each group's stage is found on the stage clock (run time less the
// time on hold, from the tick's planned length).
func stageTargets(sc *scenarios.Scenario, longest int, t *measure.Tick) string {
	clock := t.Elapsed
	if t.Planned > 0 {
		clock -= max(t.Planned-sc.Duration(), 0)
	}
	scale := t.Scale
	if scale <= 0 {
		scale = 1
	}
	var parts []string
	for gi, g := range sc.Groups {
		var at time.Duration
		for si, st := range g.Stages {
			// The longest group's stage is the tick's own.
			if at += st.Duration; gi == longest && si < t.Stage || gi != longest && clock >= at && at < groupLen(g) {
				continue
			}
			unit := " users"
			if g.Executor == scenarios.RampingArrivalRate {
				unit = "/s"
			}
			target := trimFloat(st.Target*scale, 1) + unit
			if scale != 1 {
				target += " (" + trimFloat(st.Target, 1) + " ×" + trimFloat(scale, 2) + ")"
			}
			parts = append(parts, fmt.Sprintf("%s to %s over %s", g.Name, target, st.Duration))
			break
		}
	}
	return strings.Join(parts, ", ")
}

func groupLen(g scenarios.Group) time.Duration {
	var d time.Duration
	for _, st := range g.Stages {
		d += st.Duration
	}
	return d
}

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
		if s := &r.slos[k]; s.warn() || s.near {
			return StateWarn
		}
	}
	for _, s := range r.rates {
		if s.warn() {
			return StateWarn
		}
	}
	for _, c := range r.cross {
		if c.warn() {
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
		r.resolveLoads(nil)
		r.v.Done, r.end = true, end
		r.v.Final = r.final()
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
		if t.Failed() {
			return false
		}
	}
	return len(r.failures()) == 0
}

// userSLOs counts the scenario's own SLO thresholds (defaults aside).
func (r *Recorder) userSLOs() int {
	n := 0
	for i := range r.slos {
		if !r.slos[i].dflt {
			n++
		}
	}
	return n
}

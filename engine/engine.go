package engine

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
)

// Options tune an Engine beyond what the scenario says.
type Options struct {
	// OnTick receives one Tick per window from the engine's ticker
	// goroutine, and a final partial one at the end. It must be quick.
	OnTick func(measure.Tick)
	// Logf reports rare events (a group that cannot start, a late tick);
	// never called per request.
	Logf func(format string, args ...any)
	// DialTimeout bounds TCP connect (+ TLS handshake for net/http);
	// default 10 s, never more than the group's request timeout.
	DialTimeout time.Duration
	// GracefulStop is how long VUs may finish their iteration after the
	// stages end or Stop is called, before in-flight requests are cut
	// (default 30 s, k6's gracefulStop). Think time is not waited out, and
	// WebSocket VUs, which have no iteration, close at once (a close
	// frame, the socket cut 1 s later if the server does not answer).
	GracefulStop time.Duration
	// InsecureSkipVerify accepts any TLS certificate (self-signed targets).
	InsecureSkipVerify bool
	// OnPanic, when set, receives a panic from any engine goroutine
	// (including OnTick) instead of crashing the process, so the caller
	// can save the run before it exits. The engine is not usable after.
	OnPanic func(v any, stack []byte)
	// Segment runs only this generator's share of the scenario; the zero
	// value runs all of it.
	Segment Segment
}

const (
	defaultDialTimeout  = 10 * time.Second
	defaultGracefulStop = 30 * time.Second
	rampEvery           = 50 * time.Millisecond // closed-model VU target refresh
)

// Engine runs one scenario. Create with New, start with Run, steer through
// the Control methods from any goroutine.
type Engine struct {
	sc     *scenarios.Scenario
	opts   Options
	window time.Duration
	groups []*group
	eps    []*endpoint // all groups' requests, indexed by endpoint id
	// rows are the endpoint ids of each (group, request name), in order:
	// one Tick.Endpoints row each, so entries that share a name cost one
	// row and one histogram snapshot per window, not one each.
	rows   [][]int
	rec    *recorder
	tlsCfg *tls.Config
	nextVU atomic.Int64
	wsOpen atomic.Int64 // WebSocket connections open now

	// Control state, under mu.
	mu        sync.Mutex
	once      *RunOnce // Run once, Stop waits for it
	start     time.Time
	held      bool
	heldSince time.Duration // run time when Hold was pressed
	heldTotal time.Duration
	scale     float64
	overrides map[string]float64

	stopping atomic.Bool   // no more VUs or arrivals start
	rampWake chan struct{} // nudges the closed-model ramp after a control change

	// mono is the origin of clock: set once in New, read without a lock.
	mono time.Time

	vuCtx    context.Context // cancelled to cut in-flight requests
	vuCancel context.CancelFunc
	vuWG     sync.WaitGroup
}

// endpoint is one request of a group, with its static parts pre-rendered.
type endpoint struct {
	id    int
	group *group
	req   *scenarios.Request
	name  string
	// Pre-rendered when the template is static (nil otherwise).
	url, body []byte
	// A static url's scheme://host[:port] (splitURL's key), split once.
	key   []byte
	isTLS bool
	// fixed: url, headers and body are all static, so the request's bytes
	// are the same every time while the VU has no cookie to send; wire holds
	// them once a VU has serialised them (http.go's doFast).
	fixed bool
	wire  atomic.Pointer[[]byte]
	chk   *checker // the request's check, compiled (nil: none)
	// Flows (flows.go): the variable slots the request renders, what it
	// extracts, and whether that needs the body kept.
	needs    []int
	extracts []extractor
	needBody bool
}

// group is a scenario group at run time.
type group struct {
	idx    int // the scenario group's index (shared by a websocket twin)
	cfg    *scenarios.Group
	isWS   bool // VUs hold the group's websocket (else they loop its requests)
	twin   bool // the websocket half of a group that also has requests
	sch    Schedule
	dur    time.Duration
	open   bool
	eps    []*endpoint
	cum    []float64 // pick: weighted: running sums of eps' weights (nil: each iteration runs all eps)
	maxVUs int
	pre    int

	timeout time.Duration
	maxBody int // bytes of one response body (or WebSocket message) read at most

	setupEps []*endpoint // run once by each VU when it starts
	data     *dataFeed   // the group's data file, nil without one
	// secretVars are the variable slots whose values failures hide.
	secretVars []int
	// literalSecrets are credentials written in the scenario (by their
	// syntax), which failures hide too.
	literalSecrets []string

	mu       sync.Mutex
	target   int           // closed: VU target
	alive    []bool        // closed: which VU slots run
	nvus     int           // open: VUs started
	warned   bool          // open: told Logf that max VUs was reached
	seg      segCounter    // closed: this segment's share of the target (ramp goroutine only)
	slots    slotMap       // this segment's VU slots → the whole run's
	finished bool          // closed: stages over, target pinned at 0
	shrink   chan struct{} // closed: closed and replaced when the target drops
	ws       []*wsSess     // closed WebSocket groups: each slot's live connection

	targetN  atomic.Int64  // closed: copy of target for the VUs' lock-free check
	active   atomic.Int64  // VUs running
	busy     atomic.Int64  // open: VUs in an iteration
	rateBits atomic.Uint64 // open: current target rate (float64 bits), for ticks
	pace     pace          // open: under Engine.mu
	idle     chan *vu      // open: free VUs
	quit     chan struct{} // open: closed when arrivals end
	notify   chan struct{} // open: control changed, re-read pace
}

// New checks the scenario can run and prepares the groups. It starts
// nothing.
func New(sc *scenarios.Scenario, opts Options) (*Engine, error) {
	if sc == nil || len(sc.Groups) == 0 {
		return nil, errors.New("engine: scenario has no groups")
	}
	opts, err := withDefaults(opts)
	if err != nil {
		return nil, err
	}
	e := &Engine{
		sc:        sc,
		opts:      opts,
		window:    sc.Window,
		scale:     1,
		overrides: map[string]float64{},
		rampWake:  make(chan struct{}, 1),
		mono:      time.Now(),
		tlsCfg:    &tls.Config{InsecureSkipVerify: opts.InsecureSkipVerify}, //nolint:gosec // opt-in for self-signed targets
	}
	e.once = NewRunOnce(&e.mu)
	if e.window <= 0 {
		e.window = scenarios.DefaultWindow
	}
	withWS := false
	seen := map[string]bool{}
	for i := range sc.Groups {
		gc := &sc.Groups[i]
		if seen[gc.Name] {
			return nil, fmt.Errorf("engine: group %q appears twice", gc.Name)
		}
		seen[gc.Name] = true
		g, err := newGroup(i, gc)
		if err != nil {
			return nil, err
		}
		withWS = withWS || gc.WebSocket != nil
		if err := e.addEndpoints(g); err != nil {
			return nil, err
		}
		if g.open {
			g.sizeOpen(opts.Segment)
		}
		e.warnSharedRows(g)
		e.groups = append(e.groups, g)
		if gc.WebSocket != nil && !g.isWS {
			// Requests and a websocket: each VU slot is two goroutines, one
			// looping the requests and one holding the connection, on the
			// same stages and target (a chat user browsing while chatting).
			// The twin shares the group's index, so its counts land in the
			// same GroupStats.
			twin := &group{idx: i, cfg: gc, sch: g.sch, dur: g.dur, timeout: g.timeout, maxBody: g.maxBody, isWS: true, twin: true,
				setupEps: g.setupEps, data: g.data}
			e.groups = append(e.groups, twin)
		}
	}
	e.rec = newRecorder(shardCount(), len(e.eps), len(sc.Groups), withWS)
	e.buildRows()
	return e, nil
}

// withDefaults fills the options left zero and checks the segment, so New
// reads as the scenario's checks alone.
func withDefaults(opts Options) (Options, error) {
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = defaultDialTimeout
	}
	if opts.GracefulStop <= 0 {
		opts.GracefulStop = defaultGracefulStop
	}
	if err := opts.Segment.validate(); err != nil {
		return opts, err
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	return opts, nil
}

// newGroup checks one group's executor and websocket and builds its run-time
// form (without endpoints), so each group's rules sit in one place.
func newGroup(i int, gc *scenarios.Group) (*group, error) {
	g := &group{idx: i, cfg: gc, sch: NewSchedule(gc), timeout: gc.Timeout}
	g.dur = g.sch.Duration()
	if g.timeout <= 0 {
		g.timeout = scenarios.DefaultTimeout
	}
	g.maxBody = int(min(gc.MaxBody, scenarios.MaxMaxBody))
	if g.maxBody <= 0 {
		g.maxBody = scenarios.DefaultMaxBody
	}
	switch gc.Executor {
	case scenarios.RampingVUs, "":
	case scenarios.RampingArrivalRate:
		g.open = true
	default:
		return nil, fmt.Errorf("engine: group %q: unknown executor %q", gc.Name, gc.Executor)
	}
	if len(gc.Requests) == 0 && gc.WebSocket == nil {
		return nil, fmt.Errorf("engine: group %q has neither requests nor websocket", gc.Name)
	}
	if gc.WebSocket != nil {
		if g.open {
			return nil, fmt.Errorf("engine: group %q: websocket groups need executor ramping-vus", gc.Name)
		}
		if gc.WebSocket.URL == nil {
			return nil, fmt.Errorf("engine: group %q: websocket has no url", gc.Name)
		}
		g.isWS = len(gc.Requests) == 0
	}
	return g, nil
}

// addEndpoints pre-renders g's setup and requests into endpoints numbered
// across the whole engine, so the hot path never renders a static part
// twice.
func (e *Engine) addEndpoints(g *group) error {
	gc := g.cfg
	var err error
	if g.data, err = newDataFeed(gc); err != nil {
		return fmt.Errorf("engine: group %q: %w", gc.Name, err)
	}
	g.secretVars = gc.SecretVars()
	g.literalSecrets = gc.LiteralSecrets()
	for j := range gc.Setup {
		ep, err := e.addEndpoint(g, &gc.Setup[j], j)
		if err != nil {
			return err
		}
		g.setupEps = append(g.setupEps, ep)
	}
	for j := range gc.Requests {
		r := &gc.Requests[j]
		ep, err := e.addEndpoint(g, r, j)
		if err != nil {
			return err
		}
		g.eps = append(g.eps, ep)
		if gc.Pick == scenarios.PickWeighted {
			w := 1.0
			if r.Weight != nil {
				w = *r.Weight
			}
			if !(w > 0) || math.IsInf(w, 0) {
				return fmt.Errorf("engine: group %q: request %q: weight must be > 0, got %v", gc.Name, ep.name, w)
			}
			g.cum = append(g.cum, w+sum(g.cum))
		}
	}
	return nil
}

func sum(cum []float64) float64 {
	if len(cum) == 0 {
		return 0
	}
	return cum[len(cum)-1]
}

// pick is the index of the request a weighted iteration runs, given u
// uniform in [0, 1): each request's chance is its weight's share.
func (g *group) pick(u float64) int {
	x := u * g.cum[len(g.cum)-1]
	i, _ := slices.BinarySearch(g.cum, x)
	if i < len(g.cum) && g.cum[i] == x {
		i++ // x at a running sum belongs to the next request
	}
	return min(i, len(g.cum)-1)
}

func (e *Engine) addEndpoint(g *group, r *scenarios.Request, j int) (*endpoint, error) {
	gc := g.cfg
	if r.URL == nil {
		return nil, fmt.Errorf("engine: group %q: request %d has no url", gc.Name, j+1)
	}
	ep := &endpoint{id: len(e.eps), group: g, req: r, name: r.Name}
	if ep.name == "" {
		ep.name = r.Method + " " + r.URL.Source()
	}
	if r.URL.Static() {
		ep.url = r.URL.Append(nil, nil)
		key, isTLS, err := splitURL(ep.url)
		if err != nil {
			return nil, fmt.Errorf("engine: group %q: request %q: %w", gc.Name, ep.name, err)
		}
		ep.key, ep.isTLS = key, isTLS
	}
	if r.Body != nil && r.Body.Static() {
		ep.body = r.Body.Append(nil, nil)
	}
	ep.fixed = ep.url != nil && (r.Body == nil || ep.body != nil) &&
		!slices.ContainsFunc(r.Headers, func(h scenarios.Header) bool { return !h.Value.Static() })
	if c := r.Check; c != nil && (len(c.Header) > scenarios.MaxChecksEach || len(c.JSON) > scenarios.MaxChecksEach) {
		return nil, fmt.Errorf("engine: group %q: request %q: more than %d header or json checks", gc.Name, ep.name, scenarios.MaxChecksEach)
	}
	ep.chk = newChecker(r.Check)
	if err := ep.flows(r); err != nil {
		return nil, fmt.Errorf("engine: group %q: request %q: %w", gc.Name, ep.name, err)
	}
	e.eps = append(e.eps, ep)
	return ep, nil
}

// sizeOpen sets an open group's VU budget (pre-allocated and max) for this
// segment and makes its channels, so the pacer never sizes anything at run time.
func (g *group) sizeOpen(seg Segment) {
	gc := g.cfg
	peak := g.sch.Start
	for _, st := range g.sch.Stages {
		peak = math.Max(peak, st.Target)
	}
	// A validated scenario has both set; one built in code gets
	// Validate's defaults (negative counts as unset here).
	g.pre, g.maxVUs = scenarios.OpenVUs(peak, max(gc.PreAllocatedVUs, 0), max(gc.MaxVUs, 0))
	if !seg.whole() {
		// This generator's share of the VU budget, as k6 splits it.
		w := seg.To - seg.From
		g.maxVUs = max(1, int(math.Ceil(float64(g.maxVUs)*w)))
		g.pre = max(1, int(math.Ceil(float64(g.pre)*w)))
	}
	g.pre = min(g.pre, g.maxVUs)
	g.idle = make(chan *vu, g.maxVUs)
	g.quit = make(chan struct{})
	g.notify = make(chan struct{}, 1)
}

// buildRows groups endpoint ids by (group, name), so requests sharing a name
// show as one row in a Tick.
func (e *Engine) buildRows() {
	row := make(map[[2]string]int, len(e.eps))
	for _, ep := range e.eps {
		k := [2]string{ep.group.cfg.Name, ep.name}
		i, ok := row[k]
		if !ok {
			i = len(e.rows)
			row[k] = i
			e.rows = append(e.rows, nil)
		}
		e.rows[i] = append(e.rows[i], ep.id)
	}
}

// Planned is the run's planned length: the longest group's stages plus the
// time spent on hold so far.
func (e *Engine) Planned() time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	d := e.sc.Duration() + e.heldTotal
	if e.held && e.once.Running() {
		d += time.Since(e.start) - e.heldSince
	}
	return d
}

// stageTimeLocked is the stage clock at run time w: run time minus the
// time spent on hold. e.mu must be held.
func (e *Engine) stageTimeLocked(w time.Duration) time.Duration {
	st := w - e.heldTotal
	if e.held {
		st = e.heldSince - e.heldTotal
	}
	return st
}

func (e *Engine) sinceStart() time.Duration { return time.Since(e.start) }

// clock is the monotonic time since New: one clock read, where time.Now
// reads the wall clock too. A request's timings are differences of these
// readings, as time.Time's Sub takes them from the monotonic clock alone.
func (e *Engine) clock() time.Duration { return time.Since(e.mono) }

// segWidth is this generator's share of the whole run.
func (e *Engine) segWidth() float64 {
	if e.opts.Segment.whole() {
		return 1
	}
	return e.opts.Segment.To - e.opts.Segment.From
}

// Run starts the load and blocks until every group's stages have ended, ctx
// is cancelled (in-flight requests are cut at once) or Stop is called
// (VUs finish their iteration). It returns after every goroutine it started
// has ended and the final partial Tick was delivered.
func (e *Engine) Run(ctx context.Context) error {
	e.mu.Lock()
	if err := e.once.Begin("engine"); err != nil {
		e.mu.Unlock()
		return err
	}
	e.start = time.Now()
	e.vuCtx, e.vuCancel = context.WithCancel(context.Background())
	for _, g := range e.groups {
		if g.open {
			g.pace = e.paceLocked(g, 0)
			g.rateBits.Store(math.Float64bits(g.pace.rate0(g.sch) * e.segWidth()))
		}
	}
	e.mu.Unlock()
	defer e.once.End()
	defer e.vuCancel()

	tickStop := make(chan struct{})
	tickDone := make(chan struct{})
	go func() { defer e.guard(); e.ticker(tickStop, tickDone) }()

	// The drivers: one ramp for all closed groups, one pacer per open group.
	var drivers sync.WaitGroup
	drivers.Add(1)
	go func() { defer drivers.Done(); defer e.guard(); e.ramp() }()
	for _, g := range e.groups {
		if g.open {
			for range g.pre {
				e.spawnOpen(g, time.Time{})
			}
			drivers.Add(1)
			go func() { defer drivers.Done(); defer e.guard(); e.arrivals(g) }()
		}
	}
	driversDone := make(chan struct{})
	go func() { drivers.Wait(); close(driversDone) }()

	hard := false
	select {
	case <-driversDone:
	case <-e.once.Stopping():
	case <-ctx.Done():
		hard = true
	}
	e.stopping.Store(true)
	e.wakeAll()
	if hard {
		e.vuCancel()
	}
	<-driversDone
	// Drivers are gone, so no VU starts any more: release idle open VUs.
	for _, g := range e.groups {
		if g.open {
			close(g.quit)
		}
	}
	vusDone := make(chan struct{})
	go func() { e.vuWG.Wait(); close(vusDone) }()
	grace := time.NewTimer(e.opts.GracefulStop)
	select {
	case <-vusDone:
	case <-grace.C:
		e.opts.Logf("engine: graceful stop timed out after %s, cutting in-flight requests", e.opts.GracefulStop)
		e.vuCancel()
		<-vusDone
	case <-ctx.Done():
		e.vuCancel()
		<-vusDone
	}
	grace.Stop()
	close(tickStop)
	<-tickDone
	if hard {
		return ctx.Err()
	}
	return nil
}

// wakeAll nudges every driver to re-read the control state.
func (e *Engine) wakeAll() {
	select {
	case e.rampWake <- struct{}{}:
	default:
	}
	for _, g := range e.groups {
		if g.open {
			select {
			case g.notify <- struct{}{}:
			default:
			}
		}
	}
}

// ramp keeps each closed group's VU count on its target.
func (e *Engine) ramp() {
	t := time.NewTicker(rampEvery)
	defer t.Stop()
	for {
		live := 0
		e.mu.Lock()
		st := e.stageTimeLocked(e.sinceStart())
		for _, g := range e.groups {
			if g.open {
				continue
			}
			n := 0
			over := st >= g.dur || e.stopping.Load()
			if !over {
				n = e.closedTargetLocked(g, st)
				live++
			}
			g.setTarget(e, n, over)
		}
		e.mu.Unlock()
		if live == 0 {
			return
		}
		select {
		case <-t.C:
		case <-e.rampWake:
		}
	}
}

// closedTargetLocked is a closed group's VU target for this generator:
// the whole run's target under the controls, then this segment's share.
func (e *Engine) closedTargetLocked(g *group, st time.Duration) int {
	var n int
	if v, ok := e.overrides[g.cfg.Name]; ok {
		n = max(0, int(math.Floor(v+1e-9)))
	} else {
		v, _ := g.sch.At(st)
		n = max(0, int(math.Floor(v*e.scale+1e-9)))
	}
	return int(g.seg.count(e.opts.Segment, int64(n)))
}

// setTarget moves a closed group to n VUs: missing slots start a VU; VUs
// above n notice at their next iteration and leave (graceful ramp-down).
func (g *group) setTarget(e *Engine, n int, finished bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.finished {
		return
	}
	g.finished = finished
	shrunk := n < g.target
	g.target = n
	g.targetN.Store(int64(n))
	// Wake idle VUs only after the new target is visible to their
	// lock-free check, or one could re-arm on a fresh channel and stay.
	if shrunk && g.shrink != nil {
		close(g.shrink)
		g.shrink = nil
	}
	if shrunk {
		for i := n; i < len(g.ws); i++ {
			if s := g.ws[i]; s != nil {
				s.kick()
			}
		}
	}
	for len(g.alive) < n {
		g.alive = append(g.alive, false)
	}
	if e.stopping.Load() {
		return
	}
	for i := 0; i < n; i++ {
		if !g.alive[i] {
			g.alive[i] = true
			v := e.newVU(g, i)
			e.vuWG.Add(1)
			if g.isWS {
				go func() { defer e.guard(); v.runWS() }()
			} else {
				go func() { defer e.guard(); v.runClosed() }()
			}
		}
	}
}

// keep reports whether closed-model VU slot idx should run another
// iteration; when not, it frees the slot under the group lock so the ramp
// never sees a slot both leaving and alive.
func (g *group) keep(idx int) bool {
	if int64(idx) < g.targetN.Load() {
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if idx < g.target {
		return true
	}
	g.alive[idx] = false
	return false
}

// leaveChan returns a channel that is ready once slot idx is no longer
// wanted, so a VU in think time or a reconnect backoff notices a ramp-down
// without polling: ready at once if the target is already at or below
// idx, else closed when the target next drops. The check is under the
// group lock, so a drop between the VU's last keep and this call (during
// its request or handshake, or at the stages' end, after which the target
// never drops again) is not missed.
func (g *group) leaveChan(idx int) <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if idx >= g.target {
		return closedChan
	}
	if g.shrink == nil {
		g.shrink = make(chan struct{})
	}
	return g.shrink
}

// closedChan is always ready.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

func (g *group) leave(idx int) {
	g.mu.Lock()
	g.alive[idx] = false
	g.mu.Unlock()
}

// Stop ramps down gracefully (VUs finish their iteration, within
// Options.GracefulStop) and returns when every goroutine the engine started
// has ended. Safe to call more than once, and before or without Run.
func (e *Engine) Stop() { e.once.Stop() }

var _ Control = (*Engine)(nil)

func (e *Engine) dialTimeout(g *group) time.Duration {
	return min(e.opts.DialTimeout, g.timeout)
}

// guard hands a panic in an engine goroutine to Options.OnPanic; without
// one it re-panics, as if unguarded.
func (e *Engine) guard() {
	if p := recover(); p != nil {
		if e.opts.OnPanic == nil {
			panic(p)
		}
		e.opts.OnPanic(p, debug.Stack())
	}
}

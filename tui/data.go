package tui

import (
	"math"
	"sort"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/report"
	"github.com/brink-load/brink/scenarios"
	"github.com/brink-load/brink/termtext"
)

// point is one engine window reduced to what the charts draw.
type point struct {
	t             time.Time
	p50, p95, p99 float64 // ms
	rps, errps    float64
	vus           float64
}

// nodeMetrics are the node panel's columns, in order, and metricTitles
// their titles: the node-metric table's metrics that name a column.
var nodeMetrics, metricTitles = nodeColumns()

// nodeColumns reads the columns from measure.NodeMetrics. The panel's
// widths are laid out for len5 columns, so another count is a build
// mistake that every tui test reports.
func nodeColumns() (names []string, titles [len5]string) {
	for _, m := range measure.NodeMetrics {
		if m.Column == "" {
			continue
		}
		if len(names) == len5 {
			panic("tui: the node-metric table names more than len5 columns")
		}
		titles[len(names)] = m.Column
		names = append(names, m.Name)
	}
	if len(names) != len5 {
		panic("tui: the node-metric table names fewer than len5 columns")
	}
	return names, titles
}

const (
	sparkLen  = 256 // samples kept per node metric for its sparkline
	sparkSpan = 120 // newest samples a sparkline spans (2 min at 1 s polls)
)

// ring is a fixed-size history for one sparkline.
type ring struct {
	v    [sparkLen]float64
	n, i int
}

func (r *ring) push(f float64) {
	r.v[r.i] = f
	r.i = (r.i + 1) % sparkLen
	if r.n < sparkLen {
		r.n++
	}
}

// columns reduces up to span newest values to at most cols values, oldest
// first, each the maximum of its bucket so a short peak stays visible.
func (r *ring) columns(cols, span int, dst []float64) []float64 {
	dst = dst[:0]
	k := min(span, r.n)
	if cols <= 0 || k == 0 {
		return dst
	}
	per := max(1, (k+cols-1)/cols)
	k -= k % per // whole buckets only, ending at the newest value
	if k == 0 {
		k = min(per, r.n)
	}
	for j := k; j > 0; j -= per {
		m := math.Inf(-1)
		for q := j; q > j-per && q > 0; q-- {
			m = max(m, r.v[(r.i-q+sparkLen)%sparkLen])
		}
		dst = append(dst, m)
	}
	return dst
}

// node is one watched node as the console knows it.
type node struct {
	s     measure.Sample
	hist  [len5]ring
	limit [len5]float64 // threshold per metric column; 0 = none
}

const len5 = 5 // len(nodeMetrics), as a constant for array sizes

// level is a threshold state, always drawn with a symbol as well as a colour.
type level int

const (
	levelNone level = iota // no threshold for this metric
	levelOK
	levelNear // ≥ 80 % of the threshold
	levelOver
)

func levelOf(v, limit float64) level {
	switch {
	case limit <= 0 || math.IsNaN(v):
		return levelNone
	case v > limit:
		return levelOver
	case v >= 0.8*limit:
		return levelNear
	}
	return levelOK
}

// worst is the node's worst metric level.
func (n *node) worst() level {
	w := levelNone
	for i, m := range nodeMetrics {
		v, _ := n.s.Metric(m)
		if l := levelOf(v, n.limit[i]); l > w {
			w = l
		}
	}
	return w
}

// endpoint is a hotspot row: several recent windows of one endpoint merged.
type endpoint struct {
	group, name string
	requests    int64
	errors      int64
	mean, p95   time.Duration
	wait        time.Duration // count × mean: the hotspot weight
}

const hotspotWindows = 10 // latest ticks merged into the hotspot table

const wsRecentWindows = 5 // latest ticks the header's ws_failed spans

// data is the console's own copy of the run, filled from report.View under
// the recorder's read lock. It only appends what is new since last time, so
// an ingest costs what changed, not the run's length.
type data struct {
	agents   []measure.Agent // a fleet run's generators (nil for one process)
	version  uint64
	seen     bool
	scenario *scenarios.Scenario
	start    time.Time
	state    report.State
	done     bool

	points []point
	last   measure.Tick // newest tick (maps and slices not retained)
	nTicks int

	nodes   map[string]*node
	panels  []*panel // custom panels, in order of first appearance
	nPolls  int
	polled  time.Time
	pollErr string

	events  []report.Event
	nEvents int

	hot        []endpoint
	errTotal   map[measure.ErrorKind]int64
	errRecent  map[measure.ErrorKind]int64 // newest tick
	failures   []report.FailureRow         // whole run, most frequent first (cleaned)
	final      *final                      // the finished run's verdict (nil while running)
	totalReqs  int64
	dropped    int64
	stage      int
	held       bool
	heldFrom   time.Time // start of the window the current hold began in
	lastWindow time.Duration

	// WebSocket: whether the run has sessions, and ws_failed over the
	// newest wsRecentWindows (one window of long-lived sessions often has
	// no outcome, and a refused server's reconnects back off).
	ws                  bool
	wsFailed, wsOutcome int64

	// find is brink find's phase and bracket in a few words ("" for
	// other runs).
	find string

	// groups is the newest window's load per scenario group (own copy).
	groups []report.GroupLoad
}

func newData() *data {
	return &data{nodes: map[string]*node{}, errTotal: map[measure.ErrorKind]int64{}, errRecent: map[measure.ErrorKind]int64{}}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// ingest copies what changed; it runs under the recorder's read lock, so
// it must not block and must not keep references into v's slices (except
// the scenario, which is immutable once the run starts).
func (d *data) ingest(v *report.View) bool {
	if d.seen && v.Version == d.version {
		return false
	}
	d.seen = true
	d.version = v.Version
	d.ingestScenario(v)
	d.start, d.state, d.done = v.Start, v.State, v.Done
	d.ingestTicks(v)
	d.ingestFinal(v)
	d.ingestPolls(v)
	d.ingestEvents(v)
	if v.Agents != nil {
		d.agents = v.Agents()
	}
	d.find = report.SearchProgress(v.Search)
	return true
}

// ingestScenario notes a new scenario, so node limits and the WebSocket columns follow it.
func (d *data) ingestScenario(v *report.View) {
	if v.Scenario == d.scenario {
		return
	}
	d.scenario = v.Scenario
	if v.Scenario != nil {
		for _, g := range v.Scenario.Groups {
			d.ws = d.ws || g.WebSocket != nil
		}
	}
	for _, n := range d.nodes {
		d.limits(n)
	}
}

// ingestTicks appends the new windows' points and keeps the newest one's figures, so a frame never reads v.
func (d *data) ingestTicks(v *report.View) {
	if len(v.Ticks) < d.nTicks { // the recorder restarted: start over
		d.points, d.nTicks = d.points[:0], 0
		clear(d.errTotal)
	}
	for i := d.nTicks; i < len(v.Ticks); i++ {
		t := &v.Ticks[i]
		win := t.Window
		if win <= 0 {
			win = time.Second
		}
		d.points = append(d.points, point{
			t: t.Time, p50: ms(t.Latency.P50), p95: ms(t.Latency.P95), p99: ms(t.Latency.P99),
			// WebSocket failures are no HTTP errors, but they are errors/s.
			rps: t.RPS(), errps: float64(t.ErrorCount+t.WS.Failed) / win.Seconds(), vus: float64(first(vuCounts(t))),
		})
		for k, c := range t.Errors {
			d.errTotal[k] += c
		}
		d.totalReqs += t.Requests
		switch {
		case !t.Held:
			d.heldFrom = time.Time{}
		case d.heldFrom.IsZero():
			d.heldFrom = t.Time.Add(-win)
		}
		d.dropped += t.Dropped
	}
	if n := len(v.Ticks); n > d.nTicks {
		d.nTicks = n
		last := v.Ticks[n-1]
		clear(d.errRecent)
		for k, c := range last.Errors {
			d.errRecent[k] = c
		}
		d.wsFailed, d.wsOutcome = 0, 0
		for i := max(0, n-wsRecentWindows); i < n; i++ {
			w := &v.Ticks[i].WS
			d.wsFailed += w.Failed
			d.wsOutcome += w.Outcomes
			d.ws = d.ws || w.Sessions > 0 || w.Outcomes > 0
		}
		d.groups = report.GroupLoads(&last)
		for i := range d.groups {
			g := &d.groups[i]
			g.Name, g.Executor = termtext.Clean(g.Name), termtext.Clean(g.Executor)
		}
		last.Errors, last.Endpoints, last.Groups, last.Hist = nil, nil, nil, nil
		last.WS.Errors, last.WS.ConnectHist, last.WS.ReplyHist, last.WS.SessionHist = nil, nil, nil, nil
		d.last = last
		d.stage, d.held, d.lastWindow = last.Stage, last.Held, last.Window
		d.hot = mergeEndpoints(v.Ticks[max(0, n-hotspotWindows):], d.hot[:0])
	}
}

// ingestFinal takes the verdict and the failure rows, cleaned once here rather than on every frame.
func (d *data) ingestFinal(v *report.View) {
	if v.Final != nil && d.final == nil {
		d.final = newFinal(v.Final)
	} else if v.Final == nil {
		d.final = nil
	}
	// At most report.MaxFailureRows rows; Clean costs nothing on clean text.
	d.failures = d.failures[:0]
	for _, f := range v.Failures {
		f.Group, f.Endpoint, f.Sample = termtext.Clean(f.Group), termtext.Clean(f.Endpoint), termtext.Clean(f.Sample)
		d.failures = append(d.failures, f)
	}
}

// ingestPolls takes the new node polls and panels; label values are cleaned before they reach the terminal.
func (d *data) ingestPolls(v *report.View) {
	if len(v.Polls) < d.nPolls {
		d.nPolls, d.panels = 0, nil
	}
	for i := d.nPolls; i < len(v.Polls); i++ {
		p := &v.Polls[i]
		d.polled, d.pollErr = p.Time, termtext.Clean(p.Err)
		for _, s := range p.Samples {
			// Node names, roles and reasons come from the watched servers'
			// labels: a label value must not drive the viewer's terminal.
			s.Node, s.Role, s.Instance = termtext.Clean(s.Node), termtext.Clean(s.Role), termtext.Clean(s.Instance)
			s.StaleReason, s.DiskDevice = termtext.Clean(s.StaleReason), termtext.Clean(s.DiskDevice)
			n := d.nodes[s.Node]
			if n == nil {
				n = &node{}
				d.nodes[s.Node] = n
				n.s = s
				d.limits(n)
			}
			n.s = s
			if !s.Stale {
				for j, m := range nodeMetrics {
					if f, ok := s.Metric(m); ok {
						n.hist[j].push(f)
					}
				}
			}
		}
		for j := range p.Panels {
			d.addPanel(&p.Panels[j])
		}
	}
	d.nPolls = len(v.Polls)
}

// ingestEvents appends the new events cleaned and in time order, so the log never reorders on screen.
func (d *data) ingestEvents(v *report.View) {
	if len(v.Events) < d.nEvents {
		d.events, d.nEvents = d.events[:0], 0
	}
	from := len(d.events)
	d.events = append(d.events, v.Events[d.nEvents:]...)
	d.nEvents = len(v.Events)
	// Event texts carry outside words (target errors, node names, SSH user
	// names): cleaned once here, not on every frame.
	for i := from; i < len(d.events); i++ {
		e := &d.events[i]
		e.Text, e.Who, e.Node = termtext.Clean(e.Text), termtext.Clean(e.Who), termtext.Clean(e.Node)
	}
	// The recorder keeps events in the order it noticed them; a crossing
	// is stamped at its first sample, so it may be older than the event
	// before it. The log reads in time order: insert each new one in place.
	for i := max(from, 1); i < len(d.events); i++ {
		for j := i; j > 0 && d.events[j].Time.Before(d.events[j-1].Time); j-- {
			d.events[j], d.events[j-1] = d.events[j-1], d.events[j]
		}
	}
}

// limits finds the node's threshold per metric column: the lowest that
// applies to it by node name, role, or to every node.
func (d *data) limits(n *node) {
	n.limit = [len5]float64{}
	if d.scenario == nil || d.scenario.Nodes == nil {
		return
	}
	for _, th := range d.scenario.Nodes.Thresholds {
		if th.Node != "" && th.Node != n.s.Node || th.Role != "" && th.Role != n.s.Role {
			continue
		}
		for i, m := range nodeMetrics {
			if m == th.Metric && (n.limit[i] == 0 || th.Above < n.limit[i]) {
				n.limit[i] = th.Above
			}
		}
	}
}

// mergeEndpoints sums the given ticks' endpoints by group and name, sorted
// by total waiting time (count × mean), the largest first.
func mergeEndpoints(ticks []measure.Tick, dst []endpoint) []endpoint {
	idx := map[[2]string]int{}
	for i := range ticks {
		for _, e := range ticks[i].Endpoints {
			k := [2]string{e.Group, e.Name}
			j, ok := idx[k]
			if !ok {
				j = len(dst)
				idx[k] = j
				dst = append(dst, endpoint{group: termtext.Clean(e.Group), name: termtext.Clean(e.Name)})
			}
			h := &dst[j]
			h.requests += e.Requests
			h.errors += e.Errors
			h.wait += e.Hotspot()
			h.p95 = max(h.p95, e.Latency.P95)
		}
	}
	for i := range dst {
		if dst[i].requests > 0 {
			dst[i].mean = dst[i].wait / time.Duration(dst[i].requests)
		}
	}
	sort.SliceStable(dst, func(a, b int) bool {
		if dst[a].wait != dst[b].wait {
			return dst[a].wait > dst[b].wait
		}
		return dst[a].group+"/"+dst[a].name < dst[b].group+"/"+dst[b].name
	})
	return dst
}

// sortedNodes returns the nodes worst first (over, near, ok), then stale
// ones last, each by natural name order, so a node in trouble is visible
// even when the panel has room for a few rows only.
func (d *data) sortedNodes(dst []*node) []*node {
	dst = dst[:0]
	for _, n := range d.nodes {
		dst = append(dst, n)
	}
	rank := func(n *node) int {
		if n.s.Stale {
			return -1
		}
		return int(n.worst())
	}
	sort.Slice(dst, func(a, b int) bool {
		ra, rb := rank(dst[a]), rank(dst[b])
		if ra != rb {
			return ra > rb
		}
		return naturalLess(dst[a].s.Node, dst[b].s.Node)
	})
	return dst
}

// naturalLess orders "db-2" before "db-10" (measure.NaturalCompare).
func naturalLess(a, b string) bool { return measure.NaturalCompare(a, b) < 0 }

// planned is the scenario's planned length (0 when unknown).
func (d *data) planned() time.Duration {
	if d.last.Planned > 0 { // the engine's: the stages plus the time on hold
		return d.last.Planned
	}
	if d.scenario == nil {
		return 0
	}
	return d.scenario.Duration()
}

// stages is the longest group's stage count, matching Tick.Stage.
func (d *data) stages() int {
	if d.scenario == nil {
		return 0
	}
	n, longest := 0, time.Duration(-1)
	for _, g := range d.scenario.Groups {
		var t time.Duration
		for _, s := range g.Stages {
			t += s.Duration
		}
		if t > longest {
			longest, n = t, len(g.Stages)
		}
	}
	return n
}

// sloP95 is the p95 latency SLO in ms, or 0 when the scenario has none.
func (d *data) sloP95() float64 {
	if d.scenario == nil {
		return 0
	}
	best := 0.0
	for _, th := range d.scenario.Thresholds {
		if th.Metric == "http_req_duration" && th.TagKey == "" && th.Agg == "p" && th.P == 95 && (th.Op == "<" || th.Op == "<=") {
			if best == 0 || th.Value < best {
				best = th.Value
			}
		}
	}
	return best
}

// vuCounts splits a tick's VUs: shown is the closed-model VUs (what the VU
// target counts), or all VUs when only arrival-rate groups run; open is the
// VUs arrival-rate groups use, shown beside their rate. "VUs 770/710" with
// 60 of them serving an arrival rate reads as a bug otherwise.
func vuCounts(t *measure.Tick) (shown, open int) {
	closed, open, _ := t.SplitVUs()
	if closed > 0 || t.TargetVUs > 0 {
		return closed, open
	}
	return t.VUs, open
}

func first(a, _ int) int { return a }

// userCounts is the header's load: the closed-model users against their
// target, and the VUs arrival-rate groups keep busy, from the newest
// window's groups (report.LoadUsers, as every report text counts them);
// from the tick's totals when it has none.
func userCounts(t *measure.Tick, gs []report.GroupLoad) (users, target, open int) {
	if len(gs) == 0 {
		shown, open := vuCounts(t)
		return shown, t.TargetVUs, open
	}
	closed := false
	for _, g := range gs {
		if g.Open {
			open += g.VUs
		} else {
			closed = true
			target += g.TargetVUs
		}
	}
	users = report.LoadUsers(gs, t.VUs)
	if !closed {
		users = open // arrival-rate groups only: their VUs are the load's VUs
	}
	return users, target, open
}

// busyVUs is the VUs arrival-rate groups keep busy at the newest window's
// end: what their rate needs now.
func busyVUs(t *measure.Tick, gs []report.GroupLoad) int {
	n := 0
	if len(gs) == 0 {
		for _, g := range t.Groups {
			n += g.BusyVUs
		}
		return n
	}
	for _, g := range gs {
		if g.Open {
			n += g.BusyVUs
		}
	}
	return n
}

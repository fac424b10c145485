package report

import (
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
)

// thresholdResults evaluates every SLO over the whole run; the caller holds
// the lock.
func (r *Recorder) thresholdResults() []ThresholdResult {
	out := make([]ThresholdResult, 0, len(r.slos))
	for k := range r.slos {
		s := &r.slos[k]
		res := ThresholdResult{Metric: metricLabel(s.th), Expr: s.th.Expr, Agg: s.th.Agg, BadWindows: s.badTotal,
			Default: s.dflt}
		if s.th.Metric == "http_req_duration" {
			res.GeneratorWindowsLeftOut = r.run.stallWins
		}
		if s.firstOn && s.first < len(r.v.Ticks) {
			t := r.v.Ticks[s.first].Time
			res.FirstBreach = &t
		}
		v, ok := r.wholeRunValue(s.th)
		if !ok && s.dflt {
			continue // a default never applied (no HTTP request, no WebSocket session)
		}
		if !ok {
			// k6 passes a threshold whose metric saw no data; brink does
			// not: it was never judged, and the run is inconclusive.
			res.OK, res.NoData, res.Value = false, true, nan()
		} else {
			res.OK, res.Value = s.th.Holds(v), Num(v)
		}
		out = append(out, res)
	}
	return out
}

// latFor merges the whole-run latency of what a tag filter selects.
func (r *Recorder) latFor(th scenarios.Threshold) *latAcc {
	if th.TagKey == "" {
		return &r.run.lat
	}
	// A group's own histogram is kept at 3 significant figures, its
	// endpoints' at 2 (memory per name): the group's is the exact one.
	if th.TagKey == "group" {
		if g := r.run.groups[th.TagValue]; g != nil && (g.lat.count > 0 || !g.lat.exact.empty()) {
			return &g.lat
		}
	}
	var m latAcc
	found := false
	for _, e := range r.run.epList {
		if tagSelects(th, e.group, e.name) {
			m.merge(&e.lat)
			found = true
		}
	}
	if !found && th.TagKey == "group" {
		if g := r.run.groups[th.TagValue]; g != nil {
			return &g.lat
		}
	}
	return &m
}

// counts sums requests, errors and dropped iterations of what a tag filter
// selects, over the whole run.
func (r *Recorder) counts(th scenarios.Threshold) (requests, errors, dropped int64) {
	switch th.TagKey {
	case "":
		return r.run.sum.Requests, r.run.sum.ErrorCount, r.run.sum.Dropped
	case "name", "group":
		for _, e := range r.run.epList {
			if tagSelects(th, e.group, e.name) {
				requests += e.requests
				errors += e.errors
			}
		}
		if th.TagKey == "group" {
			if g := r.run.groups[th.TagValue]; g != nil {
				dropped = g.sum.Dropped
				if requests == 0 {
					requests, errors = g.sum.Requests, g.sum.Errors
				}
			}
		}
	}
	return
}

// wholeRunValue is a threshold's value over the whole run.
func (r *Recorder) wholeRunValue(th scenarios.Threshold) (float64, bool) {
	secs := r.run.active.Seconds()
	switch th.Metric {
	case "http_req_duration", "ws_msg_latency", "ws_connecting", "ws_session_duration":
		l := r.latFor(th)
		if th.Metric != "http_req_duration" {
			if th.TagKey != "" {
				return 0, false
			}
			l = map[string]*latAcc{"ws_msg_latency": &r.run.wsReply, "ws_connecting": &r.run.wsConnect,
				"ws_session_duration": &r.run.wsSession}[th.Metric]
		}
		d := l.dist()
		if d.Count == 0 {
			return 0, false
		}
		if th.Agg == "count" {
			return float64(d.Count), true
		}
		return latencyValue(th, l.quantile, float64(d.Mean), float64(d.Min), float64(d.Max))
	case "ws_failed":
		c := r.wsCountsFor(th)
		if th.Agg != "rate" {
			return 0, false
		}
		return measure.FailRate(c.failed, c.outcomes)
	case "ws_sessions", "ws_msgs_sent", "ws_msgs_received":
		n := r.wsCountsFor(th).sessions
		switch th.Metric {
		case "ws_msgs_sent":
			n = r.run.sum.WS.Sent
		case "ws_msgs_received":
			n = r.run.sum.WS.Received
		}
		return perSecond(n, secs, th.Agg)
	case "http_req_failed":
		req, errs, _ := r.counts(th)
		switch th.Agg {
		case "rate":
			if req == 0 {
				return 0, false
			}
			return float64(errs) / float64(req), true
		case "count":
			return float64(errs), true
		}
	case "http_reqs":
		req, _, _ := r.counts(th)
		return perSecond(req, secs, th.Agg)
	case "dropped_iterations":
		_, _, dropped := r.counts(th)
		return perSecond(dropped, secs, th.Agg)
	case "checks":
		passed := r.run.sum.ChecksPassed
		n := passed + r.run.sum.ChecksFailed
		if th.TagKey != "" || n == 0 {
			return 0, false
		}
		switch th.Agg {
		case "rate":
			return float64(passed) / float64(n), true
		case "count":
			return float64(passed), true
		}
	}
	return 0, false
}

// wsCountsFor is the whole run's sessions and ws_failed samples of what a
// threshold's tag filter selects (the run, or one group).
func (r *Recorder) wsCountsFor(th scenarios.Threshold) wsCounts {
	if th.TagKey == "" {
		return wsRun(&r.run.sum.WS)
	}
	if g := r.run.groups[th.TagValue]; g != nil && th.TagKey == "group" {
		return wsGroup(&g.sum)
	}
	return wsCounts{}
}

// merge adds another accumulator (whole-run tag filters).
func (a *latAcc) merge(b *latAcc) {
	if b.count == 0 && b.exact.empty() {
		return
	}
	if !b.exact.empty() {
		h := b.exact.histogram()
		ex := h.Export()
		a.exact.add(ex)
	}
	if b.approx != nil {
		if a.approx == nil {
			a.approx = hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3)
		}
		a.approx.Merge(b.approx)
	}
	if b.count > 0 {
		if a.count == 0 || (b.min > 0 && b.min < a.min) {
			a.min = b.min
		}
		a.max = max(a.max, b.max)
		a.count += b.count
		a.sum += b.sum
	}
}

// runAcc folds every tick into whole-run totals.
type runAcc struct {
	lat       latAcc
	service   latAcc
	wsReply   latAcc
	wsConnect latAcc
	wsSession latAcc
	// endpoints and groups by key, and in the order they first came.
	endpoints map[string]*endpointAcc
	epList    []*endpointAcc
	groups    map[string]*groupAcc
	groupList []*groupAcc

	// sum is the run's counters, WebSocket ones and errors by kind too
	// (measure.Tick.AddCounts); nothing else of it is set.
	sum                   measure.Tick
	vusMax, targetVUsMax  int
	targetRateMax, rpsMax float64
	active                time.Duration
	wsOpenMax             int
	failures              failAcc
	// stallLat is the latency of the stallWins windows where brink itself
	// was the bottleneck (not in lat).
	stallLat  latAcc
	stallWins int
}

// withStall is l with the latency of brink's own stalls (s) merged in: the
// whole picture, for the summary. l itself when there is none.
func withStall(l, s *latAcc) *latAcc {
	if s == nil || (s.count == 0 && s.exact.empty()) {
		return l
	}
	var m latAcc
	m.merge(l)
	m.merge(s)
	return &m
}

// wsCounts are WebSocket sessions and ws_failed's samples, run or group.
type wsCounts struct{ sessions, failed, outcomes int64 }

func wsRun(w *measure.WSStats) wsCounts {
	return wsCounts{sessions: w.Sessions, failed: w.Failed, outcomes: w.Outcomes}
}

func wsGroup(g *measure.GroupStats) wsCounts {
	return wsCounts{sessions: g.WSSessions, failed: g.WSFailed, outcomes: g.WSOutcomes}
}

type endpointAcc struct {
	group, name      string
	requests, errors int64
	lat              latAcc
	stall            *latAcc // of windows where brink was the bottleneck
}

type groupAcc struct {
	name, executor       string
	sum                  measure.GroupStats // counters only (AddCounts)
	vusMax, targetVUsMax int
	targetRateMax        float64
	lat                  latAcc // from group windows (quantiles only)
	stall                *latAcc
}

// fold adds a tick to the whole-run accumulators. The latency of a window
// where brink itself was the bottleneck (stalled) is kept apart: the
// summary shows it, whole-run thresholds leave it out, as it is brink's own.
func (r *Recorder) fold(t *measure.Tick, stalled bool) {
	a := &r.run
	if stalled {
		a.stallWins++
		a.stallLat.add(t.Latency, t.Hist)
	} else {
		a.lat.add(t.Latency, t.Hist)
	}
	a.service.add(t.Service, t.ServiceHist)
	a.wsReply.add(t.WS.Reply, t.WS.ReplyHist)
	a.wsConnect.add(t.WS.Connect, t.WS.ConnectHist)
	a.wsSession.add(t.WS.Session, t.WS.SessionHist)
	a.sum.AddCounts(t)
	a.vusMax = max(a.vusMax, t.VUs)
	a.targetVUsMax = max(a.targetVUsMax, t.TargetVUs)
	a.targetRateMax = max(a.targetRateMax, t.TargetRate)
	if fullWindow(t.Window, r.window) {
		a.rpsMax = max(a.rpsMax, t.RPS())
	}
	a.active += t.Window
	a.wsOpenMax = max(a.wsOpenMax, t.WS.Open)
	for j := range t.Endpoints {
		e := &t.Endpoints[j]
		key := e.Group + "\x00" + e.Name
		ea := a.endpoints[key]
		if ea == nil {
			ea = &endpointAcc{group: e.Group, name: e.Name}
			a.endpoints[key] = ea
			a.epList = append(a.epList, ea)
		}
		ea.requests += e.Requests
		ea.errors += e.Errors
		addWindow(&ea.lat, &ea.stall, stalled, e.Latency, e.Hist)
	}
	for j := range t.Groups {
		g := &t.Groups[j]
		ga := a.groups[g.Name]
		if ga == nil {
			ga = &groupAcc{name: g.Name, executor: g.Executor}
			a.groups[g.Name] = ga
			a.groupList = append(a.groupList, ga)
		}
		ga.sum.AddCounts(g)
		ga.vusMax = max(ga.vusMax, g.VUs)
		ga.targetVUsMax = max(ga.targetVUsMax, g.TargetVUs)
		ga.targetRateMax = max(ga.targetRateMax, g.TargetRate)
		addWindow(&ga.lat, &ga.stall, stalled, g.Latency, g.Hist)
	}
}

// perSecond is a counter as a threshold reads it over the whole run: per
// second of the run (rate) or in all (count).
func perSecond(n int64, secs float64, agg string) (float64, bool) {
	switch agg {
	case "rate":
		if secs <= 0 {
			return 0, false
		}
		return float64(n) / secs, true
	case "count":
		return float64(n), true
	}
	return 0, false
}

// addWindow folds a window's latency into lat, or, when brink itself
// stalled in that window, into *stall (made on first use), so a stall's
// late responses are kept apart from the system's.
func addWindow(lat *latAcc, stall **latAcc, stalled bool, l measure.Latency, snap *hdrhistogram.Snapshot) {
	if !stalled {
		lat.add(l, snap)
		return
	}
	if *stall == nil {
		*stall = &latAcc{}
	}
	(*stall).add(l, snap)
}

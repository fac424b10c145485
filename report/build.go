package report

import (
	"slices"
	"sort"
)

// Report builds the JSON document of the run so far (or of the finished
// run after Finish).
func (r *Recorder) Report() *Report {
	r.mu.RLock()
	defer r.mu.RUnlock()
	end := r.end
	if end.IsZero() {
		end = r.v.Start
		if n := len(r.v.Ticks); n > 0 {
			end = r.v.Ticks[n-1].Time
		}
	}
	rep := &Report{
		SchemaVersion: SchemaVersion,
		BrinkVersion:  r.opts.Version,
		Host:          r.opts.Host,
		Start:         r.v.Start,
		End:           end,
		DurationS:     end.Sub(r.v.Start).Seconds(),
		Complete:      r.v.Done,
		Scenario:      Redact(r.v.Scenario),
		Thresholds:    r.thresholdResults(),
		Verdict:       r.verdict(),
	}
	if r.search != nil {
		s := *r.search
		s.Plateaus = append([]Plateau{}, r.search.Plateaus...)
		rep.Search = &s
	}
	// Passed is exit code 0: nothing failed, nothing left unjudged, and
	// the run was not stopped from outside.
	rep.Passed = reportOutcome(rep).text() == ""
	rep.Summary = r.summary()
	rep.Groups = r.groupSummaries()
	rep.Endpoints = r.endpointSummaries()
	rep.Failures = slices.Clone(r.v.Failures)
	if rep.Failures == nil {
		rep.Failures = []FailureRow{}
	}
	rep.Timeline = r.timeline()
	rep.Nodes = withBaseline(nodeSeries(r.v.Polls), r.baseline)
	rep.Panels = r.panelSeries()
	if r.opts.Agents != nil {
		rep.Agents = agentRows(r.opts.Agents(), r.v.Start, end)
	}
	rep.Events = append([]Event{}, r.v.Events...)
	sort.SliceStable(rep.Events, func(i, j int) bool { return rep.Events[i].Time.Before(rep.Events[j].Time) })
	// Lists are [] rather than null when empty, so tools need no null checks.
	if rep.Groups == nil {
		rep.Groups = []GroupSummary{}
	}
	if rep.Endpoints == nil {
		rep.Endpoints = []EndpointSummary{}
	}
	if rep.Nodes == nil {
		rep.Nodes = []NodeSeries{}
	}
	if rep.Panels == nil {
		rep.Panels = []PanelSeries{}
	}
	if rep.Verdict.Followed == nil {
		rep.Verdict.Followed = []Followed{}
	}
	return rep
}

// summary is the whole run in numbers, kept apart so Report reads as its sections; the caller holds the lock.
func (r *Recorder) summary() Summary {
	a := &r.run
	var sum Summary
	s := &sum
	c := &a.sum
	s.Requests, s.Errors, s.Iterations = c.Requests, c.ErrorCount, c.Iterations
	s.RPS = nan()
	if secs := a.active.Seconds(); secs > 0 {
		s.RPS = Num(float64(c.Requests) / secs)
	}
	s.RPSMax = Num(a.rpsMax)
	s.ErrorRate = rate(c.ErrorCount, c.Requests)
	s.ErrorsByKind = map[string]int64{}
	for k, n := range c.Errors {
		if n > 0 {
			s.ErrorsByKind[string(k)] = n
		}
	}
	s.LatencyMs = withStall(&a.lat, &a.stallLat).dist()
	s.ServiceMs = clampService(a.service.dist(), s.LatencyMs)
	s.VUsMax, s.TargetVUsMax, s.TargetRateMax = a.vusMax, a.targetVUsMax, a.targetRateMax
	s.DroppedIterations = c.Dropped
	s.ChecksPassed, s.ChecksFailed = c.ChecksPassed, c.ChecksFailed
	s.BytesIn, s.BytesOut = c.BytesIn, c.BytesOut
	if ws := &c.WS; ws.Opened > 0 || ws.Sent > 0 || a.wsOpenMax > 0 || ws.Sessions > 0 || ws.Outcomes > 0 {
		s.WS = &WSSummary{OpenMax: a.wsOpenMax, Opened: ws.Opened, Closed: ws.Closed, Sent: ws.Sent,
			Received: ws.Received, Sessions: ws.Sessions, Failed: ws.Failed, Outcomes: ws.Outcomes,
			FailedRate: rate(ws.Failed, ws.Outcomes), FailedByKind: map[string]int64{},
			ConnectMs: a.wsConnect.dist(), ReplyMs: a.wsReply.dist(), SessionMs: a.wsSession.dist()}
		for k, n := range ws.Errors {
			if n > 0 {
				s.WS.FailedByKind[string(k)] = n
			}
		}
	}
	return sum
}

// groupSummaries is one row per scenario group in scenario order, so a group that hurt is named; the caller holds the lock.
func (r *Recorder) groupSummaries() []GroupSummary {
	a := &r.run
	var out []GroupSummary
	// Groups: latency from their endpoints' exact histograms when there are
	// any, else rebuilt from the group windows.
	for _, g := range a.groupList {
		var lat latAcc
		for _, e := range a.epList {
			if e.group == g.name {
				lat.merge(withStall(&e.lat, e.stall))
			}
		}
		if lat.count == 0 {
			lat = *withStall(&g.lat, g.stall)
		}
		c := &g.sum
		gs := GroupSummary{Name: g.name, Executor: g.executor, Requests: c.Requests,
			Iterations: c.Iterations, Errors: c.Errors, ErrorRate: rate(c.Errors, c.Requests), Dropped: c.Dropped,
			VUsMax: g.vusMax, TargetVUsMax: g.targetVUsMax, TargetRateMax: g.targetRateMax, LatencyMs: lat.dist(),
			WSSessions: c.WSSessions, WSFailed: c.WSFailed, WSOutcomes: c.WSOutcomes}
		if c.WSSessions > 0 || c.WSOutcomes > 0 {
			r := rate(c.WSFailed, c.WSOutcomes)
			gs.WSFailedRate = &r
		}
		out = append(out, gs)
	}
	return out
}

// endpointSummaries is one row per endpoint, hottest first, so where the waiting went leads; the caller holds the lock.
func (r *Recorder) endpointSummaries() []EndpointSummary {
	a := &r.run
	var out []EndpointSummary
	for _, e := range a.epList {
		d := withStall(&e.lat, e.stall).dist()
		hot := nan()
		if d.Mean.Valid() {
			hot = Num(float64(e.requests) * float64(d.Mean) / 1000)
		}
		out = append(out, EndpointSummary{Group: e.group, Name: e.name, Requests: e.requests,
			Errors: e.errors, ErrorRate: rate(e.errors, e.requests), LatencyMs: d, HotspotS: hot})
	}
	sort.SliceStable(out, func(i, j int) bool {
		return float64(out[i].HotspotS) > float64(out[j].HotspotS)
	})
	return out
}

// timeline is one report row per window; the caller holds the lock.
func (r *Recorder) timeline() []Window {
	out := make([]Window, len(r.v.Ticks))
	for i := range r.v.Ticks {
		t := &r.v.Ticks[i]
		w := Window{Time: t.Time, ElapsedS: t.Elapsed.Seconds(), WindowS: t.Window.Seconds(), Stage: t.Stage,
			Held: t.Held, VUs: t.VUs, TargetVUs: t.TargetVUs, TargetRate: t.TargetRate, Requests: t.Requests,
			Iterations: t.Iterations, RPS: Num(t.RPS()), Errors: t.ErrorCount, ErrorRate: rate(t.ErrorCount, t.Requests),
			Dropped: t.Dropped, Latency: windowLatency(t.Latency), WSOpen: t.WS.Open,
			GenCPU: Num(t.Generator.CPUPercent), OK: i >= len(r.wins) || r.wins[i].held, WSReplyP95: nan()}
		for j := range t.Groups {
			w.Started += t.Groups[j].Started
		}
		w.Groups = groupLoads(t)
		w.Generator = windowGenerator(t.Generator)
		if t.WS.Reply.Count > 0 {
			w.WSReplyP95 = Num(ms(t.WS.Reply.P95))
		}
		w.WSSessions, w.WSFailed, w.WSOutcomes = t.WS.Sessions, t.WS.Failed, t.WS.Outcomes
		for k, n := range t.WS.Errors {
			if n > 0 {
				if w.WSErrors == nil {
					w.WSErrors = map[string]int64{}
				}
				w.WSErrors[string(k)] = n
			}
		}
		for k, n := range t.Errors {
			if n > 0 {
				if w.ErrorKinds == nil {
					w.ErrorKinds = map[string]int64{}
				}
				w.ErrorKinds[string(k)] = n
			}
		}
		out[i] = w
	}
	return out
}

package measure

// Counters add up: a fleet window's over the agents that made it, the
// whole run's over its windows. Which figures are counters is said here,
// once per type; levels (VUs, targets, open connections) are the caller's,
// as agents' levels add up and windows' do not.

// counters are t's counters, its WebSocket ones too (not the errors by
// kind, a map).
func (t *Tick) counters() [15]*int64 {
	return [...]*int64{&t.Requests, &t.Iterations, &t.BytesIn, &t.BytesOut, &t.ErrorCount, &t.Dropped,
		&t.ChecksPassed, &t.ChecksFailed, &t.WS.Opened, &t.WS.Closed, &t.WS.Sent, &t.WS.Received,
		&t.WS.Sessions, &t.WS.Failed, &t.WS.Outcomes}
}

// counters are g's counters.
func (g *GroupStats) counters() [8]*int64 {
	return [...]*int64{&g.Requests, &g.Iterations, &g.Errors, &g.Dropped, &g.Started,
		&g.WSSessions, &g.WSFailed, &g.WSOutcomes}
}

// AddCounts adds o's counters into t, its WebSocket ones and the errors by
// kind too.
func (t *Tick) AddCounts(o *Tick) {
	dst, src := t.counters(), o.counters()
	addEach(dst[:], src[:])
	t.Errors = AddKinds(t.Errors, o.Errors)
	t.WS.Errors = AddKinds(t.WS.Errors, o.WS.Errors)
}

// AddCounts adds o's counters into g.
func (g *GroupStats) AddCounts(o *GroupStats) {
	dst, src := g.counters(), o.counters()
	addEach(dst[:], src[:])
}

func addEach(dst, src []*int64) {
	for i, p := range dst {
		*p += *src[i]
	}
}

// AddKinds adds src's counts by kind into dst, made when src has any (a
// map of src's is never kept).
func AddKinds(dst, src map[ErrorKind]int64) map[ErrorKind]int64 {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = make(map[ErrorKind]int64, len(src))
	}
	for k, v := range src {
		dst[k] += v
	}
	return dst
}

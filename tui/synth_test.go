package tui

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/report"
	"github.com/brink-load/brink/scenarios"
)

// synthStart is the synthetic run's start (UTC; tests run with time.Local = UTC).
var synthStart = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// crossAt is when db-3's load1 first goes over 100 in the synthetic run.
const crossAt = 190

// fakeRec is a source with a fixed view, plus the recorder's write
// methods for notes and control actions, which it records.
type fakeRec struct {
	mu       sync.Mutex
	v        report.View
	notes    []string
	controls []string
}

func (f *fakeRec) View(fn func(v *report.View)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(&f.v)
}

func (f *fakeRec) Note(who, text string, at time.Time) {
	f.event(&f.notes, report.EventNote, who, text, at)
}

func (f *fakeRec) Control(who, action string, at time.Time) {
	f.event(&f.controls, report.EventControl, who, action, at)
}

// event logs "who: text" in log and appends the event to the view.
func (f *fakeRec) event(log *[]string, kind report.EventKind, who, text string, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	*log = append(*log, who+": "+text)
	f.v.Events = append(f.v.Events, report.Event{Time: at, Kind: kind, Who: who, Text: text})
	f.v.Version++
}

func synthScenario() *scenarios.Scenario {
	return &scenarios.Scenario{
		Name: "chat-breakpoint",
		Groups: []scenarios.Group{
			{Name: "browse", Executor: scenarios.RampingVUs, Stages: []scenarios.Stage{{Duration: time.Minute, Target: 100}, {Duration: 5 * time.Minute, Target: 800}}},
			{Name: "writes", Executor: scenarios.RampingArrivalRate, Stages: []scenarios.Stage{{Duration: 6 * time.Minute, Target: 300}}},
		},
		Thresholds: []scenarios.Threshold{
			{Metric: "http_req_duration", Expr: "p(95)<500", Agg: "p", P: 95, Op: "<", Value: 500},
			{Metric: "http_req_duration", Expr: "p(99)<1500", Agg: "p", P: 99, Op: "<", Value: 1500},
			{Metric: "http_req_failed", Expr: "rate<0.01", Agg: "rate", Op: "<", Value: 0.01},
		},
		Nodes: &scenarios.Nodes{
			Prometheus: "http://127.0.0.1:9090",
			Thresholds: []scenarios.NodeThreshold{
				{Metric: "load1", Above: 100, Role: "db"},
				{Metric: "cpu", Above: 90},
				{Metric: "disk_util", Above: 90},
			},
		},
		Window:  time.Second,
		Sustain: 3 * time.Second,
	}
}

// synthVUs ramps like the scenario: 100 VUs over the first minute, then
// towards 800 over five.
func synthVUs(s int) int {
	if s < 60 {
		return 100 * s / 60
	}
	return 100 + 700*(s-60)/300
}

// synthTick is second s of a run whose latency rises with load and climbs
// steeply once db-3 gives out at crossAt.
func synthTick(s int) measure.Tick {
	vus := synthVUs(s)
	wobble := math.Sin(float64(s) / 7)
	p95 := 60 + 0.2*float64(vus) + 8*wobble
	if s > crossAt {
		p95 += 9 * float64(s-crossAt)
	}
	p50 := p95 * 0.45
	p99 := p95*1.9 + 20*wobble
	rps := float64(vus) * 2.9
	if s > crossAt {
		rps -= 4 * float64(s-crossAt)
	}
	reqs := int64(math.Max(rps, 0))
	var errs int64
	errors := map[measure.ErrorKind]int64{}
	if s > crossAt+10 {
		errs = int64(s-crossAt-10) / 2
		errors[measure.ErrTimeout] = errs * 2 / 3
		errors[measure.ErrStatus5xx] = errs - errs*2/3
	}
	d := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	ep := func(group, name string, share float64, slow float64) measure.EndpointStats {
		n := int64(float64(reqs) * share)
		return measure.EndpointStats{Group: group, Name: name, Requests: n, Errors: int64(float64(errs) * share),
			Latency: measure.Latency{Count: n, Mean: d(p50 * slow), P95: d(p95 * slow)}}
	}
	stage := 0
	if s >= 60 {
		stage = 1
	}
	// writes: an arrival rate towards 300/s over the six minutes.
	rate := 300 * float64(s+1) / 360
	busy := int(rate/10) + 1
	lat := measure.Latency{Count: reqs, Mean: d(p50 * 1.1), P50: d(p50), P90: d(p95 * 0.8), P95: d(p95), P99: d(p99), Max: d(p99 * 1.4)}
	groups := []measure.GroupStats{
		{Name: "browse", Executor: string(scenarios.RampingVUs), VUs: vus, TargetVUs: synthVUs(s + 1),
			Requests: reqs * 85 / 100, Errors: errs * 85 / 100, Latency: lat},
		{Name: "writes", Executor: string(scenarios.RampingArrivalRate), VUs: busy + 5, BusyVUs: busy, TargetRate: rate,
			Rate: rate, Started: int64(rate), Requests: reqs * 15 / 100, Errors: errs - errs*85/100, Latency: lat},
	}
	return measure.Tick{
		Time: synthStart.Add(time.Duration(s+1) * time.Second), Elapsed: time.Duration(s+1) * time.Second,
		Window: time.Second, Stage: stage, Groups: groups,
		VUs: vus + busy + 5, TargetVUs: synthVUs(s + 1), TargetRate: rate,
		Requests: reqs, Errors: errors, ErrorCount: errs,
		Latency: lat,
		Endpoints: []measure.EndpointStats{
			ep("browse", "rooms", 0.5, 0.6),
			ep("browse", "history", 0.35, 1.6),
			ep("writes", "post", 0.15, 1.1),
		},
		Generator: measure.GeneratorStats{CPUPercent: 20 + float64(vus)/20},
	}
}

// synthNodes names n nodes: three db nodes (db-3 is the read replica that
// gives out), the rest web.
func synthNodes(n int) []string {
	names := []string{"db-1", "db-2", "db-3"}
	for i := 1; len(names) < n; i++ {
		names = append(names, fmt.Sprintf("web-%d", i))
	}
	return names[:n]
}

func synthSample(name string, s int) measure.Sample {
	role := "web"
	if name[:2] == "db" {
		role = "db"
	}
	vus := float64(synthVUs(s))
	h := float64(len(name)) + float64(name[len(name)-1])
	sm := measure.Sample{Node: name, Role: role, Instance: name + ":9100", Time: synthStart.Add(time.Duration(s+1) * time.Second), Cores: 16}
	sm.CPU = 15 + vus/20 + 5*math.Sin(float64(s)/9+h)
	sm.IOWait = 1 + 2*math.Abs(math.Sin(float64(s)/13+h))
	sm.DiskUtil = 10 + vus/40
	sm.Load1 = 1 + vus/80 + math.Abs(math.Sin(float64(s)/11+h))
	sm.Mem = 40 + math.Mod(h, 20)
	switch name {
	case "db-3":
		sm.Load1 = 2 + 100*float64(s)/float64(crossAt) // 100 at crossAt, on past it
		sm.IOWait = 2 + 30*float64(s)/float64(crossAt)
		sm.DiskUtil = 20 + 70*math.Min(1, float64(s)/float64(crossAt))
		sm.CPU = 30 + 40*float64(s)/float64(crossAt)
	case "db-1":
		sm.Load1 = 20 + vus/10 // primary: busy, below its threshold
	}
	sm.Load1PerCore = sm.Load1 / float64(sm.Cores)
	return sm
}

func synthPollAt(names []string, s int, at time.Time) measure.Poll {
	p := measure.Poll{Time: at}
	for _, n := range names {
		p.Samples = append(p.Samples, synthSample(n, s))
	}
	return p
}

// synthView builds a run of secs seconds over n nodes, with a db-3 load1
// crossing at crossAt (if the run is that long), the stage change, a note
// and a hold, as report would record them.
func synthView(secs, nodes int) report.View {
	v := report.View{Scenario: synthScenario(), Start: synthStart, State: report.StateOK, Version: uint64(secs)}
	names := synthNodes(nodes)
	for s := 0; s < secs; s++ {
		t := synthTick(s)
		// alice holds the ramp at crossAt+45 and scales it by 1.1 a
		// second later: the planned time grows while held.
		if s >= crossAt+45 {
			t.Held = true
			t.Planned = 6*time.Minute + time.Duration(s+1-crossAt-45)*time.Second
		}
		if s >= crossAt+46 {
			t.Scale = 1.1
		}
		v.Ticks = append(v.Ticks, t)
		p := synthPollAt(names, s, t.Time)
		if s > secs-10 {
			for i := range p.Samples {
				if p.Samples[i].Node == "web-2" {
					p.Samples[i].Stale, p.Samples[i].StaleReason = true, "scrape timeout"
				}
			}
		}
		v.Polls = append(v.Polls, p)
		at := func(e report.Event) {
			e.Time = t.Time
			e.Load = report.Load{VUs: t.VUs, TargetVUs: t.TargetVUs, RPS: t.RPS(), P95: t.Latency.P95, P95Ms: ms(t.Latency.P95)}
			v.Events = append(v.Events, e)
		}
		switch s {
		case 59:
			at(report.Event{Kind: report.EventStage, Text: "stage 2/2: browse to 800 users over 5m0s, writes to 300/s over 6m0s"})
		case crossAt:
			at(report.Event{Kind: report.EventNodeOver, Node: "db-3", Metric: "load1", Value: 102, Threshold: 100,
				Text: fmt.Sprintf("db-3 load1 102 > 100 — %s, %.0f rps, p95 %.0f ms", report.LoadText(report.GroupLoads(&t), t.VUs, t.TargetRate, true),
					t.RPS(), ms(t.Latency.P95))})
			v.State = report.StateWarn
			at(report.Event{Kind: report.EventBreakpoint, Node: "db-3", Metric: "load1", Value: 102, Threshold: 100,
				Text: fmt.Sprintf("breakpoint: db-3 load1 102 > 100 — %d VUs, %.0f rps, p95 %.0f ms", t.VUs, t.RPS(), ms(t.Latency.P95))})
		case crossAt + 14:
			at(report.Event{Kind: report.EventNote, Who: "local", Text: "db-3 queue filling, app servers idle"})
		case crossAt + 40:
			at(report.Event{Kind: report.EventSLOBreach, Text: fmt.Sprintf("p(95)<500 failed: p95 %.0f ms — %s", ms(t.Latency.P95),
				report.LoadText(report.GroupLoads(&t), t.VUs, t.TargetRate, true))})
			v.State = report.StateBreakpoint
		case crossAt + 45:
			at(report.Event{Kind: report.EventControl, Who: "alice (SHA256:3fa9c1)", Text: "hold"})
		case crossAt + 46:
			at(report.Event{Kind: report.EventControl, Who: "alice (SHA256:3fa9c1)", Text: "scale +10%"})
		}
	}
	// nginx's one status_5xx with three causes behind it.
	v.Failures = []report.FailureRow{
		{Kind: measure.ErrTimeout, Group: "browse", Endpoint: "history", Count: 1840, Sample: "no response within the group's timeout (10s)"},
		{Kind: measure.ErrStatus5xx, Status: 502, Group: "browse", Endpoint: "history", Count: 611, Sample: "502 Bad Gateway: <html><head><title>502 Bad Gateway</title></head>"},
		{Kind: measure.ErrStatus5xx, Status: 504, Group: "browse", Endpoint: "rooms", Count: 230, Sample: "504 Gateway Time-out: upstream timed out"},
		{Kind: measure.ErrStatus5xx, Status: 503, Group: "writes", Endpoint: "post", Count: 79, Sample: "503 Service Temporarily Unavailable"},
	}
	return v
}

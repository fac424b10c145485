package report

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
)

func TestInconclusiveNodes(t *testing.T) {
	load1Over100 := scenarios.NodeThreshold{Metric: "load1", Above: 100, Role: "db"}
	failed := func(s float64) measure.Poll { p := poll(s); p.Err = "connection refused"; return p }
	cases := []struct {
		name  string
		th    scenarios.NodeThreshold
		polls []measure.Poll // delivered after the tick ending at their second
		want  string         // inconclusive kind, "" for none
	}{
		{"source up", load1Over100, polls(1, 10, nil), ""},
		{"source down the whole run", load1Over100, polls(1, 10, failed), InconclusiveNodesDown},
		{"down for 4 s of 10: judged", load1Over100, append(polls(1, 6, nil), polls(7, 10, failed)...), ""},
		{"down for 6 s of 10", load1Over100, append(polls(1, 4, nil), polls(5, 10, failed)...), InconclusiveNodesDown},
		{"no node of the role", scenarios.NodeThreshold{Metric: "load1", Above: 100, Role: "cache"}, polls(1, 10, nil),
			InconclusiveNodeNoData},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := NewRecorder(scenario(false, []scenarios.Threshold{p95lt500}, c.th), t0, Options{Host: "h"})
			for i := 0; i < 10; i++ {
				r.AddTick(tick(i, win{vus: 10, rps: 30, p95: 100}))
				for _, p := range c.polls {
					if p.Time.Equal(at(float64(i + 1))) {
						r.AddPoll(p)
					}
				}
			}
			r.Finish(at(10))
			v := r.Verdict()
			var kinds []string
			for _, x := range v.Inconclusive {
				kinds = append(kinds, x.Kind)
			}
			if (c.want == "") != (len(kinds) == 0) || (c.want != "" && (len(kinds) != 1 || kinds[0] != c.want)) {
				t.Fatalf("inconclusive %v, want %q; verdict %q", v.Inconclusive, c.want, v.Text)
			}
			if c.want != "" && !strings.Contains(v.Text, "Could not judge: ") {
				t.Errorf("verdict text does not say what could not be judged: %q", v.Text)
			}
			if r.Inconclusive() != (c.want != "") {
				t.Errorf("Inconclusive() = %v", r.Inconclusive())
			}
		})
	}
}

// polls makes one poll a second from s to e (db-3 at load1 20), or failed
// ones through f.
func polls(s, e int, f func(float64) measure.Poll) []measure.Poll {
	var out []measure.Poll
	for i := s; i <= e; i++ {
		if f != nil {
			out = append(out, f(float64(i)))
			continue
		}
		out = append(out, poll(float64(i), load1("db-3", 20)))
	}
	return out
}

// A window where brink itself was the bottleneck is never the breakpoint;
// a first signal there leaves the run inconclusive.
func TestGeneratorBottleneckWindows(t *testing.T) {
	// p95 900 ms from window 5 on; brink was stalled in windows 5 to 7.
	wins := ramp(14, 10, func(i int) float64 {
		if i >= 5 {
			return 900
		}
		return 100
	})
	stalled := func(tk *measure.Tick) bool { return tk.Time.After(at(5)) && !tk.Time.After(at(8)) }
	r := NewRecorder(scenario(false, []scenarios.Threshold{p95lt500}), t0, Options{Host: "h", GeneratorBottleneck: stalled})
	feed(t, r, wins, nil)
	r.Finish(at(15))
	v := r.Verdict()
	if len(v.Inconclusive) != 1 || v.Inconclusive[0].Kind != InconclusiveGenerator {
		t.Fatalf("inconclusive %+v, want generator", v.Inconclusive)
	}
	// The breach sustained from window 5 (ending at 6 s) is brink's; the one
	// noticed after recovery starts in a healthy window or not at all.
	if v.Breakpoint != nil && !v.Breakpoint.Time.After(at(8)) {
		t.Fatalf("breakpoint at %v, inside the stalled windows", v.Breakpoint.Time.Sub(t0))
	}
	if v.MaxStable == nil || v.MaxStable.VUs != 50 {
		t.Fatalf("max stable %+v, want 50 VUs", v.MaxStable)
	}
	var bps []Event
	r.View(func(v *View) { bps = kinds(v.Events, EventBreakpoint) })
	if len(bps) != 0 {
		t.Fatalf("breakpoint events %+v: a stalled window is none (nor does abort_on_breakpoint fire)", bps)
	}

	// Pure: the same violation in a healthy window is the breakpoint.
	in := verdictIn{start: t0, window: 1e9, done: true, thresholds: true}
	for i := 0; i < 4; i++ {
		tk := tick(i, win{vus: 10, rps: 30, p95: 100})
		in.ticks = append(in.ticks, tk)
		in.wins = append(in.wins, winInfo{held: true, genBottleneck: i == 2})
	}
	in.violations = []violation{{at: at(2.5), signal: Signal{Kind: SignalSLO, Text: "p95 900 ms > 500 ms"}}}
	if v := judge(&in); v.Breakpoint != nil || len(v.Inconclusive) != 1 {
		t.Fatalf("in a stalled window: breakpoint %+v, inconclusive %+v", v.Breakpoint, v.Inconclusive)
	}
	in.wins[2].genBottleneck = false
	if v := judge(&in); v.Breakpoint == nil || len(v.Inconclusive) != 0 {
		t.Fatalf("in a healthy window: breakpoint %+v, inconclusive %+v", v.Breakpoint, v.Inconclusive)
	}
}

// Arrivals dropped in bursts too short for the sustain rule still fail the
// run when they pass 1 % of those scheduled, unless the scenario judges
// dropped_iterations itself.
func TestDroppedArrivalsFailTheRun(t *testing.T) {
	wins := make([]win, 20)
	for i := range wins {
		wins[i] = win{vus: 10, rate: 100, rps: 100, started: 100, p95: 50}
		if i%5 < 2 { // two windows in five: 38 of 100 dropped, 15 % in all
			wins[i].started, wins[i].drop, wins[i].rps = 62, 38, 62
		}
	}
	cases := []struct {
		name   string
		ths    []scenarios.Threshold
		passed bool
	}{
		{"1 % rule", []scenarios.Threshold{p95lt500}, false},
		{"the scenario's own threshold decides", []scenarios.Threshold{p95lt500,
			th("dropped_iterations", "count<1000", "count", 0, "<", 1000)}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := NewRecorder(scenario(true, c.ths), t0, Options{Host: "h"})
			feed(t, r, wins, nil)
			r.Finish(at(21))
			v := r.Verdict()
			if v.Breakpoint != nil {
				t.Fatalf("breakpoint %+v: bursts of two windows never sustain", v.Breakpoint)
			}
			if r.Passed() != c.passed || r.Report().Passed != c.passed {
				t.Fatalf("passed %v, want %v; verdict %q", r.Passed(), c.passed, v.Text)
			}
			if c.passed {
				if len(v.Failed) != 0 {
					t.Fatalf("failed %+v", v.Failed)
				}
				return
			}
			if len(v.Failed) != 1 || v.Failed[0].Kind != FailedDropped ||
				!strings.Contains(v.Text, "g dropped 15 % of its scheduled arrivals (304 of 2 000)") {
				t.Fatalf("failed %+v; verdict %q", v.Failed, v.Text)
			}
		})
	}
}

// The latency of windows where brink itself was the bottleneck is brink's
// own: whole-run thresholds leave it out (and say so); the summary keeps it.
func TestStalledWindowsLeftOutOfWholeRunThresholds(t *testing.T) {
	p99lt1s := th("http_req_duration", "p(99)<1000", "p", 99, "<", 1000)
	wins := make([]win, 10)
	for i := range wins {
		wins[i] = win{vus: 3, rps: 60, p95: 50}
	}
	wins[4].p95 = 3000 // requests in flight through brink's stall come back 3 s late
	stalled := func(tk *measure.Tick) bool { return tk.Time.Equal(at(5)) }
	r := NewRecorder(scenario(false, []scenarios.Threshold{p99lt1s}), t0,
		Options{Host: "h", Sustain: time.Second, GeneratorBottleneck: stalled})
	feed(t, r, wins, nil)
	r.Finish(at(11))
	rep := r.Report()
	// The thresholds held (no 99), but the run is inconclusive (98): the
	// report's passed (exit code 0) is false.
	if !r.Passed() || rep.Passed || rep.Thresholds[0].GeneratorWindowsLeftOut != 1 {
		t.Fatalf("passed %v, thresholds %+v", r.Passed(), rep.Thresholds)
	}
	if float64(rep.Summary.LatencyMs.Max) < 2900 || rep.Summary.LatencyMs.Count != 600 {
		t.Fatalf("summary latency %+v: the stall's requests are part of the run", rep.Summary.LatencyMs)
	}
	if v := rep.Verdict; v.Breakpoint != nil || len(v.Inconclusive) != 1 || v.Inconclusive[0].Kind != InconclusiveGenerator {
		t.Fatalf("breakpoint %+v, inconclusive %+v", v.Breakpoint, v.Inconclusive)
	}
	var out strings.Builder
	PrintSummary(&out, rep)
	flat := strings.Join(strings.Fields(out.String()), " ") // wrapped at the width
	if !strings.Contains(flat, "(1 window of brink's own stall left out)") || !strings.Contains(flat, "exit code 98") {
		t.Fatalf("summary:\n%s", out.String())
	}
}

// A node seen only by the baseline poll, never while the load ran: the
// reason says so, and does not claim it never had a sample.
func TestNodeSeenOnlyBeforeTheLoad(t *testing.T) {
	th := scenarios.NodeThreshold{Metric: "load1", Above: 100, Role: "db"}
	r := NewRecorder(scenario(false, []scenarios.Threshold{p95lt500}, th), t0, Options{Host: "h"})
	r.Baseline(poll(-3, load1("db-3", 20)))
	for i := 0; i < 10; i++ {
		r.AddTick(tick(i, win{vus: 10, rps: 30, p95: 100}))
		web := load1("web-1", 5) // the source answers, without a db node
		web.Role = "web"
		r.AddPoll(poll(float64(i+1), web))
	}
	r.Finish(at(10))
	v := r.Verdict()
	if len(v.Inconclusive) != 1 || v.Inconclusive[0].Kind != InconclusiveNodeNoData ||
		!strings.Contains(v.Inconclusive[0].Reason, "had samples before the load but none while it ran") {
		t.Fatalf("inconclusive %+v", v.Inconclusive)
	}
}

// A remote node's crossing in a window where brink was the bottleneck is
// still the server's: it is the breakpoint. A node on brink's own machine
// is not judged there, as brink's load is part of it.
func TestNodeSignalInGeneratorBoundWindow(t *testing.T) {
	for _, c := range []struct {
		ownHost      bool
		wantBP, want bool
	}{{ownHost: false, wantBP: true}, {ownHost: true, want: true}} {
		in := verdictIn{start: t0, window: 1e9, done: true, thresholds: true}
		for i := 0; i < 4; i++ {
			in.ticks = append(in.ticks, tick(i, win{vus: 10, rps: 30, p95: 100}))
			in.wins = append(in.wins, winInfo{held: true, genBottleneck: i == 2})
		}
		in.violations = []violation{{at: at(2.5), signal: Signal{Kind: SignalNode, Node: "db-3", Metric: "load1",
			Text: "db-3 load1 104 > 100", ownHost: c.ownHost}}}
		v := judge(&in)
		if (v.Breakpoint != nil) != c.wantBP || (len(v.Inconclusive) == 1) != c.want {
			t.Errorf("own host %v: breakpoint %+v, inconclusive %+v", c.ownHost, v.Breakpoint, v.Inconclusive)
		}
	}
}

func TestOnThisMachine(t *testing.T) {
	host, _ := os.Hostname()
	for in, want := range map[string]bool{
		"127.0.0.1:9100": true, "[::1]:9100": true, "localhost:9100": true, "127.0.0.53": true,
		host + ":9100": host != "", "db-3.example.invalid:9100": false, "192.0.2.7:9100": false, "": false,
	} {
		if got := onThisMachine(in); got != want {
			t.Errorf("onThisMachine(%q) = %v, want %v", in, got, want)
		}
	}
}

// A node already over its threshold before the load is "over before the
// load": never the breakpoint. Once back under, a crossing from below
// counts. Polls that come before the first window are judged when it
// comes (only then is the load's start known).
func TestOverBeforeTheLoad(t *testing.T) {
	load1Over100 := scenarios.NodeThreshold{Metric: "load1", Above: 100, Role: "db"}
	cases := []struct {
		name     string
		baseline *measure.Poll // through Baseline
		early    []float64     // db-3's load1 polled at -2 s, -1 s, before any window
		during   func(s int) float64
		bpAt     float64 // <0: none
		bpVUs    int
		inconc   string
	}{
		{name: "baseline over, stays over", baseline: ptr(poll(-3, load1("db-3", 150))),
			during: func(int) float64 { return 150 }, bpAt: -1, inconc: InconclusiveOverBefore},
		{name: "early polls over, stays over", early: []float64{150, 150},
			during: func(int) float64 { return 150 }, bpAt: -1, inconc: InconclusiveOverBefore},
		{name: "over before, under, then a crossing from below", baseline: ptr(poll(-3, load1("db-3", 150))),
			during: func(s int) float64 {
				if s <= 2 || s >= 8 {
					return 150
				}
				return 50
			}, bpAt: 8, bpVUs: 80},
		{name: "under before: the crossing counts", baseline: ptr(poll(-3, load1("db-3", 20))),
			during: func(int) float64 { return 150 }, bpAt: 0, bpVUs: 10},
		{name: "failed baseline poll judges nothing", baseline: ptr(measure.Poll{Time: at(-3), Err: "refused"}),
			during: func(int) float64 { return 150 }, bpAt: 0, bpVUs: 10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := NewRecorder(scenario(false, nil, load1Over100), t0, Options{Host: "h"})
			if c.baseline != nil {
				r.Baseline(*c.baseline)
			}
			for i, v := range c.early {
				r.AddPoll(poll(float64(i-len(c.early)), load1("db-3", v)))
			}
			wins := ramp(12, 10, func(int) float64 { return 50 })
			polls := map[int][]measure.Sample{}
			for s := 1; s <= 12; s++ {
				polls[s] = []measure.Sample{load1("db-3", c.during(s))}
			}
			// The first poll of the load, at 0 s, comes before the first window.
			r.AddPoll(poll(0, load1("db-3", c.during(1))))
			feed(t, r, wins, polls)
			r.Finish(at(13))
			rep := r.Report()
			v := rep.Verdict
			if c.bpAt < 0 {
				if v.Breakpoint != nil {
					t.Fatalf("breakpoint %+v, want none", v.Breakpoint)
				}
			} else if v.Breakpoint == nil || !v.Breakpoint.Time.Equal(at(c.bpAt)) || v.Breakpoint.VUs != c.bpVUs {
				t.Fatalf("breakpoint %+v, want at %v s with %d VUs", v.Breakpoint, c.bpAt, c.bpVUs)
			}
			var kinds []string
			for _, x := range v.Inconclusive {
				kinds = append(kinds, x.Kind)
			}
			if strings.Join(kinds, ",") != c.inconc {
				t.Fatalf("inconclusive %+v, want %q", v.Inconclusive, c.inconc)
			}
			over := 0
			for _, e := range rep.Events {
				if e.Kind == EventNodeOverBefore {
					over++
					if !strings.Contains(e.Text, "db-3 load1 150 > 100 before the load") {
						t.Errorf("event %q", e.Text)
					}
				}
			}
			if wantOver := c.inconc != "" || c.bpAt == 8; (over == 1) != wantOver || over > 1 {
				t.Errorf("%d node_over_before_load events", over)
			}
			if c.baseline != nil && c.baseline.Err == "" && (len(rep.Nodes) != 1 || rep.Nodes[0].Baseline == nil) {
				t.Errorf("nodes %+v: no baseline", rep.Nodes)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// The load at a crossing is the load of the window that contains it, even
// when the poll that finds it comes before that window has ended.
func TestCrossingLoadFromItsOwnWindow(t *testing.T) {
	r := NewRecorder(scenario(false, nil, scenarios.NodeThreshold{Metric: "load1", Above: 100}), t0,
		Options{Host: "h", Sustain: time.Second})
	for i := 0; i < 10; i++ {
		r.AddTick(tick(i, win{vus: 10 * (i + 1), rps: 30 * (i + 1), p95: 50}))
		v := 50.0
		if i >= 5 {
			v = 120
		}
		// At i+1.5 s: inside the window (i+1, i+2], which has not ended yet.
		r.AddPoll(poll(float64(i)+1.5, load1("db-3", v)))
	}
	r.Finish(at(11))
	rep := r.Report()
	bp := rep.Verdict.Breakpoint
	if bp == nil || !bp.Time.Equal(at(6.5)) || bp.VUs != 70 {
		t.Fatalf("breakpoint %+v, want at 6.5 s with 70 VUs (the window (6 s, 7 s])", bp)
	}
	for _, e := range rep.Events {
		if (e.Kind == EventNodeOver || e.Kind == EventBreakpoint) && (e.Load.VUs != 70 || !strings.Contains(e.Text, "70 users")) {
			t.Errorf("%s event with load %+v: %q", e.Kind, e.Load, e.Text)
		}
	}
	if ms := rep.Verdict.MaxStable; ms == nil || ms.VUs != 60 {
		t.Errorf("max stable %+v, want 60 VUs", ms)
	}
}

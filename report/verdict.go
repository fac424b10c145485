package report

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/brink-load/brink/measure"
)

// Signal kinds (JSON contract): what gave out.
const (
	SignalNode = "node" // a node threshold (load1 > 100 on db-3)
	SignalSLO  = "slo"  // a latency / error / check SLO
	SignalRate = "rate" // an arrival-rate group could not start its iterations on schedule
	// A custom panel's series over its threshold: Node holds the series'
	// labels, Metric the panel's title.
	SignalPanel = "panel"
)

// Signal is one sustained violation.
type Signal struct {
	Kind      string `json:"kind"`
	Node      string `json:"node,omitempty"`
	Group     string `json:"group,omitempty"`
	Metric    string `json:"metric"`
	Expr      string `json:"expr,omitempty"`
	Value     Num    `json:"value"`
	Threshold Num    `json:"threshold"`
	// Text says it in words: "db-3 load1 104 > 100".
	Text string `json:"text"`
	// ownHost: a node on brink's own machine, whose load is partly
	// brink's.
	ownHost bool
}

// brinkCanCause says whether brink's own overload can make this signal:
// what the client measures (latency, errors, rates) and a node on brink's
// machine. A remote node's crossing is the server's whatever brink's state,
// so it still counts in a window where brink was the bottleneck.
func (s *Signal) brinkCanCause() bool {
	return (s.Kind != SignalNode && s.Kind != SignalPanel) || s.ownHost
}

// Breakpoint is where the first sustained violation began, and the load then.
type Breakpoint struct {
	Time       time.Time `json:"time"`
	ElapsedS   float64   `json:"elapsed_s"`
	VUs        int       `json:"vus"`
	TargetVUs  int       `json:"target_vus"`
	TargetRate float64   `json:"target_rate,omitempty"`
	RPS        Num       `json:"rps"`
	P95Ms      Num       `json:"p95_ms"`
	ErrorRate  Num       `json:"error_rate"`
	Signal     Signal    `json:"signal"`
	// Groups is the load per scenario group then (see GroupLoad).
	Groups []GroupLoad `json:"groups,omitempty"`
}

// MaxStable is the highest load at which everything held (before the
// breakpoint). Its figures are over every held window at that level: mean
// RPS, request-weighted mean p95/p99 of the windows, errors over requests.
type MaxStable struct {
	Time       time.Time `json:"time"` // the last window at that level
	Windows    int       `json:"windows"`
	ElapsedS   float64   `json:"elapsed_s"`
	VUs        int       `json:"vus"`
	TargetRate float64   `json:"target_rate,omitempty"`
	RPS        Num       `json:"rps"`
	P95Ms      Num       `json:"p95_ms"`
	P99Ms      Num       `json:"p99_ms"`
	ErrorRate  Num       `json:"error_rate"`
	// Groups is the load per scenario group at that level (see GroupLoad).
	Groups []GroupLoad `json:"groups,omitempty"`
}

// Followed is a violation after the breakpoint.
type Followed struct {
	Time   time.Time `json:"time"`
	AfterS float64   `json:"after_s"` // seconds after the breakpoint
	Signal Signal    `json:"signal"`
}

// Peak is the highest load the run reached.
type Peak struct {
	VUs        int     `json:"vus"`
	TargetRate float64 `json:"target_rate,omitempty"`
	RPS        Num     `json:"rps"`
	// Groups is each group's highest load: its most VUs, its highest
	// target rate (other figures are not kept).
	Groups []GroupLoad `json:"groups,omitempty"`
}

// Verdict answers "how much can it take, and what gave out first?".
type Verdict struct {
	Breakpoint  *Breakpoint `json:"breakpoint"`
	MaxStable   *MaxStable  `json:"max_stable"`
	FirstSignal *Signal     `json:"first_signal"`
	Followed    []Followed  `json:"followed"`
	Peak        Peak        `json:"peak"`
	// Aborted is why the run stopped early ("" when it ran its course).
	Aborted string `json:"aborted,omitempty"`
	// OpenModel: load is counted in arrivals/s rather than VUs.
	OpenModel bool `json:"open_model,omitempty"`
	// Inconclusive lists what the finished run could not judge (exit
	// code 98 when nothing failed): a threshold without data, node
	// thresholds without node metrics, a first signal while brink itself
	// was the bottleneck.
	Inconclusive []Reason `json:"inconclusive"`
	// Failed lists what failed the run beside its thresholds (exit code
	// 99): an arrival-rate group that dropped more than 1 % of its
	// scheduled arrivals.
	Failed []Reason `json:"failed"`
	// Text is the verdict as one paragraph of plain words.
	Text string `json:"text"`
}

// Verdict is the verdict so far (live) or the final one after Finish.
func (r *Recorder) Verdict() Verdict {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.verdict()
}

// winInfo is what the detectors said of one window.
type winInfo struct {
	held bool // every SLO and arrival rate evaluated in it held
	// genBottleneck: brink itself was the bottleneck in the window (its
	// own stall, or its CPU), so what it measured there is its own: such a
	// window is no breakpoint and no stable load.
	genBottleneck bool
}

// verdictIn is all the verdict is made of: the timeline, what the
// detectors said of each window, and the sustained violations.
type verdictIn struct {
	start      time.Time
	ticks      []measure.Tick
	wins       []winInfo
	window     time.Duration // nominal
	openOnly   bool
	done       bool
	abortAt    time.Time
	abortWhy   string
	violations []violation
	// thresholds: any SLO, node or panel threshold was set.
	thresholds bool
	// shorts says each SLO without its value, by metric label and expr:
	// "p95 > 500 ms".
	shorts           map[string]string
	requests, errors int64 // whole run
	p95, p99         float64
	latOK            bool // p95 and p99 are known
	// inconclusive: what the recorder could not judge (the generator
	// aside, which judge finds).
	inconclusive []Reason
	failed       []Reason
	// defaultFailed says each default threshold that failed over the
	// whole run: "errors 100 % > 5 %"; defaultHeld each that held.
	defaultFailed, defaultHeld []string
}

// verdict builds the verdict; the caller holds the lock.
func (r *Recorder) verdict() Verdict {
	in := verdictIn{start: r.v.Start, ticks: r.v.Ticks, wins: r.wins, window: r.window, openOnly: r.openOnly,
		done: r.v.Done, abortAt: r.abortAt, abortWhy: r.abortWhy, violations: r.violations,
		thresholds: r.userSLOs() > 0 || len(r.nodeThs) > 0 || r.panelTh > 0, shorts: map[string]string{},
		requests: r.run.sum.Requests, errors: r.run.sum.ErrorCount, inconclusive: r.inconclusive(), failed: r.failures()}
	for _, s := range r.slos {
		in.shorts[metricLabel(s.th)+"\x00"+s.th.Expr] = sloShort(s.th)
		if v, ok := r.wholeRunValue(s.th); s.dflt && ok {
			if s.th.Holds(v) {
				in.defaultHeld = append(in.defaultHeld, metricLabel(s.th)+" "+s.th.Expr)
			} else {
				in.defaultFailed = append(in.defaultFailed, sloWithValue(s.th, v))
			}
		}
	}
	var ok95, ok99 bool
	lat := withStall(&r.run.lat, &r.run.stallLat)
	in.p95, ok95 = lat.quantile(95)
	in.p99, ok99 = lat.quantile(99)
	in.latOK = ok95 && ok99
	v := judge(&in)
	if r.opts.Agents != nil {
		v.Text += lostAgentsText(r.opts.Agents())
	}
	return v
}

// judge is the verdict as a pure function of its input. The breakpoint is
// the earliest-stamped violation, which is not always the first noticed: a
// node crossing is stamped back at its first sample over.
func judge(in *verdictIn) Verdict {
	vs := sortedViolations(in.violations)
	ticks := in.ticks
	var v Verdict
	v.Aborted = in.abortWhy
	v.OpenModel = in.openOnly
	v.Inconclusive = append([]Reason{}, in.inconclusive...)
	v.Failed = append([]Reason{}, in.failed...)
	bpIdx := -1
	for i, x := range vs {
		if !in.abortAt.IsZero() && !x.at.Before(in.abortAt) {
			break
		}
		if in.generatorBound(x.at) && x.signal.brinkCanCause() {
			// brink measured itself there: no breakpoint, and the first
			// signal leaves the run unjudged.
			if i == 0 {
				v.Inconclusive = append(v.Inconclusive, Reason{Kind: InconclusiveGenerator,
					Reason: fmt.Sprintf("the first signal (%s, +%s) came while brink itself was the bottleneck",
						x.signal.Text, fmtDur(x.at.Sub(in.start)))})
			}
			continue
		}
		bpIdx = i
		break
	}
	for i := range ticks {
		t := &ticks[i]
		if u := tickUsers(t); u > v.Peak.VUs {
			v.Peak.VUs = u
		}
		v.Peak.Groups = peakGroups(v.Peak.Groups, t)
		v.Peak.TargetRate = max(v.Peak.TargetRate, t.TargetRate)
		if rps := t.RPS(); rps > float64(v.Peak.RPS) && fullWindow(t.Window, in.window) {
			v.Peak.RPS = Num(rps)
		}
	}
	var bp *violation
	if bpIdx >= 0 {
		bp = &vs[bpIdx]
		sig := bp.signal
		v.FirstSignal = &sig
		v.Breakpoint = &Breakpoint{Time: bp.at, ElapsedS: bp.at.Sub(in.start).Seconds(), VUs: bp.load.VUs,
			TargetVUs: bp.load.TargetVUs, TargetRate: bp.load.TargetRate, RPS: Num(bp.load.RPS),
			P95Ms: Num(bp.load.P95Ms), ErrorRate: Num(bp.load.ErrorRate), Signal: sig, Groups: bp.load.Groups}
		for _, x := range vs[bpIdx+1:] {
			if !in.abortAt.IsZero() && !x.at.Before(in.abortAt) {
				break // the ramp-down's doing, not the system's
			}
			v.Followed = append(v.Followed, Followed{Time: x.at, AfterS: x.at.Sub(bp.at).Seconds(), Signal: x.signal})
		}
	}
	v.MaxStable = in.maxStable(bp)
	v.Text = in.verdictText(&v, bp)
	v.Text += reasonList(" Failed: ", v.Failed) + reasonList(" Could not judge: ", v.Inconclusive)
	return v
}

// reasonList is "<title>a; b." for the verdict's text, or "" with no
// reasons.
func reasonList(title string, rs []Reason) string {
	if len(rs) == 0 {
		return ""
	}
	s := title
	for i, x := range rs {
		if i > 0 {
			s += "; "
		}
		s += x.Reason
	}
	return s + "."
}

// generatorBound reports whether t falls in a window where brink itself
// was the bottleneck.
func (in *verdictIn) generatorBound(t time.Time) bool {
	i := windowAt(in.ticks, t)
	return i >= 0 && i < len(in.wins) && in.wins[i].genBottleneck
}

// windowAt is the index of the window that contains t (windows end at
// their Time), or -1 when t is past the last one. A time before the first
// window is in the first.
func windowAt(ticks []measure.Tick, t time.Time) int {
	i := sort.Search(len(ticks), func(i int) bool { return !ticks[i].Time.Before(t) })
	if i == len(ticks) {
		return -1
	}
	return i
}

func sortedViolations(in []violation) []violation {
	out := append([]violation(nil), in...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	return out
}

// maxStable finds the highest-load window before the breakpoint in which
// every evaluated threshold held. Windows shorter than half the nominal
// window (the run's last) count only when there is no other.
func (in *verdictIn) maxStable(bp *violation) *MaxStable {
	if ms := in.maxStableOf(bp, true); ms != nil {
		return ms
	}
	return in.maxStableOf(bp, false)
}

func (in *verdictIn) maxStableOf(bp *violation, fullOnly bool) *MaxStable {
	best := -1
	ticks := in.ticks
	skip := func(i int) bool {
		t := &ticks[i]
		return t.Requests == 0 || (i < len(in.wins) && (!in.wins[i].held || in.wins[i].genBottleneck)) || (fullOnly && !fullWindow(t.Window, in.window))
	}
	for i := range ticks {
		t := &ticks[i]
		if bp != nil && !t.Time.Before(bp.cut()) {
			break
		}
		if skip(i) {
			continue
		}
		// Ties go to the later window: the load held for longer.
		if best < 0 || !in.higher(&ticks[best], t) {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	// Average every held window at that level (a stage that holds its
	// target gives many), so one noisy second does not set the figures.
	bt := &ticks[best]
	out := &MaxStable{Time: bt.Time, ElapsedS: bt.Time.Sub(in.start).Seconds(), VUs: tickUsers(bt), TargetRate: bt.TargetRate,
		Groups: groupLoads(bt)}
	var rps, p95, p99 float64
	var req, errs, latReq int64
	for i := range ticks {
		t := &ticks[i]
		if bp != nil && !t.Time.Before(bp.cut()) {
			break
		}
		if skip(i) || !in.sameLevel(t, bt) {
			continue
		}
		out.Windows++
		out.Time, out.ElapsedS = t.Time, t.Time.Sub(in.start).Seconds()
		rps += t.RPS()
		req += t.Requests
		errs += t.ErrorCount
		if t.Latency.Count > 0 {
			p95 += ms(t.Latency.P95) * float64(t.Requests)
			p99 += ms(t.Latency.P99) * float64(t.Requests)
			latReq += t.Requests
		}
	}
	out.RPS = Num(rps / float64(out.Windows))
	out.ErrorRate = rate(errs, req)
	out.P95Ms, out.P99Ms = nan(), nan()
	if latReq > 0 {
		out.P95Ms, out.P99Ms = Num(p95/float64(latReq)), Num(p99/float64(latReq))
	}
	return out
}

// sameLevel: two windows ran at the same load level (closed-model users,
// or target rate for open-model runs); RPS may differ.
func (in *verdictIn) sameLevel(a, b *measure.Tick) bool {
	if in.openOnly {
		return a.TargetRate == b.TargetRate
	}
	return tickUsers(a) == tickUsers(b)
}

// higher orders load levels: by arrival rate (then RPS) for open-model runs,
// by closed-model users (then RPS) otherwise.
func (in *verdictIn) higher(a, b *measure.Tick) bool {
	if in.openOnly {
		if a.TargetRate != b.TargetRate {
			return a.TargetRate > b.TargetRate
		}
		return a.RPS() > b.RPS()
	}
	if ua, ub := tickUsers(a), tickUsers(b); ua != ub {
		return ua > ub
	}
	return a.RPS() > b.RPS()
}

// peakGroups raises each group's peak load to window t's.
func peakGroups(peak []GroupLoad, t *measure.Tick) []GroupLoad {
	for _, g := range groupLoads(t) {
		i := slices.IndexFunc(peak, func(p GroupLoad) bool { return p.Name == g.Name })
		if i < 0 {
			peak = append(peak, GroupLoad{Name: g.Name, Executor: g.Executor, Open: g.Open, RPS: nan(), P95Ms: nan(), ErrorRate: nan()})
			i = len(peak) - 1
		}
		p := &peak[i]
		p.VUs, p.TargetVUs, p.TargetRate = max(p.VUs, g.VUs), max(p.TargetVUs, g.TargetVUs), max(p.TargetRate, g.TargetRate)
	}
	return peak
}

// verdictLoad says a load level: "630 users (210 browse + 210 chat + 210
// search) + 70/s writes, 1 840 rps" (LoadText), or from figures without
// groups (an older report) "630 VUs, 1 840 rps".
func verdictLoad(open bool, gs []GroupLoad, vus int, rate, rps float64) string {
	if len(gs) > 0 {
		return fmt.Sprintf("%s, %s rps", LoadText(gs, vus, rate, true), group3(int64(rps+0.5)))
	}
	if open && rate > 0 {
		return fmt.Sprintf("%s/s target, %s rps", trimFloat(rate, 1), group3(int64(rps+0.5)))
	}
	return fmt.Sprintf("%s VUs, %s rps", group3(int64(vus)), group3(int64(rps+0.5)))
}

// isErrorRate reports whether a signal is the run's whole error rate
// (http_req_failed without a tag filter).
func isErrorRate(s Signal) bool {
	return s.Kind == SignalSLO && s.Metric == "http_req_failed"
}

// followedShort says a later violation without its load: "p95 > 500 ms".
func followedShort(s Signal, shorts map[string]string) string {
	if t, ok := shorts[s.Metric+"\x00"+s.Expr]; ok && s.Kind == SignalSLO {
		return t
	}
	return s.Text
}

// noThresholdsText is the verdict of a run without thresholds (the
// arrival-rate check, which found nothing, aside): the highest load
// reached and how the run went there.
func (in *verdictIn) noThresholdsText(v *Verdict) string {
	var b strings.Builder
	peak := verdictLoad(v.OpenModel, v.Peak.Groups, v.Peak.VUs, v.Peak.TargetRate, float64(v.Peak.RPS))
	// The summary lists the defaults brink applied: say them here too, so
	// "no thresholds" never reads against a threshold row.
	lead := "No thresholds were set"
	switch {
	case len(in.defaultFailed) > 0:
		lead = "No thresholds of its own were set, and the default one failed (" + strings.Join(in.defaultFailed, "; ") + ")"
	case len(in.defaultHeld) > 0:
		lead = "No thresholds of its own were set; the default held (" + strings.Join(in.defaultHeld, ", ") + ")"
	}
	switch {
	case v.Aborted != "":
		fmt.Fprintf(&b, "%s; the run was aborted (%s) after reaching %s", lead, v.Aborted, peak)
	case !in.done:
		fmt.Fprintf(&b, "%s: up to %s so far", lead, peak)
	default:
		fmt.Fprintf(&b, "%s: reached %s", lead, peak)
	}
	if in.requests == 0 {
		b.WriteString(", with no request completed.")
		return b.String()
	}
	fmt.Fprintf(&b, " with %s errors", fmtPct(float64(in.errors)/float64(in.requests)))
	if in.latOK {
		fmt.Fprintf(&b, " (p95 %s, p99 %s over the run)", fmtMs(in.p95), fmtMs(in.p99))
	}
	b.WriteString(".")
	return b.String()
}

func (in *verdictIn) verdictText(v *Verdict, bp *violation) string {
	var b strings.Builder
	ms := v.MaxStable
	stable := func() string {
		return fmt.Sprintf("%s (p95 %s, p99 %s, errors %s)", verdictLoad(v.OpenModel, ms.Groups, ms.VUs, ms.TargetRate, float64(ms.RPS)),
			fmtMs(float64(ms.P95Ms)), fmtMs(float64(ms.P99Ms)), fmtPct(float64(ms.ErrorRate)))
	}
	if bp == nil {
		switch {
		case len(in.ticks) == 0:
			b.WriteString("No load was recorded.")
		case !in.thresholds:
			// Nothing to hold: say what happened, not that it held.
			b.WriteString(in.noThresholdsText(v))
		case ms == nil:
			fmt.Fprintf(&b, "No breakpoint, but no window held every threshold either; peak %s.",
				verdictLoad(v.OpenModel, v.Peak.Groups, v.Peak.VUs, v.Peak.TargetRate, float64(v.Peak.RPS)))
		case v.Aborted != "":
			fmt.Fprintf(&b, "No breakpoint before the run was aborted (%s): it held up to %s.", v.Aborted, stable())
		case !in.done:
			fmt.Fprintf(&b, "No breakpoint yet: holding at up to %s.", stable())
		default:
			fmt.Fprintf(&b, "No breakpoint: it held up to the highest load reached, %s.", stable())
		}
		return b.String()
	}
	fmt.Fprintf(&b, "%s at %s", bp.signal.Text, verdictLoad(v.OpenModel, bp.load.Groups, bp.load.VUs, bp.load.TargetRate, bp.load.RPS))
	saidErrors := isErrorRate(bp.signal)
	const most = 4 // the first few say what followed; the event log has the rest
	// Each signal once, at its first breach: one that recovered and broke
	// again ("p95 > 500 ms 24 s later; p95 > 500 ms 33 s later") says
	// nothing new.
	said := map[string]bool{followedShort(bp.signal, in.shorts): true}
	var firsts []Followed
	for _, f := range v.Followed {
		if t := followedShort(f.Signal, in.shorts); !said[t] {
			said[t] = true
			firsts = append(firsts, f)
		}
	}
	for i, f := range firsts {
		if i == most {
			fmt.Fprintf(&b, "; %d more", len(firsts)-most)
			break
		}
		saidErrors = saidErrors || isErrorRate(f.Signal)
		fmt.Fprintf(&b, "; %s %s later", followedShort(f.Signal, in.shorts), fmtDur(time.Duration(f.AfterS*float64(time.Second))))
	}
	// Errors from the breakpoint on: what the users felt, unless an error
	// rate was said already.
	var req, errs int64
	for i := range in.ticks {
		if t := &in.ticks[i]; !t.Time.Before(bp.at) {
			req += t.Requests
			errs += t.ErrorCount
		}
	}
	if req > 0 && errs > 0 && !saidErrors {
		fmt.Fprintf(&b, "; errors %s", fmtPct(float64(errs)/float64(req)))
	}
	b.WriteString(".")
	if ms != nil {
		fmt.Fprintf(&b, " Max stable: %s.", stable())
	} else {
		b.WriteString(" No window before it held every threshold.")
	}
	return b.String()
}

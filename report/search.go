package report

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// Search is what `brink find` found (the JSON report's "search"): the
// highest load every threshold held at, the bracket around the limit, and
// each plateau held on the way. Names are contracts: add, never rename.
type Search struct {
	// Unit is what loads are counted in: "users" (closed-model groups) or
	// "/s" (arrival rate, when every group is open-model).
	Unit string `json:"unit"`
	// Found: the answer was verified. Otherwise the search was
	// inconclusive and Why says why.
	Found  bool `json:"found"`
	Answer Num  `json:"answer"`
	// Bracket is [held, failed]: the limit lies between (0 when no
	// plateau held or none failed).
	Bracket [2]float64 `json:"bracket"`
	// Precision is the bracket's half-width over the answer (0.02: 2 %);
	// Goal the --precision asked for, the bracket's whole width over its
	// low end.
	Precision Num     `json:"precision"`
	Goal      float64 `json:"goal"`
	// PrecisionUp is what is known about the limit around the answer:
	// the answer held (its verification hold) and Bracket[1] failed, so
	// the limit lies at most this far above the answer (bracket[1] −
	// answer) / answer, and never below it: +PrecisionUp/−0.
	PrecisionUp Num `json:"precision_up,omitempty"`
	// Limit is what failed the lowest failed plateau (nil when none did).
	Limit *SearchLimit `json:"limit"`
	// Require is --require (0: none); Met whether the answer reached it
	// (never when nothing held).
	Require float64 `json:"require,omitempty"`
	Met     bool    `json:"met,omitempty"`
	Why     string  `json:"why,omitempty"`
	// Phase is the search's phase now (explore, bisect, verify, cooldown,
	// done), for consoles reading a report in progress.
	Phase string `json:"phase"`
	// Current is the load of the plateau being held now (0 between).
	Current   float64 `json:"current,omitempty"`
	DurationS float64 `json:"duration_s"`
	// SettleS is the time plateaus were held past --hold waiting for a
	// slow signal (load1) to settle.
	SettleS  float64   `json:"settle_s"`
	Plateaus []Plateau `json:"plateaus"`
}

// SearchLimit is the signal that set the limit, and the load it broke at.
type SearchLimit struct {
	Load   float64 `json:"load"`
	Signal Signal  `json:"signal"`
}

// PlateauGroup is one group's target on a plateau (VUs, or iterations/s).
type PlateauGroup struct {
	Name   string  `json:"name"`
	Target float64 `json:"target"`
}

// Plateau is one held load: its phase, how long it was held and what it
// showed.
type Plateau struct {
	Phase  string         `json:"phase"`
	Load   float64        `json:"load"`
	Groups []PlateauGroup `json:"groups,omitempty"`
	// Start is when the hold began (after the ramp and settle).
	Start     time.Time `json:"start"`
	DurationS float64   `json:"duration_s"` // of the hold
	// Held: every threshold held and throughput followed the load.
	// Judged is false when it could not be told (brink itself was the
	// bottleneck, the node source was down).
	Held   bool `json:"held"`
	Judged bool `json:"judged"`
	// Signals are what failed it (a node, an SLO, a rate, the knee).
	Signals   []Signal `json:"signals"`
	RPS       Num      `json:"rps"`
	P95Ms     Num      `json:"p95_ms"`
	ErrorRate Num      `json:"error_rate"`
	// SettleS is how long the hold ran past --hold for a slow signal to
	// settle; Unsettled when it still moved at the bound.
	SettleS   float64 `json:"settle_s,omitempty"`
	Unsettled bool    `json:"unsettled,omitempty"`
	// CooldownS is how long the load rested after it, waiting for the
	// node metrics it pushed over to come back under.
	CooldownS float64 `json:"cooldown_s,omitempty"`
}

// PlateauOutcome is how a plateau ended (find's search records it).
type PlateauOutcome int

const (
	PlateauHeld   PlateauOutcome = iota // every threshold held and throughput followed the load
	PlateauFailed                       // a threshold broke (sustained) or the knee was passed
	// PlateauUnjudged: the plateau could not be judged (brink itself was
	// the bottleneck, the node source was down): neither held nor failed.
	PlateauUnjudged
)

// Outcome is how the plateau ended; not judged comes first, as such a
// plateau did not fail either.
func (p *Plateau) Outcome() PlateauOutcome {
	switch {
	case !p.Judged:
		return PlateauUnjudged
	case !p.Held:
		return PlateauFailed
	}
	return PlateauHeld
}

// SignalKnee is a plateau's throughput falling behind its load: achieved
// rps under 90 % of what the plateaus before it predict.
const SignalKnee = "knee"

// SetSearch records the search's state for the report (a copy is kept).
func (r *Recorder) SetSearch(s *Search) {
	var c *Search
	if s != nil {
		cp := *s
		cp.Plateaus = append([]Plateau{}, s.Plateaus...)
		c = &cp
	}
	r.mu.Lock()
	r.search = c
	r.v.Search = c
	r.changed()
	r.mu.Unlock()
}

// SearchProgress is the search in a few words for a console's header:
// "bisect 120 users · bracket 80–160 · 5 plateaus", or the answer once done.
func SearchProgress(s *Search) string {
	if s == nil {
		return ""
	}
	if s.Phase == "done" {
		return strings.TrimPrefix(SearchLine(s), "max sustainable: ")
	}
	var b strings.Builder
	b.WriteString(s.Phase)
	if s.Phase != "cooldown" && s.Current > 0 {
		b.WriteString(" " + searchLoad(s.Current, s.Unit))
	}
	fmt.Fprintf(&b, " · bracket %s–%s · %d plateaus", bracketWord(s.Bracket[0]), bracketWord(s.Bracket[1]), len(s.Plateaus))
	return b.String()
}

func bracketWord(v float64) string {
	if v <= 0 {
		return "?"
	}
	return trimFloat(v, 1)
}

// SearchLine is the answer in one line: "max sustainable: 612 users
// (held; 625 failed: +2.1 %/−0; bracket 600–625), limited by db-3 load1
// (104 > 100 at 625)". The answer held its verification and the bracket's
// high end failed: the limit is in between, above the answer and never
// below it, so the band is said one-sided, not ± around the answer.
func SearchLine(s *Search) string {
	if s == nil {
		return ""
	}
	var b strings.Builder
	if s.Found && s.Answer <= 0 {
		// Nothing held: no bracket to give, the least load tried failed.
		b.WriteString("max sustainable: none")
	} else if s.Found {
		fmt.Fprintf(&b, "max sustainable: %s", searchLoad(float64(s.Answer), s.Unit))
		if s.Bracket[1] > 0 {
			// From the bracket, not PrecisionUp: an older report has none.
			up := math.Max((s.Bracket[1]-float64(s.Answer))/float64(s.Answer), 0)
			fmt.Fprintf(&b, " (held; %s failed: +%s/−0; bracket %s–%s)", trimFloat(s.Bracket[1], 1), fmtPct(up),
				trimFloat(s.Bracket[0], 1), trimFloat(s.Bracket[1], 1))
		}
	} else {
		b.WriteString("max sustainable: not found")
		if s.Bracket[0] > 0 || s.Bracket[1] > 0 {
			fmt.Fprintf(&b, " (held %s, failed %s)", bracketEnd(s.Bracket[0], s.Unit), bracketEnd(s.Bracket[1], s.Unit))
		}
	}
	if s.Limit != nil {
		b.WriteString(", limited by " + LimitText(s.Limit))
	}
	if s.Why != "" {
		b.WriteString(": " + s.Why)
	}
	return b.String()
}

func bracketEnd(v float64, unit string) string {
	if v <= 0 {
		return "none"
	}
	return searchLoad(v, unit)
}

// searchLoad is a load in the search's unit: "612 users", "160/s".
func searchLoad(v float64, unit string) string {
	if unit == "users" {
		if v == 1 {
			return "1 user"
		}
		return trimFloat(v, 0) + " users"
	}
	return trimFloat(v, 1) + unit
}

// LimitText says the limiting signal with its value and the load it broke
// at: "db-3 load1 (104 > 100 at 625)".
func LimitText(l *SearchLimit) string {
	s := l.Signal
	at := trimFloat(l.Load, 1)
	switch s.Kind {
	case SignalNode:
		return fmt.Sprintf("%s %s (%s > %s at %s)", s.Node, s.Metric, fmtOver(s.Metric, float64(s.Value), float64(s.Threshold)),
			fmtNodeValue(s.Metric, float64(s.Threshold)), at)
	case SignalPanel:
		return fmt.Sprintf("%s (%s > %s at %s)", s.Metric, fmtPanelNum(float64(s.Value)), fmtPanelNum(float64(s.Threshold)), at)
	}
	return fmt.Sprintf("%s (at %s)", s.Text, at)
}

// printSearch writes find's answer and its plateaus, the first lines a
// find's reader acts on.
func printSearch(w io.Writer, s *Search, width int) {
	if s == nil {
		return
	}
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("\n  SEARCH (%d plateaus, %s", len(s.Plateaus), fmtDur(time.Duration(s.DurationS*float64(time.Second)).Round(time.Second)))
	if s.SettleS >= 0.5 {
		p(", %s of it waiting for slow signals to settle", fmtDur(time.Duration(s.SettleS*float64(time.Second)).Round(time.Second)))
	}
	p(")\n")
	for _, pl := range s.Plateaus {
		mark := [...]string{PlateauHeld: "✓", PlateauFailed: "✗", PlateauUnjudged: "?"}[pl.Outcome()]
		var why []string
		for _, sig := range pl.Signals {
			why = append(why, sig.Text)
		}
		line := fmt.Sprintf("%s %-7s %s held %s, %s rps, p95 %s", mark, pl.Phase, searchLoad(pl.Load, s.Unit),
			fmtDur(time.Duration(pl.DurationS*float64(time.Second)).Round(100*time.Millisecond)), fmtNum(pl.RPS, 0), msOrDash(pl.P95Ms))
		if pl.SettleS >= 0.5 {
			line += fmt.Sprintf(" (+%s settling)", fmtDur(time.Duration(pl.SettleS*float64(time.Second)).Round(time.Second)))
		}
		if len(why) > 0 {
			line += ": " + strings.Join(why, "; ")
		}
		for i, l := range wrap(line, width-4) {
			if i > 0 {
				l = "  " + l
			}
			p("    %s\n", l)
		}
	}
	for _, l := range wrap(SearchLine(s), width-4) {
		p("    %s\n", l)
	}
	if SettlingDominated(s) {
		for _, l := range wrap(SettleAdvice, width-4) {
			p("    %s\n", l)
		}
	}
}

// SettleAdvice is said when waiting for slow signals took most of a search.
const SettleAdvice = "waiting for load1 to settle took most of the search: a faster signal " +
	"(node_pressure_cpu_waiting_seconds_total, or the run queue through a panel) would shorten it"

// SettlingDominated reports whether the plateaus' settling took more than
// half of the search's time.
func SettlingDominated(s *Search) bool {
	return s != nil && s.DurationS > 0 && s.SettleS*2 > s.DurationS
}

// FailedThresholdSignal says a threshold that failed over a plateau as a
// whole: "http_req_duration p(95)<100ms failed (149 ms over the plateau)".
func FailedThresholdSignal(t ThresholdResult) Signal {
	base, _, _ := strings.Cut(t.Metric, "{")
	v := "no value"
	if t.Value.Valid() {
		v = fmtThresholdValue(base, t.Agg, float64(t.Value))
	}
	return Signal{Kind: SignalSLO, Metric: t.Metric, Expr: t.Expr, Value: t.Value,
		Text: fmt.Sprintf("%s %s failed (%s over the plateau)", t.Metric, t.Expr, v)}
}

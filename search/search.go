// Package search finds the highest load a system sustains: a pure state
// machine (Search) that picks each plateau's load from the outcomes of the
// plateaus before it, and a driver (Driver) that holds those plateaus on a
// running engine and judges each with the report package's own threshold
// evaluation over that plateau's windows.
package search

import (
	"fmt"
	"math"

	"github.com/brink-load/brink/report"
)

// Phase names what a plateau is for (JSON contract: the report's
// search.plateaus[].phase).
type Phase string

const (
	// PhaseExplore doubles the load from --start until a plateau fails.
	PhaseExplore Phase = "explore"
	// PhaseBisect halves the bracket between the last good and the first
	// bad plateau until it is within the precision.
	PhaseBisect Phase = "bisect"
	// PhaseVerify holds the answer longer (--verify) before it is said.
	PhaseVerify Phase = "verify"
)

// Outcome is how a plateau ended (report.Plateau.Outcome).
type Outcome = report.PlateauOutcome

const (
	Held     = report.PlateauHeld
	Failed   = report.PlateauFailed
	Unjudged = report.PlateauUnjudged
)

// maxUnjudged is how many times in a row a plateau is held when it cannot
// be judged before the search gives up.
const maxUnjudged = 3

// Config is what a search is asked. Loads are in the search's unit: users
// when any group is closed-model, else arrivals/s.
type Config struct {
	Start     float64 // the first plateau's load (> 0)
	Precision float64 // stop bisecting when (hi-lo)/lo is at most this (default 0.05)
	// Whole: loads are whole numbers (users); the bracket also ends once it
	// is one user wide.
	Whole bool
	// Min is the lowest load worth trying (default 1 when Whole, else
	// Start/64): below it a failing system has no answer but "none".
	Min float64
	// MaxVerify bounds the verification holds (default 4): a system that
	// fails every verification on the way down is inconclusive.
	MaxVerify int
}

// Step is the next plateau to hold.
type Step struct {
	Phase Phase
	Load  float64
}

// Result is where a search ended.
type Result struct {
	// Found: the answer was verified (or the smallest load failed, and the
	// answer is 0). Otherwise the search ended inconclusive and Why says so.
	Found  bool
	Answer float64
	// Lo and Hi bracket the limit: Lo held (0 when nothing did), Hi failed
	// (0 when nothing did).
	Lo, Hi float64
	Why    string
}

// Search is the state machine: Next gives the plateau to hold, Record its
// outcome, until Next says done. It knows nothing of time or engines, so
// every path through it is tested with scripted outcomes.
type Search struct {
	cfg      Config
	phase    Phase
	lo, hi   float64 // held / failed bounds (0: none yet)
	cur      float64 // the load of the step handed out
	pending  bool    // a step was handed out and not recorded
	verifyN  int
	unjudged int // unjudged plateaus in a row at the current step
	done     bool
	res      Result
}

// New checks cfg and fills its defaults.
func New(cfg Config) (*Search, error) {
	if !(cfg.Start > 0) || math.IsInf(cfg.Start, 0) {
		return nil, fmt.Errorf("search: start %v: must be > 0", cfg.Start)
	}
	if cfg.Precision == 0 {
		cfg.Precision = 0.05
	}
	if !(cfg.Precision > 0 && cfg.Precision < 1) {
		return nil, fmt.Errorf("search: precision %v: must be between 0 and 1", cfg.Precision)
	}
	if cfg.Whole {
		cfg.Start = math.Max(1, math.Round(cfg.Start))
	}
	if cfg.Min <= 0 {
		cfg.Min = cfg.Start / 64
		if cfg.Whole {
			cfg.Min = 1
		}
	}
	if cfg.MaxVerify <= 0 {
		cfg.MaxVerify = 4
	}
	return &Search{cfg: cfg, phase: PhaseExplore, cur: cfg.Start}, nil
}

// Next is the plateau to hold now; ok is false once the search is over
// (see Result). Asked twice without a Record, it gives the same step.
func (s *Search) Next() (Step, bool) {
	if s.done {
		return Step{}, false
	}
	s.pending = true
	return Step{Phase: s.phase, Load: s.cur}, true
}

// Bracket is the current bracket (lo held, hi failed; 0 when not known).
func (s *Search) Bracket() (lo, hi float64) { return s.lo, s.hi }

// Result is the outcome so far; final once Next says done.
func (s *Search) Result() Result {
	if s.done {
		return s.res
	}
	return Result{Lo: s.lo, Hi: s.hi, Why: "the search did not finish"}
}

// Stop ends the search from outside (--max-duration, a signal): the
// bracket so far is kept, unverified, so the result is inconclusive.
func (s *Search) Stop(why string) {
	if !s.done {
		s.finish(Result{Lo: s.lo, Hi: s.hi, Why: why})
	}
}

func (s *Search) finish(r Result) {
	s.done, s.pending, s.res = true, false, r
}

// Record takes the outcome of the step Next gave and moves on.
func (s *Search) Record(o Outcome) {
	if s.done || !s.pending {
		return
	}
	s.pending = false
	load := s.cur
	if o == Unjudged {
		// Held again (a busy generator, a node source that blinked):
		// only a plateau that cannot be judged three times ends it.
		if s.unjudged++; s.unjudged < maxUnjudged {
			return
		}
		s.finish(Result{Lo: s.lo, Hi: s.hi, Why: fmt.Sprintf("the plateau at %s could not be judged %d times", fmtLoad(load), s.unjudged)})
		return
	}
	s.unjudged = 0
	switch s.phase {
	case PhaseExplore:
		s.explore(load, o == Held)
	case PhaseBisect:
		if o == Held {
			s.lo = load
		} else {
			s.hi = load
		}
		s.afterBracket()
	case PhaseVerify:
		s.verified(load, o == Held)
	}
}

// explore doubles while plateaus hold; the first to fail closes the
// bracket. When the very first fails, it halves instead, down to Min.
func (s *Search) explore(load float64, held bool) {
	if held {
		s.lo = load
		if s.hi > 0 { // came down from a failure: the bracket is closed
			s.afterBracket()
			return
		}
		s.cur = s.round(load * 2)
		return
	}
	s.hi = load
	if s.lo > 0 {
		s.afterBracket()
		return
	}
	next := s.roundDown(load / 2)
	if next < s.cfg.Min || next >= load {
		// Nothing held down to the smallest load: that is an answer
		// (none), not a failure to find one.
		s.finish(Result{Found: true, Answer: 0, Hi: load,
			Why: fmt.Sprintf("even %s failed", fmtLoad(load))})
		return
	}
	s.cur = next
}

// afterBracket bisects while the bracket is wider than the precision, then
// verifies its middle.
func (s *Search) afterBracket() {
	if s.narrow() {
		s.phase, s.cur = PhaseVerify, s.middle()
		return
	}
	s.phase, s.cur = PhaseBisect, s.middle()
}

// narrow reports whether the bracket is within the precision (or one user
// wide when loads are whole).
func (s *Search) narrow() bool {
	if s.cfg.Whole && s.hi-s.lo <= 1 {
		return true
	}
	return s.hi-s.lo <= s.cfg.Precision*s.lo
}

// middle is the bracket's middle (rounded down to a whole load, never
// below lo).
func (s *Search) middle() float64 {
	m := (s.lo + s.hi) / 2
	if s.cfg.Whole {
		m = math.Max(s.lo, math.Floor(m))
	}
	return m
}

// verified ends the search when the answer held its longer hold; when it
// failed, the answer steps down (to the last good plateau, then a
// precision step below it at a time) and is verified again.
func (s *Search) verified(load float64, held bool) {
	s.verifyN++
	if held {
		s.finish(Result{Found: true, Answer: load, Lo: s.lo, Hi: s.hi})
		return
	}
	if s.verifyN >= s.cfg.MaxVerify {
		lo := s.lo
		if load <= lo {
			lo = 0 // its own verification failed: nothing is known to hold
		}
		s.finish(Result{Lo: lo, Hi: load,
			Why: fmt.Sprintf("%d verification holds failed, the last at %s", s.verifyN, fmtLoad(load))})
		return
	}
	if load > s.lo {
		// The bracket is already within the precision: its good end is
		// verified next.
		s.hi, s.cur = load, s.lo
		return
	}
	// The last good plateau did not hold for longer: it was not good.
	// One precision step down keeps the bracket within the precision.
	s.hi = load
	next := load / (1 + s.cfg.Precision)
	if s.cfg.Whole {
		next = math.Min(math.Ceil(next), load-1)
	}
	if next < s.cfg.Min {
		s.finish(Result{Found: true, Answer: 0, Hi: load,
			Why: fmt.Sprintf("even %s failed its verification", fmtLoad(load))})
		return
	}
	s.lo, s.cur = next, next
}

func (s *Search) round(v float64) float64 {
	if s.cfg.Whole {
		return math.Max(1, math.Round(v))
	}
	return v
}

func (s *Search) roundDown(v float64) float64 {
	if s.cfg.Whole {
		return math.Floor(v)
	}
	return v
}

// Precision is the bracket's half-width over the answer (the report's
// precision).
func (r Result) Precision() float64 {
	if !(r.Answer > 0) || !(r.Hi > r.Lo) {
		return 0
	}
	return (r.Hi - r.Lo) / 2 / r.Answer
}

// PrecisionUp is how far above the answer the limit may lie: the answer
// held and Hi failed, so the limit is in [answer, Hi), +PrecisionUp/−0.
func (r Result) PrecisionUp() float64 {
	if !(r.Answer > 0) || !(r.Hi > r.Answer) {
		return 0
	}
	return (r.Hi - r.Answer) / r.Answer
}

func fmtLoad(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.4g", v)
}

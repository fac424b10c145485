package search

import (
	"math"
	"testing"
)

// drive runs a search against a system that holds up to limit (and, when
// verifyLimit > 0, holds verification plateaus only up to verifyLimit) and
// returns the result and the steps taken.
func drive(t *testing.T, cfg Config, limit, verifyLimit float64) (Result, []Step) {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var steps []Step
	for {
		st, ok := s.Next()
		if !ok {
			return s.Result(), steps
		}
		steps = append(steps, st)
		if len(steps) > 100 {
			t.Fatalf("no end after 100 steps: %+v", steps)
		}
		lim := limit
		if st.Phase == PhaseVerify && verifyLimit > 0 {
			lim = verifyLimit
		}
		if st.Load <= lim {
			s.Record(Held)
		} else {
			s.Record(Failed)
		}
	}
}

func TestSearchConvergesWithinPrecision(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		limit float64
	}{
		{"rate", Config{Start: 10}, 160},
		{"rate fine", Config{Start: 10, Precision: 0.01}, 160},
		{"users", Config{Start: 10, Whole: true}, 612},
		{"users small", Config{Start: 10, Whole: true}, 4},
		{"start above limit", Config{Start: 1000}, 160},
		{"users start above", Config{Start: 50, Whole: true}, 7},
		{"exact power", Config{Start: 10}, 80},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, steps := drive(t, tc.cfg, tc.limit, 0)
			if !r.Found {
				t.Fatalf("not found: %+v (steps %+v)", r, steps)
			}
			p := tc.cfg.Precision
			if p == 0 {
				p = 0.05
			}
			if r.Answer > tc.limit {
				t.Errorf("answer %v above the limit %v", r.Answer, tc.limit)
			}
			if !(r.Lo <= r.Answer && r.Answer < r.Hi) {
				t.Errorf("answer %v outside its bracket %v–%v", r.Answer, r.Lo, r.Hi)
			}
			if r.Hi-r.Lo > p*r.Lo && !(tc.cfg.Whole && r.Hi-r.Lo <= 1) {
				t.Errorf("bracket %v–%v wider than %v", r.Lo, r.Hi, p)
			}
			if !(r.Lo <= tc.limit && tc.limit < r.Hi) {
				t.Errorf("bracket %v–%v does not hold the limit %v", r.Lo, r.Hi, tc.limit)
			}
			if last := steps[len(steps)-1]; last.Phase != PhaseVerify || last.Load != r.Answer {
				t.Errorf("last step %+v is not the verification of %v", last, r.Answer)
			}
			if tc.cfg.Whole {
				for _, st := range steps {
					if st.Load != math.Trunc(st.Load) {
						t.Errorf("users step %v is not whole", st.Load)
					}
				}
			}
		})
	}
}

func TestSearchExploresByDoubling(t *testing.T) {
	_, steps := drive(t, Config{Start: 10}, 100, 0)
	want := []float64{10, 20, 40, 80, 160}
	for i, w := range want {
		if steps[i].Phase != PhaseExplore || steps[i].Load != w {
			t.Fatalf("step %d = %+v, want explore %v (all: %+v)", i, steps[i], w, steps)
		}
	}
	if steps[5].Phase != PhaseBisect || steps[5].Load != 120 {
		t.Fatalf("step 5 = %+v, want bisect 120", steps[5])
	}
}

func TestSearchVerificationFailsStepsDown(t *testing.T) {
	// Short plateaus hold up to 160, the longer verification only to 140:
	// the answer steps down until a verification holds.
	r, steps := drive(t, Config{Start: 10, MaxVerify: 10}, 160, 140)
	if !r.Found || r.Answer > 140 {
		t.Fatalf("result %+v, want found at or below 140 (steps %+v)", r, steps)
	}
	fails := 0
	for _, st := range steps {
		if st.Phase == PhaseVerify && st.Load > 140 {
			fails++
		}
	}
	if fails == 0 {
		t.Fatalf("no failed verification in %+v", steps)
	}
}

func TestSearchVerificationBoundIsInconclusive(t *testing.T) {
	r, _ := drive(t, Config{Start: 10, MaxVerify: 2}, 160, 50)
	if r.Found || r.Why == "" {
		t.Fatalf("result %+v, want inconclusive with a reason", r)
	}
	// The second verification was of the last good plateau, which failed
	// it: no load is known to hold.
	if r.Lo != 0 || r.Hi == 0 {
		t.Fatalf("result %+v, want nothing held and the failed load", r)
	}
}

func TestSearchNothingHoldsIsAnswerZero(t *testing.T) {
	r, steps := drive(t, Config{Start: 8, Whole: true}, 0, 0)
	if !r.Found || r.Answer != 0 || r.Hi != 1 {
		t.Fatalf("result %+v, want found 0 failing at 1 (steps %+v)", r, steps)
	}
}

func TestSearchUnjudgedEnds(t *testing.T) {
	s, _ := New(Config{Start: 10})
	s.Next()
	s.Record(Held)
	for i := 0; i < maxUnjudged; i++ {
		st, ok := s.Next()
		if !ok || st.Load != 20 {
			t.Fatalf("step %+v (ok %v) after %d unjudged plateaus, want 20 again", st, ok, i)
		}
		s.Record(Unjudged)
	}
	if _, ok := s.Next(); ok {
		t.Fatal("search went on after three unjudged plateaus")
	}
	if r := s.Result(); r.Found || r.Lo != 10 {
		t.Fatalf("result %+v, want inconclusive with 10 held", r)
	}
}

func TestSearchStopKeepsBracket(t *testing.T) {
	s, _ := New(Config{Start: 10})
	s.Next()
	s.Record(Held)
	s.Next()
	s.Record(Failed)
	s.Stop("--max-duration 1m reached")
	if r := s.Result(); r.Found || r.Lo != 10 || r.Hi != 20 || r.Why == "" {
		t.Fatalf("result %+v", r)
	}
}

func TestSearchRecordWithoutNextIsIgnored(t *testing.T) {
	s, _ := New(Config{Start: 10})
	s.Record(Failed)
	if st, _ := s.Next(); st.Load != 10 || st.Phase != PhaseExplore {
		t.Fatalf("step %+v after a stray Record", st)
	}
}

func TestResultPrecision(t *testing.T) {
	r := Result{Found: true, Answer: 612, Lo: 600, Hi: 625}
	if p := r.Precision(); math.Abs(p-0.0204) > 0.001 {
		t.Fatalf("precision %v, want ±2 %%", p)
	}
	// The answer held, 625 failed: the limit is up to 2.1 % above it.
	if p := r.PrecisionUp(); math.Abs(p-13.0/612) > 1e-9 {
		t.Fatalf("precision up %v, want 13/612", p)
	}
	// At the bracket's held low end (a failed verification stepped down
	// to it) the band is the bracket's whole width, above the answer.
	r = Result{Found: true, Answer: 82, Lo: 82, Hi: 83}
	if p := r.PrecisionUp(); math.Abs(p-1.0/82) > 1e-9 || r.Precision() >= p {
		t.Fatalf("precision up %v (half-width %v), want 1/82", p, r.Precision())
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for _, c := range []Config{{Start: 0}, {Start: -1}, {Start: math.Inf(1)}, {Start: 1, Precision: 1}, {Start: 1, Precision: -0.1}} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) took it", c)
		}
	}
}

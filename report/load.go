package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/brink-load/brink/measure"
)

// GroupLoad is one scenario group's load in one window. A closed-model
// group is counted in users (its VUs running, against its target); an
// arrival-rate group in iterations per second (its target rate, the rate it
// started, and the VUs that rate kept busy). Every place brink says how
// much load there was (timeline, events, breakpoint, max stable, summary,
// console) says it from these, through LoadText.
type GroupLoad struct {
	Name     string `json:"name"`
	Executor string `json:"executor"`
	// Open: an arrival-rate group (load is its rate, not its VUs).
	Open bool `json:"open,omitempty"`
	// VUs running at the window's end: a closed group's users; for an
	// arrival-rate group, every VU started (busy or idle).
	VUs       int `json:"vus"`
	TargetVUs int `json:"target_vus,omitempty"`
	// Arrival-rate groups: the target rate and the rate started (per s),
	// and the VUs in an iteration at the window's end.
	TargetRate float64 `json:"target_rate,omitempty"`
	Rate       Num     `json:"rate,omitempty"`
	BusyVUs    int     `json:"busy_vus,omitempty"`
	Dropped    int64   `json:"dropped,omitempty"`
	RPS        Num     `json:"rps"`
	P95Ms      Num     `json:"p95_ms"`
	Errors     int64   `json:"errors"`
	ErrorRate  Num     `json:"error_rate"`
}

// groupLoads reads a window's per-group load. Nil for a tick without
// groups.
func groupLoads(t *measure.Tick) []GroupLoad {
	if len(t.Groups) == 0 {
		return nil
	}
	out := make([]GroupLoad, len(t.Groups))
	secs := t.Window.Seconds()
	for i := range t.Groups {
		g := &t.Groups[i]
		gl := GroupLoad{Name: g.Name, Executor: g.Executor, VUs: g.VUs, TargetVUs: g.TargetVUs,
			Errors: g.Errors, ErrorRate: rate(g.Errors, g.Requests), RPS: nan(), P95Ms: nan()}
		gl.Open = g.Open()
		if gl.Open {
			gl.TargetVUs = 0
			gl.TargetRate, gl.Rate, gl.BusyVUs, gl.Dropped = g.TargetRate, Num(g.Rate), g.BusyVUs, g.Dropped
			if g.Rate == 0 && g.Started > 0 && secs > 0 {
				gl.Rate = Num(float64(g.Started) / secs)
			}
		}
		if secs > 0 {
			gl.RPS = Num(float64(g.Requests) / secs)
		}
		if g.Latency.Count > 0 {
			gl.P95Ms = Num(ms(g.Latency.P95))
		}
		out[i] = gl
	}
	return out
}

// tickUsers is a window's closed-model users: its closed groups' VUs. A
// window without closed groups (arrival-rate only, or no groups) counts
// all its VUs, as the engine does.
func tickUsers(t *measure.Tick) int {
	n, closed := 0, false
	for i := range t.Groups {
		if g := &t.Groups[i]; !g.Open() {
			n += g.VUs
			closed = true
		}
	}
	if !closed {
		return t.VUs
	}
	return n
}

// GroupLoads is the per-group load of one engine window, for consoles
// that render LoadText from a tick.
func GroupLoads(t *measure.Tick) []GroupLoad { return groupLoads(t) }

// LoadUsers is the closed-model users of a load: the sum over its closed
// groups, or vus when there are no groups (a tick from an engine without
// them).
func LoadUsers(gs []GroupLoad, vus int) int {
	if len(gs) == 0 {
		return vus
	}
	n := 0
	for _, g := range gs {
		if !g.Open {
			n += g.VUs
		}
	}
	return n
}

// LoadText says a load in the one way brink says it everywhere: the
// closed-model users, then each arrival-rate group by its target rate —
// "630 users (210 browse + 210 chat + 210 search) + 70/s writes". With
// detail false the per-group split of the users is left out ("630 users +
// 70/s writes"), for a one-line header. Without groups (an older report)
// it says "N VUs", or the rate when the run was open-model only.
func LoadText(gs []GroupLoad, vus int, rate float64, detail bool) string {
	var closed, open []GroupLoad
	for _, g := range gs {
		if g.Open {
			open = append(open, g)
		} else {
			closed = append(closed, g)
		}
	}
	var parts []string
	switch {
	case len(gs) == 0 && rate > 0 && vus == 0:
		return trimFloat(rate, 1) + "/s"
	case len(gs) == 0:
		// No split known: VUs of every kind, as the engine counted them.
		return strconv.Itoa(vus) + " VUs"
	case len(closed) > 0:
		users := LoadUsers(gs, 0)
		s := group3(int64(users)) + " users"
		if detail && len(closed) > 1 {
			each := make([]string, len(closed))
			for i, g := range closed {
				each[i] = group3(int64(g.VUs)) + " " + g.Name
			}
			s += " (" + strings.Join(each, " + ") + ")"
		}
		parts = append(parts, s)
	}
	for _, g := range open {
		parts = append(parts, fmt.Sprintf("%s/s %s", trimFloat(g.TargetRate, 1), g.Name))
	}
	return strings.Join(parts, " + ")
}

// loadWords is LoadText of an event's or a verdict's load, in full.
func (l *Load) words() string {
	return LoadText(l.Groups, l.VUs, l.TargetRate, true)
}

package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/report"
	"github.com/brink-load/brink/scenarios"
)

// The header counts users from the groups and says when brink itself is
// the bottleneck; the per-group line gives each group's load and drops
// detail rather than cut a group off when narrow.
func TestHeaderGroupsAndOverload(t *testing.T) {
	st := NewStyles(nil)
	d := newData()
	d.last = measure.Tick{VUs: 470, TargetVUs: 420, TargetRate: 70, Requests: 900, Window: 1e9,
		Generator: measure.GeneratorStats{CPUPercent: 3, Overloaded: true, Reason: "window lasted 4.3× its length (brink stalled)"}}
	d.groups = []report.GroupLoad{
		{Name: "browse", VUs: 210, TargetVUs: 210, RPS: 600, P95Ms: 212, ErrorRate: 0.012},
		{Name: "chat", VUs: 210, TargetVUs: 210, RPS: 0},
		{Name: "writes", Open: true, VUs: 50, BusyVUs: 12, Rate: 69, TargetRate: 70, RPS: 69, P95Ms: 30},
	}
	out := headerView(&st, d, &Options{CanControl: true}, 1e9, 200)
	lines := strings.Split(out, "\n")
	if len(lines) != 3 {
		t.Fatalf("header has %d lines:\n%s", len(lines), out)
	}
	for _, want := range []string{"! brink overloaded", "users 420/420", "rate 70/s (12 busy)"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("line 1 lacks %q: %s", want, lines[0])
		}
	}
	for _, want := range []string{"browse 210/210 600rps p95 212ms err 1.2%", "chat 210/210", "writes 69/70/s (12 busy) 69rps p95 30ms"} {
		if !strings.Contains(lines[2], want) {
			t.Errorf("group line lacks %q: %s", want, lines[2])
		}
	}
	if strings.Contains(lines[2], "chat 210/210 0rps") {
		t.Errorf("a group without requests shows 0 rps: %s", lines[2])
	}
	narrow := groupsLine(&st, d.groups, 60)
	if lipgloss.Width(narrow) > 60 || !strings.Contains(narrow, "writes 69/70/s") || strings.Contains(narrow, "rps") {
		t.Errorf("narrow group line %q", narrow)
	}
	// Too narrow even for the loads alone: whole groups, and how many
	// more, never a group's figures cut short.
	tight := groupsLine(&st, d.groups, 38)
	if lipgloss.Width(tight) > 38 || tight != "browse 210/210  chat 210/210  +1 more" {
		t.Errorf("tight group line %q", tight)
	}
	// Header items too are dropped whole, and the viewers become a count
	// when their names do not fit.
	o := &Options{CanControl: true, Viewers: func() []string { return []string{"local", "alice (SHA256:3fa9c1)"} }}
	for _, l := range strings.Split(headerView(&st, d, o, 1e9, 80), "\n") {
		if strings.Contains(l, "…") || lipgloss.Width(l) > 80 {
			t.Errorf("80 columns: a cut item or overflow in %q", l)
		}
	}
	if l2 := strings.Split(headerView(&st, d, o, 1e9, 60), "\n")[1]; !strings.Contains(l2, "watching 2") {
		t.Errorf("60 columns: viewers not counted: %q", l2)
	}
}

// brink's own overload and recovery have shapes in the event log, not
// only colours.
func TestGeneratorEventSymbols(t *testing.T) {
	st := NewStyles(nil)
	p := &sidePanel{st: &st, w: 80}
	for _, k := range []report.EventKind{report.EventGeneratorOverloaded, report.EventGeneratorRecovered} {
		if sym := strings.TrimSpace(p.eventSymbol(k)); sym == "" {
			t.Errorf("%s has no symbol", k)
		}
	}
}

// A search's answer stays in the header at 120 and 80 columns: its limit
// is dropped before it is (the whole line did not fit, so the answer
// vanished once the search was done), and while it runs the phase and
// bracket fit 80 columns.
func TestHeaderFindFits(t *testing.T) {
	st := NewStyles(nil)
	d := newData()
	d.scenario = &scenarios.Scenario{Name: "probe 127.0.0.1:18201/"}
	d.find = "38 users (held; 39 failed: +2.6 %/−0; bracket 38–39), limited by throughput 155 rps < 90 % of the 172 rps the plateaus before predict (at 39)"
	// At 80 columns the bracket goes before the answer's band does.
	for w, want := range map[int]string{120: "find 38 users (held; 39 failed: +2.6 %/−0; bracket 38–39)", 80: "find 38 users (held; 39 failed: +2.6 %/−0)"} {
		if l2 := headerLine2(&st, d, &Options{CanControl: true}, 1e9, w); !strings.Contains(l2, want) {
			t.Errorf("%d columns: no %q in %q", w, want, l2)
		}
	}
	d.find = "bisect 38 users · bracket 37–40 · 6 plateaus"
	if l2 := headerLine2(&st, d, &Options{CanControl: true}, 1e9, 80); !strings.Contains(l2, "find bisect 38 users · bracket 37–40") {
		t.Errorf("80 columns: no phase and bracket in %q", l2)
	}
}

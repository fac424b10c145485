package report

import (
	"strings"
	"testing"
	"time"

	"github.com/brink-load/brink/measure"
)

// An agent's rps in the report is over the run, not its last window: a
// run's last window lasts a few milliseconds, so its rps (1 request in
// 12 ms, 80 rps) said nothing of an agent that sent 50/s throughout.
func TestAgentRowsRPSOverTheRun(t *testing.T) {
	start := time.Date(2026, 12, 1, 18, 52, 37, 0, time.UTC)
	as := []measure.Agent{{Name: "a1", Share: 0.5, Requests: 500, RPS: 80.7, LastTick: start.Add(10 * time.Second)}}
	rows := agentRows(as, start, start.Add(10*time.Second))
	if got := float64(rows[0].RPS); got != 50 {
		t.Fatalf("rps %v, want 50 (500 requests over 10 s)", got)
	}
}

// The AGENTS section sits apart like every other: one blank line before
// it (it ran into the endpoints' table) and one after (there were two).
func TestAgentsSectionSpacing(t *testing.T) {
	rep := &Report{Agents: []AgentRow{{Name: "a1", Host: "vm", Share: 1, Requests: 10}}}
	var b strings.Builder
	printAgents(&b, rep)
	printEvents(&b, &Report{Events: []Event{{Kind: EventNote, Text: "x"}}}, 100)
	out := b.String()
	if !strings.HasPrefix(out, "\n  AGENTS\n") || strings.Contains(out, "\n\n\n") {
		t.Fatalf("spacing:\n%q", out)
	}
}

// A lost agent's unsent last window is no hidden loss: the verdict and the
// AGENTS section say that what it sent after its last window is not
// counted; a run that lost none says nothing of it.
func TestLostAgentUnsentWindowIsSaid(t *testing.T) {
	lostAt := time.Date(2026, 12, 1, 18, 52, 40, 0, time.UTC)
	as := []measure.Agent{{Name: "a1", Share: 0.5}, {Name: "a2", Share: 0.5, LostAt: lostAt}}
	if v := lostAgentsText(as); !strings.Contains(v, "Agent a2 was lost at 18:52:40") || !strings.Contains(v, unsentLastWindow) {
		t.Errorf("verdict: %q", v)
	}
	if v := lostAgentsText(as[:1]); v != "" {
		t.Errorf("verdict of a run that lost no agent: %q", v)
	}
	var b strings.Builder
	printAgents(&b, &Report{Agents: agentRows(as, lostAt.Add(-5*time.Second), lostAt)})
	if !strings.Contains(b.String(), unsentLastWindow) {
		t.Errorf("AGENTS section:\n%s", b.String())
	}
}

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

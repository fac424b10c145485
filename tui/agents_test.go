package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/brink-load/brink/measure"
)

// A fleet run's agents are rows atop the node table: a live one with its
// load and health, a lost one first thing to see, by shape as well as
// colour.
func TestAgentRowsAtopTheNodeTable(t *testing.T) {
	st := NewStyles(nil)
	live := agentRow(&st, measure.Agent{Name: "gen-1", VUs: 110, RPS: 100, CPUPercent: 12, SendLagP99: 1200 * time.Microsecond,
		ClockOffset: 100 * time.Microsecond, LastTick: time.Now()})
	for _, want := range []string{"· agent gen-1", "110 VUs", "100 rps", "cpu 12", "lag 1ms", "clock <1ms", "s ago"} {
		if !strings.Contains(ansi.Strip(live), want) {
			t.Errorf("live row %q lacks %q", ansi.Strip(live), want)
		}
	}
	lost := ansi.Strip(agentRow(&st, measure.Agent{Name: "gen-2", Share: 0.5, LostAt: time.Date(2026, 12, 1, 15, 4, 5, 0, time.UTC)}))
	if !strings.HasPrefix(lost, "! agent gen-2") || !strings.Contains(lost, "LOST at 15:04:05") || !strings.Contains(lost, "50 % of the load") {
		t.Errorf("lost row %q", lost)
	}

	d := newData()
	d.agents = []measure.Agent{{Name: "gen-1"}, {Name: "gen-2", LostAt: time.Now()}}
	p := newNodePanel(&st)
	p.SetSize(100, 8)
	view := ansi.Strip(p.render(d))
	if !strings.Contains(view, "agent gen-1") || !strings.Contains(view, "! agent gen-2") {
		t.Errorf("node panel without nodes does not show the agents:\n%s", view)
	}
}

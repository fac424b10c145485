package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/termtext"
)

// AgentRow is one generator of a run sent by several (report.agents[]).
type AgentRow struct {
	Name          string  `json:"name"`
	Host          string  `json:"host"`
	Cores         int     `json:"cores"`
	BrinkVersion  string  `json:"brink_version"`
	Share         Num     `json:"share"`
	VUs           int     `json:"vus"`
	Requests      int64   `json:"requests"`
	RPS           Num     `json:"rps"`
	CPUPercent    Num     `json:"cpu_percent"`
	SendLagP99Ms  Num     `json:"send_lag_p99_ms"`
	ClockOffsetMs Num     `json:"clock_offset_ms"`
	LastTickAgeS  *Num    `json:"last_tick_age_s,omitempty"` // at the report's end; absent before any window
	LostAt        *string `json:"lost_at,omitempty"`         // RFC 3339, when it was last heard
	Error         string  `json:"error,omitempty"`
}

// agentRows is the report's view of the agents at end. Its rps is the
// agent's over the run (requests from start to its last window): the
// console's latest-window rps is, at the end, a last window of a few
// milliseconds (1 request in 12 ms read as 80 rps from an agent sending 50/s).
func agentRows(as []measure.Agent, start, end time.Time) []AgentRow {
	rows := make([]AgentRow, 0, len(as))
	for _, a := range as {
		rps := a.RPS
		if d := a.LastTick.Sub(start).Seconds(); !start.IsZero() && d > 0 {
			rps = float64(a.Requests) / d
		}
		row := AgentRow{Name: a.Name, Host: a.Host, Cores: a.Cores, BrinkVersion: a.Version, Share: Num(a.Share),
			VUs: a.VUs, Requests: a.Requests, RPS: Num(rps), CPUPercent: Num(a.CPUPercent),
			SendLagP99Ms: Num(ms(a.SendLagP99)), ClockOffsetMs: Num(ms(a.ClockOffset)), Error: a.Error}
		if !a.LastTick.IsZero() {
			age := Num(max(0, end.Sub(a.LastTick).Seconds()))
			row.LastTickAgeS = &age
		}
		if !a.LostAt.IsZero() {
			s := a.LostAt.Format(time.RFC3339Nano)
			row.LostAt = &s
		}
		rows = append(rows, row)
	}
	return rows
}

// printAgents lists a fleet run's generators: what each sent, and when a
// lost one was last heard.
func printAgents(w io.Writer, rep *Report) {
	if len(rep.Agents) == 0 {
		return
	}
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("\n  AGENTS\n    %-16s %-16s %6s %10s %8s %9s  %s\n", "name", "host", "share", "requests", "cpu", "clock", "state")
	lost := false
	for _, a := range rep.Agents {
		state := "ok"
		switch {
		case a.LostAt != nil:
			lost = true
			state = "LOST at " + *a.LostAt
			if t, err := time.Parse(time.RFC3339Nano, *a.LostAt); err == nil {
				state = "LOST at " + localTime(t)
			}
		case a.Error != "":
			state = "failed: " + a.Error
		}
		p("    %-16s %-16s %5.0f%% %10d %7.0f%% %7.1fms  %s\n", termtext.Clean(a.Name), termtext.Clean(a.Host),
			100*float64(a.Share), a.Requests, float64(a.CPUPercent), float64(a.ClockOffsetMs), termtext.Clean(state))
	}
	if lost {
		p("    %s\n", unsentLastWindow)
	}
}

// unsentLastWindow says what a lost agent's numbers lack: the requests it
// sent after its last window reached the controller (a SIGKILL leaves no
// time to send it) are in no count, so the target got more than the
// report says.
const unsentLastWindow = "A lost agent's requests after its last window reached the controller are not counted: the target got more than this report says."

// lostAgentsText is what the verdict adds for a fleet run that lost
// agents: from when, and by how much, the load was short, and that what
// they sent last is not counted.
func lostAgentsText(as []measure.Agent) string {
	var b strings.Builder
	for _, a := range as {
		if a.LostAt.IsZero() {
			continue
		}
		fmt.Fprintf(&b, " Agent %s was lost at %s: the load after that moment was short by its share, %.0f %%.",
			termtext.Clean(a.Name), a.LostAt.Format("15:04:05"), 100*a.Share)
	}
	if b.Len() > 0 {
		b.WriteString(" " + unsentLastWindow)
	}
	return b.String()
}

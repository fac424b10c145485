package tui

import (
	"strconv"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/termtext"
)

// agentRow is one generator of a fleet run: its load, its health, how far
// its clock is off and how old its latest window is; a lost one says when.
func agentRow(st *Styles, a measure.Agent) string {
	name := padRight(termtext.Clean(a.Name), 10)
	if !a.LostAt.IsZero() {
		return st.Over.Render("! agent "+name+" LOST at "+a.LostAt.Format("15:04:05")) +
			st.Dim.Render(" ("+strconv.FormatFloat(100*a.Share, 'f', 0, 64)+" % of the load)")
	}
	mark := st.OK.Render("·")
	if a.Overloaded || a.Error != "" {
		mark = st.Over.Render("!")
	}
	age := "-"
	if !a.LastTick.IsZero() {
		age = strconv.FormatFloat(time.Since(a.LastTick).Seconds(), 'f', 1, 64) + "s ago"
	}
	return mark + " " + st.Label.Render("agent "+name) + " " + st.Value.Render(strconv.Itoa(a.VUs)+" VUs "+
		fmtCount(a.RPS)+" rps") + st.Dim.Render(" cpu "+fmtPct(a.CPUPercent)+" lag "+fmtMs(ms(a.SendLagP99))+
		" clock "+fmtMs(ms(a.ClockOffset))+" tick "+age)
}

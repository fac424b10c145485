package tui

import (
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"

	"github.com/brink-load/brink/report"
	"github.com/brink-load/brink/termtext"
)

// stateBadge is the run's state as a symbol and a word, never colour alone.
func stateBadge(st *Styles, d *data) string {
	switch {
	case d.state == report.StateBreakpoint:
		return st.Over.Render("✖ BREAKPOINT")
	case d.state == report.StateWarn:
		return st.Warn.Render("▲ WARN")
	}
	return st.OK.Render("● OK")
}

// headerView is two lines: the load right now (state first, so a narrow
// terminal never cuts it), then what is running, since when, and who is
// watching.
func headerView(st *Styles, d *data, o *Options, win time.Duration, w int) string {
	kv := func(k, v string) string { return st.Label.Render(k) + " " + st.Value.Render(v) }
	t := &d.last
	l1 := []string{stateBadge(st, d)}
	switch {
	case d.done:
		l1 = append(l1, st.Title.Render("■ DONE"))
	case d.held:
		l1 = append(l1, st.Warn.Render("⏸ HELD"))
	}
	shown, open := vuCounts(t)
	vus := strconv.Itoa(shown)
	if t.TargetVUs > 0 {
		vus += "/" + strconv.Itoa(t.TargetVUs)
	}
	l1 = append(l1, kv("VUs", vus))
	if t.TargetRate > 0 {
		rate := fmtCount(t.TargetRate) + "/s"
		if open > 0 && shown != open {
			rate += " (" + strconv.Itoa(open) + " VUs)"
		}
		l1 = append(l1, kv("rate", rate))
	}
	l1 = append(l1,
		kv("rps", fmtCount(t.RPS())),
		kv("p95", fmtMs(ms(t.Latency.P95))),
		kv("p99", fmtMs(ms(t.Latency.P99))),
		kv("err", strconv.FormatFloat(100*t.ErrorRate(), 'f', 2, 64)+"%"),
	)
	if d.ws {
		// WebSocket sessions have their own failures (ws_failed), never
		// hidden behind the HTTP err.
		fail := 0.0
		if d.wsOutcome > 0 {
			fail = 100 * float64(min(d.wsFailed, d.wsOutcome)) / float64(d.wsOutcome)
		}
		l1 = append(l1, kv("ws", strconv.Itoa(t.WS.Open)+" open"),
			kv("ws fail", strconv.FormatFloat(fail, 'f', 2, 64)+"%"))
	}
	if d.dropped > 0 {
		l1 = append(l1, kv("dropped", fmtCount(float64(d.dropped))))
	}
	if g := t.Generator; g.CPUPercent > 0 {
		l1 = append(l1, kv("gen cpu", fmtPct(g.CPUPercent)))
	}

	name := "brink"
	if d.scenario != nil && d.scenario.Name != "" {
		name = termtext.Clean(d.scenario.Name) // a scenario file may come from anyone
	}
	clock := fmtClock(t.Elapsed)
	if p := d.planned(); p > 0 {
		clock += " / " + fmtClock(p)
	}
	l2 := []string{st.Title.Render(name), kv("elapsed", clock)}
	if n := d.stages(); n > 0 {
		l2 = append(l2, kv("stage", strconv.Itoa(min(t.Stage+1, n))+"/"+strconv.Itoa(n)))
	}
	l2 = append(l2, kv("window", fmtWindow(win)))
	if o.Viewers != nil {
		if vs := o.Viewers(); len(vs) > 0 {
			l2 = append(l2, kv("watching", strings.Join(vs, ", ")))
		}
	}
	if !o.CanControl {
		l2 = append(l2, st.Dim.Render("read-only as "+o.Who))
	}
	return joinFit(st, l1, w) + "\n" + joinFit(st, l2, w)
}

// joinFit joins header items with the widest separator that fits in w.
func joinFit(st *Styles, items []string, w int) string {
	var s string
	for _, sep := range []string{"  │  ", " │ ", "  "} {
		s = strings.Join(items, st.Dim.Render(sep))
		if lipgloss.Width(s) <= w {
			return s
		}
	}
	return truncate(s, w)
}

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

// headerView is three lines: the load right now (state first, so a narrow
// terminal never cuts it), then what is running, since when, and who is
// watching, then the load group by group.
func headerView(st *Styles, d *data, o *Options, win time.Duration, w int) string {
	kv := func(k, v string) string { return st.Label.Render(k) + " " + st.Value.Render(v) }
	t := &d.last
	l1 := []string{stateBadge(st, d)}
	switch {
	case d.done:
		l1 = append(l1, st.Title.Render("■ DONE"))
	case d.held:
		held := "⏸ HELD"
		if !d.heldFrom.IsZero() {
			held += " " + fmtClock(t.Time.Sub(d.heldFrom))
		}
		l1 = append(l1, st.Warn.Render(held))
	}
	if t.Scale > 0 && t.Scale != 1 {
		// +/- scaled every target: the targets shown are the scaled ones.
		l1 = append(l1, st.Warn.Render("scale ×"+strconv.FormatFloat(t.Scale, 'f', 2, 64)))
	}
	if t.Generator.Overloaded {
		// brink itself is the bottleneck: what it measures now is partly
		// its own (the reason is in the event log).
		l1 = append(l1, st.Over.Render("! brink overloaded"))
	}
	if fin := d.final; fin != nil {
		// The run is over: its figures, not the last (often partial)
		// window's.
		f := &fin.f
		l1 = append(l1, st.Dim.Render("whole run"),
			kv("rps", numOr(f.RPS, fmtCount)),
			kv("p95", numOr(f.P95Ms, fmtMs)),
			kv("p99", numOr(f.P99Ms, fmtMs)),
			kv("err", numOr(f.ErrorRate, func(v float64) string { return strconv.FormatFloat(100*v, 'f', 2, 64) + "%" })),
			kv("VUs max", strconv.Itoa(f.VUsMax)), kv("requests", fmtCount(float64(f.Requests))))
		// The groups line would be the last window's: the verdict panel says the
		// load group by group.
		return joinFit(st, l1, w) + "\n" + headerLine2(st, d, o, win, w)
	}
	shown, target, open := userCounts(t, d.groups)
	vus := strconv.Itoa(shown)
	if target > 0 {
		vus += "/" + strconv.Itoa(target)
	}
	label := "users"
	if target == 0 && open > 0 && shown == open {
		label = "VUs" // arrival-rate groups only: no users, the VUs their rate needs
	}
	l1 = append(l1, kv(label, vus))
	if t.TargetRate > 0 {
		rate := fmtCount(t.TargetRate) + "/s"
		if open > 0 && shown != open {
			// The VUs the rate keeps busy now, not those allocated for it.
			rate += " (" + strconv.Itoa(busyVUs(t, d.groups)) + " busy)"
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

	return joinFit(st, l1, w) + "\n" + headerLine2(st, d, o, win, w) + "\n" + groupsLine(st, d.groups, w)
}

// headerLine2 is what is running, since when, and who is watching.
func headerLine2(st *Styles, d *data, o *Options, win time.Duration, w int) string {
	kv := func(k, v string) string { return st.Label.Render(k) + " " + st.Value.Render(v) }
	t := &d.last
	name := "brink"
	if d.scenario != nil && d.scenario.Name != "" {
		name = termtext.Clean(d.scenario.Name) // a scenario file may come from anyone
	}
	clock := fmtClock(t.Elapsed)
	if p := d.planned(); p > 0 && d.find == "" { // a search has no plan: its phase instead
		clock += " / " + fmtClock(p)
	}
	l2 := []string{st.Title.Render(name), kv("elapsed", clock)}
	if d.find != "" {
		// The longest form that fits: a done search's answer names its
		// limit, which rarely fits a header; the answer must never be what
		// is dropped.
		forms := findForms(termtext.Clean(d.find))
		item := kv("find", forms[len(forms)-1])
		for _, f := range forms {
			if _, n := joinFitN(st, append(l2[:2:2], kv("find", f)), w); n == 3 {
				item = kv("find", f)
				break
			}
		}
		l2 = append(l2, item)
	} else if n := d.stages(); n > 0 {
		l2 = append(l2, kv("stage", strconv.Itoa(min(t.Stage+1, n))+"/"+strconv.Itoa(n)))
	}
	l2 = append(l2, kv("window", fmtWindow(win)))
	var vs []string
	if o.Viewers != nil {
		vs = o.Viewers()
	}
	if !o.CanControl {
		// Before the viewers: a read-only viewer must see that it is one.
		l2 = append(l2, st.Dim.Render("read-only as "+o.Who))
	}
	if len(vs) == 0 {
		return joinFit(st, l2, w)
	}
	s, n := joinFitN(st, append(l2, kv("watching", strings.Join(vs, ", "))), w)
	if n > len(l2) {
		return s
	}
	// Too narrow for the names: at least how many watch (a wider
	// terminal shows who).
	return joinFit(st, append(l2, kv("watching", strconv.Itoa(len(vs)))), w)
}

// groupsLine is the load group by group: a closed group's users against
// its target, an arrival-rate group's rate against its target (and the
// VUs busy serving it), each with its rps, p95 and errors. The same
// figures make report.LoadText's sentence.
func groupsLine(st *Styles, gs []report.GroupLoad, w int) string {
	if len(gs) == 0 {
		return ""
	}
	// The most detail that fits: all figures, then without errors, then
	// the load alone; then as many groups as fit, and how many do not.
	for detail := 2; detail >= 0; detail-- {
		items := groupItems(st, gs, detail)
		if line, n := joinFitN(st, items, w); n == len(items) {
			return line
		}
	}
	items := groupItems(st, gs, 0)
	more := func(k int) string { return st.Dim.Render("+" + strconv.Itoa(k) + " more") }
	line, n := joinFitN(st, items, w-lipgloss.Width(more(len(items)))-2)
	return line + "  " + more(len(items)-n)
}

func groupItems(st *Styles, gs []report.GroupLoad, detail int) []string {
	items := make([]string, 0, len(gs))
	for _, g := range gs {
		var load string
		if g.Open {
			load = fmtCount(float64(g.Rate)) + "/" + fmtCount(g.TargetRate) + "/s"
			if g.BusyVUs > 0 {
				load += " (" + strconv.Itoa(g.BusyVUs) + " busy)"
			}
		} else {
			load = strconv.Itoa(g.VUs) + "/" + strconv.Itoa(g.TargetVUs)
		}
		it := st.Label.Render(g.Name) + " " + st.Value.Render(load)
		if detail == 0 {
			items = append(items, it)
			continue
		}
		if g.RPS.Valid() && g.RPS > 0 { // a WebSocket-only group sends no requests
			it += " " + st.Dim.Render(fmtCount(float64(g.RPS))+"rps")
		}
		if g.P95Ms.Valid() {
			it += " " + st.Dim.Render("p95 "+fmtMs(float64(g.P95Ms)))
		}
		if detail == 2 && g.ErrorRate.Valid() && g.ErrorRate > 0 {
			it += " " + st.Warn.Render("err "+strconv.FormatFloat(100*float64(g.ErrorRate), 'f', 1, 64)+"%")
		}
		items = append(items, it)
	}
	return items
}

// findForms is the search's words, longest first: a done search without
// its limit ("38 users (held; 39 failed: +2.6 %/−0; bracket 38–39)"),
// without the bracket ("38 users (held; 39 failed: +2.6 %/−0)"), then the
// answer alone; a running one without the plateau count ("bisect 38
// users · bracket 37–40").
func findForms(s string) []string {
	forms := []string{s}
	if i := strings.Index(s, ", limited by "); i > 0 {
		forms = append(forms, s[:i])
	} else if i := strings.LastIndex(s, " · "); i > 0 {
		forms = append(forms, s[:i])
	}
	last := forms[len(forms)-1]
	if i := strings.Index(last, "; bracket "); i > 0 {
		forms = append(forms, last[:i]+")")
	}
	if i := strings.Index(last, " (held; "); i > 0 {
		forms = append(forms, last[:i])
	}
	return forms
}

// joinFit joins header items with the widest separator that fits in w.
func joinFit(st *Styles, items []string, w int) string {
	s, _ := joinFitN(st, items, w)
	return s
}

// joinFitN joins items with the widest separator that fits; when none
// does, it keeps the leading items that fit whole (never half an item: a
// number cut short reads as another number) and says how many it kept.
// The first item is always kept, cut if it must be.
func joinFitN(st *Styles, items []string, w int) (string, int) {
	for _, sep := range []string{"  │  ", " │ "} {
		if s := strings.Join(items, st.Dim.Render(sep)); lipgloss.Width(s) <= w {
			return s, len(items)
		}
	}
	sep := st.Dim.Render("  ")
	n := 1
	width := lipgloss.Width(items[0])
	for ; n < len(items); n++ {
		if width += 2 + lipgloss.Width(items[n]); width > w {
			break
		}
	}
	return truncate(strings.Join(items[:n], sep), w), n
}

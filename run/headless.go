package run

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/brink-load/brink/report"
	"github.com/brink-load/brink/termtext"
)

// headless waits for the engine, printing a progress line every interval:
// t=1m05s vus=210/300 rps=1843 p95=212ms p99=480ms err=0.2% (then
// ws_open=… ws_failed=…% with WebSocket groups)
func headless(ctx context.Context, rec *report.Recorder, engDone <-chan error, every time.Duration, stderr io.Writer) error {
	t := time.NewTicker(every)
	defer t.Stop()
	// Node trouble is said when it starts and when it ends, not buried in
	// the report: a run whose node source is down would otherwise look fine.
	check := time.NewTicker(time.Second)
	defer check.Stop()
	var lastNodes string
	for {
		select {
		case err := <-engDone:
			return err
		case <-t.C:
			fmt.Fprintln(stderr, ProgressLine(rec))
		case <-check.C:
			if st := nodeTrouble(rec); st != lastNodes {
				if st == "" {
					fmt.Fprintln(stderr, "brink: nodes: all nodes report again")
				} else {
					fmt.Fprintln(stderr, "brink: nodes: "+termtext.Clean(st))
				}
				lastNodes = st
			}
		}
	}
}

// nodeTrouble says what is wrong with the newest node poll ("" when
// nothing is).
func nodeTrouble(rec *report.Recorder) string {
	var out string
	rec.View(func(v *report.View) {
		if len(v.Polls) == 0 {
			return
		}
		p := &v.Polls[len(v.Polls)-1]
		if p.Err != "" {
			out = p.Err
			return
		}
		var stale []string
		for i := range p.Samples {
			if s := &p.Samples[i]; s.Stale {
				stale = append(stale, s.Node+" stale ("+s.StaleReason+")")
			}
		}
		out = strings.Join(append(stale, p.Warnings...), "; ")
	})
	return out
}

// ProgressLine summarises the newest window.
func ProgressLine(rec *report.Recorder) string {
	var line string
	rec.View(func(v *report.View) {
		if len(v.Ticks) == 0 {
			line = "t=0s waiting for the first window"
			return
		}
		tk := &v.Ticks[len(v.Ticks)-1]
		var b strings.Builder
		// Closed-model VUs against their target; the VUs an arrival-rate
		// group uses go beside its rate, so "vus=152/92" never appears.
		// Of an arrival-rate group's VUs, the busy ones are what its rate
		// needs now; the rest wait, allocated up front.
		closedVUs, openVUs, busy := tk.SplitVUs()
		switch {
		case closedVUs == 0 && tk.TargetVUs == 0 && (openVUs > 0 || tk.TargetRate > 0):
			// Open model only: the VUs are whatever the rate needs.
			fmt.Fprintf(&b, "t=%s vus=%d rate=%.0f/s (%d busy)", fmtElapsed(tk.Elapsed), openVUs, tk.TargetRate, busy)
		default:
			fmt.Fprintf(&b, "t=%s vus=%d/%d", fmtElapsed(tk.Elapsed), closedVUs, tk.TargetVUs)
			if tk.TargetRate > 0 || openVUs > 0 {
				fmt.Fprintf(&b, " rate=%.0f/s (%d of %d VUs busy)", tk.TargetRate, busy, openVUs)
			}
		}
		fmt.Fprintf(&b, " rps=%.0f p95=%s p99=%s err=%.1f%%", tk.RPS(), fmtMs(tk.Latency.P95), fmtMs(tk.Latency.P99), 100*tk.ErrorRate())
		if tk.Dropped > 0 {
			fmt.Fprintf(&b, " dropped=%d", tk.Dropped)
		}
		if ws, ok := wsRecent(v); ok {
			b.WriteString(ws)
		}
		if v.State != "" && v.State != report.StateOK {
			fmt.Fprintf(&b, " state=%s", v.State)
		}
		if tk.Generator.Overloaded {
			b.WriteString(" generator=overloaded")
		}
		if v.Agents != nil {
			b.WriteString(agentsPart(v.Agents()))
		}
		if len(tk.Groups) > 1 {
			// Several groups: the load as every report text says it.
			gs := report.GroupLoads(tk)
			b.WriteString(" — " + termtext.Clean(report.LoadText(gs, tk.VUs, tk.TargetRate, true)))
		}
		line = b.String()
	})
	return line
}

// wsRecent is the progress line's WebSocket part, " ws_open=12
// ws_failed=0.0%", when the run has WebSocket groups: ws_failed over the
// last 5 s of windows, since one window of long-lived sessions often has
// no outcome at all and a refused server's reconnects back off.
func wsRecent(v *report.View) (string, bool) {
	has := false
	if v.Scenario != nil {
		for _, g := range v.Scenario.Groups {
			has = has || g.WebSocket != nil
		}
	}
	last := &v.Ticks[len(v.Ticks)-1]
	var failed, outcomes int64
	for i := len(v.Ticks) - 1; i >= 0 && last.Elapsed-v.Ticks[i].Elapsed < 5*time.Second; i-- {
		w := &v.Ticks[i].WS
		failed += w.Failed
		outcomes += w.Outcomes
		has = has || w.Sessions > 0 || w.Outcomes > 0
	}
	if !has {
		return "", false
	}
	pct := 0.0
	if outcomes > 0 {
		pct = 100 * float64(min(failed, outcomes)) / float64(outcomes)
	}
	return fmt.Sprintf(" ws_open=%d ws_failed=%.1f%%", last.WS.Open, pct), true
}

func fmtMs(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms >= 100:
		return fmt.Sprintf("%.0fms", ms)
	case ms >= 10:
		return fmt.Sprintf("%.1fms", ms)
	default:
		return fmt.Sprintf("%.2fms", ms)
	}
}

// hostOf and portOf split a listen address for the ssh hint.
func hostOf(addr string) string {
	h, _, err := net.SplitHostPort(addr)
	if err != nil || h == "" || h == "::" || h == "0.0.0.0" {
		return "localhost"
	}
	return h
}

func portOf(addr string) string {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "2222"
	}
	return p
}

// nodeCrossed reports whether any node, or any custom panel's series,
// crossed its threshold (sustained) during the run: for CI that fails the
// run like an SLO does.
func nodeCrossed(rec *report.Recorder) bool {
	crossed := false
	rec.View(func(v *report.View) {
		for i := range v.Events {
			if k := v.Events[i].Kind; k == report.EventNodeOver || k == report.EventPanelOver {
				crossed = true
				return
			}
		}
	})
	return crossed
}

// fmtElapsed prints run time as the progress line's contract shows it:
// 45s, 1m05s, 1h02m05s.
func fmtElapsed(d time.Duration) string {
	s := int(d / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%02dm%02ds", s/3600, s/60%60, s%60)
}

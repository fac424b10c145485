package htmlreport

import (
	"time"

	"github.com/brink-load/brink/report"
)

// runView is one report's verdict, headline figures and tables, every
// figure in the words the terminal summary prints.
type runView struct {
	Label    string // "A" or "B" in a comparison, "" alone
	File     string
	Scenario string
	Run      string
	Host     string
	Brink    string
	Verdict  string
	Outcome  string // the exit code in words, "" for a pass
	Kind     string // passed, inconclusive, stopped, failed
	Aborted  string
	Figures  []figure
	Marks    []markRow // the breakpoint and crossings the charts mark
	Thresh   []threshRow
	Failures []failureRow
	Ends     []endpointRow
	Groups   []groupRow
	GroupsWS bool // a group had WebSocket sessions: their columns show
	Events   []eventRow
}

type figure struct{ Name, Value string }

type markRow struct{ Kind, At, Text string }

type threshRow struct {
	Mark, Metric, Expr, Value, FirstBreach string
	BadWindows                             int
	Default                                bool
	State                                  string // ok, failed, nodata
}

type failureRow struct {
	Count               int64
	Kind, Where, Sample string
}

type endpointRow struct {
	Group, Name, Requests, Errors, P50, P95, P99, Max, Waiting string
}

type groupRow struct {
	Name, Executor, Requests, Errors, VUsMax, P95, P99 string
	WSSessions, WSFailed                               string // "" without WebSocket sessions
}

type eventRow struct{ At, Kind, Text string }

func newRunView(label, file string, rep *report.Report) runView {
	v := runView{Label: label, File: file, Scenario: report.ScenarioName(rep), Run: report.RunText(rep),
		Host: rep.Host, Brink: rep.BrinkVersion, Verdict: rep.Verdict.Text, Outcome: report.OutcomeText(rep),
		Kind: report.OutcomeKind(rep), Aborted: rep.Verdict.Aborted}
	s := &rep.Summary
	v.Figures = []figure{
		{"requests", report.CountText(s.Requests)},
		{"rps (max)", report.NumText(s.RPS, 1) + " (" + report.NumText(s.RPSMax, 1) + ")"},
		{"errors", report.RateText(s.ErrorRate)},
		{"p50 / p95 / p99", report.MsText(s.LatencyMs.Med) + " / " + report.MsText(s.LatencyMs.P95) + " / " + report.MsText(s.LatencyMs.P99)},
		{"peak load", report.LoadText(rep.Verdict.Peak.Groups, rep.Verdict.Peak.VUs, rep.Verdict.Peak.TargetRate, true)},
	}
	if ms := rep.Verdict.MaxStable; ms != nil {
		v.Figures = append(v.Figures, figure{"max stable load", report.LoadText(ms.Groups, ms.VUs, ms.TargetRate, true)})
	}
	if bp := report.BreakpointText(rep); bp != "" {
		v.Figures = append(v.Figures, figure{"breakpoint", bp})
	}
	for _, m := range marks(rep) {
		v.Marks = append(v.Marks, markRow{Kind: m.Kind, At: elapsedText(m.X), Text: m.Label})
	}
	for _, t := range rep.Thresholds {
		r := threshRow{Mark: report.ThresholdMark(t), Metric: t.Metric, Expr: t.Expr, Value: report.ThresholdValueText(t),
			BadWindows: t.BadWindows, Default: t.Default, State: "ok"}
		switch {
		case t.NoData:
			r.State = "nodata"
		case t.Failed():
			r.State = "failed"
		}
		if t.FirstBreach != nil {
			r.FirstBreach = "+" + report.DurText(t.FirstBreach.Sub(rep.Start))
		}
		v.Thresh = append(v.Thresh, r)
	}
	for _, f := range rep.Failures {
		v.Failures = append(v.Failures, failureRow{Count: f.Count, Kind: report.FailureKindText(f),
			Where: report.FailureWhere(f), Sample: f.Sample})
	}
	for _, e := range rep.Endpoints {
		wait := "-"
		if e.HotspotS.Valid() {
			wait = report.DurText(time.Duration(float64(e.HotspotS) * float64(time.Second)))
		}
		d := &e.LatencyMs
		v.Ends = append(v.Ends, endpointRow{Group: e.Group, Name: e.Name, Requests: report.CountText(e.Requests),
			Errors: report.RateText(e.ErrorRate), P50: report.MsText(d.Med), P95: report.MsText(d.P95),
			P99: report.MsText(d.P99), Max: report.MsText(d.Max), Waiting: wait})
	}
	for _, g := range rep.Groups {
		r := groupRow{Name: g.Name, Executor: g.Executor, Requests: report.CountText(g.Requests),
			Errors: report.RateText(g.ErrorRate), VUsMax: report.CountText(int64(g.VUsMax)),
			P95: report.MsText(g.LatencyMs.P95), P99: report.MsText(g.LatencyMs.P99)}
		// As the summary: WebSocket failures are not HTTP errors, so
		// they get columns of their own.
		if g.WSSessions > 0 || g.WSOutcomes > 0 {
			v.GroupsWS = true
			r.WSSessions, r.WSFailed = report.CountText(g.WSSessions), "-"
			if g.WSFailedRate != nil {
				r.WSFailed = report.RateText(*g.WSFailedRate)
			}
		}
		v.Groups = append(v.Groups, r)
	}
	for _, e := range rep.Events {
		if e.Kind == report.EventStage || e.Kind == report.EventSourceError {
			continue // as the summary: stages and the source's ups and downs stay in the JSON
		}
		text := e.Text
		if e.Who != "" && e.Kind == report.EventNote {
			text = e.Who + ": " + text
		}
		v.Events = append(v.Events, eventRow{At: "+" + report.DurText(e.Time.Sub(rep.Start)), Kind: string(e.Kind), Text: text})
	}
	return v
}

// elapsedText is seconds since the start as the events say it: "+1m12s".
func elapsedText(s float64) string {
	if s < 0 {
		return "-" + report.DurText(time.Duration(-s*float64(time.Second)))
	}
	return "+" + report.DurText(time.Duration(s*float64(time.Second)))
}

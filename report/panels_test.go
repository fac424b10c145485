package report

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
)

// panelScenario is the synthetic scenario with one custom panel, "p99
// checkout" in seconds, above 1.5 s; nodes adds node thresholds.
func panelScenario(nodes ...scenarios.NodeThreshold) *scenarios.Scenario {
	sc := scenario(false, nil, nodes...)
	if sc.Nodes == nil {
		sc.Nodes = &scenarios.Nodes{Prometheus: "http://127.0.0.1:9090"}
	}
	above := 1.5
	sc.Nodes.Panels = []scenarios.Panel{
		{Title: "heap", Query: "sum(jvm_memory_used_bytes)", Unit: "MiB"}, // no threshold
		{Title: "p99 checkout", Query: `histogram_quantile(0.99, rate(http_server_requests_seconds_bucket[1m]))`,
			Unit: "s", Above: &above},
	}
	return sc
}

// panelPoll is the poll at second s: the heap panel, the checkout panel
// with the given series values (labelled when more than one), and node
// samples.
func panelPoll(s int, checkout []float64, samples ...measure.Sample) measure.Poll {
	p := poll(float64(s), samples...)
	p.Panels = []measure.PanelValue{{Title: "heap", Unit: "MiB", Series: []measure.PanelSeries{{Labels: "{}", Value: 512}}}}
	pv := measure.PanelValue{Title: "p99 checkout", Unit: "s"}
	for i, v := range checkout {
		labels := "{}"
		if len(checkout) > 1 {
			labels = `{instance="web-` + string(rune('1'+i)) + `:8080"}`
		}
		pv.Series = append(pv.Series, measure.PanelSeries{Labels: labels, Value: v})
	}
	p.Panels = append(p.Panels, pv)
	return p
}

// feedPanels plays n windows of the usual ramp, each followed by the poll
// pollAt(s) for its end second s.
func feedPanels(r *Recorder, n int, pollAt func(s int) measure.Poll) {
	for i, w := range ramp(n, 200, func(int) float64 { return 212 }) {
		r.AddTick(tick(i, w))
		r.AddPoll(pollAt(i + 1))
	}
}

func events(r *Recorder) []Event {
	var evs []Event
	r.View(func(v *View) { evs = append(evs, v.Events...) })
	return evs
}

func TestPanelCrossing(t *testing.T) {
	r := NewRecorder(panelScenario(), t0, Options{})
	feedPanels(r, 12, func(s int) measure.Poll {
		v := 1.0
		if s >= 4 && s < 8 {
			v = 1.9
		}
		return panelPoll(s, []float64{v})
	})
	evs := events(r)
	over, clear := kinds(evs, EventPanelOver), kinds(evs, EventPanelClear)
	if len(over) != 1 || len(clear) != 1 {
		t.Fatalf("events %+v", evs)
	}
	if want := "p99 checkout 1.9 s > 1.5 s — 610 users, 1830 rps, p95 212 ms"; over[0].Text != want {
		t.Errorf("over text %q, want %q", over[0].Text, want)
	}
	if !over[0].Time.Equal(at(4)) || over[0].Load.VUs != 610 || over[0].Metric != "p99 checkout" || over[0].Node != "{}" {
		t.Errorf("over %+v, want stamped at 4 s with 610 VUs", over[0])
	}
	if want := "p99 checkout back under 1.5 s (1 s) — 1 410 users, 4230 rps, p95 212 ms"; !clear[0].Time.Equal(at(8)) || clear[0].Text != want {
		t.Errorf("clear %v %q, want 8 s %q", clear[0].Time.Sub(t0), clear[0].Text, want)
	}
	v := r.Verdict()
	if v.Breakpoint == nil || !v.Breakpoint.Time.Equal(at(4)) || v.Breakpoint.VUs != 610 {
		t.Fatalf("breakpoint %+v, want at 4 s, 610 VUs", v.Breakpoint)
	}
	sig := v.Breakpoint.Signal
	if sig.Kind != SignalPanel || sig.Node != "{}" || sig.Metric != "p99 checkout" || sig.Value != 1.9 || sig.Threshold != 1.5 {
		t.Errorf("signal %+v", sig)
	}
	if !strings.HasPrefix(v.Text, "p99 checkout 1.9 s > 1.5 s at 610 users") {
		t.Errorf("verdict %q", v.Text)
	}
}

func TestPanelFlappingAndNoise(t *testing.T) {
	cases := []struct {
		name string
		val  func(s int) float64
	}{
		{"flapping", func(s int) float64 { return []float64{1, 2}[s%2] }},
		{"two over, one under", func(s int) float64 { return []float64{2, 2, 1}[s%3] }},
		{"NaN and Inf say nothing", func(s int) float64 {
			if s%2 == 0 {
				return math.Inf(1)
			}
			return math.NaN()
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := NewRecorder(panelScenario(), t0, Options{})
			feedPanels(r, 20, func(s int) measure.Poll { return panelPoll(s, []float64{c.val(s)}) })
			if over := kinds(events(r), EventPanelOver); len(over) != 0 {
				t.Errorf("panel_over events %+v", over)
			}
			if v := r.Verdict(); v.Breakpoint != nil {
				t.Errorf("breakpoint %+v", v.Breakpoint)
			}
		})
	}
}

func TestPanelErrorSaysNothing(t *testing.T) {
	r := NewRecorder(panelScenario(), t0, Options{})
	feedPanels(r, 10, func(s int) measure.Poll {
		p := panelPoll(s, []float64{3})
		if s >= 3 && s <= 5 {
			p.Panels[1] = measure.PanelValue{Title: "p99 checkout", Unit: "s", Err: "bad_data: parse error"}
		}
		return p
	})
	// Over at 1 and 2, then no answer, then over from 6: the run that
	// became sustained started at 1 (as a stale node sample, the gap
	// breaks nothing).
	over := kinds(events(r), EventPanelOver)
	if len(over) != 1 || !over[0].Time.Equal(at(1)) {
		t.Fatalf("panel_over %+v, want one at 1 s", over)
	}
}

func TestPanelSeriesLabels(t *testing.T) {
	r := NewRecorder(panelScenario(), t0, Options{})
	feedPanels(r, 10, func(s int) measure.Poll {
		web2 := 0.4
		if s >= 5 {
			web2 = 2.25
		}
		return panelPoll(s, []float64{0.4, web2})
	})
	over := kinds(events(r), EventPanelOver)
	if len(over) != 1 {
		t.Fatalf("panel_over %+v", over)
	}
	if want := `p99 checkout {instance="web-2:8080"} 2.25 s > 1.5 s — 810 users, 2430 rps, p95 212 ms`; over[0].Text != want {
		t.Errorf("text %q, want %q", over[0].Text, want)
	}
	if over[0].Node != `{instance="web-2:8080"}` {
		t.Errorf("node %q", over[0].Node)
	}
}

// The breakpoint is the earliest-stamped sustained crossing, panel or node.
func TestPanelFirstWinsAgainstNode(t *testing.T) {
	load := scenarios.NodeThreshold{Metric: "load1", Above: 100, Role: "db"}
	cases := []struct {
		name           string
		panelAt, nodAt int
		kind           string
		followed       string
	}{
		{"panel first", 4, 6, SignalPanel, SignalNode},
		{"node first", 6, 3, SignalNode, SignalPanel},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := NewRecorder(panelScenario(load), t0, Options{})
			feedPanels(r, 14, func(s int) measure.Poll {
				pv, nv := 1.0, 50.0
				if s >= c.panelAt {
					pv = 1.8
				}
				if s >= c.nodAt {
					nv = 120
				}
				return panelPoll(s, []float64{pv}, load1("db-3", nv))
			})
			v := r.Verdict()
			if v.Breakpoint == nil || v.Breakpoint.Signal.Kind != c.kind {
				t.Fatalf("breakpoint %+v, want a %s signal", v.Breakpoint, c.kind)
			}
			if len(v.Followed) != 1 || v.Followed[0].Signal.Kind != c.followed {
				t.Errorf("followed %+v, want one %s signal", v.Followed, c.followed)
			}
			if bps := kinds(events(r), EventBreakpoint); len(bps) != 1 {
				t.Errorf("breakpoint events %+v", bps)
			}
		})
	}
}

func TestPanelJSONRoundTrip(t *testing.T) {
	r := NewRecorder(panelScenario(), t0, Options{Version: "test", Host: "h"})
	feedPanels(r, 8, func(s int) measure.Poll {
		p := panelPoll(s, []float64{1.2, 1.9})
		if s == 3 {
			p.Panels[1].Series[0].Value = math.NaN()
		}
		return p
	})
	r.AddPoll(panelPoll(8, []float64{5, 5})) // the last poll seen again: no new point
	r.Finish(at(9))
	data, rep := roundTrip(t, r.Report())
	if len(rep.Panels) != 2 {
		t.Fatalf("panels %+v", rep.Panels)
	}
	heap, co := rep.Panels[0], rep.Panels[1]
	if heap.Title != "heap" || heap.Unit != "MiB" || heap.Above != nil || len(heap.Series) != 1 || len(heap.Series[0].Points) != 8 {
		t.Errorf("heap panel %+v", heap)
	}
	if co.Title != "p99 checkout" || co.Unit != "s" || co.Above == nil || *co.Above != 1.5 || len(co.Series) != 2 {
		t.Fatalf("checkout panel %+v", co)
	}
	web1 := co.Series[0]
	if web1.Labels != `{instance="web-1:8080"}` || len(web1.Points) != 8 {
		t.Fatalf("series %+v", web1)
	}
	if p := web1.Points[0]; float64(p[0]) != float64(at(1).Unix()) || p[1] != 1.2 {
		t.Errorf("first point %v", p)
	}
	if p := web1.Points[2]; p[1].Valid() {
		t.Errorf("NaN point read back as %v, want null", p[1])
	}
	if !bytes.Contains(data, []byte(`{"labels":"{instance=\"web-1:8080\"}","points":[[`)) {
		t.Errorf("series not written one compact line each:\n%s", data)
	}
	// The panel crossing reads back as an event and the first signal.
	if rep.Verdict.FirstSignal == nil || rep.Verdict.FirstSignal.Kind != SignalPanel {
		t.Errorf("first signal %+v", rep.Verdict.FirstSignal)
	}
}

func TestPanelSeriesBounded(t *testing.T) {
	r := NewRecorder(panelScenario(), t0, Options{})
	for s := 1; s <= 3; s++ {
		p := poll(float64(s))
		pv := measure.PanelValue{Title: "p99 checkout", Unit: "s"}
		for i := range maxPanelSeries + 7 {
			pv.Series = append(pv.Series, measure.PanelSeries{Labels: strings.Repeat("x", i+1), Value: 1})
		}
		p.Panels = []measure.PanelValue{pv}
		r.AddPoll(p)
	}
	ps := r.Report().Panels
	if len(ps) != 1 || len(ps[0].Series) != maxPanelSeries || ps[0].SeriesLeftOut != 7 {
		t.Fatalf("%d series, %d left out", len(ps[0].Series), ps[0].SeriesLeftOut)
	}
	if n := len(ps[0].Series[0].Points); n != 3 {
		t.Errorf("%d points, want 3", n)
	}
}

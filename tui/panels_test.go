package tui

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/report"
	"github.com/brink-load/brink/scenarios"
)

// panelCrossAt is when web-2's p99 checkout goes past 1.5 s for good.
const panelCrossAt = 100

// synthPanelView is the synthetic run with three custom panels: p99
// checkout per web node (above 1.5 s; web-2 crosses, web-1 nears it), the
// heap (no threshold) and a MongoDB queue whose query fails at the end.
func synthPanelView(secs int) report.View {
	v := synthView(secs, 5)
	sc := *v.Scenario
	nd := *sc.Nodes
	above, queue := 1.5, 50.0
	nd.Panels = []scenarios.Panel{
		{Title: "p99 checkout", Query: `histogram_quantile(0.99, sum by (le, instance) (rate(http_server_requests_seconds_bucket{uri="/api/checkout"}[1m])))`,
			Unit: "s", Above: &above},
		{Title: "heap", Query: "sum(jvm_memory_used_bytes) / 2^20", Unit: "MiB"},
		{Title: "mongo queue", Query: "sum(mongodb_globalLock_currentQueue)", Above: &queue},
	}
	sc.Nodes = &nd
	v.Scenario = &sc
	for s := range v.Polls {
		p := &v.Polls[s]
		f := float64(s) / float64(panelCrossAt)
		co := measure.PanelValue{Title: "p99 checkout", Unit: "s"}
		for i, x := range []float64{1.3 * math.Min(f, 1), 1.6 * f, 0.2 + 0.1*f, 0.25 + 0.05*f} {
			co.Series = append(co.Series, measure.PanelSeries{Labels: fmt.Sprintf(`{instance="web-%d:8080"}`, i+1), Value: x})
		}
		heap := measure.PanelValue{Title: "heap", Unit: "MiB",
			Series: []measure.PanelSeries{{Labels: "{}", Value: 300 + 200*math.Min(f, 1)}}}
		mq := measure.PanelValue{Title: "mongo queue", Series: []measure.PanelSeries{{Labels: "{}", Value: 20 * f}}}
		if s > secs-5 {
			mq = measure.PanelValue{Title: "mongo queue", Err: "bad_data: 1:5: parse error: unexpected identifier"}
		}
		p.Panels = []measure.PanelValue{co, heap, mq}
	}
	if secs > panelCrossAt {
		t := v.Ticks[panelCrossAt]
		v.Events = append(v.Events, report.Event{Time: t.Time, Kind: report.EventPanelOver, Node: `{instance="web-2:8080"}`,
			Metric: "p99 checkout", Value: 1.6, Threshold: 1.5,
			Text: fmt.Sprintf(`p99 checkout {instance="web-2:8080"} 1.6 s > 1.5 s — %d VUs`, t.VUs)})
	}
	return v
}

func TestPanelsKey(t *testing.T) {
	m, _ := newTestModel(t, synthPanelView(goldenSecs), Options{}, 120, 40)
	m.Update(keyMsg("p"))
	if m.side.mode != sidePanels {
		t.Fatalf("p: side mode %v, want panels", m.side.mode)
	}
	out := m.View()
	for _, want := range []string{"Panels 3", "! p99 checkout [s]  limit > 1.5 s  … 2 more",
		`  ! {instance="web-2:8080"}   3.98 s`, `  ▲ {instance="web-1:8080"}    1.3 s`, "  heap [MiB]  500 MiB", "? mongo queue: bad_data"} {
		if !strings.Contains(out, want) {
			t.Errorf("panels view lacks %q:\n%s", want, out)
		}
	}
	m.Update(keyMsg("h"))
	if m.side.mode != sideHotspots {
		t.Errorf("h from panels: mode %v, want hotspots", m.side.mode)
	}
	m.Update(keyMsg("p"))
	m.Update(keyMsg("p"))
	if m.side.mode != sideEvents {
		t.Errorf("p twice: mode %v, want the event log", m.side.mode)
	}
}

func TestPanelsEmpty(t *testing.T) {
	m, _ := newTestModel(t, synthView(goldenSecs, 5), Options{}, 120, 40)
	m.Update(keyMsg("p"))
	if out := m.View(); !strings.Contains(out, "no custom panels") {
		t.Errorf("frame lacks the empty state:\n%s", out)
	}
}

func TestGoldenCustomPanels(t *testing.T) {
	m, _ := newTestModel(t, synthPanelView(goldenSecs), Options{Who: "alice (SHA256:3fa9c1)"}, 120, 40)
	m.Update(keyMsg("p"))
	out := m.View()
	if ansiRE.MatchString(out) {
		t.Errorf("ASCII profile frame holds escape sequences")
	}
	checkFrameSize(t, out, 120, 40)
	golden.RequireEqual(t, []byte(out))
}

func TestPanelMarker(t *testing.T) {
	v := synthPanelView(goldenSecs)
	var ms []marker
	for _, mk := range markers(v.Events, nil) {
		if mk.r == '┊' { // crossings: the breakpoint and SLO breaches have their own runes
			ms = append(ms, mk)
		}
	}
	if len(ms) != 2 || ms[1].label != "p99 checkout>1.5" {
		t.Fatalf("markers %+v, want the node's and the panel's", ms)
	}
	m, _ := newTestModel(t, v, Options{}, 120, 40)
	if out := m.View(); !strings.Contains(out, "┊p99 checkout>1.5") && !strings.Contains(out, "p99 checkout>1.5┊") {
		t.Errorf("chart lacks the panel marker:\n%s", out)
	}
}

func TestFmtPanel(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{{0, "0"}, {1.5, "1.5"}, {2.25, "2.25"}, {12.34, "12.3"}, {512, "512"}, {18400, "18k"}, {0.0123, "0.0123"},
		{math.NaN(), "-"}, {math.Inf(1), "+Inf"}, {-3.5, "-3.5"}} {
		if got := fmtPanel(c.v); got != c.want {
			t.Errorf("fmtPanel(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}

func TestPanelsEverySize(t *testing.T) {
	for _, sz := range []struct{ w, h int }{{80, 24}, {100, 30}, {200, 60}} {
		m, _ := newTestModel(t, synthPanelView(goldenSecs), Options{}, sz.w, sz.h)
		m.Update(keyMsg("p"))
		out := m.View()
		checkFrameSize(t, out, sz.w, sz.h)
		if !strings.Contains(out, "Panels 3") || !strings.Contains(out, "p99 checkout") {
			t.Errorf("%dx%d: panels view missing:\n%s", sz.w, sz.h, out)
		}
	}
}

// A sum() series has no labels: it is named by its panel, never "{}".
func TestPanelSumNotBraces(t *testing.T) {
	d := newData()
	d.addPanel(&measure.PanelValue{Title: "queue depth", Series: []measure.PanelSeries{{Labels: "{}", Value: 3},
		{Labels: `{queue="mail"}`, Value: 1}}})
	p := newSidePanel(&Styles{})
	st := NewStyles(nil)
	p.st = &st
	p.SetSize(100, 10, false)
	p.mode = sidePanels
	out := p.render(d)
	if strings.Contains(out, "{}") || !strings.Contains(out, "(queue depth)") {
		t.Errorf("panel series labelled {}:\n%s", out)
	}
}

package report

import (
	"strings"
	"testing"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
)

// One sentence for a load, wherever brink says it.
func TestLoadText(t *testing.T) {
	closed := func(name string, vus int) GroupLoad { return GroupLoad{Name: name, VUs: vus, TargetVUs: vus} }
	open := func(name string, rate float64, vus int) GroupLoad {
		return GroupLoad{Name: name, Open: true, TargetRate: rate, VUs: vus, BusyVUs: vus / 2}
	}
	cases := []struct {
		gs     []GroupLoad
		vus    int
		rate   float64
		detail bool
		want   string
	}{
		{[]GroupLoad{closed("browse", 210), closed("chat", 210), closed("search", 210), open("writes", 70, 40)}, 0, 0, true,
			"630 users (210 browse + 210 chat + 210 search) + 70/s writes"},
		{[]GroupLoad{closed("browse", 210), closed("chat", 210), closed("search", 210), open("writes", 70, 40)}, 0, 0, false,
			"630 users + 70/s writes"},
		{[]GroupLoad{closed("browse", 1210)}, 0, 0, true, "1 210 users"},
		{[]GroupLoad{open("writes", 70.5, 9), open("uploads", 3, 2)}, 0, 0, true, "70.5/s writes + 3/s uploads"},
		{[]GroupLoad{closed("browse", 0), open("writes", 0, 0)}, 0, 0, true, "0 users + 0/s writes"},
		{nil, 452, 0, true, "452 VUs"},
		{nil, 0, 70, true, "70/s"},
	}
	for _, c := range cases {
		if got := LoadText(c.gs, c.vus, c.rate, c.detail); got != c.want {
			t.Errorf("LoadText(%+v, detail %v) = %q, want %q", c.gs, c.detail, got, c.want)
		}
	}
	if n := LoadUsers([]GroupLoad{closed("a", 3), open("b", 9, 40), closed("c", 4)}, 99); n != 7 {
		t.Fatalf("users %d, want 7 (closed groups only)", n)
	}
}

// mixedTick is a window of two closed groups and an arrival-rate one.
func mixedTick(i int, vus int, rate float64, gen measure.GeneratorStats) measure.Tick {
	tk := tick(i, win{vus: 2*vus + 10, rps: 300, p95: 100})
	tk.TargetVUs, tk.TargetRate = 2*vus, rate
	tk.Latency.P999 = 150 * time.Millisecond
	tk.Groups = []measure.GroupStats{
		{Name: "browse", Executor: string(scenarios.RampingVUs), VUs: vus, TargetVUs: vus, Requests: 100, Latency: tk.Latency},
		{Name: "chat", Executor: string(scenarios.RampingVUs), VUs: vus, TargetVUs: vus, Requests: 100, Errors: 5, Latency: tk.Latency},
		{Name: "writes", Executor: string(scenarios.RampingArrivalRate), VUs: 10, BusyVUs: 4, TargetRate: rate, Rate: rate,
			Started: int64(rate), Requests: 100, Latency: tk.Latency},
	}
	tk.Generator = gen
	return tk
}

// The timeline keeps every window's groups and generator health; events
// carry the per-group load and say it in users; an overloaded generator
// is an event each way; p99.9 is in the summary and every window.
func TestTimelineGroupsAndGenerator(t *testing.T) {
	r := NewRecorder(scenario(false, []scenarios.Threshold{p95lt500}), t0, Options{Host: "h"})
	healthy := measure.GeneratorStats{CPUPercent: 20, Cores: 2, Stretch: 1}
	stalled := measure.GeneratorStats{CPUPercent: 2, Cores: 2, Stretch: 4.26, Overloaded: true,
		Reason: "window lasted 4.3× its length (brink stalled)"}
	for i := range 8 {
		g := healthy
		if i == 3 || i == 4 {
			g = stalled
		}
		r.AddTick(mixedTick(i, 100+10*i, 70, g))
	}
	r.Finish(at(9))
	rep := r.Report()
	w := rep.Timeline[3]
	if len(w.Groups) != 3 || w.Groups[0].Name != "browse" || w.Groups[0].VUs != 130 || w.Groups[2].Open != true ||
		w.Groups[2].TargetRate != 70 || w.Groups[2].BusyVUs != 4 || float64(w.Groups[1].ErrorRate) != 0.05 || float64(w.Groups[1].RPS) != 100 {
		t.Fatalf("window groups %+v", w.Groups)
	}
	if w.Generator == nil || !w.Generator.Overloaded || float64(w.Generator.Stretch) != 4.26 || w.Generator.Reason == "" {
		t.Fatalf("window generator %+v", w.Generator)
	}
	if g := rep.Timeline[2].Generator; g == nil || g.Overloaded || g.Cores != 2 {
		t.Fatalf("healthy window generator %+v", g)
	}
	if float64(w.Latency.P999) != 150 {
		t.Fatalf("window p99.9 %v", w.Latency.P999)
	}
	if d := rep.Summary.LatencyMs; !d.P999.Valid() || d.P999 < d.P99 {
		t.Fatalf("summary p99.9 %v, p99 %v", d.P999, d.P99)
	}
	var over, back *Event
	for i := range rep.Events {
		switch e := &rep.Events[i]; e.Kind {
		case EventGeneratorOverloaded:
			over = e
		case EventGeneratorRecovered:
			back = e
		}
	}
	if over == nil || back == nil || !over.Time.Equal(at(3)) || !back.Time.Equal(at(5)) {
		t.Fatalf("generator events %+v / %+v", over, back)
	}
	if want := "260 users (130 browse + 130 chat) + 70/s writes"; !strings.Contains(over.Text, want) || !strings.Contains(over.Text, "brink stalled") {
		t.Fatalf("overloaded text %q, want the load as %q and the reason", over.Text, want)
	}
	if len(over.Load.Groups) != 3 {
		t.Fatalf("event load groups %+v", over.Load.Groups)
	}
	data, err := encode(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"groups":[{"name":"browse"`, `"generator":{"cpu_percent":2,"cores":2,"stretch":4.26`, `"overloaded":true`, `"p999":`} {
		if !strings.Contains(string(data), key) {
			t.Fatalf("report lacks %s", key)
		}
	}
	back2, err := Parse("r.json", data)
	if err != nil {
		t.Fatal(err)
	}
	if g := back2.Timeline[3].Generator; g == nil || !g.Overloaded || len(back2.Timeline[3].Groups) != 3 {
		t.Fatalf("read back %+v", back2.Timeline[3])
	}
	var sb strings.Builder
	PrintSummary(&sb, rep)
	if !strings.Contains(sb.String(), "p(99.9)=") || !strings.Contains(sb.String(), "overloaded in 2 of 8 windows (first: window lasted 4.3×") {
		t.Fatalf("summary without p(99.9):\n%s", sb.String())
	}
}

// The verdict counts and says the same users as the events: its
// breakpoint and max stable carry the groups, their vus are the closed
// groups' users (not the arrival-rate group's VUs), and the text names
// each group.
func TestVerdictSaysGroups(t *testing.T) {
	r := NewRecorder(scenario(false, []scenarios.Threshold{p95lt500}), t0, Options{Host: "h"})
	healthy := measure.GeneratorStats{CPUPercent: 20, Cores: 2, Stretch: 1}
	for i := range 10 {
		tk := mixedTick(i, 100+10*i, 70, healthy)
		if i >= 6 {
			tk.Hist, tk.Latency = hist(300, 900)
		}
		r.AddTick(tk)
	}
	r.Finish(at(11))
	v := r.Verdict()
	bp, ms := v.Breakpoint, v.MaxStable
	if bp == nil || bp.VUs != 320 || len(bp.Groups) != 3 || ms == nil || ms.VUs != 300 || len(ms.Groups) != 3 {
		t.Fatalf("breakpoint %+v\nmax stable %+v", bp, ms)
	}
	for _, want := range []string{"at 320 users (160 browse + 160 chat) + 70/s writes, 300 rps",
		"Max stable: 300 users (150 browse + 150 chat) + 70/s writes, 300 rps"} {
		if !strings.Contains(v.Text, want) {
			t.Errorf("verdict %q lacks %q", v.Text, want)
		}
	}
	if v.Peak.VUs != 380 || len(v.Peak.Groups) != 3 {
		t.Fatalf("peak %+v", v.Peak)
	}
}

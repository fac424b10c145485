package report

import (
	"strings"
	"testing"
)

// A fleet window short of a lost agent's load is judged as an overloaded
// one but said as what it is: not brink overloaded, the load short.
func TestPartialWindowSaysLoadShort(t *testing.T) {
	r := NewRecorder(scenario(false, nil), t0, Options{})
	for i := range 4 {
		tk := tick(i, win{vus: 10, rps: 30, p95: 100})
		tk.Generator.Cores = 2
		if i >= 2 {
			tk.Generator.Overloaded, tk.Generator.Partial = true, true
			tk.Generator.Reason = "agent b2 lost at +2s (33 % of the load)"
		}
		r.AddTick(tk)
	}
	r.Finish(at(5))
	rep := r.Report()
	if g := rep.Timeline[2].Generator; g == nil || !g.Partial || !g.Overloaded {
		t.Fatalf("window generator %+v, want partial and overloaded", g)
	}
	var texts []string
	for _, e := range rep.Events {
		if e.Kind == EventGeneratorOverloaded {
			texts = append(texts, e.Text)
		}
	}
	if len(texts) != 1 || !strings.HasPrefix(texts[0], "load short of the plan (agent b2 lost") || strings.Contains(texts[0], "brink itself") {
		t.Errorf("events %q", texts)
	}
}

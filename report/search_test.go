package report

import (
	"bytes"
	"strings"
	"testing"
)

// The answer line is the issue's own form.
func TestSearchLine(t *testing.T) {
	s := &Search{Unit: "users", Found: true, Answer: 612, Bracket: [2]float64{600, 625}, Precision: Num(12.5 / 612),
		Limit: &SearchLimit{Load: 625, Signal: Signal{Kind: SignalNode, Node: "db-3", Metric: "load1", Value: 104, Threshold: 100}}}
	want := "max sustainable: 612 users (held; 625 failed: +2.1 %/−0; bracket 600–625), limited by db-3 load1 (104 > 100 at 625)"
	if got := SearchLine(s); got != want {
		t.Fatalf("SearchLine:\n got %q\nwant %q", got, want)
	}
	s = &Search{Unit: "/s", Bracket: [2]float64{80, 0}, Why: "--max-duration 5m reached"}
	if got := SearchLine(s); got != "max sustainable: not found (held 80/s, failed none): --max-duration 5m reached" {
		t.Fatalf("not found: %q", got)
	}
}

// The summary ends with the plateaus and the answer, and says when
// settling took most of the search.
func TestPrintSearch(t *testing.T) {
	s := &Search{Unit: "users", Found: true, Answer: 82, Bracket: [2]float64{82, 83}, Precision: Num(0.5 / 82),
		DurationS: 100, SettleS: 60, Plateaus: []Plateau{
			{Phase: "explore", Load: 80, Held: true, Judged: true, DurationS: 5, RPS: 151, P95Ms: 77.1, SettleS: 40},
			{Phase: "explore", Load: 160, Judged: true, DurationS: 3, RPS: 155, P95Ms: 587,
				Signals: []Signal{{Kind: SignalKnee, Text: "throughput 155 rps < 90 % of the 320 rps the plateaus before predict"}}},
		}}
	var b bytes.Buffer
	printSearch(&b, s, 100)
	out := b.String()
	for _, want := range []string{"SEARCH (2 plateaus, 1m40s, 1m00s of it waiting for slow signals to settle)",
		"✓ explore 80 users held 5 s, 151 rps, p95 77.1 ms (+40 s settling)", "✗ explore 160 users",
		"max sustainable: 82 users (held; 83 failed: +1.2 %/−0; bracket 82–83)", "node_pressure_cpu_waiting_seconds_total"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
)

var update = flag.Bool("update", false, "rewrite testdata fixtures and golden files")

// fixture builds a run: a ramp of 40 windows by 20 VUs where db-3's load1
// crosses 100 at crossAt s and p95 passes 500 ms from window slowFrom.
func fixture(t *testing.T, name string, rpsPerVU, crossAt, slowFrom int) *Report {
	t.Helper()
	sc := scenario(false, []scenarios.Threshold{p95lt500, errLt1pct},
		scenarios.NodeThreshold{Metric: "load1", Above: 100, Role: "db"})
	sc.Name = name
	r := NewRecorder(sc, t0, Options{Version: "0.1.0-test", Host: "gen-1"})
	wins := make([]win, 40)
	for i := range wins {
		v := 20 + 20*i
		wins[i] = win{vus: v, rps: rpsPerVU * v, p95: 120 + float64(i)*5, stage: i / 20}
		if i >= slowFrom {
			wins[i].p95 = 650 + float64(i-slowFrom)*40
			wins[i].errs = wins[i].rps * (i - slowFrom + 1) / 100
		}
	}
	polls := map[int][]measure.Sample{}
	for s := 1; s <= 40; s++ {
		v := 40 + float64(s)*2
		if s >= crossAt {
			v = 100 + float64(s-crossAt+2)*2
		}
		polls[s] = []measure.Sample{load1("db-3", v), load1("db-1", 30)}
	}
	feed(t, r, wins, polls)
	r.Note("local", "added read cache on db-3", at(5))
	r.Finish(at(41))
	return r.Report()
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestCompareGolden(t *testing.T) {
	a, b := filepath.Join("testdata", "run-a.json"), filepath.Join("testdata", "run-b.json")
	if *update {
		if err := WriteFile(a, fixture(t, "chat-breakpoint", 3, 15, 22)); err != nil {
			t.Fatal(err)
		}
		if err := WriteFile(b, fixture(t, "chat-breakpoint", 3, 31, 33)); err != nil {
			t.Fatal(err)
		}
	}
	ra, err := ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	Compare(&out, ra, rb)
	golden(t, filepath.Join("testdata", "compare.golden"), out.Bytes())

	out.Reset()
	PrintSummary(&out, ra)
	golden(t, filepath.Join("testdata", "summary-a.golden"), out.Bytes())
}

// A run that never broke only shows a floor for its limit: "≥ N", and a
// change against it is a bound, never a measured difference.
func TestCompareUnbrokenIsAFloor(t *testing.T) {
	broke := fixture(t, "chat-breakpoint", 3, 15, 22)
	// The same run, as if it had held to its highest load (800 VUs).
	held := *fixture(t, "chat-breakpoint", 3, 15, 22)
	held.Verdict.Breakpoint = nil
	ms := *held.Verdict.MaxStable
	ms.VUs, ms.Groups = 800, nil // said from the VUs, as in a report without groups
	held.Verdict.MaxStable = &ms
	for _, tc := range []struct {
		a, b *Report
		want []string
	}{
		{broke, &held, []string{"≥ 800 VUs", "→ ≥ 800 VUs (at least +"}},
		{&held, broke, []string{"Max stable load ≥ 800 → ", "(at most -"}},
		{&held, &held, []string{"(neither limit found)"}},
	} {
		var out bytes.Buffer
		Compare(&out, tc.a, tc.b)
		for _, w := range tc.want {
			if !bytes.Contains(out.Bytes(), []byte(w)) {
				t.Errorf("compare lacks %q:\n%s", w, out.String())
			}
		}
	}
}

// Matched-load rows count users, as every report text does: an
// arrival-rate group's VUs do not move a mixed run's level.
func TestMatchedLoadLevelIsUsers(t *testing.T) {
	w := Window{VUs: 14, Groups: []GroupLoad{{Name: "browse", VUs: 4}, {Name: "writes", Open: true, VUs: 10, TargetRate: 20}}}
	if got := level(&w, false); got != 4 {
		t.Fatalf("level %v, want the 4 users", got)
	}
	if got := level(&Window{VUs: 14}, false); got != 14 {
		t.Fatalf("level of a window without groups %v, want its 14 VUs", got)
	}
}

// A value of A wider than its column does not run into B's on one line
// ("388 rps ≥ 838 users" read as one claim): B goes under it, in B's
// column.
func TestCompareLongValueKeepsColumns(t *testing.T) {
	a := fixture(t, "chat-breakpoint", 3, 15, 22)
	b := *fixture(t, "chat-breakpoint", 3, 31, 33)
	b.Verdict.Breakpoint = nil
	ms := *a.Verdict.MaxStable
	ms.Groups = []GroupLoad{{Name: "browse", VUs: 322}, {Name: "chat", VUs: 323}, {Name: "writes", Open: true, VUs: 60, TargetRate: 107.7}}
	a.Verdict.MaxStable = &ms
	var out bytes.Buffer
	Compare(&out, a, &b)
	lines := strings.Split(out.String(), "\n")
	bCol := strings.Index(lines[1], "B")
	for i, l := range lines {
		if !strings.HasPrefix(l, "  max stable load") {
			continue
		}
		if strings.Contains(l, "≥") {
			t.Errorf("A and B on one line: %q", l)
		}
		if i+1 >= len(lines) || strings.TrimSpace(lines[i+1][:bCol]) != "" || !strings.HasPrefix(lines[i+1][bCol:], "≥ ") {
			t.Errorf("B's value not under B:\n%s", out.String())
		}
		return
	}
	t.Fatalf("no max stable load row:\n%s", out.String())
}

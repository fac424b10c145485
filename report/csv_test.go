package report

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestWriteCSV: one header row and one row per window, node sample,
// threshold and endpoint; a missing figure is an empty cell, never 0 or
// NaN.
func TestWriteCSV(t *testing.T) {
	read := func(path string) [][]string {
		t.Helper()
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return rows
	}
	col := func(rows [][]string, name string) int {
		i := slices.Index(rows[0], name)
		if i < 0 {
			t.Fatalf("no column %s in %q", name, rows[0])
		}
		return i
	}

	rep, err := ReadFile(filepath.Join("testdata", "qa", "refused.json"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "new")
	wrote, err := WriteCSV(dir, rep)
	if err != nil || len(wrote) != len(CSVFiles) {
		t.Fatalf("wrote %q, %v", wrote, err)
	}
	tl := read(filepath.Join(dir, "timeline.csv"))
	if len(tl) != len(rep.Timeline)+1 {
		t.Fatalf("timeline.csv: %d rows for %d windows", len(tl), len(rep.Timeline))
	}
	if p95 := tl[1][col(tl, "p95_ms")]; p95 != "" {
		t.Errorf("a window without latency has p95_ms %q, want an empty cell", p95)
	}
	if rows := read(filepath.Join(dir, "failures.csv")); len(rows) != 1 {
		t.Errorf("failures.csv of a report without failures: %q", rows)
	}

	rep, err = ReadFile(filepath.Join("testdata", "run-a.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteCSV(dir, rep); err != nil {
		t.Fatal(err)
	}
	th := read(filepath.Join(dir, "thresholds.csv"))
	if len(th) != len(rep.Thresholds)+1 || th[1][col(th, "metric")] != rep.Thresholds[0].Metric {
		t.Errorf("thresholds.csv %q", th)
	}
	samples := 0
	for _, n := range rep.Nodes {
		samples += len(n.Samples)
		if n.Baseline != nil {
			samples++
		}
	}
	if nodes := read(filepath.Join(dir, "nodes.csv")); len(nodes) != samples+1 {
		t.Errorf("nodes.csv has %d rows for %d samples", len(nodes)-1, samples)
	}
	if tl := read(filepath.Join(dir, "timeline.csv")); tl[5][col(tl, "p95_ms")] != csvNum(rep.Timeline[4].Latency.P95) {
		t.Errorf("timeline.csv p95_ms %q, want %v", tl[5][col(tl, "p95_ms")], rep.Timeline[4].Latency.P95)
	}

	// Into a file, not a directory: the error names it, nothing written.
	file := filepath.Join(dir, "timeline.csv")
	if wrote, err := WriteCSV(file, rep); err == nil || len(wrote) != 0 {
		t.Errorf("WriteCSV into a file: wrote %q, %v", wrote, err)
	}
}

// TestMatchedLoadIsTheTable: MatchedLoad's figures are the rows brink
// report A B prints under AT MATCHED LOAD, level for level.
func TestMatchedLoadIsTheTable(t *testing.T) {
	a, err := ReadFile(filepath.Join("testdata", "run-a.json"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ReadFile(filepath.Join("testdata", "run-b.json"))
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	Compare(&buf, a, b)
	_, table, _ := strings.Cut(buf.String(), "AT MATCHED LOAD")
	rows := strings.Split(strings.TrimSpace(table), "\n")[2:] // past the heading and the column names
	unit, levels := MatchedLoad(a, b)
	if unit != "VUs" || len(levels) == 0 {
		t.Fatalf("unit %q, %d levels", unit, len(levels))
	}
	for i, l := range levels {
		if i >= len(rows) {
			t.Fatalf("%d levels, %d rows in the table", len(levels), len(rows))
		}
		f := strings.Fields(rows[i])
		want := trimFloat(l.Lo, 1) + "–" + trimFloat(l.Hi, 1)
		if f[0] != want || !strings.Contains(rows[i], fmtMs(float64(l.P95A))+" → "+fmtMs(float64(l.P95B))) {
			t.Errorf("level %d: %s, p95 %v → %v; the table says %q", i, want, l.P95A, l.P95B, rows[i])
		}
	}
}

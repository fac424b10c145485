package cli

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportHTMLAndCSV: --html and --csv write what they say, after the
// files or before them, and say each file only once it is written.
func TestReportHTMLAndCSV(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join("..", "report", "testdata", "run-a.json")
	b := filepath.Join("..", "report", "testdata", "run-b.json")
	page, csvDir := filepath.Join(dir, "a.html"), filepath.Join(dir, "csv")
	var out, errb bytes.Buffer
	if code := runMain([]string{"report", a, "--html", page, "--csv", csvDir}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "VERDICT") {
		t.Errorf("the summary is still printed: %q", out.String())
	}
	body, err := os.ReadFile(page)
	if err != nil || !bytes.Contains(body, []byte("<!DOCTYPE html>")) {
		t.Fatalf("page %s: %v", page, err)
	}
	heads := map[string]string{
		"timeline.csv":   "time,elapsed_s,window_s,stage,held,vus,target_vus",
		"thresholds.csv": "metric,expr,agg,ok,no_data,value,bad_windows,first_breach,default",
		"endpoints.csv":  "group,name,requests,errors,error_rate,mean_ms",
		"failures.csv":   "kind,status,group,endpoint,count,sample,check",
		"nodes.csv":      "node,role,instance,time,elapsed_s,baseline,stale,cpu",
	}
	for name, head := range heads {
		p := filepath.Join(csvDir, name)
		if !strings.Contains(errb.String(), "wrote "+p+"\n") {
			t.Errorf("stderr does not say it wrote %s: %q", p, errb.String())
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := strings.Join(rows[0], ","); !strings.HasPrefix(got, head) {
			t.Errorf("%s header %q, want it to start %q", name, got, head)
		}
	}
	if rows := strings.Count(mustRead(t, filepath.Join(csvDir, "timeline.csv")), "\n"); rows != 41 {
		t.Errorf("timeline.csv has %d lines, want 41 (header + 40 windows)", rows)
	}

	out.Reset()
	errb.Reset()
	cmp := filepath.Join(dir, "ab.html")
	if code := runMain([]string{"report", "--html", cmp, a, b}, &out, &errb); code != exitOK {
		t.Fatalf("compare: exit %d: %s", code, errb.String())
	}
	if body := mustRead(t, cmp); !strings.Contains(body, "AT MATCHED LOAD") {
		t.Error("the comparison page lacks the comparison")
	}

	errb.Reset()
	if code := runMain([]string{"report", a, b, "--csv", csvDir}, &out, &errb); code != exitUsage {
		t.Errorf("--csv with two reports: exit %d, want %d", code, exitUsage)
	}

	// A page that cannot be written: exit 1, one line naming it, no "wrote".
	errb.Reset()
	bad := filepath.Join(dir, "missing", "x.html")
	if code := runMain([]string{"report", a, "--html", bad}, &out, &errb); code != exitFailure {
		t.Errorf("unwritable --html: exit %d, want %d", code, exitFailure)
	}
	if e := errb.String(); strings.Contains(e, "wrote") || strings.Count(e, "\n") != 1 || !strings.Contains(e, bad+": ") {
		t.Errorf("unwritable --html said %q: want one line naming %s", e, bad)
	}
	// A CSV directory that is a file.
	errb.Reset()
	if code := runMain([]string{"report", a, "--csv", page}, &out, &errb); code != exitFailure {
		t.Errorf("--csv onto a file: exit %d, want %d", code, exitFailure)
	}
	if e := errb.String(); strings.Contains(e, "wrote") || strings.Count(e, "\n") != 1 || !strings.Contains(e, page) {
		t.Errorf("--csv onto a file said %q: want one line naming %s", e, page)
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

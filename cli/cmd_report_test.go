package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := filepath.Join("..", "report", "testdata", "run-a.json")
	b := filepath.Join("..", "report", "testdata", "run-b.json")
	notReport := write("scenario.yaml", "name: x\ngroups: []\n")
	newer := write("newer.json", `{"schema_version": 2, "start": "2030-01-01T00:00:00Z"}`)
	noSummary := write("nosummary.json", `{"schema_version": 1, "start": "2030-01-01T00:00:00Z", "timeline": []}`)
	nullSummary := write("nullsummary.json", `{"schema_version": 1, "summary": null}`)
	cases := []struct {
		name    string
		args    []string
		code    int
		golden  string // stdout must equal this file
		errSays string // stderr must say this, on one line
	}{
		{"summary", []string{a}, exitOK, filepath.Join("..", "report", "testdata", "summary-a.golden"), ""},
		{"compare", []string{a, b}, exitOK, filepath.Join("..", "report", "testdata", "compare.golden"), ""},
		{"no file", nil, exitUsage, "", "Usage: brink report FILE"},
		{"three files", []string{a, b, a}, exitUsage, "", "Usage: brink report FILE"},
		{"not a report", []string{notReport}, exitUsage, "", "scenario.yaml: not a brink report"},
		{"newer schema", []string{a, newer}, exitUsage, "", "newer.json: report schema is newer than this brink"},
		{"no summary", []string{noSummary}, exitUsage, "", "nosummary.json: not a brink report (no summary)"},
		{"null summary", []string{a, nullSummary}, exitUsage, "", "nullsummary.json: not a brink report (no summary)"},
		{"missing", []string{filepath.Join(dir, "gone.json")}, exitUsage, "", "gone.json: no such file or directory"},
		{"help", []string{"--help"}, exitOK, "", "Usage: brink report FILE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errb := runBrink(append([]string{"report"}, c.args...)...)
			if code != c.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, c.code, errb)
			}
			if c.golden != "" {
				want, err := os.ReadFile(c.golden)
				if err != nil {
					t.Fatal(err)
				}
				if out != string(want) {
					t.Errorf("stdout differs from %s:\n%s", c.golden, out)
				}
			}
			if c.errSays != "" {
				if !strings.Contains(errb, c.errSays) {
					t.Errorf("stderr %q lacks %q", errb, c.errSays)
				}
				if c.code != exitOK && c.name != "no file" && c.name != "three files" &&
					strings.Count(strings.TrimSpace(errb), "\n") > 0 {
					t.Errorf("error is not one line: %q", errb)
				}
			}
		})
	}
}

// TestReportCommandCleansOutsideText: a report file may come from anyone;
// its scenario name, events and verdict must not drive the reader's
// terminal, in the summary or in a comparison.
func TestReportCommandCleansOutsideText(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "report", "testdata", "run-a.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep map[string]any
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	rep["scenario"].(map[string]any)["name"] = "chat\x1b]0;owned\x07-breakpoint\x1b[2J"
	for _, e := range rep["events"].([]any) {
		e.(map[string]any)["text"] = "db-3\x1b[31m over\x9b2J\r\nnow"
	}
	for _, n := range rep["nodes"].([]any) {
		n.(map[string]any)["node"] = "\x1bP1$r\x1b\\" + n.(map[string]any)["node"].(string)
	}
	hostile, _ := json.Marshal(rep)
	p := filepath.Join(t.TempDir(), "hostile.json")
	if err := os.WriteFile(p, hostile, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{p}, {p, filepath.Join("..", "report", "testdata", "run-b.json")}} {
		var out, errb bytes.Buffer
		if code := runMain(append([]string{"report"}, args...), &out, &errb); code != exitOK {
			t.Fatalf("report %v: exit %d (%s)", args, code, errb.String())
		}
		if i := strings.IndexFunc(out.String(), func(r rune) bool {
			return r != '\n' && (r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f)
		}); i >= 0 {
			t.Errorf("report %v prints a control character at %d: %q", args, i, out.String()[max(0, i-20):min(out.Len(), i+20)])
		}
		if len(args) == 1 && !strings.Contains(out.String(), "chat-breakpoint") {
			t.Errorf("summary lost the scenario name's text:\n%s", out.String())
		}
	}
}

package main

import (
	"bytes"
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
	a := filepath.Join("report", "testdata", "run-a.json")
	b := filepath.Join("report", "testdata", "run-b.json")
	notReport := write("scenario.yaml", "name: x\ngroups: []\n")
	newer := write("newer.json", `{"schema_version": 2, "start": "2030-01-01T00:00:00Z"}`)
	cases := []struct {
		name    string
		args    []string
		code    int
		golden  string // stdout must equal this file
		errSays string // stderr must say this, on one line
	}{
		{"summary", []string{a}, exitOK, filepath.Join("report", "testdata", "summary-a.golden"), ""},
		{"compare", []string{a, b}, exitOK, filepath.Join("report", "testdata", "compare.golden"), ""},
		{"no file", nil, exitUsage, "", "Usage: brink report FILE"},
		{"three files", []string{a, b, a}, exitUsage, "", "Usage: brink report FILE"},
		{"not a report", []string{notReport}, exitUsage, "", "scenario.yaml: not a brink report"},
		{"newer schema", []string{a, newer}, exitUsage, "", "newer.json: report schema is newer than this brink"},
		{"missing", []string{filepath.Join(dir, "gone.json")}, exitUsage, "", "gone.json: no such file or directory"},
		{"help", []string{"--help"}, exitOK, "", "Usage: brink report FILE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := runMain(append([]string{"report"}, c.args...), &out, &errb)
			if code != c.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, c.code, errb.String())
			}
			if c.golden != "" {
				want, err := os.ReadFile(c.golden)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(out.Bytes(), want) {
					t.Errorf("stdout differs from %s:\n%s", c.golden, out.String())
				}
			}
			if c.errSays != "" {
				if !strings.Contains(errb.String(), c.errSays) {
					t.Errorf("stderr %q lacks %q", errb.String(), c.errSays)
				}
				if c.code != exitOK && c.name != "no file" && c.name != "three files" &&
					strings.Count(strings.TrimSpace(errb.String()), "\n") > 0 {
					t.Errorf("error is not one line: %q", errb.String())
				}
			}
		})
	}
}

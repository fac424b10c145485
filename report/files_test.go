package report

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Report files: written atomically, refused with one line when they are not
// a report brink can read, and any bytes parsed without a panic.

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	rep := &Report{SchemaVersion: SchemaVersion, Summary: Summary{RPS: nan()}}
	path := filepath.Join(dir, "r.json")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, rep); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); err != nil {
		t.Fatalf("replaced file does not read: %v", err)
	}
	cases := []struct {
		name string
		path string
	}{
		{"missing directory", filepath.Join(dir, "nope", "r.json")},
		{"target is a directory", dir},
		{"directory path is a file", filepath.Join(path, "r.json")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := WriteFile(c.path, rep)
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temp file left behind: %s", e.Name())
		}
	}
	if b, _ := os.ReadFile(path); !bytes.HasPrefix(b, []byte("{")) {
		t.Errorf("a failed write touched the good report: %q", b)
	}
}

func TestReadFileErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, body string
		want       error
		says       string
	}{
		{"empty", "", ErrNotReport, "not a brink report"},
		{"yaml", "name: x\n", ErrNotReport, "not a brink report"},
		{"other json", `{"name":"x"}`, ErrNotReport, "no schema_version"},
		{"newer", `{"schema_version": 2}`, ErrNewerSchema, "upgrade brink"},
		{"damaged", `{"schema_version": 1, "timeline": 3}`, nil, "damaged brink report"},
		{"no summary", `{"schema_version": 1, "timeline": []}`, ErrNotReport, "(no summary)"},
		{"truncated", `{"schema_version": 1, "timeline": [`, ErrNotReport, "not a brink report"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, c.name+".json")
			if err := os.WriteFile(p, []byte(c.body), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadFile(p)
			if err == nil {
				t.Fatal("no error")
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("error %v is not %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.says) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q: want one line saying %q", err, c.says)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"schema_version":1,"timeline":[{"rps":null}]}`))
	f.Add([]byte(`{"schema_version":99}`))
	f.Add([]byte(`not json`))
	if b, err := os.ReadFile(filepath.Join("testdata", "run-a.json")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := Parse("f", data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		// Whatever parsed must print without panicking.
		var b bytes.Buffer
		PrintSummary(&b, rep)
		Compare(&b, rep, rep)
	})
}

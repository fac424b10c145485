package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brink-load/brink/scenarios"
)

// brink check names a threshold with its tag filter, as written.
func TestCheckKeepsThresholdFilter(t *testing.T) {
	y := []byte("name: t\nbase_url: http://127.0.0.1:1\ngroups:\n  - name: g\n    stages: [{duration: 1s, target: 1}]\n" +
		"    requests: [{name: history, url: /}]\nthresholds:\n  http_req_duration{name:history}: [\"p(95)<500\"]\n")
	sc, err := scenarios.Parse("t.yaml", y)
	if err != nil {
		t.Fatal(err)
	}
	if got := describeScenario("t.yaml", sc); !strings.Contains(got, "threshold    http_req_duration{name:history} p(95)<500") {
		t.Fatalf("check output drops the filter:\n%s", got)
	}
}

// brink check refuses exactly what brink run refuses, with the same one
// line naming the file and the field, and neither sends a request.
func TestCheckRejectsWhatRunRejects(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad-http.yml"), []byte("basic_auth: {usernme: u}\n"), 0o600)
	const head = "name: x\nbase_url: http://127.0.0.1:1\ngroups:\n  - {stages: [{duration: 1s, target: 1}], requests: [{url: /}]}\n"
	cases := []struct{ name, src, says string }{
		{"bad match", head + "nodes: {prometheus: http://127.0.0.1:1, match: '{job node}'}\n",
			`bad match.yaml:5:48: nodes.match: want a label selector like {job="node"}, got "{job node}"`},
		{"bad match regex", head + "nodes: {prometheus: http://127.0.0.1:1, match: '{job=~\"(\"}'}\n",
			`bad match regex.yaml:5:48: nodes.match: label job: bad regex "("`},
		{"missing prom_config", head + "nodes: {prometheus: http://127.0.0.1:1, prom_config: nope.yml}\n",
			"missing prom_config.yaml:5:54: nodes.prom_config: cannot read " + filepath.Join(dir, "nope.yml") + ": no such file or directory"},
		{"bad prom_config", head + "nodes: {prometheus: http://127.0.0.1:1, prom_config: bad-http.yml}\n",
			"nodes: prom config " + filepath.Join(dir, "bad-http.yml") + ": yaml: "},
		{"port 99999", strings.Replace(head, "127.0.0.1:1", "127.0.0.1:99999", 1),
			`port 99999.yaml:2:11: base_url: url "http://127.0.0.1:99999": port 99999 is not 1–65535`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(dir, c.name+".yaml")
			if err := os.WriteFile(file, []byte(c.src), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{"check", file}, {"run", "--headless", "--report", filepath.Join(dir, "r.json"), file}} {
				code, _, errb := runBrink(args...)
				msg := strings.TrimSpace(errb)
				if code != exitUsage || !strings.Contains(msg, c.says) || strings.Contains(msg, "\n") {
					t.Errorf("brink %s: exit %d, stderr %q; want exit 2 and one line with %q", args[0], code, msg, c.says)
				}
			}
		})
	}
	// Names from the file are printed without their terminal controls.
	evil := filepath.Join(dir, "evil.yaml")
	os.WriteFile(evil, []byte(strings.Replace(head, "  - {stages", "  - {name: \"g\\e[2J\\e]0;t\\ah\", stages", 1)), 0o600)
	var eout, eerr bytes.Buffer
	if code := runMain([]string{"check", evil}, &eout, &eerr); code != exitOK || strings.ContainsAny(eout.String(), "\x1b\x07") ||
		!strings.Contains(eout.String(), "  gh ") {
		t.Errorf("check of a name with escapes: exit %d, stdout %q, stderr %q", code, eout.String(), eerr.String())
	}
	// A byte-order mark is no reason to refuse a file.
	bom := filepath.Join(dir, "bom.yaml")
	os.WriteFile(bom, append([]byte("\xef\xbb\xbf"), head...), 0o600)
	var out, errb bytes.Buffer
	if code := runMain([]string{"check", bom}, &out, &errb); code != exitOK {
		t.Errorf("check with a BOM: exit %d: %s", code, errb.String())
	}
}

// brink check validates without load, and the scenario README shows is a
// valid one (so the README cannot drift from the format).
func TestCheckCommandAndREADMEScenario(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "```yaml\n")
	if !ok {
		t.Fatal("README has no yaml block")
	}
	block, _, _ := strings.Cut(rest, "```")
	file := writeScenario(t, block)
	var out, errb bytes.Buffer
	if code := runMain([]string{"check", file, "example:smoke"}, &out, &errb); code != exitOK {
		t.Fatalf("README scenario: exit %d: %s", code, errb.String())
	}
	for _, want := range []string{`"chat-breakpoint", 6m0s, 3 group(s)`, "peak 800 VUs", "peak 300 iterations/s", "p(95)<500", `"smoke"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, out.String())
		}
	}
	bad := writeScenario(t, "name: a\nname: b\n")
	out.Reset()
	errb.Reset()
	if code := runMain([]string{"check", bad}, &out, &errb); code != exitUsage || !strings.HasPrefix(errb.String(), bad+":2:1: name: ") {
		t.Fatalf("bad file: exit %d, %q", code, errb.String())
	}
}

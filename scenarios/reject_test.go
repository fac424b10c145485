package scenarios

import (
	"path/filepath"
	"strings"
	"testing"
)

// What the run would refuse at its start, the scenario refuses when it is
// loaded, so brink check and brink run agree: a port out of range, a
// selector promquery could not splice into its queries, a prom_config file
// that is not there.
func TestParseRejectsWhatRunRejects(t *testing.T) {
	dir := t.TempDir()
	const group = "groups:\n  - stages: [{duration: 1s, target: 1}]\n    requests: [{url: /}]\n"
	cases := []struct{ name, src, want string }{
		{"base_url port", "base_url: http://127.0.0.1:99999\n" + group,
			`s.yaml:1:11: base_url: url "http://127.0.0.1:99999": port 99999 is not 1–65535`},
		{"request port", "groups:\n  - stages: [{duration: 1s, target: 1}]\n    requests: [{url: \"http://h:99999/x\"}]\n",
			`s.yaml:3:22: groups[0].requests[0].url: url "http://h:99999/x": port 99999 is not 1–65535`},
		{"port 0", "base_url: http://h:0\n" + group,
			`s.yaml:1:11: base_url: url "http://h:0": port 0 is not 1–65535`},
		{"prometheus port", "base_url: http://h\n" + group + "nodes: {prometheus: \"http://p:99999\"}\n",
			`s.yaml:5:21: nodes.prometheus: url "http://p:99999": port 99999 is not 1–65535`},
		{"scrape port", "base_url: http://h\n" + group + "nodes: {scrape: [\"http://n:123456/metrics\"]}\n",
			`s.yaml:5:18: nodes.scrape[0]: url "http://n:123456/metrics": port 123456 is not 1–65535`},
		{"match not matchers", "base_url: http://h\n" + group + "nodes: {prometheus: http://p, match: \"{job node}\"}\n",
			`s.yaml:5:38: nodes.match: want a label selector like {job="node"}, got "{job node}"`},
		{"match bad regex", "base_url: http://h\n" + group + "nodes: {prometheus: http://p, match: '{job=~\"(node\"}'}\n",
			`s.yaml:5:38: nodes.match: label job: bad regex "(node": missing closing ): ` + "`^(?:(node)$`"},
		{"prom_config missing", "base_url: http://h\n" + group + "nodes: {prometheus: http://p, prom_config: nope.yml}\n",
			"DIR/s.yaml:5:44: nodes.prom_config: cannot read DIR/nope.yml: no such file or directory"},
		{"prom_config a directory", "base_url: http://h\n" + group + "nodes: {prometheus: http://p, prom_config: .}\n",
			"DIR/s.yaml:5:44: nodes.prom_config: DIR is a directory, want Prometheus's http-client YAML file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := "s.yaml"
			want := c.want
			if strings.HasPrefix(want, "DIR/") {
				file = filepath.Join(dir, "s.yaml")
				want = strings.ReplaceAll(want, "DIR", dir)
			}
			_, err := Parse(file, []byte(c.src))
			if err == nil || err.Error() != want {
				t.Errorf("got  %v\nwant %s", err, want)
			}
		})
	}
	// Good selectors stay good.
	for _, sel := range []string{`{job="node"}`, `job="node"`, `{job=~"node|db", env!="dev"}`, `{}`, "{a=`x`}"} {
		if err := checkSelector(normSelector(sel)); err != nil {
			t.Errorf("selector %s: %v", sel, err)
		}
	}
}

func normSelector(s string) string {
	if s != "" && s[0] != '{' {
		return "{" + s + "}"
	}
	return s
}

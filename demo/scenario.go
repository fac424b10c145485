package demo

import (
	_ "embed"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/brink-load/brink/scenarios"
)

//go:embed scenario.yaml
var scenarioYAML string

// placeholderBase stands for the demo's address in the embedded YAML until
// the server has one.
const placeholderBase = "http://demo.invalid:1"

// DefaultDuration is the length the embedded scenario's stages are written
// for; db-3 crosses load1 100 at about 80-85 s of it (at Speed 20).
const DefaultDuration = 2 * time.Minute

// ScenarioYAML returns the embedded demo scenario with baseURL filled in,
// at its written length (DefaultDuration).
func ScenarioYAML(baseURL string) []byte {
	return []byte(strings.ReplaceAll(scenarioYAML, placeholderBase, strings.TrimRight(baseURL, "/")))
}

// stageDuration is a stage's length in the embedded YAML.
var stageDuration = regexp.MustCompile(`\{duration: (\d+)s,`)

// ScenarioYAMLFor is ScenarioYAML with every stage stretched or shrunk to
// a run of dur, as Scenario does (0 means DefaultDuration): what
// 'brink demo --listen --duration D --scenario-out FILE' writes.
func ScenarioYAMLFor(baseURL string, dur time.Duration) []byte {
	y := ScenarioYAML(baseURL)
	if dur == 0 || dur == DefaultDuration {
		return y
	}
	f := float64(dur) / float64(DefaultDuration)
	return stageDuration.ReplaceAllFunc(y, func(m []byte) []byte {
		secs, _ := strconv.Atoi(string(stageDuration.FindSubmatch(m)[1]))
		d := time.Duration(float64(time.Duration(secs)*time.Second) * f).Round(time.Millisecond)
		return []byte("{duration: " + d.String() + ",")
	})
}

// Scenario builds the demo's scenario against a server at baseURL: three
// groups ramping past "210 users × 3 groups", direct scrape of the six
// simulated nodes, load1 > 100 on role db. dur stretches or shrinks every
// stage in proportion (0 means DefaultDuration).
func Scenario(baseURL string, dur time.Duration) (*scenarios.Scenario, error) {
	if dur < 0 {
		return nil, fmt.Errorf("demo: negative duration %s", dur)
	}
	sc, err := scenarios.Parse("demo/scenario.yaml", ScenarioYAML(baseURL))
	if err != nil {
		return nil, fmt.Errorf("demo: embedded scenario: %w", err)
	}
	if dur == 0 || dur == DefaultDuration {
		return sc, nil
	}
	f := float64(dur) / float64(DefaultDuration)
	for gi := range sc.Groups {
		for si := range sc.Groups[gi].Stages {
			st := &sc.Groups[gi].Stages[si]
			st.Duration = time.Duration(float64(st.Duration) * f).Round(time.Millisecond)
		}
	}
	return sc, nil
}

// PrometheusConfig is a prometheus.yml that scrapes the demo at baseURL
// every second: one target per simulated machine, its path in the
// per-target __metrics_path__ label, and node and role labels so
// promquery can name them (name_label: node, role_label: role). Each
// target's instance is its machine's name: they share one address, and
// node_exporter dashboards (brink's own among them) tell nodes apart by
// instance.
func PrometheusConfig(baseURL string, specs []NodeSpec) (string, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("demo: bad base URL %q", baseURL)
	}
	if specs == nil {
		specs = DefaultNodes()
	}
	var b strings.Builder
	b.WriteString("# brink demo target: scrape every simulated machine every second.\n")
	b.WriteString("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n")
	b.WriteString("scrape_configs:\n  - job_name: node\n    static_configs:\n")
	for _, s := range specs {
		fmt.Fprintf(&b, "      - targets: [%q]\n        labels: {__metrics_path__: %q, node: %q, role: %q, instance: %q}\n",
			u.Host, "/nodes/"+s.Name+"/metrics", s.Name, s.Role, s.Name)
	}
	return b.String(), nil
}

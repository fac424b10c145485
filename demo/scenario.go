package demo

import (
	_ "embed"
	"fmt"
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
// for; db-3 crosses load1 100 at about 85 s of it (at Speed 10).
const DefaultDuration = 2 * time.Minute

// ScenarioYAML returns the embedded demo scenario with baseURL filled in,
// at its written length (DefaultDuration).
func ScenarioYAML(baseURL string) []byte {
	return []byte(strings.ReplaceAll(scenarioYAML, placeholderBase, strings.TrimRight(baseURL, "/")))
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

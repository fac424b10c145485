package cli

import (
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

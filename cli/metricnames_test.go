package cli

import (
	"slices"
	"testing"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
)

// The node metric names are written twice, because scenarios (which
// validates node thresholds) may not import promquery (which computes the
// metrics): a name in scenarios' list only would validate and never fire; a
// name in promquery's only could never be a threshold.
func TestNodeMetricNamesAgree(t *testing.T) {
	valid, computed := scenarios.NodeMetricNames(), slices.Clone(measure.MetricNames)
	slices.Sort(valid)
	slices.Sort(computed)
	if !slices.Equal(valid, computed) {
		t.Errorf("scenarios.NodeMetricNames() %v, promquery.MetricNames %v: want the same names", valid, computed)
	}
}

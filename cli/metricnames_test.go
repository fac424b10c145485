package cli

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/report"
	"github.com/brink-load/brink/scenarios"
)

// The node metric names are contracts (threshold names, JSON report
// fields), and all of them come from one table, measure.NodeMetrics:
// promquery's queries and scrape formulas, scenarios' threshold names and
// the console's columns. So a name dropped from the table, or one added
// without a report field, fails here: the list is written out.
func TestNodeMetricNamesAgree(t *testing.T) {
	want := []string{"cpu", "iowait", "disk_util", "load1", "load1_per_core", "mem",
		"read_bps", "write_bps", "net_rx_bps", "net_tx_bps"}
	if !slices.Equal(measure.MetricNames, want) {
		t.Errorf("measure.MetricNames %v, want %v", measure.MetricNames, want)
	}
	if valid := scenarios.NodeMetricNames(); !slices.Equal(valid, want) {
		t.Errorf("scenarios.NodeMetricNames() %v, want %v", valid, want)
	}
	fields := map[string]bool{}
	rt := reflect.TypeFor[report.NodeSample]()
	for i := range rt.NumField() {
		fields[strings.Split(rt.Field(i).Tag.Get("json"), ",")[0]] = true
	}
	for _, m := range measure.MetricNames {
		if !fields[m] {
			t.Errorf("node metric %q has no field in the JSON report's node samples", m)
		}
	}
}

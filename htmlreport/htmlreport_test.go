package htmlreport

import (
	"bytes"
	"encoding/json"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/brink-load/brink/report"
)

// TestPageIsSelfContained: nothing in the page points outside it (no src,
// no href, no url(), no @import), the charts' data is valid JSON that
// cannot end its script, and the verdict is there in the summary's words.
func TestPageIsSelfContained(t *testing.T) {
	a, b := readReport(t, "run-a.json"), readReport(t, "run-b.json")
	// Names from the scenario and the nodes land in the tables and in the
	// charts' data: neither can end a script or open one.
	const hostile = `</script><script>alert(1)</script>`
	a.Endpoints[0].Name = hostile
	a.Nodes[0].Node = hostile
	for _, c := range []struct {
		name  string
		names []string
		reps  int
	}{{"one", []string{"run-a.json"}, 1}, {"two", []string{"run-a.json", "run-b.json"}, 2}} {
		var buf bytes.Buffer
		reps := []*report.Report{a, b}[:c.reps]
		if err := Write(&buf, c.names, reps...); err != nil {
			t.Fatal(err)
		}
		page := buf.String()
		for _, bad := range []string{" src=", " href=", "url(", "@import", "<link", "<script>alert"} {
			if strings.Contains(page, bad) {
				t.Errorf("%s: page contains %q", c.name, bad)
			}
		}
		if !strings.Contains(page, html.EscapeString(a.Verdict.Text)) {
			t.Errorf("%s: page lacks the verdict %q", c.name, a.Verdict.Text)
		}
		m := regexp.MustCompile(`(?s)<script id="brink-data" type="application/json">(.*?)</script>`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("%s: no chart data", c.name)
		}
		var data struct {
			Charts []struct {
				ID     string                        `json:"id"`
				X      []float64                     `json:"x"`
				Series []struct{ Values []*float64 } `json:"series"`
			} `json:"charts"`
		}
		if err := json.Unmarshal([]byte(m[1]), &data); err != nil {
			t.Fatalf("%s: chart data: %v", c.name, err)
		}
		for _, ch := range data.Charts {
			if !strings.Contains(page, `id="`+ch.ID+`"`) {
				t.Errorf("%s: chart %s has no place in the page", c.name, ch.ID)
			}
			for _, s := range ch.Series {
				if len(s.Values) != len(ch.X) {
					t.Errorf("%s: chart %s: %d values for %d x", c.name, ch.ID, len(s.Values), len(ch.X))
				}
			}
		}
	}
}

func TestWriteFileErrorNamesTheFile(t *testing.T) {
	a := readReport(t, "run-a.json")
	path := filepath.Join(t.TempDir(), "no-such-dir", "out.html")
	err := WriteFile(path, []string{"a"}, a)
	if err == nil || !strings.HasPrefix(err.Error(), path+": ") || strings.Contains(err.Error(), ".tmp-") {
		t.Fatalf("error %v: want one naming %s (not the temp file)", err, path)
	}
	if _, err := os.Stat(filepath.Dir(path)); !os.IsNotExist(err) {
		t.Errorf("a failed write left %s behind", filepath.Dir(path))
	}
}

// TestNodeChartOfBreakpointMetric: a breakpoint on a node's load1 is seen
// crossing on a chart of load1 itself, not only on load1 per core.
func TestNodeChartOfBreakpointMetric(t *testing.T) {
	rep := readReport(t, "run-a.json")
	sig := rep.Verdict.Breakpoint.Signal
	if sig.Metric != "load1" {
		t.Fatalf("run-a's breakpoint is on %s, want load1", sig.Metric)
	}
	for _, c := range nodeCharts(rep, nil) {
		if c.ID != "node-"+sig.Metric {
			continue
		}
		for _, s := range c.Series {
			if s.Label != sig.Node {
				continue
			}
			for _, v := range s.Values {
				if float64(v) == float64(sig.Value) {
					return
				}
			}
			t.Fatalf("chart %s: %s never at the breakpoint's %v", c.ID, sig.Node, sig.Value)
		}
	}
	t.Fatalf("no chart node-%s with a line for %s", sig.Metric, sig.Node)
}

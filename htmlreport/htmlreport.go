// Package htmlreport renders saved brink reports as one self-contained HTML
// page: the verdict on top in the summary's words, latency / rps / load
// charts with the breakpoint and node crossings marked, node and custom
// panel charts, and the threshold, failure and endpoint tables; for two
// reports, the comparison. Every script and style is inline (uPlot is embedded in the
// binary), so the page opens from a file or a mail attachment with no
// network at all.
package htmlreport

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"

	"github.com/brink-load/brink/report"
)

// uplotVersion is the vendored uPlot (uplot/README.md says how to update).
const uplotVersion = "1.6.32"

var (
	//go:embed uplot/uPlot.iife.min.js
	uplotJS string
	//go:embed uplot/uPlot.min.css
	uplotCSS string
	//go:embed page.js
	pageJS string
	//go:embed page.css
	pageCSS string
	//go:embed page.html.tmpl
	pageTmpl string
)

var tmpl = template.Must(template.New("page").Parse(pageTmpl))

// page is what the template renders.
type page struct {
	Title   string
	Runs    []runView
	Compare string // two runs: the terminal comparison, word for word
	Charts  []chartRef
	Nodes   []chartRef
	Panels  []chartRef  // the scenario's custom panels
	Data    template.JS // the charts' data, JSON
	UPlot   template.JS
	UCSS    template.CSS
	JS      template.JS
	CSS     template.CSS
	Version string
}

// chartRef is a chart's place in the page; its data travels in Data.
type chartRef struct {
	ID, Title string
}

// Write renders the page of one report, or the comparison of two (names
// label them: file names, say).
func Write(w io.Writer, names []string, reps ...*report.Report) error {
	if len(reps) < 1 || len(reps) > 2 || len(names) != len(reps) {
		return fmt.Errorf("htmlreport: want one or two reports with a name each, got %d and %d names", len(reps), len(names))
	}
	p := page{UPlot: template.JS(uplotJS), UCSS: template.CSS(uplotCSS), JS: template.JS(pageJS),
		CSS: template.CSS(pageCSS), Version: uplotVersion}
	var charts []chart
	if len(reps) == 1 {
		rep := reps[0]
		p.Title = "brink: " + report.ScenarioName(rep)
		p.Runs = []runView{newRunView("", names[0], rep)}
		charts = runCharts(rep)
		for _, c := range charts {
			ref := chartRef{ID: c.ID, Title: c.Title}
			switch c.section {
			case "nodes":
				p.Nodes = append(p.Nodes, ref)
			case "panels":
				p.Panels = append(p.Panels, ref)
			default:
				p.Charts = append(p.Charts, ref)
			}
		}
	} else {
		a, b := reps[0], reps[1]
		p.Title = "brink: " + report.ScenarioName(a) + " A vs B"
		p.Runs = []runView{newRunView("A", names[0], a), newRunView("B", names[1], b)}
		var cmp bytes.Buffer
		report.Compare(&cmp, a, b)
		p.Compare = cmp.String()
		charts = compareCharts(a, b)
		for _, c := range charts {
			p.Charts = append(p.Charts, chartRef{ID: c.ID, Title: c.Title})
		}
	}
	data, err := json.Marshal(struct {
		Charts []chart `json:"charts"`
	}{charts})
	if err != nil {
		return fmt.Errorf("htmlreport: %w", err)
	}
	// json.Marshal escapes <, > and &, so the data cannot end its script.
	p.Data = template.JS(data)
	return tmpl.Execute(w, &p)
}

// WriteFile writes the page to path whole or not at all (a temp file
// renamed into place), so a failed render never leaves half a page
// behind. Errors name path.
func WriteFile(path string, names []string, reps ...*report.Report) error {
	var buf bytes.Buffer
	if err := Write(&buf, names, reps...); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return report.WriteAtomic(path, buf.Bytes())
}

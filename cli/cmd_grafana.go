package cli

import (
	"fmt"
	"io"

	"github.com/brink-load/brink/promexport"
)

// cmdGrafanaDashboard prints the dashboard embedded in the binary, so it
// always matches this brink's metric names.
func cmdGrafanaDashboard(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("grafana-dashboard", stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: brink grafana-dashboard > brink-dashboard.json\n\nPrints the Grafana dashboard (JSON) for the metrics brink serves with --metrics ADDR: import it in Grafana (Dashboards → New → Import) and pick the Prometheus that scrapes brink and the nodes' node_exporter.")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 0 {
		fmt.Fprintln(stderr, "brink grafana-dashboard: takes no arguments (try 'brink grafana-dashboard --help')")
		return exitUsage
	}
	if _, err := stdout.Write(promexport.Dashboard); err != nil {
		fmt.Fprintf(stderr, "brink grafana-dashboard: %v\n", err)
		return exitFailure
	}
	return exitOK
}

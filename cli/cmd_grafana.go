package cli

import (
	"flag"
	"fmt"
	"io"

	"github.com/brink-load/brink/promexport"
)

// cmdGrafanaDashboard prints the dashboard embedded in the binary, so it
// always matches this brink's metric names.
func cmdGrafanaDashboard(fs *flag.FlagSet, stdout, stderr io.Writer) func() int {
	return func() int {
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
}

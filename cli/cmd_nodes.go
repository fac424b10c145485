package cli

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/brink-load/brink/promquery"
	"github.com/brink-load/brink/run"
	"github.com/brink-load/brink/scenarios"
)

// runNodes polls once (twice, 1s apart, for direct scrape so rates exist)
// and prints a table. Exit codes as README says: 0 the source answered, 1
// it failed (unreachable, HTTP error, no answer, no target matched), 2 bad
// flags or a source that cannot be built (bad URL, selector, credential or
// TLS file), 105 Ctrl-C (or SIGTERM, SIGHUP: run.StopContext).
func runNodes(fs *flag.FlagSet, stdout, stderr io.Writer) func() int {
	var (
		nf      nodeFlags
		timeout time.Duration
	)
	addNodeFlags(fs, &nf)
	fs.DurationVar(&timeout, "timeout", 5*time.Second, "deadline for the poll")
	return func() int {
		if fs.NArg() > 0 {
			fmt.Fprintf(stderr, "brink nodes: unexpected argument %q\n", fs.Arg(0))
			return exitUsage
		}
		var sc scenarios.Scenario
		if err := nf.apply(&sc); err != nil {
			fmt.Fprintf(stderr, "brink nodes: %v\n", err)
			return exitUsage
		}
		cfg := nf.config(sc.Nodes)
		cfg.Timeout = timeout
		src, err := promquery.New(cfg)
		if err != nil {
			fmt.Fprintf(stderr, "brink nodes: %v\n", err)
			return exitUsage
		}
		ctx, stop := run.StopContext()
		defer stop()
		p, err := src.Poll(ctx)
		if err == nil && len(cfg.Scrape) > 0 {
			// Rates need two scrapes; a second apart is what the console uses.
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
				p, err = src.Poll(ctx)
			}
		}
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "brink nodes: interrupted")
			return exitExternalAbort
		}
		if err != nil {
			fmt.Fprintf(stderr, "brink nodes: %v\n", err)
			return exitFailure
		}
		for _, w := range p.Warnings {
			fmt.Fprintf(stderr, "brink nodes: warning: %s\n", w)
		}
		if err := promquery.WriteTable(stdout, p); err != nil {
			return exitFailure
		}
		return exitOK
	}
}

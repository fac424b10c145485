package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/brink-load/brink/promquery"
	"github.com/brink-load/brink/scenarios"
)

// runNodes polls once (twice, 1s apart, for direct scrape so rates exist)
// and prints a table. Exit codes as README says: 0 the source answered, 1
// it failed (unreachable, HTTP error, no answer, no target matched), 2 bad
// flags or a source that cannot be built (bad URL, selector, credential or
// TLS file), 105 Ctrl-C.
func runNodes(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("nodes", stderr)
	var (
		nf      nodeFlags
		timeout time.Duration
	)
	addNodeFlags(fs, &nf)
	fs.DurationVar(&timeout, "timeout", 5*time.Second, "deadline for the poll")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: brink nodes --prom URL | --scrape URL[,URL…] [--match SEL] [--prom-config FILE] [--name-label L]")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
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

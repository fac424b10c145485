package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/brink-load/brink/fleet"
	"github.com/brink-load/brink/termtext"
)

func cmdAgent(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("agent", stderr)
	url := fs.String("nats", "", "the NATS server the controller uses, with its credential (nats://TOKEN@HOST:4222, as the controller prints it)")
	name := fs.String("name", "", "this agent's name in the console and the report (default the host name)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: brink agent --nats URL [--name NAME]\n\nWaits for a controller (`brink run FILE --agents N`) and sends its share of each run's load, one run after another, until stopped (Ctrl-C, SIGTERM). It needs no scenario file, no Prometheus and no terminal.\n\nFlags:")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *url == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "brink agent: want --nats URL and no arguments (try 'brink agent --help')")
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	err := fleet.RunAgent(ctx, fleet.AgentOptions{URL: *url, Name: *name, Version: Version,
		Logf: func(f string, a ...any) { fmt.Fprintln(stderr, "brink: "+termtext.Clean(fmt.Sprintf(f, a...))) }})
	if err != nil {
		fmt.Fprintf(stderr, "brink agent: %v\n", err)
		return exitFailure
	}
	return exitOK
}

package cli

import (
	"flag"
	"fmt"
	"io"

	"github.com/brink-load/brink/fleet"
	"github.com/brink-load/brink/run"
	"github.com/brink-load/brink/termtext"
)

func cmdAgent(fs *flag.FlagSet, stdout, stderr io.Writer) func() int {
	url := fs.String("nats", "", "the NATS server the controller uses, with its credential (nats://TOKEN@HOST:4222, as the controller prints it)")
	name := fs.String("name", "", "this agent's name in the console and the report (default the host name)")
	return func() int {
		if *url == "" || fs.NArg() != 0 {
			fmt.Fprintln(stderr, "brink agent: want --nats URL and no arguments (try 'brink agent --help')")
			return exitUsage
		}
		ctx, stop := run.StopContext()
		defer stop()
		err := fleet.RunAgent(ctx, fleet.AgentOptions{URL: *url, Name: *name, Version: Version,
			Logf: func(f string, a ...any) { fmt.Fprintln(stderr, "brink: "+termtext.Clean(fmt.Sprintf(f, a...))) }})
		if err != nil {
			fmt.Fprintf(stderr, "brink agent: %v\n", err)
			return exitFailure
		}
		return exitOK
	}
}

// Package cli is brink's commands: flags → a scenario → the run. Each
// subcommand lives in its own cmd_*.go file and registers itself here, so
// Main stays a small dispatcher; the load-running ones hand the run to
// package run.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"

	"github.com/brink-load/brink/run"
)

// Exit codes follow k6, so CI scripts can treat brink like k6; the run
// package says what each means.
const (
	exitOK            = run.ExitOK
	exitFailure       = run.ExitFailure
	exitUsage         = run.ExitUsage
	exitThreshold     = run.ExitThreshold
	exitInconclusive  = run.ExitInconclusive
	exitExternalAbort = run.ExitExternalAbort
)

// Version is brink's version; main sets it from its own, which the build
// sets with -ldflags "-X main.version=…".
var Version = "0.1.0-dev"

type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

var commands = map[string]command{}

// register adds a command; each is registered once.
func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("duplicate command " + c.name)
	}
	commands[c.name] = c
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "brink %s — find the breakpoint: ramp load, watch the nodes, see what gives out first.\n\n", Version)
	fmt.Fprintln(w, "Usage: brink COMMAND [flags] [args]")
	fmt.Fprintln(w, "\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s %s\n", width, n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'brink COMMAND --help' for a command's flags.")
}

// Main runs the command args name and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	return runMain(args, stdout, stderr)
}

func runMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		usage(stdout)
		return exitOK
	case "--version":
		args[0] = "version"
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "brink: unknown command %q (try 'brink --help')\n", args[0])
		return exitUsage
	}
	return c.run(args[1:], stdout, stderr)
}

// The commands, one line each; each runs from its cmd_*.go file.
func init() {
	for _, c := range []command{
		{name: "agent", summary: "a generator for a fleet run: brink agent --nats URL", run: cmdAgent},
		{name: "check", summary: "load and validate scenario files without running them: brink check FILE…", run: cmdCheck},
		{name: "demo", summary: "the whole story on loopback: a chat service whose read replica db-3 gives out", run: cmdDemo},
		{name: "find", summary: "search for the highest load every threshold holds at: brink find URL|FILE", run: cmdFind},
		{name: "examples", summary: "list the embedded example scenarios, or print one: brink examples chat > chat.yaml", run: cmdExamples},
		{name: "grafana-dashboard", summary: "print the Grafana dashboard for --metrics (JSON, to import)", run: cmdGrafanaDashboard},
		{name: "nodes", summary: "poll the nodes once and print them: the quickest check that brink sees the fleet", run: runNodes},
		{name: "plan", summary: "capacity plan: daily users → target RPS → VUs (Little's law) → a breakpoint scenario", run: cmdPlan},
		{name: "probe", summary: "load one URL from flags: brink probe URL --to 500 --over 5m --p95 300ms", run: cmdProbe},
		{name: "report", summary: "print a saved run's summary and verdict, or compare two runs", run: runReport},
		{name: "run", summary: "run a scenario file: brink run FILE", run: cmdRun},
		{name: "version", summary: "print brink's version", run: func(args []string, stdout, _ io.Writer) int {
			fmt.Fprintf(stdout, "brink %s\n", Version)
			return exitOK
		}},
	} {
		register(c)
	}
}

// newFlagSet is a command's flag set: errors and usage go to stderr, and a
// bad flag returns from Parse instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args into fs. When ok is false the command returns
// code: 0 after --help, 2 after a bad flag (which fs has already said).
func parseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	return 0, true
}

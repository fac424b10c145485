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

// command is a line of the table in init. A command with flags names
// them in flags, which registers them on the command's flag set and returns
// what runs once they are parsed (fs.Args() are its arguments); the flag
// set, its --help (usage, then the flags) and the parse are made here, in
// main, the same for every command. One without flags reads its arguments
// itself (run).
type command struct {
	name    string
	summary string
	usage   string // --help: what comes above the flags
	// interleave lets flags follow the arguments (brink run FILE --headless).
	interleave bool
	flags      func(fs *flag.FlagSet, stdout, stderr io.Writer) (body func() int)
	run        func(args []string, stdout, stderr io.Writer) int
}

// main runs the command on args. A bad flag has been said by the flag
// set, with the usage: exit 2; --help is exit 0.
func (c command) main(args []string, stdout, stderr io.Writer) int {
	if c.flags == nil {
		return c.run(args, stdout, stderr)
	}
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, c.usage)
		fs.PrintDefaults()
	}
	body := c.flags(fs, stdout, stderr)
	if c.interleave {
		args = interleave(fs, args)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	return body()
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
	return c.main(args[1:], stdout, stderr)
}

// The commands: the line brink --help shows, the usage above the flags in
// their own --help; each runs from its cmd_*.go file.
func init() {
	for _, c := range []command{
		{name: "agent", summary: "a generator for a fleet run: brink agent --nats URL", flags: cmdAgent,
			usage: "Usage: brink agent --nats URL [--name NAME]\n\nWaits for a controller (`brink run FILE --agents N`) and sends its share of each run's load, one run after another, until stopped (Ctrl-C, SIGTERM). It needs no scenario file, no Prometheus and no terminal.\n\nFlags:\n"},
		{name: "check", summary: "load and validate scenario files without running them: brink check FILE…", run: cmdCheck},
		{name: "demo", summary: "the whole story on loopback: a chat service whose read replica db-3 gives out", flags: cmdDemo,
			usage: `Usage: brink demo [flags]

Starts a chat service on loopback (REST + WebSocket) in front of simulated
machines — web-1, web-2, redis-1 and a replica set db-1 (primary), db-2,
db-3 (db-3 takes 80 % of reads) — each serving node_exporter metrics, then
ramps "210 users × 3 groups" and past it until db-3's load1 crosses 100.

  brink demo                          the live console, about 2 minutes
  brink demo --headless --report r.json
  brink demo --find                   search for the most it takes (brink find), about 4 minutes
  brink demo --listen 127.0.0.1:8080  just the target, for other tools or Prometheus

Flags:
`},
		{name: "find", summary: "search for the highest load every threshold holds at: brink find URL|FILE", interleave: true, flags: cmdFind,
			usage: `Usage: brink find URL|FILE [flags]

Searches for the highest load at which every SLO, node and panel threshold
holds: plateaus (ramp, settle, hold) doubling from --start until one fails,
then bisection to --precision, then a verification hold.
  brink find URL --p95 300ms --prom http://127.0.0.1:9090     closed model: users (the probe flags)
  brink find URL --rate 50 --max-error-rate 1%                open model: arrivals/s from 50/s
  brink find chat.yaml --require 630                          every group scaled together; exit 99 below 630 users

Exit codes: 0 answer found, 99 answer below --require, 98 inconclusive, 105 stopped from outside.

Flags:
`},
		{name: "examples", summary: "list the embedded example scenarios, or print one: brink examples chat > chat.yaml", run: cmdExamples},
		{name: "grafana-dashboard", summary: "print the Grafana dashboard for --metrics (JSON, to import)", flags: cmdGrafanaDashboard,
			usage: "Usage: brink grafana-dashboard > brink-dashboard.json\n\nPrints the Grafana dashboard (JSON) for the metrics brink serves with --metrics ADDR: import it in Grafana (Dashboards → New → Import) and pick the Prometheus that scrapes brink and the nodes' node_exporter.\n"},
		{name: "nodes", summary: "poll the nodes once and print them: the quickest check that brink sees the fleet", flags: runNodes,
			usage: "Usage: brink nodes --prom URL | --scrape URL[,URL…] [--match SEL] [--prom-config FILE] [--name-label L]\n"},
		{name: "plan", summary: "capacity plan: daily users → target RPS → VUs (Little's law) → a breakpoint scenario", flags: cmdPlan,
			usage: `Usage: brink plan --daily-users N --requests-per-user N --p95 DUR [flags]

Daily requests = users × requests; average RPS = ÷ 86 400; peak = × peak factor;
target RPS = × (1 + margin); VUs = target RPS × (p95 + think), rounded up
(Little's law). Prints each step, then an arrival-rate scenario (open model:
it sends the planned req/s whatever the server's speed) that ramps to the
target rate, holds it, and climbs to 2× to find the breakpoint.

  brink plan --daily-users 100000 --requests-per-user 50 --peak-factor 3 \
             --margin 30% --p95 300ms --think 2s --out plan.yaml

Flags:
`},
		{name: "probe", summary: "load one URL from flags: brink probe URL --to 500 --over 5m --p95 300ms", interleave: true, flags: cmdProbe,
			usage: `Usage: brink probe URL [flags]

Loads one URL, built into a one-request scenario:
  brink probe URL --vus 50 --duration 1m                 fixed VUs (closed model)
  brink probe URL --to 1000 --over 5m --p95 500ms        ramp VUs 0 → 1000, then hold --duration
  brink probe URL --rate 200 --duration 1m               fixed arrival rate (open model)
  brink probe URL --rate 100 --rate-to 2000 --over 5m    ramping arrival rate

Flags:
`},
		{name: "report", summary: "print a saved run's summary and verdict, or compare two runs", interleave: true, flags: runReport,
			usage: "Usage: brink report FILE        print the summary and verdict of a saved run\n" +
				"       brink report A B         compare two runs: max stable load, first signal, RPS and p95/p99 at matched load\n" +
				"       brink report FILE --html OUT.html --csv DIR\n" +
				"\nFlags (before or after the files):\n"},
		{name: "run", summary: "run a scenario file: brink run FILE", interleave: true, flags: cmdRun,
			usage: "Usage: brink run [flags] FILE\n\nRuns a scenario (YAML, see README) and finds its breakpoint. FILE may be example:NAME for an embedded example (brink examples).\n\nFlags:\n"},
		{name: "version", summary: "print brink's version", run: func(args []string, stdout, _ io.Writer) int {
			fmt.Fprintf(stdout, "brink %s\n", Version)
			return exitOK
		}},
	} {
		register(c)
	}
}

package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/brink-load/brink/run"
	"github.com/brink-load/brink/scenarios"
)

// runOpts are the options every load-running command (run, probe, find, demo)
// shares: the run's own, and the node-source flags.
type runOpts struct {
	run.Options
	Nodes nodeFlags // --prom, --scrape, --prom-user… (addNodeFlags)
}

// addRunFlags registers the flags shared by run, probe, find and demo: the
// run's own and the node-source flags.
func addRunFlags(fs *flag.FlagSet, o *runOpts) {
	addNodeFlags(fs, &o.Nodes)
	fs.BoolVar(&o.Headless, "headless", false, "no console: a progress line to stderr every 5s, the summary to stdout")
	fs.StringVar(&o.ReportPath, "report", "", "write the JSON report here (default brink-report-YYYYMMDD-HHMMSS.json)")
	fs.BoolVar(&o.AbortOnBreakpoint, "abort-on-breakpoint", false, "ramp down gracefully once the breakpoint is found (exit 99)")
	fs.DurationVar(&o.Progress, "progress", 5*time.Second, "headless progress line interval")
	fs.StringVar(&o.Share, "share", "", "serve the live console over SSH on ADDR (e.g. 127.0.0.1:2222) for a colleague")
	fs.StringVar(&o.AuthorizedKeys, "authorized-keys", "", "public keys allowed to attach with --share (default ~/.ssh/authorized_keys)")
	fs.StringVar(&o.Controllers, "controllers", "", "public keys allowed to steer (hold, scale, abort) with --share")
	fs.IntVar(&o.MaxViewers, "max-viewers", 8, "at most this many SSH viewers with --share")
	fs.DurationVar(&o.IdleTimeout, "idle-timeout", time.Hour, "with --share: close an SSH session after this long without a keystroke (0 = never)")
	fs.StringVar(&o.Metrics, "metrics", "", "serve the run's load as Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9464; a bare port listens on loopback)")
	fs.DurationVar(&o.MetricsLinger, "metrics-linger", run.DefaultMetricsLinger, "with --metrics: after the run (the report written), keep serving until one scrape has read the final state, at most this long (if nothing has scraped it yet, at most this long since it began serving; 0 = stop at once; Ctrl-C leaves now)")
	fs.BoolVar(&o.Insecure, "insecure", false, "accept any TLS certificate from the target (self-signed test systems)")
	fs.IntVar(&o.Fleet.Agents, "agents", 0, "send the load from N agents (brink agent) over NATS; this process is the controller")
	fs.StringVar(&o.Fleet.URL, "nats", "", "with --agents: the NATS server (nats://[TOKEN@]HOST:PORT); default an embedded one on --nats-listen")
	fs.StringVar(&o.Fleet.Listen, "nats-listen", ":4222", "with --agents and no --nats: the embedded NATS server's address (a fresh token guards it)")
	fs.DurationVar(&o.Fleet.Wait, "agents-wait", 2*time.Minute, "with --agents: how long to wait for the agents to join")
}

func cmdRun(fs *flag.FlagSet, stdout, stderr io.Writer) func() int {
	var o runOpts
	addRunFlags(fs, &o)
	return func() int {
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, "brink run: want exactly one scenario FILE (try 'brink run --help')")
			return exitUsage
		}
		sc, err := loadScenario(fs.Arg(0))
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitUsage
		}
		// Node flags change the scenario after it was checked: apply checks
		// it again, the same way, when they did.
		if err := o.Nodes.apply(sc); err != nil {
			fmt.Fprintf(stderr, "brink run: %s with the node flags: %v\n", fs.Arg(0), err)
			return exitUsage
		}
		return execute(sc, o, stdout, stderr)
	}
}

// interleave lets flags follow positional arguments (brink run FILE
// --headless), which the flag package alone stops at.
func interleave(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil {
			if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
				continue
			}
			if i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
		}
	}
	return append(flags, pos...)
}

// execute runs sc with the options from the flags; run.Execute says how
// it ended, as the exit code.
func execute(sc *scenarios.Scenario, o runOpts, stdout, stderr io.Writer) int {
	if o.MetricsLinger < 0 {
		fmt.Fprintf(stderr, "brink: --metrics-linger %s: want 0 (stop at once) or more\n", o.MetricsLinger)
		return exitUsage
	}
	o.Version = Version
	o.NodeConfig = o.Nodes.config
	return run.Execute(sc, o.Options, stdout, stderr)
}

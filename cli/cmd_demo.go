package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/brink-load/brink/demo"
	"github.com/brink-load/brink/run"
)

// defaultDemoSpeed makes the simulated load averages react in seconds
// rather than a minute (the 5 s kernel sample every 0.25 s), so db-3's
// load1 crosses 100 within about 90 s of a default run, well before the
// latency SLO breaks.
const defaultDemoSpeed = 20

// demo --find's plateaus: shorter than find's own, as the simulated load
// averages move --speed times faster than Linux's.
const (
	demoFindHold   = 10 * time.Second
	demoFindSettle = 4 * time.Second
)

func cmdDemo(fs *flag.FlagSet, stdout, stderr io.Writer) func() int {
	var o runOpts
	var dur time.Duration
	var listen string
	var files demoFiles
	var speed, readShare float64
	var find bool
	var ff findFlags
	addRunFlags(fs, &o) // --headless, --report, --share, --prom… as for run
	fs.BoolVar(&find, "find", false, "search for the most the chat service takes (brink find) instead of ramping through it; the find flags apply")
	addFindFlags(fs, &ff, demoFindHold, demoFindSettle)
	fs.DurationVar(&dur, "duration", demo.DefaultDuration, "length of the run; every stage stretches or shrinks with it")
	fs.StringVar(&listen, "listen", "", "only serve the demo target and its node_exporter endpoints on ADDR (e.g. 127.0.0.1:8080) until Ctrl-C")
	fs.StringVar(&files.scenario, "scenario-out", "", "with --listen: write the demo scenario for that address to FILE, for 'brink run FILE'")
	fs.StringVar(&files.prometheus, "prometheus-config", "", "with --listen: write a prometheus.yml scraping the simulated nodes (labels node, role) to FILE")
	fs.Float64Var(&readShare, "read-share", 0.8, "fraction of reads sent to db-3 (0.5 balances the two secondaries: the story's fix, to verify with 'brink report A B')")
	fs.Float64Var(&speed, "speed", defaultDemoSpeed, "how much faster than real time the simulated load averages move (1 = like Linux)")
	return func() int {
		switch {
		case fs.NArg() > 0:
			fmt.Fprintf(stderr, "brink demo: unexpected argument %q (try 'brink demo --help')\n", fs.Arg(0))
			return exitUsage
		case dur < 5*time.Second:
			fmt.Fprintf(stderr, "brink demo: --duration %s is too short (at least 5s; the story needs about 2m)\n", dur)
			return exitUsage
		case (files.scenario != "" || files.prometheus != "") && listen == "":
			fmt.Fprintln(stderr, "brink demo: --scenario-out and --prometheus-config need --listen (they name the target's address)")
			return exitUsage
		case !(speed >= 1) || speed > 1000:
			fmt.Fprintf(stderr, "brink demo: --speed %v: want 1 (real time) to 1000\n", speed)
			return exitUsage
		}
		if !(readShare > 0 && readShare <= 1) {
			fmt.Fprintf(stderr, "brink demo: --read-share %v: want a fraction above 0, at most 1\n", readShare)
			return exitUsage
		}
		if bad := runOnlyFlags(fs, listen); bad != "" {
			fmt.Fprintf(stderr, "brink demo: %s: for a run, which --listen does not start (it only serves the target and its node endpoints)\n", bad)
			return exitUsage
		}
		opts := demo.Options{Speed: speed, ReadShare: readShare}
		if find {
			so, err := ff.options()
			if err != nil {
				fmt.Fprintf(stderr, "brink demo: %v\n", err)
				return exitUsage
			}
			o.Find = &so
		}

		if listen != "" {
			ctx, stop := run.StopContext()
			defer stop()
			files.dur = dur
			if err := serveDemo(ctx, listen, files, opts, stdout); err != nil {
				fmt.Fprintf(stderr, "brink demo: %v\n", err)
				return exitFailure
			}
			return exitOK
		}

		srv, err := demo.Start(context.Background(), "127.0.0.1:0", opts)
		if err != nil {
			fmt.Fprintf(stderr, "brink demo: %v\n", err)
			return exitFailure
		}
		defer srv.Close()
		sc, err := demo.Scenario(srv.BaseURL(), dur)
		if err != nil {
			fmt.Fprintf(stderr, "brink demo: %v\n", err)
			return exitFailure
		}
		// The demo watches its own simulated nodes; --prom and friends watch a
		// real Prometheus instead (one scraping 'brink demo --listen', say).
		if err := o.Nodes.apply(sc); err != nil {
			fmt.Fprintf(stderr, "brink demo: %v\n", err)
			return exitUsage
		}
		fmt.Fprintf(stderr, "brink demo: chat service at %s, nodes at %s/nodes/NAME/metrics; load averages at %v× speed\n",
			srv.BaseURL(), srv.BaseURL(), speed)
		return execute(sc, o, stdout, stderr)
	}
}

// runOnlyFlags names the flags set beside --listen that only a run reads
// (--metrics, --report, --find, …): taken silently, they would do nothing.
func runOnlyFlags(fs *flag.FlagSet, listen string) string {
	if listen == "" {
		return ""
	}
	var names []string
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "listen", "scenario-out", "prometheus-config", "duration", "read-share", "speed":
		default:
			names = append(names, "--"+fl.Name)
		}
	})
	return strings.Join(names, ", ")
}

// demoFiles are what --listen can write for other tools: a scenario for
// brink run, a prometheus.yml for a real Prometheus.
type demoFiles struct {
	scenario, prometheus string
	dur                  time.Duration // the scenario's length (--duration); 0 is the default
}

// serveDemo is --listen: the target alone until ctx ends, its URLs
// printed so Prometheus or another tool can be pointed at it.
func serveDemo(ctx context.Context, addr string, files demoFiles, opts demo.Options, stdout io.Writer) error {
	srv, err := demo.Start(ctx, addr, opts)
	if err != nil {
		return err
	}
	defer srv.Close()
	if files.scenario != "" {
		if err := os.WriteFile(files.scenario, demo.ScenarioYAMLFor(srv.BaseURL(), files.dur), 0o644); err != nil {
			return err
		}
	}
	if files.prometheus != "" {
		cfg, err := demo.PrometheusConfig(srv.BaseURL(), nil)
		if err == nil {
			err = os.WriteFile(files.prometheus, []byte(cfg), 0o644)
		}
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "brink demo target on %s (Ctrl-C to stop)\n", srv.BaseURL())
	fmt.Fprintf(stdout, "  GET  %[1]s/api/rooms\n  GET  %[1]s/api/rooms/{1..%[2]d}/messages\n  POST %[1]s/api/rooms/{id}/messages\n  WS   ws%[3]s/ws?room=N\n",
		srv.BaseURL(), demo.Rooms, strings.TrimPrefix(srv.BaseURL(), "http"))
	// The user flow's endpoints too: example:login-order is written for them.
	fmt.Fprintf(stdout, "  POST %[1]s/login  (user1 … user%[2]d, password pw-userN)\n  POST %[1]s/orders, GET %[1]s/orders/{id}  (Bearer token and the session cookie)\n",
		srv.BaseURL(), demo.DemoUsers)
	fmt.Fprintln(stdout, "node_exporter endpoints:")
	urls := srv.NodeURLs()
	names := make([]string, 0, len(urls))
	for n := range urls {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(stdout, "  %-8s %s\n", n, urls[n])
	}
	if files.prometheus != "" {
		fmt.Fprintf(stdout, "prometheus config: %s (prometheus --config.file=%[1]s; then name_label: node, role_label: role)\n", files.prometheus)
	}
	if files.scenario != "" {
		fmt.Fprintf(stdout, "scenario for this target: %s (brink run %[1]s)\n", files.scenario)
	}
	fmt.Fprintln(stdout, "ready")
	<-ctx.Done()
	return nil
}

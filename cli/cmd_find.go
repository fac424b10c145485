package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/brink-load/brink/scenarios"
	"github.com/brink-load/brink/search"
)

// findFlags are find's own flags beside the probe's and the run's.
type findFlags struct {
	hold, settle, verify, cooldown, maxDuration time.Duration
	start, require                              float64
	precision                                   string
}

func cmdFind(fs *flag.FlagSet, stdout, stderr io.Writer) func() int {
	var p probeFlags
	var o runOpts
	var f findFlags
	addFindFlags(fs, &f, search.DefaultHold, search.DefaultSettle)
	addProbeFlags(fs, &p)
	addRunFlags(fs, &o)
	return func() int {
		p.noteSet(fs)
		// The search sets the load and how long each step lasts: a flag that
		// shapes a fixed plan would be taken and silently do nothing.
		var planOnly []string
		fs.Visit(func(fl *flag.Flag) {
			switch fl.Name {
			case "duration", "to", "over", "rate-to", "abort-on-breakpoint":
				planOnly = append(planOnly, "--"+fl.Name)
			}
		})
		if len(planOnly) > 0 {
			fmt.Fprintf(stderr, "brink find: %s shape a fixed plan, which find replaces with its plateaus: use --hold, --settle, --start, --max-duration\n",
				strings.Join(planOnly, ", "))
			return exitUsage
		}
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, "brink find: want exactly one URL or scenario FILE (try 'brink find --help')")
			return exitUsage
		}
		so, err := f.options()
		if err != nil {
			fmt.Fprintf(stderr, "brink find: %v\n", err)
			return exitUsage
		}
		arg := fs.Arg(0)
		var sc *scenarios.Scenario
		if strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://") {
			if sc, err = probeScenario(arg, &p); err != nil {
				fmt.Fprintf(stderr, "brink find: %v\n", err)
				return exitUsage
			}
			if so.Start <= 0 { // the probe's own load is where a URL's search starts
				so.Start = sc.Groups[0].Start
			}
		} else if sc, err = loadScenario(arg); err != nil {
			fmt.Fprintln(stderr, err)
			return exitUsage
		}
		if err := o.Nodes.apply(sc); err != nil {
			fmt.Fprintf(stderr, "brink find: %s with the node flags: %v\n", arg, err)
			return exitUsage
		}
		if err := scenarios.Validate(sc); err != nil {
			fmt.Fprintf(stderr, "brink find: %v\n", err)
			return exitUsage
		}
		o.Find = &so
		return execute(sc, o, stdout, stderr)
	}
}

// addFindFlags registers find's own flags (demo --find takes them too,
// with shorter plateaus by default).
func addFindFlags(fs *flag.FlagSet, f *findFlags, hold, settle time.Duration) {
	fs.DurationVar(&f.hold, "hold", hold, "hold each plateau this long (after --settle)")
	fs.DurationVar(&f.settle, "settle", settle, "ramp to each plateau over the first half of this, then let it settle before the hold")
	fs.Float64Var(&f.start, "start", 0, "first plateau's load in users (or /s when every group is arrival-rate); default: --vus or --rate for a URL, 10 % of the scenario's targets for a FILE")
	fs.StringVar(&f.precision, "precision", "5%", "stop when the bracket around the limit is this narrow (relative)")
	fs.DurationVar(&f.verify, "verify", 0, "hold the answer this long before saying it (default 2 × --hold)")
	fs.DurationVar(&f.cooldown, "cooldown", search.DefaultCooldown, "after a failed plateau, rest at most this long for the node metrics it pushed over to come back under")
	fs.Float64Var(&f.require, "require", 0, "exit 99 when the answer is below this load (users or /s): a capacity gate for CI")
	fs.DurationVar(&f.maxDuration, "max-duration", search.DefaultMaxDuration, "bound the whole search (inconclusive, exit 98, when it has not ended by then)")
}

// options checks find's flags and turns them into the search's options.
func (f *findFlags) options() (search.Options, error) {
	prec, err := scenarios.ParseFraction(f.precision) // 5% or 0.05, as plan --margin
	if err != nil || !(prec > 0 && prec < 1) {
		return search.Options{}, fmt.Errorf("--precision %q: want a share between 0 and 100 %%, e.g. 5%% or 0.05", f.precision)
	}
	switch {
	case f.hold <= 0:
		return search.Options{}, errors.New("--hold must be > 0")
	case f.settle < 0 || f.verify < 0 || f.cooldown < 0:
		return search.Options{}, errors.New("--settle, --verify and --cooldown must be ≥ 0")
	case f.maxDuration <= 0:
		return search.Options{}, errors.New("--max-duration must be > 0")
	case f.start < 0 || f.require < 0:
		return search.Options{}, errors.New("--start and --require must be ≥ 0")
	}
	return search.Options{Start: f.start, Precision: prec, Hold: f.hold, Settle: f.settle, Verify: f.verify,
		Cooldown: f.cooldown, Require: f.require, MaxDuration: f.maxDuration}, nil
}

package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/brink-load/brink/scenarios"
)

// cmdPlan is the team's capacity arithmetic, each step printed with its
// number, then a scenario that ramps past the target to 2×.
func cmdPlan(fs *flag.FlagSet, stdout, stderr io.Writer) func() int {
	var users, reqs, peak, margin, p95, think, base, out string
	fs.StringVar(&users, "daily-users", "", "daily active users (100000, 100_000 or 100k)")
	fs.StringVar(&reqs, "requests-per-user", "", "requests each user makes per day")
	fs.StringVar(&peak, "peak-factor", "1", "peak rate ÷ average rate (3, 3x or 300%)")
	fs.StringVar(&margin, "margin", "0%", "safety margin on top of the peak (30% or 0.3)")
	fs.StringVar(&p95, "p95", "", "response-time goal, 95th percentile (e.g. 300ms)")
	fs.StringVar(&think, "think", "0s", "a user's pause between requests (2s, or a range 1s-3s: its mean counts)")
	fs.StringVar(&base, "base-url", "http://127.0.0.1:8080/", "the system to test; its path becomes the request")
	fs.StringVar(&out, "out", "", "write the scenario YAML here instead of stdout")
	return func() int {
		fail := func(format string, a ...any) int {
			fmt.Fprintf(stderr, "brink plan: "+format+"\n", a...)
			return exitUsage
		}
		if fs.NArg() > 0 {
			return fail("unexpected argument %q (all inputs are flags; try 'brink plan --help')", fs.Arg(0))
		}
		if users == "" || reqs == "" || p95 == "" {
			return fail("need --daily-users, --requests-per-user and --p95 (try 'brink plan --help')")
		}
		var in scenarios.PlanInput
		var err error
		if in.DailyUsers, err = scenarios.ParseCount(users); err != nil {
			return fail("--daily-users: %v", err)
		}
		if in.RequestsPerUser, err = scenarios.ParseCount(reqs); err != nil {
			return fail("--requests-per-user: %v", err)
		}
		if in.PeakFactor, err = scenarios.ParseFactor(peak); err != nil {
			return fail("--peak-factor: %v", err)
		}
		if in.Margin, err = scenarios.ParseFraction(margin); err != nil {
			return fail("--margin: %v", err)
		}
		if in.P95, err = planDuration(p95); err != nil {
			return fail("--p95: %v", err)
		}
		if in.Think, err = scenarios.ParseThink(think); err != nil {
			return fail("--think: %v", err)
		}
		plan, err := scenarios.NewPlan(in)
		if err != nil {
			return fail("%v", err)
		}
		yaml, err := plan.ScenarioYAML(base)
		if err != nil {
			return fail("--base-url: %v", err)
		}

		// The steps go to stdout with the YAML, but as comments when the YAML
		// follows them there, so `brink plan … > plan.yaml` is still a valid
		// scenario.
		prefix := ""
		if out == "" {
			prefix = "# "
		}
		writePlanSteps(stdout, plan, prefix)
		if out == "" {
			fmt.Fprintln(stdout, "#")
			stdout.Write(yaml)
			return exitOK
		}
		if err := os.WriteFile(out, yaml, 0o644); err != nil {
			fmt.Fprintf(stderr, "brink plan: %v\n", err)
			return exitFailure
		}
		stages := plan.BreakpointStages()
		fmt.Fprintf(stdout, "\nscenario written to %s: an arrival rate ramping to %s req/s, held, then to %s req/s (2×);\n"+
			"open model, so it sends the planned rate whatever the server's speed (%d to %d VUs). Run it with: brink run %s\n",
			out, scenarios.FormatNumber(stages[1].Target), scenarios.FormatNumber(stages[3].Target), plan.PreAllocatedVUs, plan.MaxVUs, out)
		return exitOK
	}
}

// planDuration reads a duration flag with the scenario file's syntax.
func planDuration(s string) (time.Duration, error) {
	return scenarios.ParseDuration(s)
}

// writePlanSteps prints one aligned line per step: name, formula, result.
func writePlanSteps(w io.Writer, p *scenarios.Plan, prefix string) {
	steps := p.Steps()
	nameW, formW := 0, 0
	for _, s := range steps {
		nameW = max(nameW, len([]rune(s.Name)))
		formW = max(formW, len([]rune(s.Formula)))
	}
	for _, s := range steps {
		fmt.Fprintf(w, "%s%s  %s  = %s %s\n", prefix, pad(s.Name, nameW), pad(s.Formula, formW), scenarios.FormatNumber(s.Value), s.Unit)
	}
}

// pad right-pads by runes, since formulas hold × and ÷.
func pad(s string, w int) string {
	if n := len([]rune(s)); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}

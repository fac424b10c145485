package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/brink-load/brink/engine"
	"github.com/brink-load/brink/promquery"
	"github.com/brink-load/brink/run"
	"github.com/brink-load/brink/scenarios"
	"github.com/brink-load/brink/termtext"
)

// cmdCheck validates scenarios (for CI and editors) and says what each
// would run: groups, length, peak load, thresholds.
func cmdCheck(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		w := stderr
		if len(args) > 0 {
			w = stdout
		}
		fmt.Fprintln(w, "Usage: brink check FILE…\n\nLoads each scenario (or example:NAME) as 'brink run' would, without sending any load.\nPrints what it would run; a bad file is one line file:line:col: field: what is wrong, exit 2.")
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	code := exitOK
	for _, a := range args {
		sc, err := loadScenario(a)
		if err == nil {
			err = preflight(a, sc)
		}
		if err != nil {
			fmt.Fprintln(stderr, err)
			code = exitUsage
			continue
		}
		fmt.Fprint(stdout, termtext.CleanLines(describeScenario(a, sc))) // names in a file from anyone
	}
	return code
}

// preflight builds what a run builds before its first request (the engine
// and the node source; both start nothing) and drops them, so check refuses
// whatever run would refuse at its start, through the same constructors.
func preflight(file string, sc *scenarios.Scenario) error {
	if _, err := engine.New(sc, engine.Options{}); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if n := sc.Nodes; n != nil && (n.Prometheus != "" || len(n.Scrape) > 0) {
		if _, err := promquery.New(run.NodeSourceConfig(n)); err != nil {
			return fmt.Errorf("%s: nodes: %w", file, err)
		}
	}
	return nil
}

// describeScenario is a short plain-words plan of a scenario.
func describeScenario(file string, sc *scenarios.Scenario) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %q, %s, %d group(s)\n", file, sc.Name, sc.Duration(), len(sc.Groups))
	for _, g := range sc.Groups {
		peak, total := g.Start, time.Duration(0)
		for _, st := range g.Stages {
			peak = max(peak, st.Target)
			total += st.Duration
		}
		what := fmt.Sprintf("%d request(s)", len(g.Requests))
		if g.Pick == scenarios.PickWeighted {
			what = fmt.Sprintf("1 of %d request(s) by weight", len(g.Requests))
		}
		if g.WebSocket != nil {
			what += " + WebSocket"
		}
		if len(g.Setup) > 0 {
			what += fmt.Sprintf(", %d setup request(s) per VU", len(g.Setup))
		}
		if d := g.Data; d != nil && d.Table != nil {
			what += fmt.Sprintf(", data %s (%d rows, %s)", filepath.Base(strings.TrimPrefix(d.File, "example:")), len(d.Table.Rows), d.Mode)
		}
		unit := "VUs"
		if g.Executor == scenarios.RampingArrivalRate {
			unit = fmt.Sprintf("iterations/s (max %d VUs)", g.MaxVUs)
		}
		fmt.Fprintf(&b, "  %-12s %-22s %d stage(s) over %s, peak %g %s, %s\n", g.Name, g.Executor, len(g.Stages), total, peak, unit, what)
	}
	for _, th := range sc.Thresholds {
		fmt.Fprintf(&b, "  threshold    %s %s\n", th.Label(), th.Expr)
	}
	if n := sc.Nodes; n != nil {
		src := n.Prometheus
		if src == "" {
			src = strings.Join(n.Scrape, ", ")
		}
		src = promquery.RedactURL(src) // a password in the URL is not for the terminal
		fmt.Fprintf(&b, "  nodes        %s, %d threshold(s), %d panel(s)\n", src, len(n.Thresholds), len(n.Panels))
	}
	return b.String()
}

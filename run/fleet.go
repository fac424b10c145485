package run

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/brink-load/brink/engine"
	"github.com/brink-load/brink/fleet"
	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
	"github.com/brink-load/brink/termtext"
)

// load is what sends a run's load: the engine in this process, or the
// fleet's controller steering agents. The console steers either alike.
type load interface {
	engine.Control
	Run(ctx context.Context) error
}

// FleetOptions are the controller's flags (--agents, --nats,
// --nats-listen, --agents-wait).
type FleetOptions struct {
	Agents int
	URL    string
	Listen string
	Wait   time.Duration
}

// prepareFleet starts or joins the bus and waits for the agents, saying
// so on stderr before any console opens; a nil controller comes with the
// exit code of the failure (Ctrl-C while waiting: 105).
func prepareFleet(sc *scenarios.Scenario, o Options, stderr io.Writer) (*fleet.Controller, int) {
	fl, err := fleet.NewController(sc, fleet.ControllerOptions{Agents: o.Fleet.Agents, URL: o.Fleet.URL,
		Listen: o.Fleet.Listen, Wait: o.Fleet.Wait, Insecure: o.Insecure, Say: stderr})
	if err != nil {
		fmt.Fprintf(stderr, "brink: %v\n", err)
		return nil, ExitUsage
	}
	ctx, stop := StopContext()
	defer stop()
	if err := fl.Prepare(ctx); err != nil {
		fl.Close()
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "brink: stopped while waiting for agents; no load was sent")
			return nil, ExitExternalAbort
		}
		fmt.Fprintf(stderr, "brink: %v\n", err)
		return nil, ExitFailure
	}
	return fl, ExitOK
}

// agentsPart is the progress line's fleet part: " agents=2/3 (gen-3
// lost)" — how many agents still send load, and which do not.
func agentsPart(as []measure.Agent) string {
	var lost []string
	for _, a := range as {
		if !a.LostAt.IsZero() {
			lost = append(lost, termtext.Clean(a.Name))
		}
	}
	s := fmt.Sprintf(" agents=%d/%d", len(as)-len(lost), len(as))
	if len(lost) > 0 {
		s += " (" + strings.Join(lost, ", ") + " lost)"
	}
	return s
}

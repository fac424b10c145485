package run

import (
	"context"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/promquery"
	"github.com/brink-load/brink/scenarios"
)

// idleTimeout maps the flag's 0 ("never") onto share's negative value.
func idleTimeout(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// baselinePollTimeout bounds the poll before the load: a slow or dead
// node source must not hold the run back.
const baselinePollTimeout = 3 * time.Second

// baselinePoll polls the node source once before any load, so a node
// already over its threshold is known not to be the load's doing. A
// failure is no reason to stop: the poll comes back with Err set.
func baselinePoll(ctx context.Context, src promquery.Source) measure.Poll {
	pctx, cancel := context.WithTimeout(ctx, baselinePollTimeout)
	defer cancel()
	p, err := src.Poll(pctx)
	if err != nil && p.Err == "" {
		p.Err = err.Error()
	}
	if p.Time.IsZero() {
		p.Time = time.Now()
	}
	return p
}

// maxWarningNotes bounds how many distinct node-source warnings a run logs.
const maxWarningNotes = 20

// warningsOnce passes each poll on to onPoll and logs each distinct
// node-source warning the first time it appears (a clamped scrape interval,
// a failing query): under the console nothing else shows Poll.Warnings.
// Polls run one at a time (promquery.Run), so no lock is needed.
func warningsOnce(onPoll func(measure.Poll), logf func(string, ...any)) func(measure.Poll) {
	seen := map[string]bool{}
	return func(p measure.Poll) {
		for _, w := range p.Warnings {
			if !seen[w] && len(seen) < maxWarningNotes {
				seen[w] = true
				logf("nodes: %s", w)
			}
		}
		onPoll(p)
	}
}

// NodeSourceConfig turns a scenario's nodes section into promquery's
// Config; it lives here, with the caller, so promquery takes plain types
// and does not import scenarios.
func NodeSourceConfig(n *scenarios.Nodes) promquery.Config {
	if n == nil {
		return promquery.Config{}
	}
	c := promquery.Config{
		Prometheus:     n.Prometheus,
		Scrape:         append([]string(nil), n.Scrape...),
		PromConfigFile: n.PromConfig,
		Match:          n.Match,
		NameLabel:      n.NameLabel,
		RoleLabel:      n.RoleLabel,
		Interval:       n.Interval,
	}
	if len(n.Names) > 0 {
		c.Names = make(map[string]string, len(n.Names))
		for k, v := range n.Names {
			c.Names[k] = v
		}
	}
	for _, r := range n.Roles {
		c.Roles = append(c.Roles, promquery.Role(r))
	}
	for _, p := range n.Panels {
		c.Panels = append(c.Panels, promquery.PanelQuery(p))
	}
	return c
}

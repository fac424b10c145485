// Package promquery reads node metrics — from a Prometheus server's HTTP API
// or straight from node_exporter endpoints — and returns one Sample per node
// per poll. It imports nothing of engine, report or tui.
package promquery

import (
	"context"
	"time"

	"github.com/brink-load/brink/measure"
)

// Source is where node metrics come from.
type Source interface {
	// Poll queries every node once, within ctx's deadline. It never panics
	// on bad input; a failed poll returns a Poll with Err set and stale
	// samples, and the error.
	Poll(ctx context.Context) (measure.Poll, error)
	// Interval is how often polling makes sense (the scrape interval, or 1s).
	Interval() time.Duration
	// Describe says what is being polled, for logs and the header.
	Describe() string
}

package measure

import "time"

// Agent is one generator's health in a run sent by several (brink agent
// processes over NATS), as the controller sees it now.
type Agent struct {
	Name       string
	Host       string
	Cores      int
	Version    string  // the agent's brink version
	Share      float64 // of the plan (its execution segment's width)
	VUs        int     // in its latest window
	Requests   int64   // sent over the run so far
	RPS        float64 // in its latest window
	CPUPercent float64 // of one core, in its latest window
	SendLagP99 time.Duration
	// ClockOffset is the agent's clock minus the controller's, measured
	// over NATS round trips before the start.
	ClockOffset time.Duration
	LastTick    time.Time // when its latest window arrived
	Overloaded  bool      // its latest window was
	LostAt      time.Time // zero unless it was lost: when it was last heard
	Error       string    // what ended its load, when it failed
}

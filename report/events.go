package report

import "time"

// EventKind values are contracts (JSON report): never rename.
type EventKind string

const (
	EventNodeOver    EventKind = "node_over"    // a node crossed its threshold (sustained)
	EventNodeClear   EventKind = "node_clear"   // and came back under
	EventSLOBreach   EventKind = "slo_breach"   // an SLO threshold failed in a window (sustained)
	EventSLORecover  EventKind = "slo_recover"  //
	EventBreakpoint  EventKind = "breakpoint"   // the verdict's breakpoint
	EventStage       EventKind = "stage"        // a new stage started
	EventNote        EventKind = "note"         // a user annotation (m)
	EventControl     EventKind = "control"      // hold, resume, scale, abort, with who did it
	EventAbort       EventKind = "abort"        // the run was aborted (key, signal, abort_on_breakpoint)
	EventSourceError EventKind = "source_error" // node source failed / recovered
	// An arrival-rate group could not start its iterations on schedule
	// (achieved < 99 % of target, or dropped iterations), sustained.
	EventRateShort   EventKind = "rate_short"
	EventRateRecover EventKind = "rate_recover"
	// A custom panel's series (scenario nodes.panels with above) crossed
	// its threshold (sustained), and came back under.
	EventPanelOver  EventKind = "panel_over"
	EventPanelClear EventKind = "panel_clear"
	// A node (or panel series) was already over its threshold before the
	// load began (baseline poll): not the load's doing, never the
	// breakpoint. It must come back under before a crossing counts.
	EventNodeOverBefore  EventKind = "node_over_before_load"
	EventPanelOverBefore EventKind = "panel_over_before_load"
)

// Load is the engine's load at an event's moment. VUs is the closed-model
// users (all VUs when only arrival-rate groups run), as in the verdict.
type Load struct {
	VUs        int           `json:"vus"`
	TargetVUs  int           `json:"target_vus"`
	TargetRate float64       `json:"target_rate,omitempty"`
	RPS        float64       `json:"rps"`
	P95        time.Duration `json:"-"`
	P95Ms      float64       `json:"p95_ms"`
	ErrorRate  float64       `json:"error_rate"`
	// Groups is the load per scenario group (closed groups' users,
	// arrival-rate groups' rates): what the VUs and TargetRate above add up.
	Groups []GroupLoad `json:"groups,omitempty"`
}

// Event is one line of the event log. Time is when it happened (for a
// crossing: the first sample over the threshold), not when it was noticed.
type Event struct {
	Time      time.Time `json:"time"`
	Kind      EventKind `json:"kind"`
	Node      string    `json:"node,omitempty"`
	Metric    string    `json:"metric,omitempty"`
	Value     float64   `json:"value,omitempty"`
	Threshold float64   `json:"threshold,omitempty"`
	Text      string    `json:"text"`
	// Who did it, for control actions and notes ("local" for the local
	// console, "user (SHA256:…)" for an SSH viewer).
	Who  string `json:"who,omitempty"`
	Load Load   `json:"load"`
}

// State is the run's headline state for the console header.
type State string

const (
	StateOK         State = "OK"         // every threshold holds
	StateWarn       State = "WARN"       // something is over but not yet sustained, or near
	StateBreakpoint State = "BREAKPOINT" // the breakpoint has been found
)

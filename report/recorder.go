// Package report owns a run's timeline — engine ticks, node polls, events —
// evaluates SLO and node thresholds as the run goes, finds the breakpoint,
// and writes, reads and compares JSON reports. It reads engine, promquery
// and scenarios types only.
package report

import (
	"sync"
	"time"

	"github.com/brink-load/brink/engine"
	"github.com/brink-load/brink/promquery"
	"github.com/brink-load/brink/scenarios"
)

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
)

// Load is the engine's load at an event's moment.
type Load struct {
	VUs        int           `json:"vus"`
	TargetVUs  int           `json:"target_vus"`
	TargetRate float64       `json:"target_rate,omitempty"`
	RPS        float64       `json:"rps"`
	P95        time.Duration `json:"-"`
	P95Ms      float64       `json:"p95_ms"`
	ErrorRate  float64       `json:"error_rate"`
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

// View is a read-only look at the recorder, valid only inside the function
// passed to Recorder.View. Slices must not be modified or retained.
type View struct {
	Scenario *scenarios.Scenario
	Start    time.Time
	Ticks    []engine.Tick
	Polls    []promquery.Poll
	Events   []Event
	State    State
	Done     bool
	// Version counts changes, so a console can skip redrawing when nothing
	// changed.
	Version uint64
}

// Recorder owns the timeline. Writers (engine tick callback, node poller,
// consoles adding notes) and many readers (consoles, the report writer) may
// use it concurrently.
type Recorder struct {
	mu sync.RWMutex
	v  View
}

// View calls fn with a consistent read-only view under a read lock; fn must
// be quick (copy what it needs) and must not call back into the Recorder.
func (r *Recorder) View(fn func(v *View)) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	fn(&r.v)
}

// Package proto is brink's fleet protocol: the NATS subjects an agent and a
// controller talk on, the shape of every message, and the protocol version
// both must speak. Messages are JSON envelopes; a window's latency
// histograms travel in hdrhistogram-go's V2 compressed encoding, never as
// arrays of buckets. See README.md beside this file.
package proto

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Version is the protocol version. Agent and controller refuse each other's
// messages when it differs: a change to any message shape or subject that
// an older peer would misread bumps it.
const Version = 1

// Subjects. Idle agents announce themselves on Hello; a controller asks
// every agent to announce at once on Discover; requests to one agent go to
// Agent(id); everything an agent sends during a run goes to Run(run), and
// the controller's heartbeat to its agents to Beat(run).
const (
	Hello    = "brink.fleet.hello"
	Discover = "brink.fleet.discover"
)

// Agent is the subject an agent takes requests on (assign, start,
// control, ping, release).
func Agent(id string) string { return "brink.fleet.agent." + id }

// Run is the subject an agent publishes its ticks, beats and end on.
func Run(run string) string { return "brink.fleet.run." + run }

// Beat is the subject the controller publishes its heartbeat on; an agent
// that hears nothing on it for LostAfter stops its load.
func Beat(run string) string { return "brink.fleet.run." + run + ".ctl" }

// Message types (Msg.Type).
const (
	TypeHello   = "hello"   // agent → all: who I am (idle)
	TypeRefused = "refused" // either way: your protocol (or request) is refused
	TypeAssign  = "assign"  // controller → agent: scenario and segment
	TypeStart   = "start"   // controller → agent: start at this time
	TypeControl = "control" // controller → agent: hold, resume, scale, target, stop, abort, note
	TypePing    = "ping"    // controller → agent: your clock, please
	TypeRelease = "release" // controller → agent: the run is over or cancelled; go idle
	TypeReply   = "reply"   // agent → controller: answer to a request
	TypeTick    = "tick"    // agent → controller: one window
	TypeBeat    = "beat"    // either way: still here
	TypeDone    = "done"    // agent → controller: my load has ended
)

// Msg is every message's envelope: the protocol version first, so a peer
// on another version is refused before anything else is read.
type Msg struct {
	V     int    `json:"v"`
	Type  string `json:"t"`
	Agent string `json:"a,omitempty"` // sender's agent id (agent → controller)

	Hello   *HelloMsg   `json:"hello,omitempty"`
	Refused string      `json:"refused,omitempty"` // why
	Assign  *AssignMsg  `json:"assign,omitempty"`
	Start   *StartMsg   `json:"start,omitempty"`
	Control *ControlMsg `json:"control,omitempty"`
	Reply   *ReplyMsg   `json:"reply,omitempty"`
	Tick    *Tick       `json:"tick,omitempty"`
	Beat    *BeatMsg    `json:"beat,omitempty"`
	Done    *DoneMsg    `json:"done,omitempty"`
}

// HelloMsg announces an idle agent.
type HelloMsg struct {
	ID    string `json:"id"`    // subject-safe, unique per agent process
	Name  string `json:"name"`  // --name, or the host name
	Host  string `json:"host"`  // os.Hostname
	Cores int    `json:"cores"` // GOMAXPROCS
	Brink string `json:"brink"` // brink's version
	Proto int    `json:"proto"` // Version, repeated for a readable refusal
}

// AssignMsg gives an agent its share of a run. Scenario is the scenario
// model as JSON (templates as their source; {{env}} is read on the agent).
type AssignMsg struct {
	Run      string          `json:"run"`
	Scenario json.RawMessage `json:"scenario"`
	From     float64         `json:"from"` // the execution segment [From, To)
	To       float64         `json:"to"`
	Index    int             `json:"index"` // this agent's place, 0-based, of Of
	Of       int             `json:"of"`
	Insecure bool            `json:"insecure,omitempty"` // accept any TLS certificate
	// Data are the groups' data files as the controller read them (group
	// name → columns and rows): an agent needs no copy of the files.
	Data map[string]DataTable `json:"data,omitempty"`
}

// DataTable is one data file's content.
type DataTable struct {
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
}

// StartMsg is the common start time, in the agent's own clock (the
// controller has added the offset it measured), Unix nanoseconds.
type StartMsg struct {
	At int64 `json:"at"`
}

// Control operations.
const (
	OpHold   = "hold"
	OpResume = "resume"
	OpScale  = "scale"
	OpTarget = "target"
	OpStop   = "stop"  // ramp down gracefully
	OpAbort  = "abort" // cut in-flight requests now
	OpNote   = "note"  // an engineer's note, for the agent's log
)

// ControlMsg steers a running agent; every one is answered with a Reply.
type ControlMsg struct {
	Op     string  `json:"op"`
	Factor float64 `json:"factor,omitempty"`
	Group  string  `json:"group,omitempty"`
	Target float64 `json:"target,omitempty"`
	Text   string  `json:"text,omitempty"`
}

// ReplyMsg answers a request: Err is empty when it was done. Now is the
// agent's clock when it answered (Unix ns), for the ping.
type ReplyMsg struct {
	Err string `json:"err,omitempty"`
	Now int64  `json:"now,omitempty"`
}

// BeatMsg is a heartbeat. From an agent it carries what the console's
// agent row shows between ticks.
type BeatMsg struct {
	Now int64 `json:"now"` // sender's clock, Unix ns
}

// DoneMsg ends an agent's part of a run; Err says why when it failed.
type DoneMsg struct {
	Err string `json:"err,omitempty"`
}

// ErrVersion is wrapped by Decode's error for a message of another
// protocol version.
var ErrVersion = errors.New("fleet protocol version differs")

// Encode writes m with this side's version.
func Encode(m *Msg) ([]byte, error) {
	m.V = Version
	return json.Marshal(m)
}

// Decode reads one message, refusing another protocol version by name.
// With ErrVersion it still returns the envelope's head (V, Type, Agent),
// so the refusal can name and answer the peer. A message is parsed once:
// the head alone is read again only when the whole does not fit this
// version.
func Decode(data []byte) (*Msg, error) {
	var m Msg
	err := json.Unmarshal(data, &m)
	if err == nil && m.V == Version {
		return &m, nil
	}
	var head struct {
		V     int       `json:"v"`
		Type  string    `json:"t"`
		Agent string    `json:"a"`
		Hello *HelloMsg `json:"hello"` // read leniently: the refusal names the agent, not its id
	}
	if err2 := json.Unmarshal(data, &head); err2 != nil {
		// A hello of another shape still has the envelope's head.
		head.Hello = nil
		if err3 := json.Unmarshal(data, &struct {
			V     *int    `json:"v"`
			Type  *string `json:"t"`
			Agent *string `json:"a"`
		}{&head.V, &head.Type, &head.Agent}); err3 != nil {
			return nil, fmt.Errorf("fleet message: %w", err2)
		}
	}
	if head.V != Version {
		return &Msg{V: head.V, Type: head.Type, Agent: head.Agent, Hello: head.Hello},
			fmt.Errorf("%w: the peer speaks brink fleet protocol %d, this brink %d (run the same brink version on the controller and every agent)", ErrVersion, head.V, Version)
	}
	return nil, fmt.Errorf("fleet %s message: %w", head.Type, err)
}

// Package measure holds the data brink measures and passes between its
// packages: the load of one window (Tick with its latency snapshots,
// per-endpoint and per-group rows, WebSocket and generator stats, failure
// rows and error kinds) and the node metrics of one poll (Sample, Poll,
// custom panels). engine and promquery produce them; report, tui and run
// read them without importing the load or Prometheus clients. It imports
// only the standard library and hdrhistogram-go.
package measure

import (
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// ErrorKind classifies a failed request. The string values are contracts
// (JSON report keys, threshold tags): never rename them.
type ErrorKind string

const (
	ErrDNS            ErrorKind = "dns"
	ErrRefused        ErrorKind = "refused"
	ErrConnectTimeout ErrorKind = "connect_timeout"
	ErrTimeout        ErrorKind = "timeout"
	ErrReset          ErrorKind = "reset"
	ErrTLS            ErrorKind = "tls"
	ErrStatus4xx      ErrorKind = "status_4xx"
	ErrStatus5xx      ErrorKind = "status_5xx"
	ErrCheckFailed    ErrorKind = "check_failed"
	ErrWSClosed       ErrorKind = "ws_closed"
	ErrWSReplyTimeout ErrorKind = "ws_reply_timeout" // a reply overdue by the group's timeout
	ErrWSTooLarge     ErrorKind = "ws_too_large"     // a message over the read limit: session closed (1009)
	ErrDropped        ErrorKind = "dropped"
	ErrOther          ErrorKind = "other"
	// ErrBodyTooLarge is a response body over the group's max_body: the
	// rest is not read and the connection is closed.
	ErrBodyTooLarge ErrorKind = "body_too_large"
	// ErrExtract is a request whose extract: found nothing in the
	// response, or one not sent because a {{.variable}} it needs has no
	// value.
	ErrExtract ErrorKind = "extract"
)

// ErrorKinds lists every kind in display order.
var ErrorKinds = []ErrorKind{ErrDNS, ErrRefused, ErrConnectTimeout, ErrTimeout, ErrReset, ErrTLS,
	ErrStatus4xx, ErrStatus5xx, ErrCheckFailed, ErrWSClosed, ErrWSReplyTimeout, ErrWSTooLarge, ErrDropped, ErrOther,
	ErrBodyTooLarge, ErrExtract}

// Failure is one row of a window's failures table: the failed requests of
// one endpoint with one kind and status, and what one of them said.
type Failure struct {
	Group string `json:"group"`
	// Endpoint is the request name; WSEndpoint ("ws") for a failure of
	// the group's WebSocket; "" for a group-level failure (a dropped
	// arrival).
	Endpoint string    `json:"endpoint,omitempty"`
	Kind     ErrorKind `json:"kind"`
	Status   int       `json:"status,omitempty"` // HTTP status, when a response came
	// Message says what went wrong, from the first such failure of the
	// window: the transport error (a malformed response says what was
	// malformed, a certificate what is wrong with it), the status with the
	// start of the body, or the check that failed. Safe for a terminal,
	// at most 200 characters; no rendered {{env}} value.
	Message string `json:"message"`
	Count   int64  `json:"count"`
	// Check names the check that failed ("status", "header X-Id",
	// "body_contains", "body_not_contains", "json $.ok", "max_duration"):
	// rows of one endpoint are kept apart by it.
	Check string `json:"check,omitempty"`
}

// WSEndpoint names a group's WebSocket in its failures rows.
const WSEndpoint = "ws"

// Latency summarises one histogram. Zero Count means no samples (all other
// fields zero).
type Latency struct {
	Count int64         `json:"count"`
	Min   time.Duration `json:"min"`
	Mean  time.Duration `json:"mean"`
	P50   time.Duration `json:"p50"`
	P90   time.Duration `json:"p90"`
	P95   time.Duration `json:"p95"`
	P99   time.Duration `json:"p99"`
	P999  time.Duration `json:"p999"`
	Max   time.Duration `json:"max"`
}

// EndpointStats is one request name of one group within a window.
type EndpointStats struct {
	Group    string  `json:"group"`
	Name     string  `json:"name"`
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	Latency  Latency `json:"latency"`
	// Hist is the window's latency histogram in mergeable form (µs, 2
	// significant figures). Read-only: endpoints idle in the window share
	// one empty snapshot, so import a copy (hdrhistogram.Import keeps the
	// counts it is given).
	Hist *hdrhistogram.Snapshot `json:"-"`
}

// Hotspot is the endpoint's share of total waiting: count × mean latency.
func (e EndpointStats) Hotspot() time.Duration {
	return time.Duration(e.Requests) * e.Latency.Mean
}

// GroupStats is one scenario group within a window.
type GroupStats struct {
	Name      string `json:"name"`
	Executor  string `json:"executor"`
	VUs       int    `json:"vus"`
	TargetVUs int    `json:"target_vus"`
	// TargetRate is the arrival-rate target (iterations/s), open model only.
	TargetRate float64 `json:"target_rate,omitempty"`
	Requests   int64   `json:"requests"`
	Iterations int64   `json:"iterations"`
	Errors     int64   `json:"errors"`
	Dropped    int64   `json:"dropped"`
	// Started counts arrivals handed to a VU in the window (open model
	// only): with Dropped, what the generator did against TargetRate.
	Started int64 `json:"started,omitempty"`
	// Rate is the arrivals started per second in the window (open model
	// only): the rate achieved against TargetRate.
	Rate float64 `json:"rate,omitempty"`
	// BusyVUs are the VUs in an iteration at the window's end (open model
	// only): the VUs that rate needs, whereas VUs counts every VU started.
	BusyVUs int     `json:"busy_vus,omitempty"`
	Latency Latency `json:"latency"`
	// Hist is the group's window latency histogram in mergeable form (µs,
	// 3 significant figures, exact where endpoints' are 2 figures); nil
	// when the group had no response in the window.
	Hist *hdrhistogram.Snapshot `json:"-"`
	// The group's WebSocket sessions and ws_failed samples (see WSStats);
	// Requests and Errors are HTTP only.
	WSSessions int64 `json:"ws_sessions,omitempty"`
	WSFailed   int64 `json:"ws_failed,omitempty"`
	WSOutcomes int64 `json:"ws_outcomes,omitempty"`
}

// WSStats is WebSocket activity within a window, named as k6 names it.
//
// ws_failed is a rate over outcomes: each session that could not open
// (handshake refused or failed) or that ended (closed early by the server
// or over a too-large message: failed; ended by brink: passed), and each
// awaited reply (came: passed; overdue by the group's timeout: failed).
// A session still open adds nothing until it ends, so a window can have
// no ws_failed data.
type WSStats struct {
	Open     int   `json:"open"`     // connections open at the tick
	Opened   int64 `json:"opened"`   // connects that succeeded in the window
	Closed   int64 `json:"closed"`   // unexpected closes (also counted as ws_closed errors)
	Sent     int64 `json:"sent"`     // messages sent (ws_msgs_sent)
	Received int64 `json:"received"` // messages received (ws_msgs_received)
	// Sessions counts handshakes attempted (ws_sessions): opened or not.
	Sessions int64 `json:"sessions"`
	// Failed of Outcomes are ws_failed's samples; Errors breaks Failed
	// down by kind (status_4xx, refused, ws_closed, ws_reply_timeout, …).
	Failed   int64               `json:"failed"`
	Outcomes int64               `json:"outcomes"`
	Errors   map[ErrorKind]int64 `json:"errors,omitempty"`
	Connect  Latency             `json:"connect"` // handshake time (ws_connecting)
	Reply    Latency             `json:"reply"`   // send → matching reply (ws_msg_latency)
	// Session is ws_session_duration: handshake start to end, of the
	// sessions that ended in the window.
	Session Latency `json:"session"`
	// The three in mergeable form (µs; nil when empty), so whole-run
	// percentiles are exact.
	ConnectHist *hdrhistogram.Snapshot `json:"-"`
	ReplyHist   *hdrhistogram.Snapshot `json:"-"`
	SessionHist *hdrhistogram.Snapshot `json:"-"`
}

// FailRate is ws_failed over the window (0..1); ok is false without
// outcomes.
func (w *WSStats) FailRate() (rate float64, ok bool) { return FailRate(w.Failed, w.Outcomes) }

// FailRate is ws_failed: failed samples over outcomes (0..1), of a window
// or a whole run; ok is false without outcomes.
func FailRate(failed, outcomes int64) (rate float64, ok bool) {
	if outcomes <= 0 {
		return 0, false
	}
	return float64(min(failed, outcomes)) / float64(outcomes), true
}

// GeneratorStats is brink's own health, so a saturated generator is never
// mistaken for a slow server.
type GeneratorStats struct {
	CPUPercent float64 `json:"cpu_percent"` // of one core
	Goroutines int     `json:"goroutines"`
	OpenFiles  int     `json:"open_files"`
	MaxFiles   int     `json:"max_files"`
	HeapBytes  uint64  `json:"heap_bytes"`
	// Cores is how many cores brink may use (GOMAXPROCS): CPUPercent
	// saturates at Cores × 100.
	Cores int `json:"cores"`
	// Stretch is the window's actual length over its nominal one: about 1
	// when the ticker kept time, 4.3 when a 1 s window lasted 4.3 s because
	// brink's process was stopped or starved of CPU.
	Stretch float64 `json:"stretch"`
	// SendLag is how late arrival-rate iterations started in the window
	// (actual send − intended start; Count 0 without open-model groups).
	SendLag Lag `json:"send_lag"`
	// Overloaded: brink itself was the bottleneck in this window, so the
	// latency it measured is partly its own; Reason says which limit
	// (engine.OverloadLimits) was passed.
	Overloaded bool   `json:"overloaded"`
	Reason     string `json:"reason,omitempty"`
	// Partial: over a fleet, the window lacks an agent's load (lost or
	// late), which Reason names; judged as Overloaded, said otherwise.
	Partial bool `json:"partial,omitempty"`
}

// Lag summarises the send lags of one window.
type Lag struct {
	Count int64         `json:"count"`
	P50   time.Duration `json:"p50"`
	P99   time.Duration `json:"p99"`
	Max   time.Duration `json:"max"`
}

// Tick is one window of load. Durations are time.Duration; the JSON report
// converts to milliseconds.
type Tick struct {
	Time    time.Time     `json:"time"`    // window end
	Elapsed time.Duration `json:"elapsed"` // since the run started, at window end
	Window  time.Duration `json:"window"`
	// Stage is the index of the longest group's current stage.
	Stage int `json:"stage"`
	// Held is true while the ramp is on hold.
	Held bool `json:"held"`
	// Planned is the run's planned length at the window's end: the
	// stages plus the time spent on hold (engine.Engine.Planned).
	Planned time.Duration `json:"planned,omitempty"`
	// Scale is the factor +/- put on every stage target (1 untouched).
	Scale float64 `json:"scale,omitempty"`

	VUs        int     `json:"vus"`         // active VUs, all groups
	TargetVUs  int     `json:"target_vus"`  // closed-model target, all groups
	TargetRate float64 `json:"target_rate"` // open-model target, iterations/s, all groups

	Requests   int64 `json:"requests"`
	Iterations int64 `json:"iterations"`
	BytesIn    int64 `json:"bytes_in"`
	BytesOut   int64 `json:"bytes_out"`
	// Errors counts failures by kind: failed HTTP requests, WebSocket
	// failures (also in WS.Errors) and dropped arrivals (also in Dropped).
	Errors map[ErrorKind]int64 `json:"errors"`
	// ErrorCount is failed HTTP requests only (at most Requests).
	ErrorCount   int64 `json:"error_count"`
	Dropped      int64 `json:"dropped"`
	ChecksPassed int64 `json:"checks_passed"`
	ChecksFailed int64 `json:"checks_failed"`

	// Latency is the HTTP request duration; for open-model groups it is
	// measured from the intended start (coordinated-omission corrected).
	Latency Latency `json:"latency"`
	// Service is the plain service time (from the actual send) for all
	// requests; equal to Latency when no arrival was late.
	Service Latency `json:"service"`
	// Connect is the TCP connect time of the connections opened in the
	// window (HTTP and WebSocket; the TLS handshake is not included).
	Connect Latency `json:"connect"`
	// TTFB is the time from sending a request to its first response byte.
	TTFB Latency `json:"ttfb"`
	// Hist is the window's Latency histogram in mergeable form (µs), so
	// several generators' ticks can be merged exactly.
	Hist *hdrhistogram.Snapshot `json:"-"`
	// ServiceHist is the window's Service histogram in mergeable form (µs),
	// so whole-run service-time percentiles are exact too.
	ServiceHist *hdrhistogram.Snapshot `json:"-"`
	// ConnectHist and TTFBHist are Connect and TTFB in mergeable form
	// (µs; nil when empty), so agents' windows merge exactly.
	ConnectHist *hdrhistogram.Snapshot `json:"-"`
	TTFBHist    *hdrhistogram.Snapshot `json:"-"`

	// Failures groups the window's failed requests (and dropped arrivals)
	// by endpoint, kind and status, with a sample message; most frequent
	// first, at most engine's maxFailureRows rows.
	Failures  []Failure       `json:"failures,omitempty"`
	Endpoints []EndpointStats `json:"endpoints"`
	Groups    []GroupStats    `json:"groups"`
	WS        WSStats         `json:"ws"`
	Generator GeneratorStats  `json:"generator"`
}

// RPS is the achieved request rate of the window.
func (t *Tick) RPS() float64 {
	if t.Window <= 0 {
		return 0
	}
	return float64(t.Requests) / t.Window.Seconds()
}

// ErrorRate is failed requests over requests in the window (0..1).
func (t *Tick) ErrorRate() float64 {
	if t.Requests == 0 {
		return 0
	}
	return float64(t.ErrorCount) / float64(t.Requests)
}

// ArrivalRate is the executor of an open-model group
// (scenarios.RampingArrivalRate): its load is its rate.
const ArrivalRate = "ramping-arrival-rate"

// Open reports whether g is an arrival-rate group, whose VUs are what its
// rate needs rather than users; a group whose executor is not named counts
// as open when it has a rate target and no VU target.
func (g *GroupStats) Open() bool {
	return g.Executor == ArrivalRate || (g.TargetRate > 0 && g.TargetVUs == 0)
}

// SplitVUs splits a window's VUs: closed is the closed-model groups' (the
// tick's VUs less the open groups'), open what arrival-rate groups hold,
// busy those of them in an iteration at the window's end.
func (t *Tick) SplitVUs() (closed, open, busy int) {
	for i := range t.Groups {
		if g := &t.Groups[i]; g.Open() {
			open += g.VUs
			busy += g.BusyVUs
		}
	}
	return t.VUs - open, open, busy
}

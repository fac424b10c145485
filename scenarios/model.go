// Package scenarios holds brink's scenario model: what load to run, what
// thresholds define "still holding", and which nodes to watch. Loading,
// validation (file:line:col errors), templates and capacity-plan math live
// beside this file. The model is plain data so engine, report and tui can read
// it without knowing YAML.
package scenarios

import (
	"regexp"
	"time"

	"github.com/brink-load/brink/measure"
)

// Executor names follow k6.
type Executor string

const (
	// RampingVUs is the closed model: VUs loop over the group's requests.
	RampingVUs Executor = "ramping-vus"
	// RampingArrivalRate is the open model: iterations start on a schedule.
	RampingArrivalRate Executor = measure.ArrivalRate
)

// Scenario is one load test as loaded from YAML (or built by `brink probe`).
type Scenario struct {
	Name    string `json:"name" yaml:"name"`
	BaseURL string `json:"base_url,omitempty" yaml:"base_url"`
	// File is where the scenario came from ("" when built from flags).
	File   string  `json:"file,omitempty"`
	Groups []Group `json:"groups" yaml:"groups"`
	// Thresholds are the SLOs, in k6 syntax, already parsed.
	Thresholds        []Threshold `json:"thresholds,omitempty" yaml:"thresholds"`
	Nodes             *Nodes      `json:"nodes,omitempty" yaml:"nodes"`
	AbortOnBreakpoint bool        `json:"abort_on_breakpoint" yaml:"abort_on_breakpoint"`
	// Window is the engine's tick length (default 1s).
	Window time.Duration `json:"window" yaml:"window"`
	// Sustain is how long a threshold must stay violated to count as a
	// breakpoint or node crossing, and stay clear to recover (default 3s).
	Sustain time.Duration `json:"sustain" yaml:"sustain"`
	// MaxBody caps the bytes read of one response body (and, for
	// WebSocket groups, of one message); groups inherit it (default 4 MiB).
	MaxBody int64 `json:"max_body,omitempty" yaml:"max_body"`
}

// Stage is one k6 stage: move linearly to Target over Duration.
type Stage struct {
	Duration time.Duration `json:"duration" yaml:"duration"`
	Target   float64       `json:"target" yaml:"target"`
}

// Think is the pause between a VU's iterations: fixed when Min == Max.
type Think struct {
	Min time.Duration `json:"min"`
	Max time.Duration `json:"max"`
}

// Group is a set of VUs (or arrivals) with their own stages, run
// concurrently with the other groups.
type Group struct {
	Name     string   `json:"name" yaml:"name"`
	Executor Executor `json:"executor"`
	// Start is the VU count (closed) or rate per second (open) at t=0,
	// k6's startVUs / startRate.
	Start  float64 `json:"start"`
	Stages []Stage `json:"stages" yaml:"stages"`
	Think  Think   `json:"think" yaml:"think"`
	// MaxVUs caps VUs an arrival-rate group may add (open model).
	MaxVUs int `json:"max_vus,omitempty" yaml:"max_vus"`
	// PreAllocatedVUs are started up front for an arrival-rate group.
	PreAllocatedVUs int        `json:"pre_allocated_vus,omitempty" yaml:"pre_allocated_vus"`
	Requests        []Request  `json:"requests,omitempty" yaml:"requests"`
	WebSocket       *WebSocket `json:"websocket,omitempty" yaml:"websocket"`
	// HTTP2 switches the group to net/http (HTTP/2 capable) instead of fasthttp.
	HTTP2 bool `json:"http2,omitempty" yaml:"http2"`
	// Timeout per request (default 30s).
	Timeout time.Duration `json:"timeout" yaml:"timeout"`
	// MaxBody caps the bytes read of one response body or WebSocket
	// message: a larger one is an error of kind body_too_large, never
	// buffered (default the scenario's max_body).
	MaxBody int64 `json:"max_body,omitempty" yaml:"max_body"`
	// Pick is how an iteration chooses its requests: "sequence" (or "")
	// runs them all in order; "weighted" runs one, picked by the
	// requests' weights.
	Pick string `json:"pick,omitempty" yaml:"pick"`
	// Setup are requests each VU runs once when it starts (log in), before
	// its first iteration or WebSocket session: measured in their own
	// endpoint rows, not counted as iterations.
	Setup []Request `json:"setup,omitempty" yaml:"setup"`
	// Data gives each VU a row of a CSV or JSON file as variables.
	Data *Data `json:"data,omitempty" yaml:"data"`
	// Cookies keeps a cookie jar per VU (HTTP and its WebSocket handshake);
	// nil means on, false turns it off.
	Cookies *bool `json:"cookies,omitempty" yaml:"cookies"`
	// Vars names the slots of TemplateContext.Vars for this group's VUs:
	// the data columns, then the extracted names (set by Validate).
	Vars []string `json:"-"`
}

// CookiesOn reports whether the group's VUs keep cookies (the default).
func (g *Group) CookiesOn() bool { return g.Cookies == nil || *g.Cookies }

// DataMode says which row of a data file a VU reads.
type DataMode string

const (
	// DataPerVU gives each VU of the group its own row for its life (VU n
	// of the group reads row n, wrapping when VUs outnumber rows).
	DataPerVU DataMode = "per-vu"
	// DataRoundRobin takes the next row for each iteration, across the
	// group's VUs.
	DataRoundRobin DataMode = "round-robin"
	// DataRandom takes a random row for each iteration.
	DataRandom DataMode = "random"
)

// Data is a group's data file: a CSV with a header row, or a JSON array of
// objects, read once at load time and shared by every VU (never copied).
type Data struct {
	File string   `json:"file" yaml:"file"`
	Mode DataMode `json:"mode" yaml:"mode"` // default per-vu
	// Secret names columns whose values are hidden like {{env}} values,
	// beside those whose names look like a credential's (secret.go).
	Secret []string `json:"secret,omitempty" yaml:"secret"`
	// Table is the file's content (LoadData); not in reports.
	Table *DataTable `json:"-"`
}

// DataTable is a data file's rows, each a value per column.
type DataTable struct {
	Columns []string
	Rows    [][]string
}

// Extract takes one value from a request's response into a VU variable,
// usable as {{.Name}} in later requests: from the JSON body (JSON), a
// response header (Header), or the body by a regular expression (Regex:
// its first group, or the whole match without one). Exactly one is set.
type Extract struct {
	Name   string    `json:"name"`
	JSON   *JSONPath `json:"json,omitempty"`
	Header string    `json:"header,omitempty"`
	Regex  string    `json:"regex,omitempty"`
	// Slot is the variable's index in Group.Vars (set by Validate).
	Slot int `json:"-"`
}

// Header is one request header; the value may be a template.
type Header struct {
	Name  string    `json:"name"`
	Value *Template `json:"value"`
}

// Request is one HTTP request of a group's iteration.
type Request struct {
	Name    string    `json:"name" yaml:"name"`
	Method  string    `json:"method" yaml:"method"`
	URL     *Template `json:"url" yaml:"url"` // absolute after loading (base_url applied)
	Headers []Header  `json:"headers,omitempty" yaml:"headers"`
	Body    *Template `json:"body,omitempty" yaml:"body"`
	Check   *Check    `json:"check,omitempty" yaml:"check"`
	// Weight is the request's share of a pick: weighted group's iterations
	// (default 1); only such a group takes it.
	Weight *float64 `json:"weight,omitempty" yaml:"weight"`
	// Extract sets VU variables from the response, in order.
	Extract []Extract `json:"extract,omitempty" yaml:"extract"`
}

// Check marks a response as failed (error kind check_failed, or the
// status's own kind for a 4xx/5xx) when it does not match; each failure
// row names the check that failed. Checks run in this order and the
// first that fails is the one counted: status, header, body_contains,
// body_not_contains, json, max_duration.
type Check struct {
	// Status lists accepted status codes; with StatusClass empty too, any
	// 2xx/3xx passes.
	Status []int `json:"status,omitempty" yaml:"status"`
	// StatusClass lists accepted status classes, written "2xx" in status
	// (2 for 2xx): a response passes with a code in Status or a class here.
	StatusClass []int `json:"status_class,omitempty"`
	// BodyContains, when set, must appear in the response body.
	BodyContains string `json:"body_contains,omitempty" yaml:"body_contains"`
	// BodyNotContains, when set, must not appear in the response body.
	BodyNotContains string `json:"body_not_contains,omitempty" yaml:"body_not_contains"`
	// JSON checks values in a JSON body by path, in the order written
	// (json: {"$.ok": true}).
	JSON []JSONCheck `json:"json,omitempty" yaml:"json"`
	// Header checks response headers by name, in the order written.
	Header []HeaderCheck `json:"header,omitempty" yaml:"header"`
	// MaxDuration, when set, fails a response that took longer: the
	// request's own time, first byte sent to last byte read (an open-model
	// arrival's wait for a free VU is not in it).
	MaxDuration time.Duration `json:"max_duration,omitempty" yaml:"max_duration"`
}

// HeaderCheck is one response header check: the header must have Value
// exactly (any of its values, when repeated), or be present, or (Absent)
// not be present.
type HeaderCheck struct {
	Name   string  `json:"name"`
	Value  *string `json:"value,omitempty"`
	Absent bool    `json:"absent,omitempty"`
}

// JSONCheck is one json check: the value at Path must equal Value, a
// string, a number (float64), a boolean or nil for JSON null.
type JSONCheck struct {
	Path  *JSONPath `json:"path"`
	Value any       `json:"value"`
}

// NeedsBody is whether the check reads the response body (the engine
// holds a body in memory only then).
func (c *Check) NeedsBody() bool {
	return c != nil && (c.BodyContains != "" || c.BodyNotContains != "" || len(c.JSON) > 0)
}

// WebSocket is a group's WebSocket flow: each VU opens URL, then sends Send
// every Every, and when ExpectReply waits for a reply to measure its latency.
type WebSocket struct {
	URL         *Template     `json:"url" yaml:"url"` // absolute ws:// or wss:// after loading
	Headers     []Header      `json:"headers,omitempty" yaml:"headers"`
	Send        *Template     `json:"send,omitempty" yaml:"send"`
	Every       time.Duration `json:"every" yaml:"every"`
	ExpectReply bool          `json:"expect_reply" yaml:"expect_reply"`
	// ReplyContains, when set, is rendered with the same values as each
	// send; only a received message containing it counts as that send's
	// reply (a chat server's broadcasts of others' messages do not).
	// Without it the first message after a send is the reply.
	ReplyContains *Template `json:"reply_contains,omitempty" yaml:"reply_contains"`
	// Subprotocols are offered in the handshake (Sec-WebSocket-Protocol);
	// a server that picks none of them fails the session, as in a browser.
	Subprotocols []string `json:"subprotocols,omitempty" yaml:"subprotocols"`
}

// Threshold is one parsed k6 threshold expression such as "p(95)<500".
type Threshold struct {
	// Metric is the k6 metric name: http_req_duration, http_req_failed,
	// http_reqs, iteration_duration, dropped_iterations, checks, or a
	// WebSocket one (ws_failed, ws_msg_latency, ws_connecting,
	// ws_session_duration, ws_sessions, ws_msgs_sent, ws_msgs_received),
	// optionally with a tag filter like
	// http_req_duration{name:history} (then Tag* are set).
	Metric   string `json:"metric"`
	TagKey   string `json:"tag_key,omitempty"`
	TagValue string `json:"tag_value,omitempty"`
	// Expr is the expression as written, e.g. "p(95)<500".
	Expr string `json:"expr"`
	// Agg is one of p, avg, med, min, max, rate, count.
	Agg string `json:"agg"`
	// P is the percentile for Agg == "p" (e.g. 95, 99.9).
	P  float64 `json:"p,omitempty"`
	Op string  `json:"op"` // <, <=, >, >=
	// Value is normalised: milliseconds for durations, a fraction (0..1)
	// for rates ("rate<1%" → 0.01), a plain number for counts.
	Value float64 `json:"value"`
}

// Nodes says where node metrics come from and what counts as a node in
// trouble.
type Nodes struct {
	Prometheus string   `json:"prometheus,omitempty" yaml:"prometheus"`
	Scrape     []string `json:"scrape,omitempty" yaml:"scrape"`
	// PromConfig is a file in Prometheus's http-client YAML (auth, TLS).
	PromConfig string `json:"prom_config,omitempty" yaml:"prom_config"`
	Match      string `json:"match,omitempty" yaml:"match"`           // default {job="node"}
	NameLabel  string `json:"name_label,omitempty" yaml:"name_label"` // default instance
	// Names maps an instance (host:port) to a readable name.
	Names     map[string]string `json:"names,omitempty" yaml:"names"`
	RoleLabel string            `json:"role_label,omitempty" yaml:"role_label"`
	// Roles are tried in order: the first whose regex matches the name wins.
	Roles      []Role          `json:"roles,omitempty" yaml:"roles"`
	Thresholds []NodeThreshold `json:"thresholds,omitempty" yaml:"thresholds"`
	Panels     []Panel         `json:"panels,omitempty" yaml:"panels"`
	// Interval between polls; 0 means the scrape interval (Prometheus) or 1s.
	Interval time.Duration `json:"interval" yaml:"interval"`

	// roleRE are Roles' patterns compiled by Validate, for RoleOf.
	roleRE []*regexp.Regexp
}

// Role names nodes whose name matches Pattern (a regular expression,
// anchored).
type Role struct {
	Name    string `json:"name"`
	Pattern string `json:"pattern"`
}

// NodeThreshold is "metric above value", for every node or only those of a
// role or one node.
type NodeThreshold struct {
	// Metric is one of the node-metric table's names (measure.MetricNames): cpu, iowait, disk_util,
	// load1, load1_per_core, mem, read_bps, write_bps, net_rx_bps,
	// net_tx_bps.
	Metric string  `json:"metric" yaml:"metric"`
	Above  float64 `json:"above" yaml:"above"`
	Role   string  `json:"role,omitempty" yaml:"role"`
	Node   string  `json:"node,omitempty" yaml:"node"`
}

// Panel is a custom PromQL query polled beside the node metrics.
type Panel struct {
	Title string   `json:"title" yaml:"title"`
	Query string   `json:"query" yaml:"query"`
	Unit  string   `json:"unit,omitempty" yaml:"unit"`
	Above *float64 `json:"above,omitempty" yaml:"above"`
}

// Duration is the planned length of the whole scenario: the longest group.
func (s *Scenario) Duration() time.Duration {
	var longest time.Duration
	for _, g := range s.Groups {
		var d time.Duration
		for _, st := range g.Stages {
			d += st.Duration
		}
		if d > longest {
			longest = d
		}
	}
	return longest
}

// Package promexport serves a run's load as Prometheus metrics (brink
// --metrics ADDR, /metrics through client_golang) and ships the Grafana
// dashboard that charts them beside the nodes' node_exporter metrics.
//
// It is fed once per window — the engine's Tick after the recorder took it,
// and the recorder's new events — never from the request path. Labels are
// bounded: group and endpoint names come from the scenario, status is the
// HTTP status, kind one of measure.ErrorKinds, node and metric those of the
// scenario's thresholds. Imports measure, report and scenarios.
package promexport

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/report"
	"github.com/brink-load/brink/scenarios"
)

// Exporter holds a run's metrics in its own registry (no Go runtime or
// process collectors: brink's own health is brink_generator_*).
type Exporter struct {
	reg *prometheus.Registry

	vus, vusTarget, busy, rate, rateTarget *prometheus.GaugeVec
	requests, reqFailed, failures, errors  *prometheus.CounterVec
	iterations, dropped                    *prometheus.CounterVec
	checks                                 *prometheus.CounterVec
	bytesIn, bytesOut                      prometheus.Counter
	wsOpen                                 prometheus.Gauge
	wsSessions, wsFailed, wsOutcomes       *prometheus.CounterVec
	wsSent, wsReceived                     prometheus.Counter
	genCPU, genCores, genGoroutines        prometheus.Gauge
	genOpenFiles, genHeap, genStretch      prometheus.Gauge
	genLag, genOver                        prometheus.Gauge
	genOverTotal                           prometheus.Counter
	running, stage, held, scale            prometheus.Gauge
	bpReached, bpTime, bpUsers, bpRPS      prometheus.Gauge
	bpVUs, bpRate, bpStarted               *prometheus.GaugeVec
	events                                 *prometheus.CounterVec
	eventTime                              *prometheus.GaugeVec

	// mu makes a scrape see whole windows: AddTick and Sync hold it for
	// writing, a scrape (Gatherer) for reading, so a sum over series never
	// mixes two windows. It guards lat, seen and bpSeen too.
	mu      sync.RWMutex
	lat     map[epKey]*latHist
	latDesc *prometheus.Desc
	// The WebSocket's handshake and reply times (all groups: the engine
	// keeps them per window, not per group); nil without WebSocket groups.
	wsConnect, wsReply         *latHist
	wsConnectDesc, wsReplyDesc *prometheus.Desc
	created                    time.Time
	seen                       int // recorder events already counted
	bpSeen                     bool
	// final is set by Finish: a scrape that starts after it reads the
	// run's last window and final state; finalRead is closed once one has
	// been served (what --metrics-linger waits for).
	final     bool
	finalRead chan struct{}
	readOnce  sync.Once
	scraped   atomic.Bool // any scrape served, final or not
}

type epKey struct{ group, endpoint string }

// New builds the exporter of a run of sc, started at start. Every group
// and endpoint series exists from the start (at zero), so rate() has a
// first point before the first request.
func New(sc *scenarios.Scenario, version string, start time.Time) *Exporter {
	e := &Exporter{reg: prometheus.NewRegistry(), lat: map[epKey]*latHist{}, created: start, finalRead: make(chan struct{})}
	f := factory{e.reg}
	grp := []string{"group"}
	e.vus = f.gaugeVec("brink_vus", "VUs running in the group (closed model: its users; arrival-rate: every VU started, busy or idle).", grp)
	e.vusTarget = f.gaugeVec("brink_vus_target", "The closed-model group's target VUs now (its stages, after the console's scale).", grp)
	e.busy = f.gaugeVec("brink_vus_busy", "VUs of the arrival-rate group in an iteration at the window's end: what its rate needs.", grp)
	e.rate = f.gaugeVec("brink_arrival_rate", "Iterations the arrival-rate group started per second in the last window.", grp)
	e.rateTarget = f.gaugeVec("brink_arrival_rate_target", "The arrival-rate group's target, iterations per second.", grp)
	ep := []string{"group", "endpoint"}
	e.requests = f.counterVec("brink_http_requests_total", "HTTP requests completed, by group and endpoint (the scenario's request name).", ep)
	e.reqFailed = f.counterVec("brink_http_request_failures_total", "Failed HTTP requests (errors, bad status, failed checks), by group and endpoint.", ep)
	e.failures = f.counterVec("brink_failures_total",
		"Failures by group, endpoint (\"ws\" for the group's WebSocket, \"\" for a dropped arrival), kind and HTTP status (\"\" without a response). "+
			"A window keeps at most 50 distinct rows; brink_errors_total counts every failure by kind.",
		[]string{"group", "endpoint", "kind", "status"})
	e.errors = f.counterVec("brink_errors_total", "Failures by kind: HTTP, WebSocket and dropped arrivals.", []string{"kind"})
	e.iterations = f.counterVec("brink_iterations_total", "Iterations completed, by group.", grp)
	e.dropped = f.counterVec("brink_dropped_iterations_total", "Arrivals the group could not start (no VU free), by group.", grp)
	e.checks = f.counterVec("brink_checks_total", "Response checks, by result (pass, fail).", []string{"result"})
	e.bytesIn = f.counter("brink_data_received_bytes_total", "Bytes received from the target.")
	e.bytesOut = f.counter("brink_data_sent_bytes_total", "Bytes sent to the target.")
	e.wsOpen = f.gauge("brink_ws_sessions_open", "WebSocket connections open at the window's end.")
	e.wsSessions = f.counterVec("brink_ws_sessions_total", "WebSocket handshakes attempted (ws_sessions), by group.", grp)
	e.wsFailed = f.counterVec("brink_ws_failed_total", "ws_failed samples that failed (sessions that could not open or ended early, overdue replies), by group.", grp)
	e.wsOutcomes = f.counterVec("brink_ws_outcomes_total", "ws_failed samples (session outcomes and awaited replies), by group.", grp)
	e.wsSent = f.counter("brink_ws_messages_sent_total", "WebSocket messages sent.")
	e.wsReceived = f.counter("brink_ws_messages_received_total", "WebSocket messages received.")
	e.genCPU = f.gauge("brink_generator_cpu_ratio", "brink's own CPU in the last window, in cores (1 = one core busy).")
	e.genCores = f.gauge("brink_generator_cores", "Cores brink may use (GOMAXPROCS).")
	e.genGoroutines = f.gauge("brink_generator_goroutines", "brink's goroutines.")
	e.genOpenFiles = f.gauge("brink_generator_open_files", "brink's open files.")
	e.genHeap = f.gauge("brink_generator_heap_bytes", "brink's Go heap in use.")
	e.genStretch = f.gauge("brink_generator_window_stretch_ratio", "The last window's length over its nominal one (above 1.5: brink was stopped or starved).")
	e.genLag = f.gauge("brink_generator_send_lag_p99_seconds", "p99 of how late arrival-rate iterations started in the last window.")
	e.genOver = f.gauge("brink_generator_overloaded", "1 while brink itself is the bottleneck (its latency is partly its own), else 0.")
	e.genOverTotal = f.counter("brink_generator_overloaded_windows_total", "Windows in which brink itself was the bottleneck.")
	e.running = f.gauge("brink_run_running", "1 while the load runs, 0 once it ended.")
	e.stage = f.gauge("brink_run_stage", "The longest group's current stage, from 1.")
	e.held = f.gauge("brink_run_held", "1 while the ramp is on hold (console space), else 0.")
	e.scale = f.gauge("brink_run_scale", "The factor the console put on every stage target (1 untouched).")
	e.bpReached = f.gauge("brink_breakpoint_reached", "1 once the breakpoint has been found, else 0.")
	e.bpTime = f.gauge("brink_breakpoint_timestamp_seconds", "When the breakpoint happened (Unix seconds); 0 until it has. For a Grafana annotation: × 1000, series value as timestamp.")
	e.bpUsers = f.gauge("brink_breakpoint_users", "The load at the breakpoint: the closed-model users (every VU when only arrival-rate groups run).")
	e.bpRPS = f.gauge("brink_breakpoint_rps", "Requests per second in the window of the breakpoint.")
	e.bpVUs = f.gaugeVec("brink_breakpoint_vus", "A closed-model group's users at the breakpoint.", grp)
	e.bpRate = f.gaugeVec("brink_breakpoint_arrival_rate", "An arrival-rate group's target rate at the breakpoint (iterations/s): the rate the verdict names.", grp)
	e.bpStarted = f.gaugeVec("brink_breakpoint_arrival_rate_started", "An arrival-rate group's started rate in the window of the breakpoint (iterations/s; under the target when arrivals were dropped).", grp)
	e.events = f.counterVec("brink_events_total", "Events of the run's log, by kind (node_over, slo_breach, breakpoint, stage, …).", []string{"kind"})
	e.eventTime = f.gaugeVec("brink_event_timestamp_seconds",
		"When the latest event of a kind happened for a node (or panel series) and metric, Unix seconds: a crossing is stamped at its first sample over. "+
			"For Grafana annotations: × 1000, series value as timestamp.",
		[]string{"kind", "node", "metric"})
	e.latDesc = prometheus.NewDesc("brink_http_request_duration_seconds",
		"HTTP request duration by group and endpoint; arrival-rate groups measure from the intended start (coordinated omission corrected). "+
			"Classic buckets and native buckets (schema 3), fed from brink's per-window HDR histograms.",
		ep, nil)
	e.wsConnectDesc = prometheus.NewDesc("brink_ws_connect_duration_seconds",
		"WebSocket handshake time (k6's ws_connecting), all groups; classic and native buckets.", nil, nil)
	e.wsReplyDesc = prometheus.NewDesc("brink_ws_reply_duration_seconds",
		"WebSocket send → matching reply (k6's ws_msg_latency), all groups; classic and native buckets.", nil, nil)
	e.reg.MustRegister(latCollector{e})
	info := prometheus.NewGauge(prometheus.GaugeOpts{Name: "brink_run_info", Help: "The run's scenario and brink's version (always 1).",
		ConstLabels: prometheus.Labels{"scenario": scenarioName(sc), "version": version}})
	info.Set(1)
	e.reg.MustRegister(info)
	startG := f.gauge("brink_run_start_time_seconds", "When the run started, Unix seconds.")
	startG.Set(float64(start.UnixNano()) / 1e9)
	e.scale.Set(1)

	if sc != nil {
		for _, g := range sc.Groups {
			n := g.Name
			e.vus.WithLabelValues(n)
			e.iterations.WithLabelValues(n)
			if g.Executor == scenarios.RampingArrivalRate {
				e.rate.WithLabelValues(n)
				e.rateTarget.WithLabelValues(n)
				e.busy.WithLabelValues(n)
				e.dropped.WithLabelValues(n)
			} else {
				e.vusTarget.WithLabelValues(n)
			}
			for _, r := range g.Requests {
				e.requests.WithLabelValues(n, r.Name)
				e.reqFailed.WithLabelValues(n, r.Name)
				e.lat[epKey{n, r.Name}] = newLatHist()
			}
			if g.WebSocket != nil {
				if e.wsConnect == nil {
					e.wsConnect, e.wsReply = newLatHist(), newLatHist()
				}
				e.wsSessions.WithLabelValues(n)
				e.wsFailed.WithLabelValues(n)
				e.wsOutcomes.WithLabelValues(n)
			}
		}
	}
	for _, k := range measure.ErrorKinds {
		e.errors.WithLabelValues(string(k))
	}
	e.checks.WithLabelValues("pass")
	e.checks.WithLabelValues("fail")
	return e
}

func scenarioName(sc *scenarios.Scenario) string {
	if sc == nil {
		return ""
	}
	return sc.Name
}

// Gatherer gathers the exporter's metrics as of whole windows (for
// /metrics and for tests).
func (e *Exporter) Gatherer() prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		e.mu.RLock()
		defer e.mu.RUnlock()
		return e.reg.Gather()
	})
}

// AddTick folds one window in: called once per window, after the recorder.
func (e *Exporter) AddTick(t *measure.Tick) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.running.Set(1)
	e.stage.Set(float64(t.Stage + 1))
	e.held.Set(b2f(t.Held))
	if t.Scale > 0 {
		e.scale.Set(t.Scale)
	}
	for i := range t.Groups {
		g := &t.Groups[i]
		e.vus.WithLabelValues(g.Name).Set(float64(g.VUs))
		if g.Open() {
			e.rate.WithLabelValues(g.Name).Set(g.Rate)
			e.rateTarget.WithLabelValues(g.Name).Set(g.TargetRate)
			e.busy.WithLabelValues(g.Name).Set(float64(g.BusyVUs))
			e.dropped.WithLabelValues(g.Name).Add(float64(g.Dropped))
		} else {
			e.vusTarget.WithLabelValues(g.Name).Set(float64(g.TargetVUs))
		}
		e.iterations.WithLabelValues(g.Name).Add(float64(g.Iterations))
		if g.WSSessions > 0 || g.WSOutcomes > 0 {
			e.wsSessions.WithLabelValues(g.Name).Add(float64(g.WSSessions))
			e.wsFailed.WithLabelValues(g.Name).Add(float64(g.WSFailed))
			e.wsOutcomes.WithLabelValues(g.Name).Add(float64(g.WSOutcomes))
		}
	}
	for i := range t.Endpoints {
		ep := &t.Endpoints[i]
		if ep.Requests > 0 {
			e.requests.WithLabelValues(ep.Group, ep.Name).Add(float64(ep.Requests))
		}
		if ep.Errors > 0 {
			e.reqFailed.WithLabelValues(ep.Group, ep.Name).Add(float64(ep.Errors))
		}
	}
	for _, f := range t.Failures {
		st := ""
		if f.Status != 0 {
			st = strconv.Itoa(f.Status)
		}
		e.failures.WithLabelValues(f.Group, f.Endpoint, string(f.Kind), st).Add(float64(f.Count))
	}
	for k, n := range t.Errors {
		if n > 0 {
			e.errors.WithLabelValues(string(k)).Add(float64(n))
		}
	}
	e.checks.WithLabelValues("pass").Add(float64(t.ChecksPassed))
	e.checks.WithLabelValues("fail").Add(float64(t.ChecksFailed))
	e.bytesIn.Add(float64(max(t.BytesIn, 0)))
	e.bytesOut.Add(float64(max(t.BytesOut, 0)))
	e.wsOpen.Set(float64(t.WS.Open))
	e.wsSent.Add(float64(max(t.WS.Sent, 0)))
	e.wsReceived.Add(float64(max(t.WS.Received, 0)))

	gs := &t.Generator
	e.genCPU.Set(gs.CPUPercent / 100)
	e.genCores.Set(float64(gs.Cores))
	e.genGoroutines.Set(float64(gs.Goroutines))
	e.genOpenFiles.Set(float64(gs.OpenFiles))
	e.genHeap.Set(float64(gs.HeapBytes))
	e.genStretch.Set(gs.Stretch)
	e.genLag.Set(gs.SendLag.P99.Seconds())
	e.genOver.Set(b2f(gs.Overloaded))
	if gs.Overloaded {
		e.genOverTotal.Inc()
	}

	for i := range t.Endpoints {
		ep := &t.Endpoints[i]
		if ep.Latency.Count == 0 || ep.Hist == nil {
			continue
		}
		k := epKey{ep.Group, ep.Name}
		h := e.lat[k]
		if h == nil {
			h = newLatHist()
			e.lat[k] = h
		}
		h.add(ep.Hist)
	}
	if e.wsConnect != nil {
		e.wsConnect.add(t.WS.ConnectHist)
		e.wsReply.add(t.WS.ReplyHist)
	}
}

// Sync takes the recorder's events since the last call (crossings,
// breakpoint, stages, …) and its state: called after each window and at
// the end. It must not be called inside rec.View.
func (e *Exporter) Sync(rec *report.Recorder) {
	var bp, done bool
	rec.View(func(v *report.View) {
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, ev := range v.Events[min(e.seen, len(v.Events)):] {
			e.events.WithLabelValues(string(ev.Kind)).Inc()
			if ev.Kind != report.EventNote && ev.Kind != report.EventControl {
				e.eventTime.WithLabelValues(string(ev.Kind), ev.Node, ev.Metric).Set(float64(ev.Time.UnixNano()) / 1e9)
			}
			if ev.Kind == report.EventBreakpoint {
				e.bpSeen = true
			}
		}
		e.seen = len(v.Events)
		bp, done = e.bpSeen, v.Done
	})
	var b *report.Breakpoint
	if bp {
		// The breakpoint's load may be settled a window after its event
		// (a crossing inside a window not yet ended): read it from the
		// verdict each time (outside e.mu: the recorder's lock is never
		// taken under it).
		b = rec.Verdict().Breakpoint
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if b != nil {
		e.bpReached.Set(1)
		e.bpTime.Set(float64(b.Time.UnixNano()) / 1e9)
		e.bpUsers.Set(float64(b.VUs))
		e.bpRPS.Set(float64(b.RPS))
		for _, g := range b.Groups {
			if g.Open {
				// The verdict says an arrival-rate group's load by its
				// target ("70/s writes"): the gauge is that number.
				e.bpRate.WithLabelValues(g.Name).Set(g.TargetRate)
				e.bpStarted.WithLabelValues(g.Name).Set(float64(g.Rate))
			} else {
				e.bpVUs.WithLabelValues(g.Name).Set(float64(g.VUs))
			}
		}
	}
	if done {
		e.running.Set(0)
	}
}

// Finish marks the load ended (brink_run_running 0): from now on the
// exporter holds the run's final state, and the next scrape served reads
// it (FinalRead).
func (e *Exporter) Finish() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.running.Set(0)
	e.final = true
}

// FinalRead is closed once a scrape that began after Finish has been
// served: Prometheus then has the last window and the final state.
func (e *Exporter) FinalRead() <-chan struct{} { return e.finalRead }

// Scraped reports whether any scrape has been served: whether something
// watches /metrics at all.
func (e *Exporter) Scraped() bool { return e.scraped.Load() }

// latCollector emits the latency histograms at scrape time from the
// exporter's accumulated buckets; Gatherer holds the read lock.
type latCollector struct{ e *Exporter }

func (c latCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.e.latDesc
	ch <- c.e.wsConnectDesc
	ch <- c.e.wsReplyDesc
}

func (c latCollector) Collect(ch chan<- prometheus.Metric) {
	e := c.e
	for k, h := range e.lat {
		m, err := h.metric(e.latDesc, e.created, k.group, k.endpoint)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(e.latDesc, err)
			continue
		}
		ch <- m
	}
	for _, w := range []struct {
		h    *latHist
		desc *prometheus.Desc
	}{{e.wsConnect, e.wsConnectDesc}, {e.wsReply, e.wsReplyDesc}} {
		if w.h == nil { // no WebSocket group
			continue
		}
		m, err := w.h.metric(w.desc, e.created)
		if err != nil {
			m = prometheus.NewInvalidMetric(w.desc, err)
		}
		ch <- m
	}
}

// factory registers metrics on one registry.
type factory struct{ reg *prometheus.Registry }

func (f factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	f.reg.MustRegister(g)
	return g
}

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	f.reg.MustRegister(c)
	return c
}

func (f factory) gaugeVec(name, help string, labels []string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(g)
	return g
}

func (f factory) counterVec(name, help string, labels []string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

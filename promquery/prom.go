package promquery

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/termtext"
)

// defaultScrapeInterval is assumed when the targets API cannot tell (and
// nothing was configured): Prometheus's most common setting.
const defaultScrapeInterval = 15 * time.Second

// The scrape interval read from the targets API is kept within these
// bounds: it sets the poll interval and the rate window, and a target
// scraped every 1ms (1 300 queries in 6 s) or every 100y (node data that
// never moves) must not decide brink's pace.
const (
	minScrapeInterval = time.Second
	maxScrapeInterval = 5 * time.Minute
)

// promSource polls a Prometheus server: one instant query per metric per
// poll for all nodes, grouped by instance (plus the name and role labels).
type promSource struct {
	base   string // as given, for the client only
	shown  string // base for messages: credentials redacted
	red    *redactor
	client api.Client
	api    v1.API
	nm     *naming
	sel    string // matchers spliced into each selector, e.g. job="node"
	match  string // the selector as given, for messages
	by     string // grouping labels, e.g. instance,node,role
	panels []PanelQuery

	cfgInterval, cfgScrape, timeout, staleAfter time.Duration

	// scrape is the scrape interval in ns; atomic so Interval never waits
	// for a poll in progress.
	scrape atomic.Int64

	mu         sync.Mutex // serialises Poll; guards the fields below
	discovered bool
	last       map[nodeID]measure.Sample // for stale re-use when a poll fails
	discoWarn  string
	dupChecked bool
	dupWarn    string
}

// metricQuery is one of the fixed node queries.
type metricQuery struct {
	key   string
	query string
}

func newPromSource(c Config, client *http.Client, nm *naming, red *redactor) (*promSource, error) {
	sel, err := matchers(c.Match)
	if err != nil {
		return nil, err
	}
	base := strings.TrimRight(c.Prometheus, "/")
	ac, err := api.NewClient(api.Config{Address: base, Client: client})
	if err != nil {
		return nil, fmt.Errorf("prometheus %s: %v", RedactURL(base), err)
	}
	match := c.Match
	if strings.TrimSpace(match) == "" {
		match = DefaultMatch
	}
	by := []string{"instance"}
	for _, l := range []string{nm.nameLabel, nm.roleLabel} {
		if l != "" && !slices.Contains(by, l) {
			by = append(by, l)
		}
	}
	for _, l := range by {
		if !model.LegacyValidation.IsValidLabelName(l) {
			return nil, fmt.Errorf("bad label name %q", l)
		}
	}
	s := &promSource{base: base, shown: red.text(base), red: red, client: ac, api: v1.NewAPI(ac), nm: nm, sel: sel, match: match,
		by: strings.Join(by, ","), panels: c.Panels, cfgInterval: c.Interval, cfgScrape: c.ScrapeInterval,
		timeout: c.Timeout, staleAfter: c.StaleAfter, last: map[nodeID]measure.Sample{}}
	scrape := c.ScrapeInterval
	if scrape <= 0 {
		scrape = c.Interval
	}
	if scrape <= 0 {
		scrape = defaultScrapeInterval
	}
	s.scrape.Store(int64(scrape))
	return s, nil
}

func (s *promSource) Describe() string {
	return s.red.text(fmt.Sprintf("prometheus %s %s", s.shown, s.match))
}

// Interval is the configured interval, else the scrape interval (read from
// the targets API at the first poll).
func (s *promSource) Interval() time.Duration {
	if s.cfgInterval > 0 {
		return s.cfgInterval
	}
	return s.scrapeInterval()
}

func (s *promSource) scrapeInterval() time.Duration { return time.Duration(s.scrape.Load()) }

// window is the rate window: 4 scrape intervals, so every rate() sees at
// least a few samples even with a missed scrape (Grafana's $__rate_interval rule).
func (s *promSource) window() string {
	return model.Duration(4 * s.scrapeInterval()).String()
}

// with is a metric selector: the configured matchers plus extra ones.
func (s *promSource) with(metric, extra string) string {
	m := s.sel
	if extra != "" {
		if m != "" {
			m += ","
		}
		m += extra
	}
	return metric + "{" + m + "}"
}

// upQuery is the poll's first query: it says which nodes exist, and its
// evaluation time becomes every other query's.
func (s *promSource) upQuery() string { return "max by (" + s.by + ") (" + s.with("up", "") + ")" }

// queries are the node queries of one poll after up: the age of node_load1
// and the number of cores beside the node-metric table's PromQL (CPU busy
// is node-mixin's rule, computed by Prometheus; the scrape source computes
// the same from the same table).
func (s *promSource) queries() []metricQuery {
	w, by := s.window(), s.by
	q := measure.PromQL{By: by, With: s.with, Rate: func(sel string) string { return "rate(" + sel + "[" + w + "])" }}
	qs := []metricQuery{
		// The age is computed by Prometheus against its own clock, so a
		// skewed clock on brink's machine cannot make fresh values stale.
		{"age", "max by (" + by + ") (time() - timestamp(" + s.with("node_load1", "") + "))"},
		{"cores", "count by (" + by + ") (" + s.with("node_cpu_seconds_total", `mode="idle"`) + ")"},
	}
	for _, m := range measure.NodeMetrics {
		if m.PromQL != nil {
			qs = append(qs, metricQuery{m.Key, m.PromQL(q)})
		}
	}
	return qs
}

type queryResult struct {
	vec  model.Vector
	err  error
	warn []string
}

// Poll runs the up query, then every other query (node metrics and custom
// panels) concurrently at up's evaluation time. up carries no time, so
// Prometheus picks its own "now" whatever brink's clock says; pinning the
// rest to that instant makes one poll one moment: no query sees a scrape
// the others missed.
func (s *promSource) Poll(ctx context.Context) (measure.Poll, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := time.Now()
	p := measure.Poll{Time: start}
	timeout := pollTimeout(s.timeout, s.Interval())
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	if !s.discovered {
		s.discover(ctx)
	}
	if s.discoWarn != "" {
		p.Warnings = append(p.Warnings, s.discoWarn)
	}
	if !s.dupChecked {
		s.checkMerged(ctx, timeout)
	}
	if s.dupWarn != "" {
		p.Warnings = append(p.Warnings, s.dupWarn)
	}

	up := s.instant(ctx, s.upQuery(), time.Time{}, timeout)
	p.Warnings = appendUnique(p.Warnings, up.warn...)
	var err error
	switch {
	case up.err != nil:
		err = fmt.Errorf("prometheus %s: %w", s.shown, up.err)
	case len(up.vec) == 0:
		err = fmt.Errorf("prometheus %s: selector %s matches no targets", s.shown, s.match)
	}
	if err != nil {
		for _, pq := range s.panels {
			p.Panels = append(p.Panels, measure.PanelValue{Title: pq.Title, Unit: pq.Unit, Err: "not polled: " + shortReason(err)})
		}
		err = s.red.err(err)
		p = s.failed(p, err)
		s.red.poll(&p)
		return p, err
	}
	at := up.vec[0].Timestamp.Time()
	p.EvalTime = at

	qs := s.queries()
	res := make([]queryResult, len(qs))
	pres := make([]queryResult, len(s.panels))
	var wg sync.WaitGroup
	for i, q := range qs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = s.instant(ctx, q.query, at, timeout)
		}()
	}
	for i, pq := range s.panels {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pres[i] = s.instant(ctx, pq.Query, at, timeout)
		}()
	}
	wg.Wait()

	byKey := map[string]queryResult{"up": up}
	for i, q := range qs {
		byKey[q.key] = res[i]
		p.Warnings = appendUnique(p.Warnings, res[i].warn...)
		if res[i].err != nil {
			p.Warnings = appendUnique(p.Warnings, fmt.Sprintf("query %s: %v", q.key, res[i].err))
		}
	}
	for i, pq := range s.panels {
		pv, cut := panelValue(pq, pres[i])
		p.Panels = append(p.Panels, pv)
		p.Warnings = appendUnique(p.Warnings, pres[i].warn...)
		p.Warnings = appendUnique(p.Warnings, cut)
	}
	p.Samples = s.assemble(byKey, start)
	sortSamples(p.Samples)
	// Only nodes still matched are remembered for a failed poll.
	s.last = make(map[nodeID]measure.Sample, len(p.Samples))
	for _, smp := range p.Samples {
		s.last[nodeID{smp.Node, smp.Instance}] = smp
	}
	s.red.poll(&p)
	return p, nil
}

// failed returns the last known samples marked stale with the error.
func (s *promSource) failed(p measure.Poll, err error) measure.Poll {
	p.Err = err.Error()
	p.Samples = p.Samples[:0]
	for _, smp := range s.last {
		smp.Stale, smp.StaleReason = true, "poll failed: "+shortReason(err)
		p.Samples = append(p.Samples, smp)
	}
	sortSamples(p.Samples)
	return p
}

// shortReason drops the "prometheus URL:" prefix a stale reason does not need.
func shortReason(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, "prometheus ") {
		return msg[i+2:]
	}
	return msg
}

// instant runs one instant query at time at (zero: Prometheus's now) and
// keeps only vectors and scalars.
func (s *promSource) instant(ctx context.Context, q string, at time.Time, timeout time.Duration) queryResult {
	val, warns, infos, err := s.api.Query(ctx, q, at, v1.WithTimeout(timeout))
	r := queryResult{warn: append(append([]string(nil), warns...), infos...)}
	if err != nil {
		r.err = describeAPIErr(err, timeout)
		return r
	}
	switch v := val.(type) {
	case model.Vector:
		r.vec = v
	case *model.Scalar:
		r.vec = model.Vector{&model.Sample{Metric: model.Metric{}, Value: v.Value, Timestamp: v.Timestamp}}
	case nil:
		r.err = errors.New("empty result")
	default:
		r.err = fmt.Errorf("want an instant vector, got a %s", val.Type())
	}
	return r
}

// describeAPIErr makes client_golang's errors one short line.
func describeAPIErr(err error, timeout time.Duration) error {
	var ae *v1.Error
	if errors.As(err, &ae) {
		switch ae.Type {
		case v1.ErrServer, v1.ErrClient:
			msg := ae.Msg
			if strings.HasPrefix(msg, "server error: ") || strings.HasPrefix(msg, "client error: ") {
				msg = "HTTP " + msg[len("server error: "):]
			}
			if d := strings.TrimSpace(ae.Detail); d != "" && len(d) < 120 {
				msg += " (" + termtext.OneLine(d, maxErrText) + ")"
			}
			return errors.New(msg)
		case v1.ErrBadResponse:
			return fmt.Errorf("bad response: %s", termtext.OneLine(ae.Msg, maxErrText))
		case v1.ErrTimeout, v1.ErrCanceled:
			return fmt.Errorf("no answer within %s", timeout)
		case v1.ErrBadData, v1.ErrExec:
			return fmt.Errorf("query rejected: %s", termtext.OneLine(ae.Msg, maxErrText))
		}
		return errors.New(termtext.OneLine(ae.Error(), maxErrText))
	}
	return describeHTTPErr(err, timeout)
}

// nodeID is a node as samples name it; the instance alone is not unique
// when several nodes share one exporter address (the demo).
type nodeID struct{ node, instance string }

// nodeKey identifies a node across the query results: its grouping labels.
type nodeKey struct{ instance, name, role string }

// Label values are cleaned of terminal control characters here, as they
// come in: they become node names and roles shown to everyone watching.
func (s *promSource) keyOf(m model.Metric) nodeKey {
	k := nodeKey{instance: termtext.Clean(string(m["instance"]))}
	if s.nm.nameLabel != "instance" {
		k.name = termtext.Clean(string(m[model.LabelName(s.nm.nameLabel)]))
	}
	if s.nm.roleLabel != "" {
		k.role = termtext.Clean(string(m[model.LabelName(s.nm.roleLabel)]))
	}
	return k
}

// assemble joins the query results into one sample per node.
func (s *promSource) assemble(r map[string]queryResult, polledAt time.Time) []measure.Sample {
	nodes := map[nodeKey]*measure.Sample{}
	var order []nodeKey
	get := func(m model.Metric) *measure.Sample {
		k := s.keyOf(m)
		smp, ok := nodes[k]
		if !ok {
			n := measure.NaNSample()
			smp = &n
			smp.Instance = k.instance
			label := k.name
			if s.nm.nameLabel == "instance" {
				label = k.instance
			}
			smp.Node = s.nm.name(k.instance, label)
			smp.Role = s.nm.role(smp.Node, k.role)
			nodes[k] = smp
			order = append(order, k)
		}
		return smp
	}
	upVal := map[nodeKey]float64{}
	for _, e := range r["up"].vec {
		get(e.Metric)
		upVal[s.keyOf(e.Metric)] = float64(e.Value)
	}
	each := func(key string, f func(*measure.Sample, *model.Sample)) {
		for _, e := range r[key].vec {
			f(get(e.Metric), e)
		}
	}
	age := map[nodeKey]time.Duration{}
	each("age", func(_ *measure.Sample, e *model.Sample) {
		v := float64(e.Value)
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			age[s.keyOf(e.Metric)] = max(0, time.Duration(v*float64(time.Second)))
		}
	})
	each("cores", func(smp *measure.Sample, e *model.Sample) { smp.Cores = int(e.Value) })
	for _, m := range measure.NodeMetrics {
		if m.PromQL == nil {
			continue
		}
		each(m.Key, func(smp *measure.Sample, e *model.Sample) {
			v := float64(e.Value)
			if m.Unit == "%" {
				v = clampPct(100 * v)
			}
			if !m.BusiestDevice {
				m.Set(smp, v)
				return
			}
			// topk may return ties; keep the first device by name so the
			// shown device is stable.
			dev := termtext.Clean(string(e.Metric["device"]))
			if old := m.Of(smp); math.IsNaN(old) || v > old || (v == old && dev < smp.DiskDevice) {
				m.Set(smp, v)
				smp.DiskDevice = dev
			}
		})
	}

	staleAfter := s.staleAfter
	if staleAfter <= 0 {
		staleAfter = 3 * s.scrapeInterval()
	}
	out := make([]measure.Sample, 0, len(order))
	for _, k := range order {
		smp := nodes[k]
		if smp.Cores > 0 && !math.IsNaN(smp.Load1) {
			smp.Load1PerCore = smp.Load1 / float64(smp.Cores)
		}
		a, haveAge := age[k]
		// The value's own time on brink's clock: the poll's start minus
		// the age Prometheus measured.
		smp.Time = polledAt.Add(-a).Truncate(time.Millisecond)
		switch u, haveUp := upVal[k]; {
		case haveUp && u == 0:
			smp.Stale, smp.StaleReason = true, "target down"
			if prev, ok := s.last[nodeID{smp.Node, smp.Instance}]; ok && !haveAge {
				// Keep the last known values visible, but say they are old.
				prev.Stale, prev.StaleReason = true, "target down"
				*smp = prev
			}
		case !haveAge:
			smp.Stale, smp.StaleReason = true, "no node_load1 sample"
		case a > staleAfter:
			smp.Stale, smp.StaleReason = true, fmt.Sprintf("last sample %s old", a.Round(time.Second))
		}
		out = append(out, *smp)
	}
	return out
}

// MaxPanelSeries bounds the series a custom panel keeps per poll: every
// poll is kept for the report, and a query matching thousands of series
// would otherwise grow memory with each one. The highest values stay, since
// they are the ones that cross a threshold.
const MaxPanelSeries = 500

// panelValue turns a custom panel's query result into series sorted by
// labels, at most MaxPanelSeries of them (with a warning past that).
func panelValue(pq PanelQuery, r queryResult) (measure.PanelValue, string) {
	pv := measure.PanelValue{Title: pq.Title, Unit: pq.Unit}
	if r.err != nil {
		pv.Err = r.err.Error()
		return pv, ""
	}
	vec := r.vec
	warn := ""
	if len(vec) > MaxPanelSeries {
		// No count in the text: the same warning every poll is said once.
		warn = fmt.Sprintf("panel %q: more than %d series, kept the %d highest", pq.Title, MaxPanelSeries, MaxPanelSeries)
		vec = slices.Clone(vec)
		slices.SortFunc(vec, func(a, b *model.Sample) int { return cmpDesc(float64(a.Value), float64(b.Value)) })
		vec = vec[:MaxPanelSeries]
	}
	for _, e := range vec {
		pv.Series = append(pv.Series, measure.PanelSeries{Labels: termtext.Clean(e.Metric.String()), Value: float64(e.Value)})
	}
	slices.SortFunc(pv.Series, func(a, b measure.PanelSeries) int { return measure.NaturalCompare(a.Labels, b.Labels) })
	return pv, warn
}

// cmpDesc orders values high to low, NaN last.
func cmpDesc(a, b float64) int {
	switch an, bn := math.IsNaN(a), math.IsNaN(b); {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	}
	return cmp.Compare(b, a)
}

func appendUnique(dst []string, add ...string) []string {
	for _, a := range add {
		if a != "" && !slices.Contains(dst, a) {
			dst = append(dst, a)
		}
	}
	return dst
}

// discover reads the scrape interval of the matched targets from the
// targets API, so rate windows fit what Prometheus actually stores. The
// client_golang ActiveTarget type has no scrapeInterval field, hence the
// raw request. Failure is not fatal: the configured or default interval
// stays, with a warning.
func (s *promSource) discover(ctx context.Context) {
	if s.cfgScrape > 0 {
		s.discovered = true
		return
	}
	upRes := s.instant(ctx, "max by (job,instance) ("+s.with("up", "")+")", time.Time{}, pollTimeout(s.timeout, s.Interval()))
	if upRes.err != nil || len(upRes.vec) == 0 {
		return // the poll itself reports why; try again next poll
	}
	want := map[[2]string]bool{}
	for _, e := range upRes.vec {
		want[[2]string{string(e.Metric["job"]), string(e.Metric["instance"])}] = true
	}
	u := s.client.URL("/api/v1/targets", nil)
	q := u.Query()
	q.Set("state", "active")
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return
	}
	_, body, err := s.client.Do(ctx, req)
	s.discovered = true
	var resp struct {
		Status string `json:"status"`
		Data   struct {
			ActiveTargets []struct {
				Labels         map[string]string `json:"labels"`
				ScrapeInterval string            `json:"scrapeInterval"`
			} `json:"activeTargets"`
		} `json:"data"`
	}
	if err == nil {
		err = json.Unmarshal(body, &resp)
	}
	var longest time.Duration
	if err == nil {
		for _, t := range resp.Data.ActiveTargets {
			if !want[[2]string{t.Labels["job"], t.Labels["instance"]}] {
				continue
			}
			d, perr := model.ParseDuration(t.ScrapeInterval)
			if perr == nil && time.Duration(d) > longest {
				longest = time.Duration(d)
			}
		}
	}
	if longest > 0 {
		// The slowest matched target decides, so its rates have samples.
		if c := min(max(longest, minScrapeInterval), maxScrapeInterval); c != longest {
			s.discoWarn = fmt.Sprintf("scrape interval %s from the targets API is out of bounds, using %s (rate window %s)",
				model.Duration(longest), model.Duration(c), model.Duration(4*c))
			longest = c
		}
		s.scrape.Store(int64(longest))
		return
	}
	s.discoWarn = fmt.Sprintf("scrape interval unknown (targets API gave none), assuming %s; rate window %s", s.scrapeInterval(), s.window())
}

// checkMerged warns, once, when several node_exporter series fall into one
// node by the grouping labels (e.g. nodes behind one scrape address named
// by instance): their values would be silently merged.
func (s *promSource) checkMerged(ctx context.Context, timeout time.Duration) {
	r := s.instant(ctx, "count by ("+s.by+") ("+s.with("node_load1", "")+") > 1", time.Time{}, timeout)
	if r.err != nil {
		return // the poll itself reports why; try again next poll
	}
	s.dupChecked = true
	if len(r.vec) == 0 {
		return
	}
	e := r.vec[0]
	s.dupWarn = fmt.Sprintf("%d nodes look like one: %g node_load1 series share %s, so their values are merged; "+
		"set name_label (e.g. node) or role_label to a label that tells them apart", len(r.vec), float64(e.Value), e.Metric)
}

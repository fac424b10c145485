package promquery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/termtext"
)

// maxExposition caps one node_exporter response; a real one is ~100 KiB, so
// anything far larger is a wrong URL, not metrics.
const maxExposition = 16 << 20

// scrapeSource polls node_exporter endpoints directly and computes rates
// between its own successive scrapes, for when there is no Prometheus.
type scrapeSource struct {
	client   *http.Client
	red      *redactor
	targets  []scrapeTarget
	interval time.Duration
	timeout  time.Duration
	panels   []PanelQuery

	mu   sync.Mutex // guards last, serialises Poll
	last []*nodeState
}

type scrapeTarget struct {
	url      string
	instance string
	node     string
	role     string
}

// nodeState is what the source remembers about one node between polls.
type nodeState struct {
	prev   *exposition    // last good scrape
	sample measure.Sample // last sample returned, for stale re-use
	have   bool           // sample is real (at least one good scrape)
}

// seriesKey names one counter series of the metrics brink reads.
type seriesKey struct {
	kind uint8 // one of the k* constants
	a, b string
}

const (
	kCPU   uint8 = iota // a = cpu, b = mode
	kIO                 // a = device: node_disk_io_time_seconds_total
	kRead               // a = device
	kWrite              // a = device
	kRx                 // a = device (not lo)
	kTx                 // a = device (not lo)
)

// exposition is the part of one scrape brink needs.
type exposition struct {
	at                 time.Time
	counters           map[seriesKey]float64
	load1              float64
	memAvail, memTotal float64
	cores              int
}

var nodesPath = regexp.MustCompile(`^/nodes/([^/]+)/metrics$`)

func newScrapeSource(c Config, client *http.Client, nm *naming, red *redactor) (*scrapeSource, error) {
	s := &scrapeSource{client: client, red: red, interval: c.Interval, timeout: c.Timeout, panels: c.Panels}
	if s.interval <= 0 {
		s.interval = time.Second
	}
	seen := map[string]bool{}
	for _, raw := range c.Scrape {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("bad scrape URL %q: %v", RedactURL(raw), err)
		}
		if seen[raw] {
			continue
		}
		seen[raw] = true
		// The demo serves many nodes behind one host:port as
		// /nodes/NAME/metrics: the path names the node then.
		label := ""
		if m := nodesPath.FindStringSubmatch(u.Path); m != nil {
			label = m[1]
		}
		node := nm.name(u.Host, label, raw)
		s.targets = append(s.targets, scrapeTarget{url: raw, instance: u.Host, node: node, role: nm.role(node, "")})
		s.last = append(s.last, &nodeState{})
	}
	return s, nil
}

func (s *scrapeSource) Interval() time.Duration { return s.interval }

func (s *scrapeSource) pollTimeout() time.Duration { return pollTimeout(s.timeout, s.interval) }

func (s *scrapeSource) Describe() string {
	if len(s.targets) == 1 {
		return s.red.text("node_exporter " + s.targets[0].url)
	}
	return fmt.Sprintf("%d node_exporters (direct scrape)", len(s.targets))
}

// Poll scrapes every node concurrently. A node that fails keeps its last
// values, marked stale with the reason; the poll fails only when every node
// failed.
func (s *scrapeSource) Poll(ctx context.Context) (measure.Poll, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := time.Now()
	p := measure.Poll{Time: start}
	ctx, cancel := context.WithTimeout(ctx, s.pollTimeout())
	defer cancel()

	type result struct {
		exp *exposition
		err error
	}
	results := make([]result, len(s.targets))
	var wg sync.WaitGroup
	for i := range s.targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, err := s.scrape(ctx, s.targets[i].url)
			results[i] = result{e, err}
		}()
	}
	wg.Wait()

	failed := 0
	var firstErr error
	for i, t := range s.targets {
		st := s.last[i]
		r := results[i]
		if r.err != nil {
			failed++
			if firstErr == nil {
				firstErr = fmt.Errorf("%s: %w", t.node, r.err)
			}
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s: %v", t.node, r.err))
			p.Samples = append(p.Samples, s.staleSample(t, st, r.err.Error()))
			continue
		}
		prev := st.prev
		tooSoon := prev != nil && r.exp.at.Sub(prev.at) < minRateGap
		if tooSoon {
			// Counters in 10 ms ticks over a few ms give any rate (the
			// baseline poll and the first one came 25 ms apart: cpu 97 %):
			// gauges only now, and the next rate spans the longer gap.
			prev = nil
		}
		smp := computeSample(prev, r.exp)
		smp.Node, smp.Role, smp.Instance = t.node, t.role, t.instance
		if !tooSoon {
			st.prev = r.exp
		}
		st.sample, st.have = smp, true
		p.Samples = append(p.Samples, smp)
	}
	for _, pq := range s.panels {
		p.Panels = append(p.Panels, measure.PanelValue{Title: pq.Title, Unit: pq.Unit,
			Err: "custom panels need a Prometheus source (nodes.prometheus), not direct scrape"})
	}
	sortSamples(p.Samples)
	if len(s.targets) > 0 && failed == len(s.targets) {
		err := firstErr
		if failed > 1 {
			err = fmt.Errorf("all %d nodes failed, first %w", failed, firstErr)
		}
		err = s.red.err(err)
		p.Err = err.Error()
		s.red.poll(&p)
		return p, err
	}
	s.red.poll(&p)
	return p, nil
}

// staleSample repeats a node's last values, marked stale; a node never seen
// gets NaN values.
func (s *scrapeSource) staleSample(t scrapeTarget, st *nodeState, reason string) measure.Sample {
	smp := st.sample
	if !st.have {
		smp = measure.NaNSample()
		smp.Time = time.Now()
	}
	smp.Node, smp.Role, smp.Instance = t.node, t.role, t.instance
	smp.Stale, smp.StaleReason = true, reason
	return smp
}

// scrape GETs and parses one endpoint.
func (s *scrapeSource) scrape(ctx context.Context, u string) (*exposition, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	// Ask for the text format: protobuf would be smaller but the text
	// parser is what node_exporter always speaks.
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, describeHTTPErr(err, s.pollTimeout())
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if resp.ContentLength > maxExposition {
		return nil, errTooLarge
	}
	// One byte past the cap tells "too large" from a body that ends early.
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxExposition+1))
	if err == nil && len(body) > maxExposition {
		return nil, errTooLarge
	}
	var e *exposition
	if err == nil {
		e, err = parseBody(body)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, describeHTTPErr(ctx.Err(), s.pollTimeout())
		}
		return nil, err
	}
	e.at = time.Now()
	return e, nil
}

// wantedFamilies are the only metric families brink reads from a scrape.
var wantedFamilies = map[string]bool{
	"node_cpu_seconds_total":            true,
	"node_disk_io_time_seconds_total":   true,
	"node_disk_read_bytes_total":        true,
	"node_disk_written_bytes_total":     true,
	"node_network_receive_bytes_total":  true,
	"node_network_transmit_bytes_total": true,
	"node_load1":                        true,
	"node_memory_MemAvailable_bytes":    true,
	"node_memory_MemTotal_bytes":        true,
}

// filterExposition keeps only the lines of the families brink reads (and
// their HELP/TYPE comments). node_exporter sends a thousand or more series
// and the text parser allocates per token, so parsing only the ~100 needed
// lines cuts a poll's CPU several times. A body that does not end in a
// newline was cut short: say so, since the cut may be in a dropped line.
func filterExposition(body []byte) ([]byte, error) {
	if len(body) > 0 && body[len(body)-1] != '\n' {
		return nil, errors.New("bad exposition: truncated (no final newline)")
	}
	out := make([]byte, 0, 16<<10)
	for len(body) > 0 {
		i := bytes.IndexByte(body, '\n')
		line := body[:i+1]
		body = body[i+1:]
		if wantedFamilies[string(familyOf(line))] {
			out = append(out, line...)
		}
	}
	return out, nil
}

// familyOf returns the metric name a text-format line belongs to: the name
// of a sample line, or the name a # HELP / # TYPE comment describes.
func familyOf(line []byte) []byte {
	if len(line) > 0 && line[0] == '#' {
		// "# HELP name …" / "# TYPE name …", sliced by hand: this runs for
		// every comment line of every scrape, and bytes.Fields allocates.
		rest := bytes.TrimLeft(line[1:], " \t")
		if !bytes.HasPrefix(rest, []byte("HELP")) && !bytes.HasPrefix(rest, []byte("TYPE")) {
			return nil
		}
		rest = bytes.TrimLeft(rest[4:], " \t")
		if i := bytes.IndexAny(rest, " \t\n"); i >= 0 {
			return rest[:i]
		}
		return rest
	}
	if i := bytes.IndexAny(line, "{ \t\n"); i >= 0 {
		return line[:i]
	}
	return line
}

// errTooLarge is a response past maxExposition: not cut and parsed, since a
// cut body is not the node's metrics.
var errTooLarge = fmt.Errorf("exposition too large: more than %d MiB (node_exporter sends about 100 KiB; is this a /metrics URL?)", maxExposition>>20)

// parseExposition reads node_exporter text into the few values brink uses.
func parseExposition(r io.Reader) (*exposition, error) {
	body, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return parseBody(body)
}

func parseBody(body []byte) (*exposition, error) {
	body, err := filterExposition(body)
	if err != nil {
		return nil, err
	}
	// A fresh parser per call: TextParser is not safe for concurrent use,
	// and its zero value panics (prometheus/common ≥ 0.66).
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("bad exposition: %v", termtext.OneLine(err.Error(), maxErrText))
	}
	e := &exposition{counters: counterSet{}, load1: math.NaN(), memAvail: math.NaN(), memTotal: math.NaN()}
	if mf := fams["node_cpu_seconds_total"]; mf != nil {
		for _, m := range mf.GetMetric() {
			mode := label(m, "mode")
			e.counters[seriesKey{kCPU, label(m, "cpu"), mode}] = value(m)
			if mode == "idle" {
				e.cores++
			}
		}
	}
	perDevice := func(name string, kind uint8, skipLo bool) {
		for _, m := range fams[name].GetMetric() {
			dev := label(m, "device")
			if skipLo && dev == "lo" {
				continue
			}
			e.counters[seriesKey{kind: kind, a: dev}] = value(m)
		}
	}
	perDevice("node_disk_io_time_seconds_total", kIO, false)
	perDevice("node_disk_read_bytes_total", kRead, false)
	perDevice("node_disk_written_bytes_total", kWrite, false)
	perDevice("node_network_receive_bytes_total", kRx, true)
	perDevice("node_network_transmit_bytes_total", kTx, true)
	gauge := func(name string) float64 {
		ms := fams[name].GetMetric()
		if len(ms) == 0 {
			return math.NaN()
		}
		return value(ms[0])
	}
	e.load1 = gauge("node_load1")
	e.memAvail = gauge("node_memory_MemAvailable_bytes")
	e.memTotal = gauge("node_memory_MemTotal_bytes")
	if len(e.counters) == 0 && math.IsNaN(e.load1) && math.IsNaN(e.memTotal) {
		return nil, errors.New("no node_exporter metrics in the response")
	}
	return e, nil
}

func label(m *dto.Metric, name string) string {
	for _, lp := range m.GetLabel() {
		if lp.GetName() == name {
			return lp.GetValue()
		}
	}
	return ""
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Untyped != nil:
		return m.GetUntyped().GetValue()
	}
	return math.NaN()
}

// minRateGap is the shortest interval a rate is taken over: node_exporter's
// CPU counters move in 10 ms ticks per core.
const minRateGap = 500 * time.Millisecond

// computeSample turns two scrapes into a sample by the node-metric table's
// Scrape formulas; with no previous scrape only the gauges are known and
// every rate is NaN.
func computeSample(prev, cur *exposition) measure.Sample {
	n := measure.NodeRates{Load1: cur.load1, MemAvail: cur.memAvail, MemTotal: cur.memTotal, Cores: cur.cores}
	if prev != nil {
		n.CPU = map[string]map[string]float64{}
		n.DiskIO, n.DiskRead, n.DiskWrt = map[string]float64{}, map[string]float64{}, map[string]float64{}
		n.NetRx, n.NetTx = map[string]float64{}, map[string]float64{}
		for k, v := range rates(prev.counters, cur.counters, cur.at.Sub(prev.at).Seconds()) {
			switch k.kind {
			case kCPU:
				if n.CPU[k.a] == nil {
					n.CPU[k.a] = map[string]float64{}
				}
				n.CPU[k.a][k.b] += v
			case kIO:
				n.DiskIO[k.a] += v
			case kRead:
				n.DiskRead[k.a] += v
			case kWrite:
				n.DiskWrt[k.a] += v
			case kRx:
				n.NetRx[k.a] += v
			case kTx:
				n.NetTx[k.a] += v
			}
		}
	}
	smp := measure.Sample{Time: cur.at, Cores: cur.cores}
	for _, m := range measure.NodeMetrics {
		v := m.Scrape(&n)
		if m.Unit == "%" {
			v = clampPct(100 * v)
		}
		m.Set(&smp, v)
	}
	if dev, v := n.BusiestDisk(); !math.IsNaN(v) {
		smp.DiskDevice = dev
	}
	return smp
}

// clampPct keeps a percentage in [0, 100]: counters sampled a few ms apart
// can overshoot slightly, and a bar past 100 % only confuses.
func clampPct(v float64) float64 {
	switch {
	case math.IsNaN(v):
		return v
	case v < 0:
		return 0
	case v > 100:
		return 100
	}
	return v
}

// maxErrText is the most of an outside error text a poll repeats.
const maxErrText = 200

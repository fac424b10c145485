package promquery

import (
	"bytes"
	"context"
	"io"
	"maps"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/promquery/promtest"
)

// nodeMixinBusy is node-mixin's CPU busy rule, verbatim but for the window
// and selector; nodeMixinIOWait is the same average of the iowait mode.
const (
	nodeMixinBusy   = `1 - avg without (cpu) (sum without (mode) (rate(node_cpu_seconds_total{job="node",mode=~"idle|iowait|steal"}[4s])))`
	nodeMixinIOWait = `avg without (cpu) (sum without (mode) (rate(node_cpu_seconds_total{job="node",mode="iowait"}[4s])))`
)

// TestCPUBusyIsNodeMixin checks both sources against node-mixin's
// expression evaluated by a real Prometheus. One node is a real
// node_exporter (this machine, whose modes need not add up to 1 cpu-second
// per second); the other serves counters whose modes add up to 0.8, as on a
// VM whose idle accounting lags: node-mixin reads 60 % busy there, the old
// idle-over-all-modes formula 50 %.
func TestCPUBusyIsNodeMixin(t *testing.T) {
	promtest.Long(t, "starts real servers")
	neURL := promtest.StartNodeExporter(t)
	clock := clockExporter(t)
	clockAddr := strings.TrimPrefix(clock.URL, "http://")
	promURL := promtest.StartPrometheus(t,
		promtest.Target{Addr: strings.TrimSuffix(strings.TrimPrefix(neURL, "http://"), "/metrics"), Labels: map[string]string{"node": "real"}},
		promtest.Target{Addr: clockAddr, MetricsPath: "/nodes/clock/metrics", Labels: map[string]string{"node": "clock"}},
	)
	src := mustNew(t, Config{Prometheus: promURL, NameLabel: "node"})
	ac, err := api.NewClient(api.Config{Address: promURL})
	if err != nil {
		t.Fatal(err)
	}
	papi := v1.NewAPI(ac)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// at evaluates q at t and returns the value per node label.
	at := func(q string, ts time.Time) map[string]float64 {
		t.Helper()
		v, _, _, err := papi.Query(ctx, q, ts)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		out := map[string]float64{}
		for _, s := range v.(model.Vector) {
			out[string(s.Metric["node"])] = float64(s.Value)
		}
		return out
	}

	// Polls until both nodes have rates over a full window (Prometheus
	// extrapolates a rate over a half-empty window to less than the truth);
	// bounded by ctx.
	var p measure.Poll
	for ctx.Err() == nil {
		p, err = src.Poll(ctx)
		if err == nil && len(p.Samples) == 2 && !math.IsNaN(p.Samples[0].CPU) && !math.IsNaN(p.Samples[1].CPU) &&
			!p.Samples[0].Stale && !p.Samples[1].Stale {
			full := at(`count_over_time(node_load1{job="node"}[4s]) >= 4`, p.EvalTime)
			if len(full) == 2 {
				break
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	if err != nil || len(p.Samples) != 2 || p.EvalTime.IsZero() {
		t.Fatalf("poll %+v, %v", p, err)
	}
	if w := src.(*promSource).window(); w != "4s" {
		t.Fatalf("rate window %s, the expressions here assume 4s", w)
	}
	busy, iow := at(nodeMixinBusy, p.EvalTime), at(nodeMixinIOWait, p.EvalTime)
	for _, s := range p.Samples {
		t.Logf("prometheus source %s: cpu %.4f%% iowait %.4f%%; node-mixin at %s: %.4f%% %.4f%%",
			s.Node, s.CPU, s.IOWait, p.EvalTime.Format(time.RFC3339Nano), 100*busy[s.Node], 100*iow[s.Node])
		// The same expression at the same instant: equal but for float
		// rounding (and the clamp to 0..100).
		if want := clampPct(100 * busy[s.Node]); math.Abs(s.CPU-want) > 1e-9 {
			t.Errorf("%s: cpu %.6f, node-mixin says %.6f", s.Node, s.CPU, want)
		}
		if want := clampPct(100 * iow[s.Node]); math.Abs(s.IOWait-want) > 1e-9 {
			t.Errorf("%s: iowait %.6f, node-mixin says %.6f", s.Node, s.IOWait, want)
		}
	}
	// Scrape timing jitter on a loaded box moves Prometheus's reading by a
	// point or so; the old formula would be 10 points off.
	if c := 100 * busy["clock"]; math.Abs(c-60) > 3 {
		t.Errorf("node-mixin on the clock exporter: %.3f%%, want 60", c)
	}

	// The direct source on the clock exporter: its own rates between two
	// scrapes, the same rule, the same answer as Prometheus's.
	direct := mustNew(t, Config{Scrape: []string{clock.URL + "/nodes/clock/metrics"}})
	if _, err := direct.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	dp, err := direct.Poll(ctx)
	if err != nil || len(dp.Samples) != 1 {
		t.Fatalf("direct poll %+v, %v", dp, err)
	}
	ds := dp.Samples[0]
	t.Logf("direct source clock: cpu %.4f%% iowait %.4f%%", ds.CPU, ds.IOWait)
	if math.Abs(ds.CPU-100*busy["clock"]) > 3 || math.Abs(ds.IOWait-100*iow["clock"]) > 1 {
		t.Errorf("direct: cpu %.3f iowait %.3f, node-mixin by Prometheus %.3f %.3f", ds.CPU, ds.IOWait, 100*busy["clock"], 100*iow["clock"])
	}

	// The direct source on the real node_exporter: what it computes from two
	// scrapes equals node-mixin's rule worked out here, independently, from
	// the same two expositions.
	get := func() ([]byte, time.Time) {
		resp, err := http.Get(neURL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return b, time.Now()
	}
	b1, t1 := get()
	time.Sleep(time.Second)
	b2, t2 := get()
	e1, err1 := parseExposition(bytes.NewReader(b1))
	e2, err2 := parseExposition(bytes.NewReader(b2))
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	e1.at, e2.at = t1, t2
	got := computeSample(e1, e2)
	wantBusy, wantIOW := nodeMixinByHand(t, b1, b2, t2.Sub(t1).Seconds())
	t.Logf("direct source real: cpu %.4f%% iowait %.4f%%; node-mixin by hand %.4f%% %.4f%%", got.CPU, got.IOWait, wantBusy, wantIOW)
	if math.Abs(got.CPU-wantBusy) > 1e-9 || math.Abs(got.IOWait-wantIOW) > 1e-9 {
		t.Errorf("direct on node_exporter: cpu %.6f iowait %.6f, node-mixin %.6f %.6f", got.CPU, got.IOWait, wantBusy, wantIOW)
	}
}

// nodeMixinByHand applies node-mixin's rule to two node_exporter
// expositions dt seconds apart, with nothing of the code under test.
func nodeMixinByHand(t *testing.T, b1, b2 []byte, dt float64) (busy, iowait float64) {
	t.Helper()
	read := func(b []byte) map[[2]string]float64 {
		parser := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := parser.TextToMetricFamilies(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		out := map[[2]string]float64{}
		for _, m := range fams["node_cpu_seconds_total"].GetMetric() {
			var cpu, mode string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "cpu":
					cpu = l.GetValue()
				case "mode":
					mode = l.GetValue()
				}
			}
			out[[2]string{cpu, mode}] = m.GetCounter().GetValue()
		}
		return out
	}
	c1, c2 := read(b1), read(b2)
	notBusy, iow := map[string]float64{}, map[string]float64{}
	for k, v2 := range c2 {
		v1, ok := c1[k]
		if !ok || v2 < v1 {
			continue
		}
		switch k[1] {
		case "idle", "steal":
			notBusy[k[0]] += (v2 - v1) / dt
		case "iowait":
			notBusy[k[0]] += (v2 - v1) / dt
			iow[k[0]] += (v2 - v1) / dt
		}
	}
	if len(notBusy) == 0 {
		t.Fatal("no cpu counters in node_exporter's output")
	}
	return clampPct(100 * (1 - avgOf(notBusy))), clampPct(100 * avgOf(iow))
}

// avgOf is the mean of m's values, summed in key order so the result does
// not depend on map iteration.
func avgOf(m map[string]float64) float64 {
	keys := slices.Sorted(maps.Keys(m))
	var sum float64
	for _, k := range keys {
		sum += m[k]
	}
	return sum / float64(len(m))
}

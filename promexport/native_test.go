package promexport_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/promexport"
	"github.com/brink-load/brink/promquery/promtest"
	"github.com/brink-load/brink/scenarios"
)

// TestNativeHistogramInPrometheus: a Prometheus that ingests native
// histograms (2.42 with --enable-feature=native-histograms, which then
// scrapes protobuf) reads brink's latency as a native histogram, and its
// p95 lies in the native bucket of HDR's p95 (2^(1/8) wide).
func TestNativeHistogramInPrometheus(t *testing.T) {
	sc := &scenarios.Scenario{Name: "native", Groups: []scenarios.Group{
		{Name: "browse", Executor: scenarios.RampingVUs, Requests: []scenarios.Request{{Name: "rooms"}}}}}
	e := promexport.New(sc, "test", time.Now())
	whole := hdrhistogram.New(1, 3_600_000_000, 3)
	rng := rand.New(rand.NewPCG(7, 8))
	for w := 0; w < 3; w++ {
		h := hdrhistogram.New(1, 3_600_000_000, 2)
		for i := 0; i < 4000; i++ {
			v := int64(math.Exp(math.Log(500) + rng.Float64()*math.Log(2000))) // 0.5 ms … 1 s
			h.RecordValue(v)
			whole.RecordValue(v)
		}
		e.AddTick(&measure.Tick{Endpoints: []measure.EndpointStats{{Group: "browse", Name: "rooms", Requests: 4000,
			Latency: measure.Latency{Count: 4000}, Hist: h.Export()}}})
	}
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	// StartPrometheus returns once brink's target has been scraped.
	prom := promtest.StartPrometheusArgs(t, []string{"--enable-feature=native-histograms"},
		promtest.Target{Addr: u.Host, Job: "brink"})

	q := `histogram_quantile(0.95, brink_http_request_duration_seconds{group="browse", endpoint="rooms"})`
	got := query(t, prom, q)
	want := float64(whole.ValueAtQuantile(95)) * 1e-6
	// Native buckets are 2^(1/8) (9 %) wide; the answer lies in the bucket
	// of the true p95 (or the next, for HDR's 0.8 % bars at its bound).
	if got < want/math.Exp2(1.0/8) || got > want*math.Exp2(2.0/8) {
		t.Errorf("native p95 %.4f s, HDR %.4f s", got, want)
	}
	t.Logf("native p95 %.2f ms, HDR %.2f ms", got*1000, want*1000)

	// The dashboard's latency panels read it too: such a Prometheus keeps
	// no classic _bucket series, so a quantile of the buckets alone is empty.
	var d struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(promexport.Dashboard, &d); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			if !strings.Contains(tg.Expr, "brink_http_request_duration_seconds") {
				continue
			}
			n++
			q := strings.NewReplacer("$__rate_interval", "1m", "$group", ".*").Replace(tg.Expr)
			if s := promtest.Query(t, prom, q, time.Time{}); len(s) == 0 {
				t.Errorf("%q: no data from native histograms: %s", p.Title, q)
			}
		}
	}
	if n == 0 {
		t.Error("no dashboard expression reads brink_http_request_duration_seconds")
	}
}

func query(t *testing.T, base, q string) float64 {
	t.Helper()
	s := promtest.Query(t, base, q, time.Time{})
	if len(s) != 1 {
		t.Fatalf("query %s: %d series, want 1 (is the histogram native in Prometheus?)", q, len(s))
	}
	return s[0].Value
}

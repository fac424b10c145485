package promtest

import (
	"fmt"
	"testing"
)

// recTB records Skip and Fatal instead of stopping the test.
type recTB struct {
	testing.TB
	fatal, skip string
}

func (r *recTB) Helper() {}
func (r *recTB) Fatal(args ...any) {
	if r.fatal == "" {
		r.fatal = fmt.Sprint(args...)
	}
}
func (r *recTB) Skip(args ...any) {
	if r.skip == "" {
		r.skip = fmt.Sprint(args...)
	}
}

func TestBinaryMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	tests := []struct {
		require   string
		wantFatal bool
	}{{"", false}, {"0", false}, {"1", true}}
	for _, tc := range tests {
		t.Setenv("BRINK_REQUIRE_SERVERS", tc.require)
		r := &recTB{TB: t}
		if got := Binary(r, "prometheus"); got != "" {
			t.Errorf("found %q on an empty PATH", got)
		}
		if (r.fatal != "") != tc.wantFatal || (r.skip != "") == tc.wantFatal {
			t.Errorf("BRINK_REQUIRE_SERVERS=%q: fatal %q skip %q", tc.require, r.fatal, r.skip)
		}
	}
}

// Long skips exactly in -short mode.
func TestLong(t *testing.T) {
	r := &recTB{TB: t}
	Long(r, "runs long")
	if (r.skip == "runs long") != testing.Short() || r.fatal != "" {
		t.Errorf("-short %v: skip %q fatal %q", testing.Short(), r.skip, r.fatal)
	}
}

func TestPrometheusConfig(t *testing.T) {
	got := PrometheusConfig(
		Target{Addr: "127.0.0.1:9100", Labels: map[string]string{"role": "db", "node": "db-3"}},
		Target{Addr: "127.0.0.1:8080", MetricsPath: "/nodes/web-1/metrics", Job: "demo"},
	)
	want := `global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: "node"
    static_configs:
      - targets: ["127.0.0.1:9100"]
        labels:
          node: "db-3"
          role: "db"
  - job_name: "demo"
    static_configs:
      - targets: ["127.0.0.1:8080"]
        labels:
          __metrics_path__: "/nodes/web-1/metrics"
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

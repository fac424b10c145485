package cli

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/brink-load/brink/promquery/promtest"
)

var requestsLine = regexp.MustCompile(`(?m)^brink_http_requests_total\{[^}]*\} (\S+)$`)

// TestFleetMetricsAreTheMerge: with --agents, the controller's --metrics
// serves the fleet's merged windows: every scraped request total is the
// report's total up to some window, exactly, and the last one (brink waits
// for it: --metrics-linger) holds the whole run.
func TestFleetMetricsAreTheMerge(t *testing.T) {
	inLane(t, heavy)
	target := newCountingTarget(t)
	file := writeScenario(t, fmt.Sprintf(`name: fleet-metrics
base_url: %s
groups:
  - {name: writes, executor: constant-arrival-rate, rate: 100, duration: 8s, max_vus: 100, requests: [{name: post, url: /post}]}
`, target.URL))
	rep := filepath.Join(t.TempDir(), "r.json")
	addr := promtest.FreeAddr(t)
	ctl := startBrink(t, "run", file, "--headless", "--agents", "2", "--nats-listen", "127.0.0.1:0", "--metrics", addr, "--report", rep)
	url := ctl.waitFor(t, agentLine, 20*time.Second)[1]
	for _, n := range []string{"a1", "a2"} {
		startBrink(t, "agent", "--nats", url, "--name", n)
	}
	// Scrape as Prometheus would, until the controller leaves.
	var totals []int64
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
scrape:
	for time.Now().Before(deadline) {
		select {
		case <-ctl.done:
			break scrape
		case <-time.After(200 * time.Millisecond):
		}
		resp, err := client.Get("http://" + addr + "/metrics")
		if err != nil {
			continue // not up yet, or gone
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var sum int64
		for _, m := range requestsLine.FindAllStringSubmatch(string(body), -1) {
			v, err := strconv.ParseFloat(m[1], 64)
			if err != nil {
				t.Fatalf("bad sample %q", m[0])
			}
			sum += int64(v)
		}
		totals = append(totals, sum)
	}
	if code := ctl.wait(t, 30*time.Second); code != exitOK {
		t.Fatalf("exit %d, want 0:\n%s", code, ctl.stderr.String())
	}
	r := readReport(t, rep)
	prefix, acc := runningTotals(r)
	if len(totals) < 5 {
		t.Fatalf("%d scrapes of the controller in an 8 s run", len(totals))
	}
	for _, v := range totals {
		if !prefix[v] {
			t.Errorf("scraped %d requests: not the report's total up to any window (%d in all)", v, r.Summary.Requests)
		}
	}
	// --metrics-linger (default): the controller left only once a scrape
	// had read the final state, so the last scrape holds the whole run.
	if last := totals[len(totals)-1]; last != acc {
		t.Errorf("last scrape %d requests, the report's windows %d (summary %d)", last, acc, r.Summary.Requests)
	}
}

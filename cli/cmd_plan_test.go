package cli

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brink-load/brink/engine"
	"github.com/brink-load/brink/scenarios"
)

func TestPlanCommand(t *testing.T) {
	team := []string{"--daily-users", "100000", "--requests-per-user", "50", "--peak-factor", "3", "--margin", "30%", "--p95", "300ms", "--think", "2s"}
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     []string
		stderrHas  string
		parsesYAML bool
	}{
		{"the team's numbers", team, exitOK, []string{
			"= 5 000 000 requests/day", "5 000 000 ÷ 86 400 s", "= 57.9 req/s", "= 173.6 req/s",
			"173.6 × (1 + margin 30 %)", "= 225.7 req/s", "(p95 0.3 s + think 2 s)", "= 520 VUs", "executor: ramping-arrival-rate", "target: 225.69}", "target: 451.38}", "max_vus: 678"}, "", true},
		{"think as a range", append(append([]string{}, team[:10]...), "--think", "1s-3s"), exitOK, []string{"think mean 2 s of 1s-3s", "= 520 VUs"}, "", true},
		{"bad think range", append(append([]string{}, team[:10]...), "--think", "3s-1s"), exitUsage, nil, "--think:", false},
		{"margin as a fraction", append(append([]string{}, team[:6]...), "--margin", "0.3", "--p95", "300ms", "--think", "2s"), exitOK, []string{"= 520 VUs"}, "", true},
		{"missing p95", []string{"--daily-users", "10", "--requests-per-user", "5"}, exitUsage, nil, "need --daily-users, --requests-per-user and --p95", false},
		{"bare margin is ambiguous", []string{"--daily-users", "10", "--requests-per-user", "5", "--p95", "1s", "--margin", "30"}, exitUsage, nil, `--margin: ambiguous "30"`, false},
		{"bad users", []string{"--daily-users", "many", "--requests-per-user", "5", "--p95", "1s"}, exitUsage, nil, "--daily-users: bad number", false},
		{"bad p95", []string{"--daily-users", "10", "--requests-per-user", "5", "--p95", "300"}, exitUsage, nil, "--p95:", false},
		{"peak below 1", []string{"--daily-users", "10", "--requests-per-user", "5", "--p95", "1s", "--peak-factor", "0.5"}, exitUsage, nil, "peak factor must be ≥ 1", false},
		{"bad base url", append(append([]string{}, team...), "--base-url", "localhost:8080"), exitUsage, nil, "--base-url:", false},
		{"stray argument", append(append([]string{}, team...), "extra"), exitUsage, nil, `unexpected argument "extra"`, false},
		{"unknown flag", []string{"--users", "10"}, exitUsage, nil, "flag provided but not defined", false},
		{"help", []string{"--help"}, exitOK, nil, "Little's law", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errb := runBrink(append([]string{"plan"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, tc.code, errb)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			if tc.stderrHas != "" && !strings.Contains(errb, tc.stderrHas) {
				t.Errorf("stderr %q lacks %q", errb, tc.stderrHas)
			}
			if tc.code == exitUsage && tc.name != "unknown flag" && strings.Count(strings.TrimSpace(errb), "\n") > 0 {
				t.Errorf("error is not one line: %q", errb)
			}
			if tc.parsesYAML {
				// stdout alone (steps as comments, then the scenario) is a
				// valid scenario: `brink plan … > plan.yaml` works.
				if _, err := scenarios.Parse("stdout", []byte(out)); err != nil {
					t.Errorf("stdout does not load as a scenario: %v", err)
				}
			}
		})
	}
}

func TestPlanCommandOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plan.yaml")
	var out, errb bytes.Buffer
	args := []string{"--daily-users", "1M", "--requests-per-user", "20", "--peak-factor", "4x", "--margin", "25%",
		"--p95", "500ms", "--think", "3s", "--base-url", "https://shop.example/api/items", "--out", path}
	if code := runMain(append([]string{"plan"}, args...), &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "scenario written to "+path) || strings.Contains(out.String(), "name: plan-breakpoint") {
		t.Errorf("stdout should have the steps and where the scenario went, not the YAML:\n%s", out.String())
	}
	sc, err := scenarios.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	// 1M × 20 / 86 400 × 4 × 1.25 = 1157.41 req/s, sent as an arrival rate.
	if got := sc.Groups[0].Stages[1].Target; got != 1157.41 {
		t.Errorf("target rate %v, want 1157.41", got)
	}
	if !strings.Contains(out.String(), "open model") {
		t.Errorf("stdout does not say which model and why:\n%s", out.String())
	}
	if got := sc.Groups[0].Requests[0].URL.Source(); got != "https://shop.example/api/items" {
		t.Errorf("request url %q", got)
	}
	bad := filepath.Join(t.TempDir(), "no", "such", "dir", "plan.yaml")
	args[len(args)-1] = bad
	if code := runMain(append([]string{"plan"}, args...), &out, &errb); code != exitFailure {
		t.Errorf("unwritable --out: exit %d, want %d", code, exitFailure)
	}
	if _, err := os.Stat(bad); err == nil {
		t.Error("file appeared at an impossible path")
	}
}

// The plan's scenario sends the rate it planned, however fast the server:
// against a target answering at once, the plan's hold stage (its target
// rate, shortened to 5 s) puts the planned number of requests on the wire
// within 5 %. (A closed model with no pacing sent 436× its plan here.)
func TestPlanScenarioSendsThePlannedRate(t *testing.T) {
	var hits atomic.Int64
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
	var out, errb bytes.Buffer
	args := []string{"--daily-users", "100k", "--requests-per-user", "50", "--p95", "300ms", "--base-url", srv.URL + "/api"}
	if code := runMain(append([]string{"plan"}, args...), &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	sc, err := scenarios.Parse("plan.yaml", out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	g := &sc.Groups[0]
	rate := g.Stages[2].Target // hold at the target: 57.87 req/s
	const hold = 5 * time.Second
	g.Start = rate
	g.Stages = []scenarios.Stage{{Duration: hold, Target: rate}}
	sc.AbortOnBreakpoint = false
	e, err := engine.New(sc, engine.Options{GracefulStop: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.Run(ctx); err != nil {
		t.Fatal(err)
	}
	want := rate * hold.Seconds()
	if got := float64(hits.Load()); got < 0.95*want || got > 1.05*want {
		t.Fatalf("the server got %.0f requests in %v, want %.0f ± 5 %% (%.2f req/s planned)", got, hold, want, rate)
	}
}

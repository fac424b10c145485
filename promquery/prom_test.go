package promquery

import (
	"context"
	"math"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/brink-load/brink/measure"
)

// mustNew is New for a configuration the test means to be valid.
func mustNew(t testing.TB, c Config) Source {
	t.Helper()
	src, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// pollOK polls src once and fails the test if the poll fails.
func pollOK(t testing.TB, src Source) measure.Poll {
	t.Helper()
	p, err := src.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newProm(t *testing.T, f *fakeProm, mod func(*Config)) *promSource {
	t.Helper()
	c := Config{Prometheus: f.srv.URL, NameLabel: "node", RoleLabel: "role", Timeout: 2 * time.Second}
	if mod != nil {
		mod(&c)
	}
	src := mustNew(t, c)
	return src.(*promSource)
}

func TestPromPoll(t *testing.T) {
	f := newFakeProm(t, 12)
	above := 10.0
	src := newProm(t, f, func(c *Config) {
		c.Panels = []PanelQuery{{Title: "rps", Query: `sum(rate(http_server_requests_seconds_count[1m]))`, Unit: "req/s", Above: &above}}
	})
	p := pollOK(t, src)
	if got := src.Interval(); got != 15*time.Second {
		t.Errorf("interval %s, want 15s from the targets API", got)
	}
	if len(p.Samples) != 12 {
		t.Fatalf("%d samples, want 12", len(p.Samples))
	}
	// Natural order: db-2 before db-10.
	var names []string
	for _, s := range p.Samples {
		names = append(names, s.Node)
	}
	if names[1] != "db-2" || names[9] != "db-10" || names[11] != "db-12" {
		t.Errorf("order %v", names)
	}
	s := p.Samples[2] // db-3
	want := measure.Sample{Node: "db-3", Role: "db", Instance: "10.0.0.3:9100", CPU: 35, IOWait: 10, DiskUtil: 50,
		DiskDevice: "sdb", ReadBps: 1000, WriteBps: 2000, Load1: 3, Cores: 4, Load1PerCore: 0.75, Mem: 25,
		NetRxBps: 300, NetTxBps: 400}
	s.Time = time.Time{}
	if !sameSample(s, want) {
		t.Errorf("db-3 = %+v\nwant   %+v", s, want)
	}
	if len(p.Panels) != 1 || p.Panels[0].Err != "" || len(p.Panels[0].Series) != 1 || p.Panels[0].Series[0].Value != 42 {
		t.Errorf("panels %+v", p.Panels)
	}
	// One query per metric per poll, whatever the node count: 12 node
	// queries + 1 panel (+ the up query the first poll uses to find the
	// targets' scrape interval).
	f.queries.Store(0)
	f.mu.Lock()
	f.seen, f.at = nil, nil
	f.mu.Unlock()
	p = pollOK(t, src)
	if q := f.queries.Load(); q != 13 {
		t.Errorf("%d queries per poll, want 13", q)
	}
	// One evaluation time per poll: up goes first without one (Prometheus's
	// own now, whatever brink's clock says), every other query at up's time.
	f.mu.Lock()
	if len(f.at) != 13 || f.at[0] != "" || !strings.HasPrefix(f.seen[0], "max by") || !strings.Contains(f.seen[0], "(up{") {
		t.Errorf("first query %q at %q, want up without a time", f.seen[0], f.at[0])
	}
	for i := 1; i < len(f.at); i++ {
		at, err := strconv.ParseFloat(f.at[i], 64)
		if err != nil || f.at[i] != f.at[1] || math.Abs(at-float64(p.EvalTime.UnixMilli())/1000) > 0.0005 {
			t.Errorf("query %q at %q, want up's evaluation time %v", f.seen[i], f.at[i], p.EvalTime)
		}
	}
	for _, q := range f.seen {
		if strings.Contains(q, "rate(node") && !strings.Contains(q, "[1m]") {
			t.Errorf("rate window not 4×15s: %s", q)
		}
		if !strings.Contains(q, `job="node"`) && !strings.Contains(q, "http_server") {
			t.Errorf("query without the selector: %s", q)
		}
	}
	f.mu.Unlock()
}

func sameSample(a, b measure.Sample) bool {
	eq := func(x, y float64) bool { return (math.IsNaN(x) && math.IsNaN(y)) || math.Abs(x-y) < 1e-9 }
	return a.Node == b.Node && a.Role == b.Role && a.Instance == b.Instance && a.DiskDevice == b.DiskDevice &&
		a.Cores == b.Cores && a.Stale == b.Stale && eq(a.CPU, b.CPU) && eq(a.IOWait, b.IOWait) &&
		eq(a.DiskUtil, b.DiskUtil) && eq(a.ReadBps, b.ReadBps) && eq(a.WriteBps, b.WriteBps) &&
		eq(a.Load1, b.Load1) && eq(a.Load1PerCore, b.Load1PerCore) && eq(a.Mem, b.Mem) &&
		eq(a.NetRxBps, b.NetRxBps) && eq(a.NetTxBps, b.NetTxBps)
}

func TestPromNamesAndRoles(t *testing.T) {
	f := newFakeProm(t, 3)
	tests := []struct {
		name  string
		mod   func(*Config)
		node  string
		role  string
		index int
	}{
		{"instance label by default", func(c *Config) { c.NameLabel, c.RoleLabel = "", "" }, "10.0.0.1:9100", "", 0},
		{"name label", nil, "db-1", "db", 0},
		{"names map wins", func(c *Config) { c.Names = map[string]string{"10.0.0.2:9100": "mongo-primary"} }, "mongo-primary", "db", 2},
		{"role regexp", func(c *Config) {
			c.RoleLabel = ""
			c.Roles = []Role{{"web", "web-.*"}, {"replica", "db-[23]"}, {"db", "db-.*"}}
		}, "db-2", "replica", 1},
		{"role regexp is anchored", func(c *Config) {
			c.RoleLabel = ""
			c.Roles = []Role{{"x", "b-1"}}
		}, "db-1", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := pollOK(t, newProm(t, f, tc.mod))
			s := p.Samples[tc.index]
			if s.Node != tc.node || s.Role != tc.role {
				t.Errorf("got %q/%q, want %q/%q (all: %+v)", s.Node, s.Role, tc.node, tc.role, p.Samples)
			}
		})
	}
}

func TestPromStaleAndDown(t *testing.T) {
	f := newFakeProm(t, 3)
	src := newProm(t, f, nil)
	pollOK(t, src)
	f.age.Store(int64(2 * time.Minute))
	f.down.Store(2)
	p := pollOK(t, src)
	if s := p.Samples[0]; !s.Stale || !strings.Contains(s.StaleReason, "old") {
		t.Errorf("old sample not stale: %+v", s)
	}
	if s := p.Samples[1]; !s.Stale || s.StaleReason != "target down" || s.Node != "db-2" || s.Load1 != 2 {
		t.Errorf("down target: %+v (want last values kept, marked down)", s)
	}
}

func TestPromWarnings(t *testing.T) {
	f := newFakeProm(t, 2)
	f.warn.Store(true)
	p := pollOK(t, newProm(t, f, nil))
	if strings.Join(p.Warnings, "|") != "partial response|metric might not be a counter" {
		t.Errorf("warnings %q", p.Warnings)
	}
}

func TestPromNoTargetsAPI(t *testing.T) {
	f := newFakeProm(t, 2)
	f.noTgts.Store(true)
	src := newProm(t, f, func(c *Config) { c.Interval = 2 * time.Second })
	p := pollOK(t, src)
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "assuming 2s; rate window 8s") {
		t.Errorf("warnings %q", p.Warnings)
	}
}

// Exporters that share one instance label would be merged into one row:
// the source says so, once per poll, without failing.
func TestPromWarnsMergedNodes(t *testing.T) {
	f := newFakeProm(t, 2)
	f.merged.Store(true)
	src := newProm(t, f, nil)
	p := pollOK(t, src)
	var found bool
	for _, w := range p.Warnings {
		found = found || strings.Contains(w, "values are merged; set name_label")
	}
	if !found {
		t.Fatalf("no merged-nodes warning in %q", p.Warnings)
	}
}

func TestPromErrors(t *testing.T) {
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadURL := "http://" + dead.Addr().String()
	dead.Close()
	tests := []struct {
		name  string
		setup func(*fakeProm)
		url   string
		want  string
	}{
		{"unreachable", nil, deadURL, "unreachable: connection refused"},
		{"slow", func(f *fakeProm) { f.delay.Store(int64(3 * time.Second)) }, "", "no answer within 300ms"},
		{"500", func(f *fakeProm) { f.status.Store(500) }, "", "HTTP 500 (upstream trouble)"},
		{"503", func(f *fakeProm) { f.status.Store(503) }, "", "HTTP 503 (upstream trouble)"},
		{"garbage JSON", func(f *fakeProm) { f.garbage.Store(true) }, "", "bad response"},
		{"matches nothing", func(f *fakeProm) { f.empty.Store(true) }, "", `selector {job="node"} matches no targets`},
		{"query error", func(f *fakeProm) {
			f.body.Store(`{"status":"error","errorType":"bad_data","error":"parse error at char 3"}`)
		}, "", "query rejected: parse error at char 3"},
		{"wrong result type", func(f *fakeProm) {
			f.body.Store(`{"status":"success","data":{"resultType":"matrix","result":[]}}`)
		}, "", "want an instant vector, got a matrix"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeProm(t, 3)
			src := newProm(t, f, func(c *Config) { c.Timeout = 300 * time.Millisecond })
			if tc.url != "" {
				src = newProm(t, f, func(c *Config) { c.Prometheus, c.Timeout = tc.url, 300*time.Millisecond })
			} else if _, err := src.Poll(context.Background()); err != nil {
				t.Fatal(err) // a good poll first, so there are values to go stale
			}
			if tc.setup != nil {
				tc.setup(f)
			}
			p, err := src.Poll(context.Background())
			if err == nil {
				t.Fatalf("no error; poll %+v", p)
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one line containing %q", err, tc.want)
			}
			if p.Err != err.Error() {
				t.Errorf("Poll.Err %q != error %q", p.Err, err)
			}
			if tc.url == "" {
				if len(p.Samples) != 3 {
					t.Fatalf("%d samples, want the 3 last known", len(p.Samples))
				}
				for _, s := range p.Samples {
					if !s.Stale || !strings.HasPrefix(s.StaleReason, "poll failed: ") || s.Load1 == 0 {
						t.Errorf("sample %+v: want last values, stale", s)
					}
				}
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"nothing", Config{}, "need a Prometheus URL or node_exporter URLs"},
		{"both", Config{Prometheus: "http://a:1", Scrape: []string{"http://b:2/metrics"}}, "not both"},
		{"bad url", Config{Prometheus: "localhost:9090"}, `bad URL "localhost:9090"`},
		{"bad selector", Config{Prometheus: "http://a:1", Match: `{job="node"`}, "missing closing }"},
		{"not a selector", Config{Prometheus: "http://a:1", Match: `rate(x[1m])`}, "label matchers only"},
		{"bad role", Config{Prometheus: "http://a:1", Roles: []Role{{"db", "db-("}}}, `role "db": bad regexp`},
		{"bad label", Config{Prometheus: "http://a:1", NameLabel: "no-dash"}, `bad label name "no-dash"`},
		{"credentials file", Config{Prometheus: "http://a:1", HTTP: HTTPOptions{CredentialsFile: "/nonexistent/token"}},
			"credentials file /nonexistent/token: no such file or directory"},
		{"prom config file", Config{Prometheus: "http://a:1", PromConfigFile: "/nonexistent/http.yml"}, "prom config /nonexistent/http.yml"},
		{"ca file", Config{Prometheus: "http://a:1", HTTP: HTTPOptions{CAFile: "/nonexistent/ca.pem"}}, "TLS CA file /nonexistent/ca.pem"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %v, want one line containing %q", err, tc.want)
			}
		})
	}
}

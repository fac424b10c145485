package promquery

import (
	"context"
	"math"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/brink-load/brink/measure"
)

func TestParseAndCompute(t *testing.T) {
	n := newFakeNode()
	prev, err := parseExposition(strings.NewReader(n.text()))
	if err != nil {
		t.Fatal(err)
	}
	prev.at = time.Unix(1000, 0)
	first := computeSample(nil, prev)
	if !math.IsNaN(first.CPU) || !math.IsNaN(first.ReadBps) || first.Load1 != 1.5 || first.Cores != 4 || first.Mem != 25 {
		t.Errorf("first scrape: want gauges only, got %+v", first)
	}
	// 2 seconds at 60 % user, 10 % iowait on each of 4 cpus.
	n.advance(2, 0.6, 0.1)
	cur, err := parseExposition(strings.NewReader(n.text()))
	if err != nil {
		t.Fatal(err)
	}
	cur.at = time.Unix(1002, 0)
	s := computeSample(prev, cur)
	want := measure.Sample{CPU: 60, IOWait: 10, // busy excludes iowait (node-mixin)
		DiskUtil: 75, DiskDevice: "sdb", ReadBps: 1000, WriteBps: 2000,
		Load1: 1.5, Cores: 4, Load1PerCore: 0.375, Mem: 25, NetRxBps: 300, NetTxBps: 400}
	if !sameSample(s, want) {
		t.Errorf("got  %+v\nwant %+v", s, want)
	}

	// A counter reset (node rebooted): the irate rule counts from zero.
	reset := newFakeNode()
	reset.read = 500
	rc, _ := parseExposition(strings.NewReader(reset.text()))
	rc.at = time.Unix(1004, 0)
	s = computeSample(cur, rc)
	if s.ReadBps != 250 {
		t.Errorf("read after reset = %v, want 500/2 = 250", s.ReadBps)
	}
	for _, v := range []float64{s.CPU, s.IOWait, s.DiskUtil, s.WriteBps, s.NetRxBps} {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			t.Errorf("after reset: %+v", s)
		}
	}
}

func TestParseExpositionErrors(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"truncated", "# TYPE node_load1 gauge\nnode_load1{a=\"b", "bad exposition"},
		{"not metrics", "<html>hello</html>\n", "no node_exporter metrics"},
		{"bad line", "# TYPE node_load1 gauge\nnode_load1 one\n", "bad exposition"},
		{"cut in a dropped line", "# TYPE node_load1 gauge\nnode_load1 1\nnode_filler{a=\"b", "truncated"},
		{"empty", "", "no node_exporter metrics"},
		{"other exporter", "# TYPE up gauge\nup 1\n", "no node_exporter metrics"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseExposition(strings.NewReader(tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("err %v, want one line containing %q", err, tc.want)
			}
		})
	}
}

func TestScrapeSource(t *testing.T) {
	f := newFakeExporters(t, 12)
	src := mustNew(t, Config{Scrape: f.urls(), Roles: []Role{{"db", "db-.*"}}})
	p := pollOK(t, src)
	if len(p.Samples) != 12 || p.Samples[1].Node != "db-2" || p.Samples[9].Node != "db-10" {
		t.Fatalf("samples %+v", p.Samples)
	}
	if s := p.Samples[0]; !math.IsNaN(s.CPU) || s.Load1 != 1.5 || s.Role != "db" || s.Instance != strings.TrimPrefix(f.srv.URL, "http://") {
		t.Errorf("first poll: %+v", s)
	}
	first := map[string]time.Time{} // each node's own first scrape: the gap is per target
	for _, s := range p.Samples {
		first[s.Node] = s.Time
	}
	f.advance(1, 0.5, 0)
	// A poll right after the first: a rate over a few ms would be noise
	// (counters move in 10 ms ticks), so only gauges, unless the machine
	// stalled past minRateGap between the two.
	p = pollOK(t, src)
	for _, s := range p.Samples {
		if soon := s.Time.Sub(first[s.Node]) < minRateGap; soon != math.IsNaN(s.CPU) || s.Load1 != 1.5 {
			t.Errorf("poll %v after the first: %+v", s.Time.Sub(first[s.Node]), s)
		}
	}
	time.Sleep(minRateGap)
	p = pollOK(t, src)
	for _, s := range p.Samples {
		// The fake moved 1s of counters in however long the test took, so
		// only check that rates exist and are sane.
		if math.IsNaN(s.CPU) || s.CPU < 0 || s.CPU > 100 || math.IsNaN(s.ReadBps) || s.DiskDevice != "sdb" || s.Stale {
			t.Errorf("second poll: %+v", s)
		}
	}
	if hits := f.hits.Load(); hits != 36 {
		t.Errorf("%d scrapes for 3 polls of 12 nodes", hits)
	}
}

func TestScrapeNames(t *testing.T) {
	tests := []struct {
		name  string
		url   string
		names map[string]string
		want  string
	}{
		{"host:port", "http://10.0.0.13:9100/metrics", nil, "10.0.0.13:9100"},
		{"names map by instance", "http://10.0.0.13:9100/metrics", map[string]string{"10.0.0.13:9100": "db-3"}, "db-3"},
		{"names map by URL", "http://10.0.0.13:9100/metrics", map[string]string{"http://10.0.0.13:9100/metrics": "db-3"}, "db-3"},
		{"demo path", "http://127.0.0.1:8080/nodes/db-2/metrics", nil, "db-2"},
		{"map wins over path", "http://127.0.0.1:8080/nodes/db-2/metrics", map[string]string{"127.0.0.1:8080": "x"}, "x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := mustNew(t, Config{Scrape: []string{tc.url}, Names: tc.names})
			if got := src.(*scrapeSource).targets[0].node; got != tc.want {
				t.Errorf("node %q, want %q", got, tc.want)
			}
		})
	}
}

func TestScrapeErrors(t *testing.T) {
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadURL := "http://" + dead.Addr().String() + "/nodes/db-1/metrics"
	dead.Close()
	tests := []struct {
		name  string
		setup func(*fakeExporters)
		want  string
	}{
		{"unreachable", nil, "unreachable: connection refused"},
		{"slow", func(f *fakeExporters) { f.delay.Store(int64(2 * time.Second)) }, "no answer within 300ms"},
		{"500", func(f *fakeExporters) { f.status.Store(500) }, "HTTP 500"},
		{"503", func(f *fakeExporters) { f.status.Store(503) }, "HTTP 503"},
		{"truncated exposition", func(f *fakeExporters) { f.truncate.Store(true) }, "bad exposition"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeExporters(t, 2)
			urls := f.urls()
			src := mustNew(t, Config{Scrape: urls, Timeout: 300 * time.Millisecond})
			pollOK(t, src)
			if tc.setup == nil {
				// Point one node at a dead port, keep the other alive.
				src, _ = New(Config{Scrape: []string{deadURL, urls[1]}, Timeout: 300 * time.Millisecond})
				src.Poll(context.Background())
				p, err := src.Poll(context.Background())
				if err != nil {
					t.Fatalf("one dead node of two failed the whole poll: %v", err)
				}
				if s := p.Samples[0]; !s.Stale || !strings.Contains(s.StaleReason, tc.want) || !math.IsNaN(s.Load1) {
					t.Errorf("dead node sample %+v", s)
				}
				if s := p.Samples[1]; s.Stale {
					t.Errorf("live node stale: %+v", s)
				}
				if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], tc.want) {
					t.Errorf("warnings %q", p.Warnings)
				}
				return
			}
			tc.setup(f)
			p, err := src.Poll(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err %v, want one line containing %q", err, tc.want)
			}
			if p.Err != err.Error() {
				t.Errorf("Poll.Err %q", p.Err)
			}
			for _, s := range p.Samples {
				if !s.Stale || !strings.Contains(s.StaleReason, tc.want) || s.Load1 != 1.5 {
					t.Errorf("sample %+v: want last values, stale", s)
				}
			}
		})
	}
}

func TestScrapePanelsNeedPrometheus(t *testing.T) {
	f := newFakeExporters(t, 1)
	src, _ := New(Config{Scrape: f.urls(), Panels: []PanelQuery{{Title: "rps", Query: "x"}}})
	p := pollOK(t, src)
	if len(p.Panels) != 1 || !strings.Contains(p.Panels[0].Err, "need a Prometheus source") {
		t.Errorf("panels %+v", p.Panels)
	}
}

// FuzzParseExposition: whatever an endpoint sends, parsing never panics,
// and a successful parse yields sane samples.
func FuzzParseExposition(f *testing.F) {
	f.Add(newFakeNode().render())
	f.Add("# TYPE node_load1 gauge\nnode_load1 NaN\n")
	f.Add("node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} -Inf\nnode_memory_MemTotal_bytes 0\n")
	f.Add("node_disk_io_time_seconds_total{device=\"a\"} 1e308\n")
	f.Fuzz(func(t *testing.T, body string) {
		e, err := parseExposition(strings.NewReader(body))
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		e.at = time.Unix(1, 0)
		next := *e
		next.at = time.Unix(2, 0)
		for _, s := range []measure.Sample{computeSample(nil, e), computeSample(e, &next)} {
			for _, pct := range []float64{s.CPU, s.IOWait, s.DiskUtil} {
				if pct < 0 || pct > 100 {
					t.Fatalf("percentage %v: %+v", pct, s)
				}
			}
		}
	})
}

func TestParseRealExposition(t *testing.T) {
	f, err := os.Open("testdata/node_exporter-1.5.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e, err := parseExposition(f)
	if err != nil {
		t.Fatal(err)
	}
	if e.cores != 2 || math.IsNaN(e.load1) || !(e.memTotal > 0) || !(e.memAvail > 0) {
		t.Errorf("gauges: %+v", e)
	}
	kinds := map[uint8]int{}
	for k := range e.counters {
		kinds[k.kind]++
		if k.kind == kRx && k.a == "lo" {
			t.Error("loopback counted")
		}
	}
	if kinds[kCPU] != 16 || kinds[kIO] == 0 || kinds[kRead] == 0 || kinds[kRx] == 0 {
		t.Errorf("counters per kind %v", kinds)
	}
}

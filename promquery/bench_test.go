package promquery

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// cpuTime is this process's user+system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPromPoll20 polls 20 nodes through a fake Prometheus API.
// queries/poll must not grow with the node count; cpu-µs/poll is the whole
// process: brink's side plus the in-process fake's HTTP serving of
// pre-encoded answers.
func BenchmarkPromPoll20(b *testing.B) {
	f := newFakeProm(b, 20)
	f.memo.Store(true) // pre-encoded answers: measure brink's side, not the fake's JSON encoding
	benchPoll(b, Config{Prometheus: f.srv.URL, NameLabel: "node", RoleLabel: "role"}, &f.queries, "queries/poll")
}

// BenchmarkScrapePoll20 scrapes 20 fake node_exporters (each ~500 series,
// the size of node_exporter with brink's collectors) and computes rates.
func BenchmarkScrapePoll20(b *testing.B) {
	f := newFakeExporters(b, 20)
	benchPoll(b, Config{Scrape: f.urls()}, &f.hits, "requests/poll")
}

// benchPoll polls the source of c once (the baseline), then in the loop,
// and reports the server's count per poll (as unit) and brink's CPU per
// poll.
func benchPoll(b *testing.B, c Config, served *atomic.Int64, unit string) {
	s, err := New(c)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.Poll(ctx); err != nil {
		b.Fatal(err)
	}
	served.Store(0)
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Poll(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(served.Load())/float64(b.N), unit)
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/poll")
}

// BenchmarkParseExposition is the client-side cost of one node's scrape,
// without HTTP or the fake server.
func BenchmarkParseExposition(b *testing.B) {
	text := newFakeNode().text()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseExposition(stringsReader(text)); err != nil {
			b.Fatal(err)
		}
	}
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

// BenchmarkParseRealExposition parses a real node_exporter 1.5 response
// (default collectors, 2 cpus, ~1 000 series).
func BenchmarkParseRealExposition(b *testing.B) {
	text, err := os.ReadFile("testdata/node_exporter-1.5.txt")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseExposition(bytes.NewReader(text)); err != nil {
			b.Fatal(err)
		}
	}
}

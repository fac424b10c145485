package promquery

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/tabletest"
)

func TestMatchers(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"", `job="node"`, ""},
		{`{job="node"}`, `job="node"`, ""},
		{`job="node",env=~"prod.*"`, `job="node",env=~"prod.*"`, ""},
		{`{}`, ``, ""},
		{`{job="node"`, "", "missing closing }"},
		{`up{job="node"}`, "", "label matchers only"},
		{`node`, "", "label matchers only"},
		{`job=`, "", "label matchers only"},
		{`job="a" env="b"`, "", "label matchers only"},
		{`job="a\"b",env!~'x.*' , a=` + "`c`", `job="a\"b",env!~'x.*' , a=` + "`c`", ""},
		{`job="node",`, `job="node"`, ""},
		{`9job="node"`, "", "label matchers only"},
	}
	for _, tc := range tests {
		got, err := matchers(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("matchers(%q) err %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("matchers(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestCounterRate(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		prev, cur, dt float64
		want          float64
		ok            bool
	}{
		{100, 110, 2, 5, true},
		{100, 100, 1, 0, true},
		{100, 30, 2, 15, true}, // reset: counted 30 since
		{0, 0, 1, 0, true},
		{1, 2, 0, 0, false},
		{1, 2, -1, 0, false},
		{math.NaN(), 2, 1, 0, false},
		{1, inf, 1, 0, false},
		{-1, 2, 1, 0, false},
		{0, 1e308, 1e-300, 0, false}, // overflow
	}
	for _, tc := range tests {
		got, ok := counterRate(tc.prev, tc.cur, tc.dt)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("counterRate(%v, %v, %v) = %v, %v; want %v, %v", tc.prev, tc.cur, tc.dt, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzCounterRates feeds random counter sequences (with resets, gaps,
// series appearing and vanishing) through the rate code and the sample
// computation: no rate may be negative, NaN or infinite, and no percentage
// may leave [0, 100].
func FuzzCounterRates(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	f.Add(bytes.Repeat([]byte{0xff, 0, 0x7f, 0x80}, 20))
	f.Fuzz(func(t *testing.T, data []byte) {
		var prev *exposition
		at := time.Unix(1000, 0)
		for len(data) >= 10 {
			// 8 bytes: a counter value (any bit pattern, so NaN, Inf,
			// negatives and huge values all occur); 1 byte: which series;
			// 1 byte: the time step in ms (0 = same instant).
			v := math.Float64frombits(binary.LittleEndian.Uint64(data))
			which, step := data[8], data[9]
			data = data[10:]
			at = at.Add(time.Duration(step) * time.Millisecond)
			cur := &exposition{at: at, counters: counterSet{}, load1: 1, memAvail: 1, memTotal: 2, cores: 2}
			if prev != nil {
				for k, pv := range prev.counters {
					cur.counters[k] = pv // counters carry over unless changed
				}
			}
			kinds := []uint8{kCPU, kIO, kRead, kWrite, kRx, kTx}
			k := seriesKey{kind: kinds[int(which)%len(kinds)], a: string('a' + rune(which%3))}
			if k.kind == kCPU {
				k.b = []string{"idle", "iowait", "steal", "user"}[which%4]
			}
			if which&0x80 != 0 {
				delete(cur.counters, k) // the series vanishes
			} else {
				cur.counters[k] = v
			}
			if prev != nil {
				dt := cur.at.Sub(prev.at).Seconds()
				for key, r := range rates(prev.counters, cur.counters, dt) {
					if r < 0 || math.IsNaN(r) || math.IsInf(r, 0) {
						t.Fatalf("rate %v for %v (prev %v cur %v dt %v)", r, key, prev.counters[key], cur.counters[key], dt)
					}
				}
				s := computeSample(prev, cur)
				for _, name := range measure.MetricNames {
					v, ok := s.Metric(name)
					if ok && (v < 0 || math.IsInf(v, 0)) {
						t.Fatalf("%s = %v", name, v)
					}
				}
				for _, pct := range []float64{s.CPU, s.IOWait, s.DiskUtil} {
					if pct < 0 || pct > 100 {
						t.Fatalf("percentage %v out of range: %+v", pct, s)
					}
				}
			}
			prev = cur
		}
	})
}

func TestBackoff(t *testing.T) {
	s := time.Second
	tests := []struct {
		fails    int
		interval time.Duration
		want     time.Duration
	}{
		{0, s, s},
		{1, s, s},
		{2, s, 2 * s},
		{3, s, 4 * s},
		{5, s, 16 * s},
		{6, s, 30 * s},
		{60, s, 30 * s},
		{3, time.Minute, time.Minute},
		{0, 0, s},
	}
	for _, tc := range tests {
		if got := backoff(tc.fails, tc.interval); got != tc.want {
			t.Errorf("backoff(%d, %s) = %s, want %s", tc.fails, tc.interval, got, tc.want)
		}
	}
}

// countingSource fails the first n polls.
type countingSource struct {
	mu    sync.Mutex
	polls int
	fail  int
	times []time.Time // when each poll began
	ends  []time.Time // when each poll returned
}

func (c *countingSource) Poll(ctx context.Context) (measure.Poll, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.polls++
	c.times = append(c.times, time.Now())
	defer func() { c.ends = append(c.ends, time.Now()) }()
	if c.polls <= c.fail {
		return measure.Poll{Err: "down"}, errors.New("down")
	}
	return measure.Poll{Samples: []measure.Sample{{Node: "a"}}}, nil
}
func (c *countingSource) Interval() time.Duration { return 10 * time.Millisecond }
func (c *countingSource) Describe() string        { return "counting" }

func TestRun(t *testing.T) {
	src := &countingSource{fail: 3}
	ctx, cancel := context.WithCancel(context.Background())
	var got []measure.Poll
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, src, func(p measure.Poll) {
			got = append(got, p)
			if len(got) == 5 {
				cancel()
			}
		})
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		cancel()
		t.Fatal("Run did not stop")
	}
	if len(got) != 5 || got[0].Err != "down" || got[4].Err != "" {
		t.Fatalf("polls %+v", got)
	}
	// After failures 2 and 3 the gaps double (20ms, 40ms); then back to 10ms.
	// Run times the gap from just before a poll begins, which lies between
	// the previous poll's return and this poll's start: poll i+1 cannot
	// begin sooner than the backoff after poll i-1 returned, however a
	// loaded machine delays either.
	since := func(i int) time.Duration { return src.times[i+1].Sub(src.ends[i-1]) }
	if since(1) < 20*time.Millisecond || since(2) < 40*time.Millisecond {
		t.Errorf("no backoff: %v from poll 0's return to poll 2, %v from poll 1's to poll 3", since(1), since(2))
	}
}

func TestWriteTable(t *testing.T) {
	nan := math.NaN()
	p := measure.Poll{Samples: []measure.Sample{
		{Node: "db-2", Role: "db", Instance: "10.0.0.2:9100", CPU: 35.04, IOWait: 1, DiskUtil: 99.5, DiskDevice: "sda",
			ReadBps: 1234567, WriteBps: 0, Load1: 104.2, Cores: 4, Load1PerCore: 26.05, Mem: 50, NetRxBps: 999, NetTxBps: 12e9},
		{Node: "db-10", Instance: "10.0.0.10:9100", CPU: nan, IOWait: nan, DiskUtil: nan, ReadBps: nan, WriteBps: nan,
			Load1: 0.5, Load1PerCore: nan, Mem: nan, NetRxBps: nan, NetTxBps: nan, Stale: true, StaleReason: "target down"},
	}}
	var b strings.Builder
	if err := WriteTable(&b, p); err != nil {
		t.Fatal(err)
	}
	want := `NODE   ROLE  INSTANCE        CPU%  IOWAIT%  DISK%  DEVICE  READ/WRITE B/s   LOAD1  PER CORE  MEM%  NET RX/TX B/s
db-2   db    10.0.0.2:9100   35.0      1.0   99.5  sda             1.2M/0  104.20     26.05  50.0        999/12G
db-10  -     10.0.0.10:9100     -        -      -  -                  -/-    0.50         -     -            -/-  stale: target down
`
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestFamilyOf(t *testing.T) {
	tabletest.Run(t, "familyOf", func(line string) string { return string(familyOf([]byte(line))) }, []struct{ In, Want string }{
		{"# HELP node_load1 1m load average.\n", "node_load1"},
		{"# TYPE node_load1 gauge\n", "node_load1"},
		{"#  TYPE\tnode_load1 gauge\n", "node_load1"},
		{"# some comment\n", ""},
		{"#\n", ""},
		{"node_cpu_seconds_total{cpu=\"0\"} 1\n", "node_cpu_seconds_total"},
		{"node_load1 2.5\n", "node_load1"},
		{"node_load1\t2.5\n", "node_load1"},
		{"\n", ""},
	})
}

package engine

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/brink-load/brink/engine/wstest"
	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
	"github.com/brink-load/brink/termtext"
)

// wsGroupTo is a WebSocket-only group of n VUs for d against u, sending
// every 50 ms and awaiting each reply for at most timeout.
func wsGroupTo(u string, n int, d, timeout time.Duration) scenarios.Group {
	return scenarios.Group{
		Name: "chat", Executor: scenarios.RampingVUs, Start: float64(n), Timeout: timeout,
		Stages: []scenarios.Stage{{Duration: d, Target: float64(n)}},
		WebSocket: &scenarios.WebSocket{URL: scenarios.MustTemplate(u), Send: scenarios.MustTemplate(`{"n":{{iter}}}`),
			Every: 50 * time.Millisecond, ExpectReply: true},
	}
}

// checkCounts fails on any count that can be read as negative or as a
// rate over 100 %: HTTP errors above requests, ws_failed above its
// outcomes, a group's figures likewise, in every window.
func checkCounts(t *testing.T, ts []measure.Tick) {
	t.Helper()
	for _, tk := range ts {
		if tk.ErrorCount < 0 || tk.ErrorCount > tk.Requests || tk.WS.Failed < 0 || tk.WS.Failed > tk.WS.Outcomes ||
			tk.WS.Sessions < tk.WS.Opened {
			t.Fatalf("window at %s: requests %d errors %d, ws failed %d of %d, sessions %d opened %d",
				tk.Elapsed, tk.Requests, tk.ErrorCount, tk.WS.Failed, tk.WS.Outcomes, tk.WS.Sessions, tk.WS.Opened)
		}
		var byKind int64
		for _, n := range tk.WS.Errors {
			byKind += n
		}
		if byKind != tk.WS.Failed {
			t.Fatalf("ws errors by kind %v add up to %d, failed %d", tk.WS.Errors, byKind, tk.WS.Failed)
		}
		for _, g := range tk.Groups {
			if g.Errors > g.Requests || g.WSFailed > g.WSOutcomes || g.Errors < 0 || g.WSFailed < 0 {
				t.Fatalf("group %s: requests %d errors %d, ws failed %d of %d", g.Name, g.Requests, g.Errors, g.WSFailed, g.WSOutcomes)
			}
		}
	}
}

// Each way a WebSocket server can fail brink's sessions is a ws_failed
// outcome of its own kind, against a real listener: a refused handshake
// (403), a server that closes every session, one that never replies, and
// one whose first frame claims 2^62 bytes. None of it is an HTTP error.
func TestWebSocketFailures(t *testing.T) {
	cases := []struct {
		name  string
		url   func(t *testing.T) string
		want  measure.ErrorKind
		msg   string  // the start of its failures row's message
		rate  float64 // ws_failed over the run at least
		check func(t *testing.T, s measure.Tick)
	}{
		{"handshake refused", func(t *testing.T) string { return wstest.Refusing(t) }, measure.ErrStatus4xx, "handshake refused: HTTP 403 Forbidden: forbidden", 1, func(t *testing.T, s measure.Tick) {
			if s.WS.Opened != 0 || s.WS.Sessions != s.WS.Failed {
				t.Errorf("opened %d, sessions %d, failed %d: every session is a failure", s.WS.Opened, s.WS.Sessions, s.WS.Failed)
			}
		}},
		{"closes every session", func(t *testing.T) string { return wstest.Closing(t) }, measure.ErrWSClosed, "closed by the server: 1006 (abnormal closure)", 0.6, func(t *testing.T, s measure.Tick) {
			if s.WS.Opened < 2 || s.WS.Closed < 2 {
				t.Errorf("opened %d closed %d: each session opens, then closes early", s.WS.Opened, s.WS.Closed)
			}
		}},
		{"never replies", func(t *testing.T) string { return wstest.Mute(t) }, measure.ErrWSReplyTimeout, "no reply within the timeout 100ms", 0.5, func(t *testing.T, s measure.Tick) {
			if s.WS.Received != 0 || s.WS.Closed != 0 {
				t.Errorf("received %d closed %d", s.WS.Received, s.WS.Closed)
			}
		}},
		{"handshake never answered", func(t *testing.T) string { return "ws://" + wstest.Silent(t) }, measure.ErrTimeout, "handshake not answered within 100ms", 1,
			func(t *testing.T, s measure.Tick) {
				if s.WS.Opened != 0 || s.WS.Sessions != s.WS.Failed {
					t.Errorf("opened %d, sessions %d, failed %d", s.WS.Opened, s.WS.Sessions, s.WS.Failed)
				}
			}},
		{"frame claims 2^62 bytes", func(t *testing.T) string {
			return "ws://" + wstest.HugeFrame(t, 1<<62, 64<<10)
		}, measure.ErrWSTooLarge, "message larger than max_body 4MiB", 0.6, func(t *testing.T, s measure.Tick) {
			if s.WS.Opened < 2 || s.WS.Received != 0 {
				t.Errorf("opened %d received %d", s.WS.Opened, s.WS.Received)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := wsGroupTo(c.url(t), 2, 800*time.Millisecond, 100*time.Millisecond)
			_, tk := run(t, scenario(200*time.Millisecond, g), Options{}, 10*time.Second)
			ts := tk.All()
			checkCounts(t, ts)
			s := tk.sum()
			if s.WS.Errors[c.want] == 0 || s.Errors[c.want] != s.WS.Errors[c.want] {
				t.Fatalf("ws errors %v, errors %v: want %s", s.WS.Errors, s.Errors, c.want)
			}
			for k, n := range s.WS.Errors {
				if k != c.want {
					t.Errorf("also %d %s (want only %s)", n, k, c.want)
				}
			}
			if s.Requests != 0 || s.ErrorCount != 0 {
				t.Errorf("requests %d errors %d: a WebSocket failure is no HTTP error", s.Requests, s.ErrorCount)
			}
			if r, ok := s.WS.FailRate(); !ok || r < c.rate {
				t.Errorf("ws_failed %.2f (%d of %d), want ≥ %.2f", r, s.WS.Failed, s.WS.Outcomes, c.rate)
			}
			var gFailed int64
			for _, x := range ts {
				for _, g := range x.Groups {
					gFailed += g.WSFailed
				}
			}
			if gFailed != s.WS.Failed {
				t.Errorf("groups' ws_failed %d, run %d", gFailed, s.WS.Failed)
			}
			c.check(t, s)
			checkWSFailureRows(t, ts, c.want, c.msg)
		})
	}
}

// checkWSFailureRows: every WebSocket failure is in the failures table,
// on the group's "ws" row of its kind, with a clean message that says why.
func checkWSFailureRows(t *testing.T, ts []measure.Tick, want measure.ErrorKind, msg string) {
	t.Helper()
	var rows, failed int64
	for _, tk := range ts {
		failed += tk.WS.Failed
		for _, f := range tk.Failures {
			if f.Group != "chat" || f.Endpoint != measure.WSEndpoint || f.Kind != want {
				t.Fatalf("failures row %+v: want chat/%s %s", f, measure.WSEndpoint, want)
			}
			if !strings.HasPrefix(f.Message, msg) || termtext.Clean(f.Message) != f.Message || utf8.RuneCountInString(f.Message) > maxMessage {
				t.Fatalf("message %q: want %q…, clean, at most %d runes", f.Message, msg, maxMessage)
			}
			if want == measure.ErrStatus4xx && f.Status != 403 || want != measure.ErrStatus4xx && f.Status != 0 {
				t.Fatalf("row %+v: status", f)
			}
			if rows == 0 {
				t.Logf("%s/%s %s %d: %s", f.Group, f.Endpoint, f.Kind, f.Status, f.Message)
			}
			rows += f.Count
		}
	}
	if rows != failed || rows == 0 {
		t.Fatalf("failures rows count %d, ws_failed %d", rows, failed)
	}
}

// A healthy session ended by brink passes: ws_failed 0 over one outcome
// per session, and ws_session_duration has each session's length.
func TestWebSocketSessionOutcomes(t *testing.T) {
	u := echoServer(t)
	g := wsGroupTo(u, 3, 600*time.Millisecond, time.Second)
	_, tk := run(t, scenario(time.Second, g), Options{}, 10*time.Second)
	checkCounts(t, tk.All())
	s := tk.sum()
	var ended int64
	for _, x := range tk.All() {
		ended += x.WS.Session.Count
		if (x.WS.Session.Count > 0) != (x.WS.SessionHist != nil) || (x.WS.Reply.Count > 0) != (x.WS.ReplyHist != nil) {
			t.Fatalf("window at %s: summaries and snapshots disagree", x.Elapsed)
		}
	}
	if s.WS.Failed != 0 || s.WS.Sessions != 3 || ended != 3 || s.WS.Outcomes != 3+s.WS.Received {
		t.Fatalf("failed %d sessions %d ended %d outcomes %d received %d", s.WS.Failed, s.WS.Sessions, ended, s.WS.Outcomes, s.WS.Received)
	}
}

// BenchmarkWSHugeFrameMemory holds BRINK_WS_VUS (default 8) WebSocket VUs
// with reply_contains (the path that buffers a message) against servers
// whose frames claim 2^62 bytes, or claim and send 64 MiB, for 2 s, and
// reports the process's peak RSS over the run: with the read limit
// (max_body, 4 MiB by default) each such session ends as ws_too_large
// before its payload is read. BRINK_WS_MAX_BODY (bytes) sets max_body, to
// see what a larger limit costs. Run with -benchtime=1x:
//
//	go test -run '^$' -bench WSHugeFrameMemory -benchtime 1x ./engine
func BenchmarkWSHugeFrameMemory(b *testing.B) {
	n := 8
	if s := os.Getenv("BRINK_WS_VUS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	for _, c := range []struct {
		name  string
		claim uint64
		send  int
	}{{"claim=2^62", 1 << 62, 8 << 20}, {"frame=64MiB", 64 << 20, 64 << 20}} {
		b.Run(c.name, func(b *testing.B) {
			addr := wstest.HugeFrame(b, c.claim, c.send)
			for range b.N {
				runtime.GC()
				debug.FreeOSMemory()
				// Reset the peak to the current RSS (Linux ≥ 4.0), so the
				// figure is this run's.
				_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
				base := rssBytes()
				g := wsGroupTo("ws://"+addr+"/", n, 2*time.Second, time.Second)
				g.WebSocket.ReplyContains = scenarios.MustTemplate(`{"n":{{iter}}}`)
				if s := os.Getenv("BRINK_WS_MAX_BODY"); s != "" {
					g.MaxBody, _ = strconv.ParseInt(s, 10, 64)
				}
				e, err := New(scenario(time.Second, g), Options{GracefulStop: time.Second})
				if err != nil {
					b.Fatal(err)
				}
				tk := &ticks{}
				e.opts.OnTick = tk.Add
				_ = e.Run(context.Background())
				peak := peakRSS() << 10 // kB
				s := tk.sum()
				if s.WS.Errors[measure.ErrWSTooLarge] == 0 && os.Getenv("BRINK_WS_MAX_BODY") == "" {
					b.Fatalf("no ws_too_large: %v", s.WS.Errors)
				}
				b.ReportMetric(float64(peak)/(1<<20), "peak-rss-MiB")
				b.ReportMetric(float64(peak-base)/(1<<20)/float64(n), "peak-rss-MiB/vu")
				b.ReportMetric(float64(s.WS.Errors[measure.ErrWSTooLarge]), "too-large")
			}
		})
	}
}

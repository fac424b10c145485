package cli

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/brink-load/brink/engine/wstest"
)

// A WebSocket run against a server that fails every session, in each way
// a real one does, is no pass: ws_failed says how many and of which kind
// (in the progress line, the summary, the groups table and the report),
// no count reads negative, and the ws_failed threshold fails the run with
// exit 99.
func TestWebSocketFailuresFailTheRun(t *testing.T) {
	cases := []struct {
		name, kind string
		url        func(t *testing.T) string
	}{
		{"handshake refused", "status_4xx", func(t *testing.T) string { return wstest.Refusing(t) }},
		{"closes every session", "ws_closed", func(t *testing.T) string { return wstest.Closing(t) }},
		{"never replies", "ws_reply_timeout", func(t *testing.T) string { return wstest.Mute(t) }},
		{"frame claims 2^62 bytes", "ws_too_large", func(t *testing.T) string { return "ws://" + wstest.HugeFrame(t, 1<<62, 1<<20) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := writeScenario(t, fmt.Sprintf(`name: ws-fault
groups:
  - name: chat
    executor: ramping-vus
    start: 2
    stages: [{duration: 3s, target: 2}]
    timeout: 200ms
    websocket: {url: "%s", send: "hi {{iter}}", every: 100ms, expect_reply: true}
thresholds:
  ws_failed: ["rate<5%%"]
`, c.url(t)))
			rep := filepath.Join(t.TempDir(), "r.json")
			code, out, errb := runBrink("run", "--headless", "--progress", "700ms", "--report", rep, file)
			if code != exitThreshold {
				t.Fatalf("exit %d, want %d; stdout:\n%s\nstderr:\n%s", code, exitThreshold, out, errb)
			}
			if regexp.MustCompile(`[✓✗] -\d`).MatchString(out) {
				t.Errorf("a negative count in the summary:\n%s", out)
			}
			for _, want := range []string{"ws_failed", c.kind, "ws_sessions", "✗ ws_failed 'rate<5%'"} {
				if !strings.Contains(out, want) {
					t.Errorf("summary lacks %q:\n%s", want, out)
				}
			}
			if !regexp.MustCompile(`ws_failed=[1-9]\d*\.\d%`).MatchString(errb) {
				t.Errorf("no failing ws_failed= in the progress lines:\n%s", errb)
			}
			r := readReport(t, rep)
			ws := r.Summary.WS
			if ws == nil || ws.Failed == 0 || ws.FailedByKind[c.kind] != ws.Failed || ws.Failed > ws.Outcomes {
				t.Fatalf("report ws summary %+v, want every failure of kind %s", ws, c.kind)
			}
			if len(r.Groups) != 1 || r.Groups[0].WSFailed != ws.Failed || r.Groups[0].WSFailedRate == nil {
				t.Errorf("report groups %+v", r.Groups)
			}
			if r.Summary.Errors != 0 || r.Passed {
				t.Errorf("http errors %d, passed %v", r.Summary.Errors, r.Passed)
			}
		})
	}
}

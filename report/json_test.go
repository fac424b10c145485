package report

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
	"github.com/brink-load/brink/tabletest"
)

const secret = "s3cr3t-value-9f2c"

func secretScenario(t *testing.T) *scenarios.Scenario {
	t.Setenv("BRINK_TEST_TOKEN", secret)
	sc := scenario(false, []scenarios.Threshold{p95lt500}, scenarios.NodeThreshold{Metric: "load1", Above: 100})
	sc.Nodes.Prometheus = "http://admin:" + secret + "@127.0.0.1:9090"
	g := &sc.Groups[0]
	g.Requests[0].URL = scenarios.MustTemplate(`http://127.0.0.1:1/api?room={{rand 1 5}}&auth=1&api_key={{env "BRINK_TEST_TOKEN"}}`)
	g.Requests[0].Headers = []scenarios.Header{
		{Name: "Authorization", Value: scenarios.MustTemplate("Bearer " + secret)},
		{Name: "X-Session-Token", Value: scenarios.MustTemplate(`{{env "BRINK_TEST_TOKEN"}}`)},
		{Name: "Accept", Value: scenarios.MustTemplate("application/json")},
	}
	g.Requests[0].Body = scenarios.MustTemplate(`{"k":"{{env "BRINK_TEST_TOKEN"}}"}`)
	return sc
}

func TestReportRoundTrip(t *testing.T) {
	sc := secretScenario(t)
	r := NewRecorder(sc, t0, Options{Version: "9.9.9", Host: "gen-1"})
	polls := map[int][]measure.Sample{}
	for s := 1; s <= 10; s++ {
		polls[s] = []measure.Sample{load1("db-3", 90+float64(s)*2)} // over 100 from 6 s
	}
	feed(t, r, ramp(10, 10, func(int) float64 { return 80 }), polls)
	r.Note("alice (SHA256:abc)", "cache on", at(3))
	r.Control("local", "hold", at(4))
	r.Finish(at(11))
	rep := r.Report()
	raw, back := roundTrip(t, rep)
	if bytes.Contains(raw, []byte(secret)) {
		t.Errorf("report holds the secret:\n%s", raw)
	}
	for _, want := range []string{`"schema_version": 1`, `"iowait":null`, `"brink_version": "9.9.9"`,
		`"Bearer [redacted]"`, `\u0026auth=1\u0026api_key={{env \"BRINK_TEST_TOKEN\"}}`, `admin:[redacted]@`, `"application/json"`} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("report lacks %s", want)
		}
	}
	if got := sc.Groups[0].Requests[0].Headers[0].Value.Source(); got != "Bearer "+secret {
		t.Errorf("redaction changed the scenario being run: %q", got)
	}
	if !math.IsNaN(float64(back.Nodes[0].Samples[0].IOWait)) {
		t.Errorf("null did not read back as NaN: %v", back.Nodes[0].Samples[0].IOWait)
	}
	if back.Verdict.Breakpoint == nil || back.Verdict.Breakpoint.Signal.Node != "db-3" || !back.Verdict.Breakpoint.Time.Equal(at(6)) {
		t.Errorf("breakpoint after round trip: %+v", back.Verdict.Breakpoint)
	}
	if len(back.Timeline) != 10 || back.Summary.Requests != rep.Summary.Requests || !back.Complete {
		t.Errorf("round trip lost data: %d windows, %d requests", len(back.Timeline), back.Summary.Requests)
	}
	a, _ := json.Marshal(rep)
	b, _ := json.Marshal(back)
	if !bytes.Equal(a, b) {
		t.Errorf("write → read → write is not stable:\n%s\n%s", a, b)
	}
}

func TestRedactURL(t *testing.T) {
	tabletest.Run(t, "redactURL", redactURL, []struct{ In, Want string }{
		{"http://127.0.0.1:8080/api", "http://127.0.0.1:8080/api"},
		{"http://u:p@h:1/x", "http://u:[redacted]@h:1/x"},
		{"http://u@h/x", "http://u@h/x"},
		// A literal is shown, whatever its name: it is in the file already.
		{"/a?token=1&b=2#f", "/a?token=1&b=2#f"},
		{"ws://h/chat?auth=1", "ws://h/chat?auth=1"},
		{"/a?flag", "/a?flag"},
		{"http://h/p@x?q=1", "http://h/p@x?q=1"},
	})
}

// A credential header's value is hidden when any of the credential is
// written literally; written as placeholders only, it keeps its source,
// as any template does: the value comes at run time and is not in it.
func TestRedactCredential(t *testing.T) {
	header := func(h string) string {
		name, value, _ := strings.Cut(h, ": ")
		return name + ": " + redactCredential(name, value)
	}
	tabletest.Run(t, "redactCredential", header, []struct{ In, Want string }{
		{"Authorization: Bearer abc123", "Authorization: Bearer [redacted]"},
		{"Authorization: Bearer {{.token}}", "Authorization: Bearer {{.token}}"},
		{`Authorization: Bearer {{env "API_TOKEN"}}`, `Authorization: Bearer {{env "API_TOKEN"}}`},
		{`Authorization: {{env "AUTH"}}`, `Authorization: {{env "AUTH"}}`},
		{"Authorization: Bearer abc{{.token}}", "Authorization: Bearer [redacted]"},
		{"Authorization: Basic {{.user}}:{{.password}}", "Authorization: Basic [redacted]"},
		{"Authorization: s3cret", "Authorization: [redacted]"},
		{"Proxy-Authorization: Basic dXNlcjpwdw==", "Proxy-Authorization: Basic [redacted]"},
		{"Cookie: session=abc123", "Cookie: [redacted]"},
		{"Cookie: sid={{.sid}}; theme={{.theme}}", "Cookie: sid={{.sid}}; theme={{.theme}}"},
		{"Cookie: sid={{.sid}}; theme=dark", "Cookie: [redacted]"},
		{"Cookie: {{.cookie}}", "Cookie: {{.cookie}}"},
		{"Cookie: sid={{.sid", "Cookie: [redacted]"},
	})
}

// The report's copy of a WebSocket group shows literals as written, but
// not a credential header's value (the nginx wanted both).
func TestRedactWebSocket(t *testing.T) {
	sc := &scenarios.Scenario{Groups: []scenarios.Group{{Name: "chat", WebSocket: &scenarios.WebSocket{
		URL: scenarios.MustTemplate("ws://h/chat?auth=1&room={{.room}}"),
		Headers: []scenarios.Header{{Name: "Cookie", Value: scenarios.MustTemplate("session=abc123")},
			{Name: "X-Auth", Value: scenarios.MustTemplate("1")}},
	}}}}
	ws := Redact(sc).Groups[0].WebSocket
	if got := ws.URL.Source(); got != "ws://h/chat?auth=1&room={{.room}}" {
		t.Errorf("url %q", got)
	}
	if got := ws.Headers[0].Value.Source() + " " + ws.Headers[1].Value.Source(); got != "[redacted] 1" {
		t.Errorf("headers %q", got)
	}
}

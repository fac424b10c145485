package scenarios

import (
	"strings"
	"testing"
)

func TestExamplesLoad(t *testing.T) {
	names := Examples()
	for _, want := range []string{"arrival-rate", "chat", "smoke"} {
		if !strings.Contains(strings.Join(names, " "), want) {
			t.Errorf("Examples() = %v, missing %s", names, want)
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			data, err := Example(name)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Parse("examples/"+name+".yaml", data)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Groups) == 0 || s.Duration() <= 0 {
				t.Fatalf("example %s: %d groups, duration %s", name, len(s.Groups), s.Duration())
			}
			if err := Validate(s); err != nil {
				t.Fatalf("Validate after Parse: %v", err)
			}
		})
	}
	// The chat example is DESIGN.md's story; spot-check what it promises.
	data, _ := Example("chat.yaml")
	s, err := Parse("chat.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Groups) != 3 || s.Groups[1].WebSocket == nil || s.Groups[1].WebSocket.URL.Source() != "ws://127.0.0.1:8080/ws" ||
		s.Groups[2].Executor != RampingArrivalRate || s.Groups[2].MaxVUs != 2000 || !s.AbortOnBreakpoint {
		t.Errorf("chat example groups: %+v", s.Groups)
	}
	if n := s.Nodes; n == nil || n.Prometheus != "http://127.0.0.1:9090" || n.RoleOf("db-3") != "db" || len(n.Thresholds) != 3 || n.NameLabel != "node" {
		t.Errorf("chat example nodes: %+v", s.Nodes)
	}
	if len(s.Thresholds) != 3 || s.Thresholds[2].Metric != "http_req_failed" || s.Thresholds[2].Value != 0.01 {
		t.Errorf("chat example thresholds: %+v", s.Thresholds)
	}
	if _, err := Example("chta"); err == nil || !strings.Contains(err.Error(), "did you mean chat?") {
		t.Errorf("Example(chta) error = %v", err)
	}
}

func BenchmarkParseChatExample(b *testing.B) {
	data, err := Example("chat")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("chat.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

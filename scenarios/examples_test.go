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

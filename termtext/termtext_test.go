package termtext

import (
	"testing"
	"unicode/utf8"

	"github.com/brink-load/brink/tabletest"
)

func TestClean(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"plain", "connection refused", "connection refused"},
		{"unicode kept", "db-3 Ünïcode ✓ 日本", "db-3 Ünïcode ✓ 日本"},
		{"clear screen", "\x1b[2Jdb-3", "db-3"},
		{"colour", "\x1b[31mred\x1b[0m text", "red text"},
		{"csi private", "a\x1b[?1049hb", "ab"},
		{"osc bel", "a\x1b]0;pwned title\x07b", "ab"},
		{"osc st", "a\x1b]52;c;aGVsbG8=\x1b\\b", "ab"},
		{"osc c1 st", "a\x1b]8;;http://x\u009cb", "ab"},
		{"osc unterminated", "a\x1b]0;title", "a"},
		{"dcs", "a\x1bPq#0;2;0;0;0\x1b\\b", "ab"},
		{"apc", "a\x1b_Gf=100\x1b\\b", "ab"},
		{"two byte esc", "a\x1b7b\x1b8c", "abc"},
		{"esc intermediate", "a\x1b(Bb", "ab"},
		{"esc at end", "abc\x1b", "abc"},
		{"esc then control", "a\x1b\x00b", "ab"},
		{"esc then non-ascii", "a\x1bé", "aé"},
		{"csi broken by newline", "a\x1b[12\nb", "a b"},
		{"c1 csi rune", "a\u009b2Jb", "ab"},
		{"c1 osc rune", "a\u009d0;t\u0007b", "ab"},
		{"c1 other rune", "a\u0085b", "ab"},
		{"raw c1 byte", "a\x9b2Jb", "a\uFFFD2Jb"},
		{"invalid utf8", "a\xff\xfeb", "a\uFFFD\uFFFDb"},
		{"tab newline", "a\tb\nc", "a b c"},
		{"crlf one space", "a\r\nb", "a b"},
		{"cr alone", "a\rb", "a b"},
		{"vt ff", "a\vb\fc", "a b c"},
		{"nul bel bs del", "a\x00b\x07c\x08d\x7fe", "abcde"},
		{"backspace overwrite", "ok\x08\x08no", "okno"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Clean(c.in); got != c.want {
				t.Errorf("Clean(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestCleanLines(t *testing.T) {
	tabletest.Run(t, "CleanLines", CleanLines, []struct{ In, Want string }{
		{"", ""},
		{"a\nb\n", "a\nb\n"},
		{"a\r\nb", "a\nb"},
		{"\x1b[2Jtitle\nrow\t1\x1b]0;x\nrest", "title\nrow 1\nrest"}, // an unterminated OSC ends with its line
		{"ok\n\x1b[31mred\x1b[0m\n", "ok\nred\n"},
	})
	s := "summary\n  p95 12 ms\n"
	if n := testing.AllocsPerRun(100, func() { _ = CleanLines(s) }); n != 0 {
		t.Errorf("CleanLines on clean text: %v allocations, want 0", n)
	}
}

// TestCleanNoAlloc holds the promise that lets callers clean on every frame.
func TestCleanNoAlloc(t *testing.T) {
	for _, s := range []string{"", "dial tcp 127.0.0.1:8080: connect: connection refused", "db-3 ✓ 日本"} {
		if n := testing.AllocsPerRun(100, func() { _ = Clean(s) }); n != 0 {
			t.Errorf("Clean(%q): %v allocations, want 0", s, n)
		}
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b[2J", "\x1b]0;t\x07", "\x1bP\x1b\\", "\u009b1m", "\xff", "a\r\nb", "\x1b", "\x1b]", "é\x1b[é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Clean(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Clean(%q) = %q: not valid UTF-8", s, got)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
				t.Fatalf("Clean(%q) = %q: control rune %U left", s, got, r)
			}
		}
		if again := Clean(got); again != got {
			t.Fatalf("Clean not idempotent: %q → %q → %q", s, got, again)
		}
		if firstUnsafe(s) < 0 && got != s {
			t.Fatalf("Clean changed clean text %q to %q", s, got)
		}
		lines := CleanLines(s)
		for _, r := range lines {
			if r != '\n' && (r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f)) {
				t.Fatalf("CleanLines(%q) = %q: control rune %U left", s, lines, r)
			}
		}
		if len(got) > 3*len(s) {
			t.Fatalf("Clean(%q) grew to %d bytes", s, len(got))
		}
	})
}

func BenchmarkCleanClean(b *testing.B) {
	s := "dial tcp 127.0.0.1:8080: connect: connection refused (db-3 ✓)"
	b.ReportAllocs()
	for b.Loop() {
		_ = Clean(s)
	}
}

func BenchmarkCleanDirty(b *testing.B) {
	s := "\x1b[31mdial tcp\x1b[0m 127.0.0.1:8080:\r\n connect: \x1b]0;x\x07refused"
	b.ReportAllocs()
	for b.Loop() {
		_ = Clean(s)
	}
}

func TestOneLine(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want string
	}{{"a\nb", 0, "a b"}, {"abcdef", 3, "abc…"}, {"abc", 3, "abc"}, {"a\nbcd", 0, "a bcd"}} {
		if got := OneLine(c.in, c.max); got != c.want {
			t.Errorf("OneLine(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}

// Package testout holds what a test reads while other goroutines write:
// a locked byte buffer (a process's or a server's output) and a list of
// log lines (an Options.Logf or a Config.Logf). Tests only.
package testout

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// Buffer collects output that another goroutine writes (a server's log, a
// command run in the background) while a test reads it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// Len is the number of bytes written so far.
func (s *Buffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}

func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Logs collects Logf lines.
type Logs struct {
	mu    sync.Mutex
	lines []string
}

// Logf is the func(format string, args ...any) the code under test logs with.
func (l *Logs) Logf(format string, args ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

// Lines is a copy of the lines logged so far.
func (l *Logs) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// Reset forgets the lines logged so far.
func (l *Logs) Reset() {
	l.mu.Lock()
	l.lines = nil
	l.mu.Unlock()
}

// Contains says whether a line contains s.
func (l *Logs) Contains(s string) bool { return l.Count(s) > 0 }

// Count is the number of lines that contain s.
func (l *Logs) Count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}

// WaitFor waits, at most limit, until a line contains s.
func (l *Logs) WaitFor(t testing.TB, s string, limit time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(limit); !l.Contains(s); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no log line with %q within %s: %q", s, limit, l.Lines())
		}
	}
}

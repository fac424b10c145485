// Package testout holds what a test reads while other goroutines write:
// a locked byte buffer (a process's or a server's output), a locked list
// (a run's ticks, the headers a server saw) and a list of log lines (an
// Options.Logf or a Config.Logf); and Recv, the bounded wait for what a
// goroutine sends. Tests only.
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

// List collects what other goroutines hand a test, in order.
type List[T any] struct {
	mu    sync.Mutex
	items []T
}

// Add appends x; its method value is the callback the code under test calls.
func (l *List[T]) Add(x T) {
	l.mu.Lock()
	l.items = append(l.items, x)
	l.mu.Unlock()
}

// All is a copy of what was added so far.
func (l *List[T]) All() []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]T(nil), l.items...)
}

// Reset forgets what was added so far.
func (l *List[T]) Reset() {
	l.mu.Lock()
	l.items = nil
	l.mu.Unlock()
}

// Logs collects Logf lines.
type Logs struct{ List[string] }

// Logf is the func(format string, args ...any) the code under test logs with.
func (l *Logs) Logf(format string, args ...any) { l.Add(fmt.Sprintf(format, args...)) }

// Lines is a copy of the lines logged so far.
func (l *Logs) Lines() []string { return l.All() }

// Contains says whether a line contains s.
func (l *Logs) Contains(s string) bool { return l.Count(s) > 0 }

// Count is the number of lines that contain s.
func (l *Logs) Count(s string) int {
	n := 0
	for _, line := range l.All() {
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

// Recv is the next value from ch; past limit it fails t with what
// (saying what did not happen).
func Recv[T any](t testing.TB, ch <-chan T, limit time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(limit):
		t.Fatal(what)
		var zero T
		return zero
	}
}

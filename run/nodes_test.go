package run

import (
	"fmt"
	"testing"

	"github.com/brink-load/brink/measure"
)

// TestWarningsOnce: under the console each distinct node-source warning is
// logged once, however many polls repeat it, and every poll still reaches
// the recorder.
func TestWarningsOnce(t *testing.T) {
	var logged []string
	polls := 0
	f := warningsOnce(func(measure.Poll) { polls++ }, func(format string, a ...any) { logged = append(logged, fmt.Sprintf(format, a...)) })
	clamp := "scrape interval 1ms from the targets API is out of bounds, using 1s (rate window 4s)"
	for i := 0; i < 5; i++ {
		f(measure.Poll{Warnings: []string{clamp}})
	}
	f(measure.Poll{Warnings: []string{clamp, "query disk: HTTP 503"}})
	for i := 0; i < 100; i++ {
		f(measure.Poll{Warnings: []string{fmt.Sprintf("query %d failed", i)}})
	}
	if polls != 106 || len(logged) != maxWarningNotes || logged[0] != "nodes: "+clamp || logged[1] != "nodes: query disk: HTTP 503" {
		t.Errorf("%d polls, logged %d: %q", polls, len(logged), logged[:min(3, len(logged))])
	}
}

package engine

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
	"github.com/brink-load/brink/testout"
)

// A panic in an engine goroutine (here the OnTick callback, which runs on
// the ticker goroutine) reaches Options.OnPanic with its stack instead of
// killing the process.
func TestOnPanicReceivesGoroutinePanics(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	sc := &scenarios.Scenario{Name: "panic", Window: 100 * time.Millisecond, Groups: []scenarios.Group{{
		Name: "g", Executor: scenarios.RampingVUs, Start: 1,
		Stages:   []scenarios.Stage{{Duration: 2 * time.Second, Target: 1}},
		Requests: []scenarios.Request{{Name: "r", Method: "GET", URL: scenarios.MustTemplate(srv.URL)}},
	}}}
	if err := scenarios.Validate(sc); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	e, err := New(sc, Options{
		OnTick: func(measure.Tick) { panic("boom in OnTick") },
		OnPanic: func(v any, stack []byte) {
			select {
			case got <- v.(string) + "\n" + string(stack):
			default:
			}
			select {} // as the CLI does: it exits the process from here
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go e.Run(ctx)
	if s := testout.Recv(t, got, 5*time.Second, "OnPanic never called"); !strings.HasPrefix(s, "boom in OnTick") || !strings.Contains(s, "ticker") {
		t.Fatalf("OnPanic got %q", s)
	}
}

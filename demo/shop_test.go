package demo_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/brink-load/brink/demo"
	"github.com/brink-load/brink/engine"
	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
)

// The login-order example runs against the demo as written (shortened):
// every VU logs in once as its own user, and its orders are placed and
// read back with the token and the session cookie, without an error.
func TestLoginOrderExampleAgainstDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := demo.Start(ctx, "", demo.Options{Speed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	y, err := scenarios.Example("login-order")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.NewReplacer("http://127.0.0.1:8080", s.BaseURL(), "duration: 1m", "duration: 2s", "think: 500ms-1s", "think: 50ms").Replace(string(y))
	sc, err := scenarios.Parse("example:login-order", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var errs, reqs, checks int64
	orders := int64(0)
	e, err := engine.New(sc, engine.Options{OnTick: func(tk measure.Tick) {
		errs += tk.ErrorCount
		reqs += tk.Requests
		checks += tk.ChecksFailed
		for _, ep := range tk.Endpoints {
			if ep.Name == "show order" {
				orders += ep.Requests
			}
		}
	}, GracefulStop: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if errs != 0 || checks != 0 {
		t.Fatalf("%d errors, %d checks failed in %d requests", errs, checks, reqs)
	}
	if orders == 0 {
		t.Fatal("no order was read back")
	}
	if n := len(s.IssuedTokens()); n != 4 {
		t.Errorf("%d logins, want 4 (one per VU)", n)
	}
}

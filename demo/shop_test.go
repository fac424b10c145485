package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/brink-load/brink/demo/demotest"
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
	s, src := demotest.LoginOrder(ctx, t, "2s")
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

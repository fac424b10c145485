// Package demotest starts the demo for a test and checks a demo run's
// report for what the demo's story guarantees. It is shared by the demo
// package's tests and the brink command's; nothing but tests imports it.
package demotest

import (
	"context"
	"strings"
	"testing"

	"github.com/brink-load/brink/demo"
	"github.com/brink-load/brink/report"
	"github.com/brink-load/brink/scenarios"
)

// LoginOrder starts a demo at speed 1 (closed when t ends) and returns it
// with the login-order example pointed at it, run for dur (e.g. "3s")
// instead of a minute and with 50 ms think instead of 0.5–1 s: every VU
// logs in once as its own user, then places and reads back orders.
func LoginOrder(ctx context.Context, t testing.TB, dur string) (*demo.Server, string) {
	t.Helper()
	s, err := demo.Start(ctx, "", demo.Options{Speed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	y, err := scenarios.Example("login-order")
	if err != nil {
		t.Fatal(err)
	}
	return s, strings.NewReplacer("http://127.0.0.1:8080", s.BaseURL(), "duration: 1m", "duration: "+dur,
		"think: 500ms-1s", "think: 50ms").Replace(string(y))
}

// CheckStory fails t unless rep tells the story the demo guarantees: db-3's
// load1 crosses (a node_over event) and the verdict names it among its
// signals; db-2 (as big as db-3, with a quarter of its reads) never
// crosses; and, while the generator kept its schedule, no other node
// crosses either.
//
// The order of db-3 and the p95 SLO is not judged, only logged: the
// generator shares the CPU with the demo target, and on a busy machine it
// can push p95 past 500 ms on its own first. Starved harder (arrivals
// dropped), every simulated service time stretches with the scheduler's
// delays, so db-1 — which takes every write and chat message — can cross
// too; the report says so by its dropped arrivals, and such a crossing is
// then logged instead of failing the test. A signal that came while brink
// itself was the bottleneck is no breakpoint and is not named (the verdict
// says so with an inconclusive "generator" reason); then only the crossing
// is required.
func CheckStory(t testing.TB, rep *report.Report) {
	t.Helper()
	v := &rep.Verdict
	t.Logf("verdict: %s", v.Text)
	var sigs []report.Signal
	if v.Breakpoint != nil {
		sigs = append(sigs, v.Breakpoint.Signal)
	}
	for _, f := range v.Followed {
		sigs = append(sigs, f.Signal)
	}
	if len(sigs) > 0 && (sigs[0].Node != "db-3" || sigs[0].Metric != "load1") {
		t.Logf("%s came before db-3 load1 (a busy machine)", sigs[0].Text)
	}
	named, starved, selfBound := false, rep.Summary.DroppedIterations > 0, false
	for _, s := range sigs {
		named = named || s.Kind == report.SignalNode && s.Node == "db-3" && s.Metric == "load1"
		starved = starved || s.Kind == report.SignalRate
	}
	for _, r := range v.Inconclusive {
		selfBound = selfBound || r.Kind == report.InconclusiveGenerator
	}
	starved = starved || selfBound
	switch {
	case named:
	case selfBound:
		t.Logf("db-3 load1 is not among the verdict's signals: brink itself was the bottleneck")
	default:
		t.Errorf("verdict's signals do not include db-3 load1: %s", v.Text)
	}
	crossed := false
	for _, e := range rep.Events {
		if e.Kind != report.EventNodeOver {
			continue
		}
		switch {
		case e.Node == "db-3":
			crossed = crossed || e.Metric == "load1"
		case e.Node != "db-2" && starved:
			t.Logf("the generator fell behind its schedule, and %s crossed too: %s", e.Node, e.Text)
		default:
			t.Errorf("%s crossed too: %s", e.Node, e.Text)
		}
	}
	if !crossed {
		t.Error("no node_over event for db-3 load1")
	}
}

package engine

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/brink-load/brink/scenarios"
)

func weight(w float64) *float64 { return &w }

// pick gives each request its weight's share of u in [0, 1): exactly at
// the edges, and within 5 % of the share over 10 000 seeded draws.
func TestPickShares(t *testing.T) {
	g := &group{cum: []float64{7, 9, 10}} // weights 7, 2, 1
	for _, c := range []struct {
		u    float64
		want int
	}{{0, 0}, {0.69999, 0}, {0.7, 1}, {0.89999, 1}, {0.9, 2}, {math.Nextafter(1, 0), 2}} {
		if got := g.pick(c.u); got != c.want {
			t.Errorf("pick(%v) = %d, want %d", c.u, got, c.want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2)) // fixed seed: the same draws every run
	var n [3]int
	const picks = 10000
	for range picks {
		n[g.pick(r.Float64())]++
	}
	for i, share := range []float64{0.7, 0.2, 0.1} {
		if want := share * picks; math.Abs(float64(n[i])-want) > 0.05*want {
			t.Errorf("request %d picked %d times of %d, want %.0f ± 5 %%", i, n[i], picks, want)
		}
	}
}

// Through a real VU against a real listener: each iteration of a
// weighted group sends one request, the requests' counts follow their
// weights within 5 % over 10 000 iterations (a seeded VU), and picking
// allocates nothing.
func TestWeightedPickIterations(t *testing.T) {
	u := rawServer(t)
	g := constVUs(scenarios.Group{Name: "mix", Executor: scenarios.RampingVUs, Pick: scenarios.PickWeighted}, 1, time.Second)
	weights := map[string]float64{"read": 70, "write": 20, "delete": 10}
	for _, name := range []string{"read", "write", "delete"} {
		g.Requests = append(g.Requests, scenarios.Request{Name: name, Method: "GET", URL: scenarios.MustTemplate(u + "/" + name), Weight: weight(weights[name])})
	}
	e, v := soloVU(t, scenario(time.Hour, g))
	v.tctx.Rand = rand.New(rand.NewPCG(3, 4))
	stop := v.setup()
	defer v.teardown(stop)
	const iters = 10000
	for range iters - 200 {
		v.iterate(time.Time{})
	}
	if allocs := testing.AllocsPerRun(200, func() { v.iterate(time.Time{}) }); allocs != 0 && !raceOn {
		t.Errorf("%v allocations per weighted iteration, want 0", allocs)
	}
	tk := e.collect(newMerger(e), e.start, time.Now())
	// AllocsPerRun runs its function once more to warm up.
	if tk.Iterations != iters+1 || tk.Requests != tk.Iterations || tk.ErrorCount != 0 {
		t.Fatalf("%d iterations, %d requests, %d errors: want one request per iteration", tk.Iterations, tk.Requests, tk.ErrorCount)
	}
	for _, ep := range tk.Endpoints {
		want := weights[ep.Name] / 100 * float64(tk.Iterations)
		if math.Abs(float64(ep.Requests)-want) > 0.05*want {
			t.Errorf("%s: %d requests, want %.0f ± 5 %%", ep.Name, ep.Requests, want)
		}
		t.Logf("%s: %d requests (%.1f %%)", ep.Name, ep.Requests, 100*float64(ep.Requests)/float64(tk.Iterations))
	}
}

// An unweighted request in a weighted group weighs 1, and a group without
// pick still runs every request per iteration.
func TestPickDefaults(t *testing.T) {
	u := rawServer(t)
	g := constVUs(scenarios.Group{Name: "mix", Executor: scenarios.RampingVUs, Pick: scenarios.PickWeighted}, 1, time.Second)
	g.Requests = []scenarios.Request{{Name: "a", Method: "GET", URL: scenarios.MustTemplate(u)}, {Name: "b", Method: "GET", URL: scenarios.MustTemplate(u), Weight: weight(3)}}
	seq := constVUs(get("seq", u), 1, time.Second)
	seq.Requests = append(seq.Requests, scenarios.Request{Name: "seq2", Method: "GET", URL: scenarios.MustTemplate(u)})
	e, err := New(scenario(time.Hour, g, seq), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c := e.groups[0].cum; len(c) != 2 || c[0] != 1 || c[1] != 4 {
		t.Errorf("running sums %v, want [1 4]", c)
	}
	if e.groups[1].cum != nil {
		t.Errorf("a sequence group has weights %v", e.groups[1].cum)
	}
}

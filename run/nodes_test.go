package run

import (
	"fmt"
	"testing"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
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

func TestNodeSourceConfig(t *testing.T) {
	above := 0.5
	n := &scenarios.Nodes{Prometheus: "http://p:9090", Match: `{job="n"}`, NameLabel: "node",
		Names: map[string]string{"a:1": "db-1"}, RoleLabel: "role",
		Roles:    []scenarios.Role{{Name: "db", Pattern: "db-.*"}, {Name: "web", Pattern: "web-.*"}},
		Panels:   []scenarios.Panel{{Title: "p95", Query: "histogram_quantile(0.95, x)", Unit: "s", Above: &above}},
		Interval: 2 * time.Second, PromConfig: "http.yml"}
	c := NodeSourceConfig(n)
	if c.Prometheus != n.Prometheus || c.Match != n.Match || c.NameLabel != "node" || c.Names["a:1"] != "db-1" ||
		c.RoleLabel != "role" || len(c.Roles) != 2 || c.Roles[1].Name != "web" || len(c.Panels) != 1 ||
		*c.Panels[0].Above != 0.5 || c.Interval != 2*time.Second || c.PromConfigFile != "http.yml" {
		t.Errorf("config %+v", c)
	}
	if c := NodeSourceConfig(nil); c.Prometheus != "" || c.Scrape != nil {
		t.Errorf("nil nodes: %+v", c)
	}
}

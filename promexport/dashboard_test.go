package promexport

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestDashboardShape: the embedded dashboard is JSON Grafana imports as
// meant: unique panel ids, panels that do not overlap on the 24-column
// grid, every query on the datasource variable, the annotations reading a
// brink metric's value as their time in milliseconds. (That every
// expression gives data is cli's TestMetricsScrapedByPrometheus.)
func TestDashboardShape(t *testing.T) {
	type ds struct {
		UID string `json:"uid"`
	}
	type target struct {
		Expr       string `json:"expr"`
		Datasource ds     `json:"datasource"`
	}
	type panel struct {
		ID      int                      `json:"id"`
		Type    string                   `json:"type"`
		Title   string                   `json:"title"`
		GridPos struct{ X, Y, W, H int } `json:"gridPos"`
		Targets []target                 `json:"targets"`
	}
	var d struct {
		UID         string  `json:"uid"`
		Panels      []panel `json:"panels"`
		Annotations struct {
			List []struct {
				Name            string `json:"name"`
				Expr            string `json:"expr"`
				UseValueForTime bool   `json:"useValueForTime"`
				Datasource      ds     `json:"datasource"`
			} `json:"list"`
		} `json:"annotations"`
	}
	if err := json.Unmarshal(Dashboard, &d); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	ids := map[int]bool{}
	var cells = map[[2]int]string{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d twice", p.ID)
		}
		ids[p.ID] = true
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
			t.Errorf("%q: gridPos %+v off the 24-column grid", p.Title, g)
		}
		for x := g.X; x < g.X+g.W; x++ {
			for y := g.Y; y < g.Y+g.H; y++ {
				if other, ok := cells[[2]int{x, y}]; ok {
					t.Errorf("%q overlaps %q at %d,%d", p.Title, other, x, y)
				}
				cells[[2]int{x, y}] = p.Title
			}
		}
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("%q has no query", p.Title)
		}
		var exprs []string
		for _, tg := range p.Targets {
			if tg.Datasource.UID != "${datasource}" || tg.Expr == "" {
				t.Errorf("%q: target %+v not a query on ${datasource}", p.Title, tg)
			}
			exprs = append(exprs, tg.Expr)
		}
		// The load as the verdict says it: closed groups' users and
		// arrival-rate groups' target rates (brink_breakpoint_users alone
		// read every VU of an arrival-rate run as users, and no rate).
		if all := strings.Join(exprs, " "); p.Title == "Breakpoint load" &&
			(!strings.Contains(all, "brink_breakpoint_vus") || !strings.Contains(all, "brink_breakpoint_arrival_rate") || strings.Contains(all, "brink_breakpoint_users")) {
			t.Errorf("%q queries %q: want the closed groups' users and the arrival rates", p.Title, exprs)
		}
	}
	var bp, cross bool
	for _, a := range d.Annotations.List {
		if a.Expr == "" {
			continue // Grafana's built-in
		}
		if !a.UseValueForTime || !strings.HasSuffix(a.Expr, "* 1000") || a.Datasource.UID != "${datasource}" {
			t.Errorf("annotation %q: want a brink timestamp × 1000 read as the time on ${datasource}: %+v", a.Name, a)
		}
		bp = bp || strings.Contains(a.Expr, "brink_breakpoint_timestamp_seconds")
		cross = cross || strings.Contains(a.Expr, `brink_event_timestamp_seconds{kind=~"node_over`)
	}
	if !bp || !cross {
		t.Errorf("annotations: breakpoint %v, node crossings %v; want both", bp, cross)
	}
}

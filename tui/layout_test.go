package tui

import (
	"fmt"
	"testing"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/brink-load/brink/measure"
)

// The layouts are checked as drawn boxes (testdata/TestLayoutBoxes/*.golden;
// go test -update rewrites them).
func TestLayoutBoxes(t *testing.T) {
	cases := []struct{ w, h, nodes int }{{80, 24, 20}, {100, 40, 8}, {120, 40, 8}, {200, 60, 20}}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%dx%d", c.w, c.h), func(t *testing.T) {
			got := computeLayout(c.w, c.h, layoutState{Nodes: c.nodes, HelpLines: 1}).boxes(c.w, c.h)
			golden.RequireEqual(t, []byte(got))
		})
	}
}

// Every layout tiles the screen exactly: no overlap, no gap.
func TestLayoutTiles(t *testing.T) {
	for w := 80; w <= 240; w += 7 {
		for h := 24; h <= 80; h += 5 {
			for _, nodes := range []int{0, 3, 20, 60} {
				for _, help := range []int{1, 5} {
					l := computeLayout(w, h, layoutState{Nodes: nodes, HelpLines: help})
					cover := make([]int, w*h)
					for _, r := range []rect{l.Header, l.Latency, l.Throughput, l.Nodes, l.Side, l.Help} {
						if r.W < 0 || r.H < 0 || r.X+r.W > w || r.Y+r.H > h {
							t.Fatalf("%dx%d nodes=%d: rect %+v out of bounds", w, h, nodes, r)
						}
						for y := r.Y; y < r.Y+r.H; y++ {
							for x := r.X; x < r.X+r.W; x++ {
								cover[y*w+x]++
							}
						}
					}
					for i, c := range cover {
						if c != 1 {
							t.Fatalf("%dx%d nodes=%d help=%d: cell %d,%d covered %d times\n%s", w, h, nodes, help, i%w, i/w, c, l.boxes(w, h))
						}
					}
				}
			}
		}
	}
	if !computeLayout(79, 30, layoutState{}).TooSmall || !computeLayout(100, 23, layoutState{}).TooSmall {
		t.Error("below 80x24 must be too small")
	}
}

func TestVUCounts(t *testing.T) {
	closed := measure.GroupStats{Executor: "ramping-vus", VUs: 710, TargetVUs: 710}
	open := measure.GroupStats{Executor: "ramping-arrival-rate", VUs: 60, TargetRate: 118}
	cases := []struct {
		tk          measure.Tick
		shown, open int
	}{
		{measure.Tick{VUs: 770, TargetVUs: 710, Groups: []measure.GroupStats{closed, open}}, 710, 60},
		{measure.Tick{VUs: 60, Groups: []measure.GroupStats{open}}, 60, 60},
		{measure.Tick{VUs: 710, TargetVUs: 710, Groups: []measure.GroupStats{closed}}, 710, 0},
		{measure.Tick{VUs: 5, TargetVUs: 5}, 5, 0}, // no per-group data
	}
	for i, c := range cases {
		if s, o := vuCounts(&c.tk); s != c.shown || o != c.open {
			t.Errorf("case %d: vuCounts = %d, %d; want %d, %d", i, s, o, c.shown, c.open)
		}
	}
}

package promquery

import (
	"slices"

	"github.com/brink-load/brink/measure"
)

// sortSamples puts samples in natural order of node name, then instance.
func sortSamples(s []measure.Sample) {
	slices.SortStableFunc(s, func(x, y measure.Sample) int {
		if c := measure.NaturalCompare(x.Node, y.Node); c != 0 {
			return c
		}
		return measure.NaturalCompare(x.Instance, y.Instance)
	})
}

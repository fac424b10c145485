package measure

import (
	"slices"
	"strings"
	"testing"
)

func TestNaturalOrder(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"db-2", "db-10", -1},
		{"db-10", "db-2", 1},
		{"db-2", "db-2", 0},
		{"10.0.0.9:9100", "10.0.0.13:9100", -1},
		{"web", "web-1", -1},
		{"a01", "a1", 1},
		{"a1", "a01", -1},
		{"db-99999999999999999999999", "db-100000000000000000000000", -1},
		{"", "a", -1},
		{"B", "a", -1},
	}
	for _, tc := range tests {
		if got := NaturalCompare(tc.a, tc.b); got != tc.want {
			t.Errorf("NaturalCompare(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	names := []string{"db-10", "web-1", "db-2", "db-1", "cache"}
	slices.SortFunc(names, NaturalCompare)
	if strings.Join(names, " ") != "cache db-1 db-2 db-10 web-1" {
		t.Errorf("sorted %v", names)
	}
}

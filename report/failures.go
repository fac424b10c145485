package report

import (
	"cmp"
	"slices"

	"github.com/brink-load/brink/measure"
)

// FailureRow is one row of the run's failures table (Locust's): the failed
// requests of one endpoint with one kind and status, and what the first of
// them said. One status_5xx can hide several causes; the sample tells them
// apart.
type FailureRow struct {
	Kind   measure.ErrorKind `json:"kind"`
	Status int               `json:"status,omitempty"`
	Group  string            `json:"group"`
	// Endpoint is the request name; absent for a group-level failure (a
	// dropped arrival) and for the "other" row.
	Endpoint string `json:"endpoint,omitempty"`
	Count    int64  `json:"count"`
	Sample   string `json:"sample"`
	// Check names the check that failed ("status", "header X-Id",
	// "body_contains", "json $.ok", "max_duration", …): one endpoint's
	// check failures are one row per check.
	Check string `json:"check,omitempty"`
}

const (
	// maxRunFailureKeys bounds the whole-run table: failures of keys past
	// it are counted in one "other" row per kind.
	maxRunFailureKeys = 1000
	// MaxFailureRows is how many rows the report keeps, most frequent
	// first; the rest are counted in one "other" row.
	MaxFailureRows = 100
	// OtherGroup names the row that counts failures past the table's
	// bounds.
	OtherGroup  = "other"
	otherSample = "failures past the table's bounds, counted together"
)

type failKey struct {
	group, endpoint string
	kind            measure.ErrorKind
	status          int
	check           string
}

// failAcc is the run's failures by key, bounded.
type failAcc struct {
	rows map[failKey]*FailureRow
	// version changes with every window that had failures, so the rows
	// are only sorted again when they changed.
	version, sortedAt uint64
	sorted            []FailureRow
}

func (a *failAcc) add(fs []measure.Failure) {
	if len(fs) == 0 {
		return
	}
	if a.rows == nil {
		a.rows = map[failKey]*FailureRow{}
	}
	a.version++
	for _, f := range fs {
		k := failKey{group: f.Group, endpoint: f.Endpoint, kind: f.Kind, status: f.Status, check: f.Check}
		row := a.rows[k]
		if row == nil && len(a.rows) >= maxRunFailureKeys {
			k = failKey{group: OtherGroup, kind: f.Kind}
			row = a.rows[k]
			if row == nil {
				row = &FailureRow{Kind: f.Kind, Group: OtherGroup, Sample: otherSample}
				a.rows[k] = row
			}
		}
		if row == nil {
			row = &FailureRow{Kind: f.Kind, Status: f.Status, Group: f.Group, Endpoint: f.Endpoint, Sample: f.Message, Check: f.Check}
			a.rows[k] = row
		}
		row.Count += f.Count
	}
}

// table is the run's rows, most frequent first, at most MaxFailureRows:
// the rest are summed into one "other" row (of the kind of their largest).
// The slice is shared: callers copy it before the lock is let go.
func (a *failAcc) table() []FailureRow {
	if a.sortedAt == a.version && a.sorted != nil || len(a.rows) == 0 {
		return a.sorted
	}
	all := make([]FailureRow, 0, len(a.rows))
	for _, r := range a.rows {
		all = append(all, *r)
	}
	sortFailures(all)
	if len(all) > MaxFailureRows {
		rest := FailureRow{Kind: all[MaxFailureRows-1].Kind, Group: OtherGroup, Sample: otherSample}
		for _, r := range all[MaxFailureRows-1:] {
			rest.Count += r.Count
		}
		all = append(all[:MaxFailureRows-1], rest)
	}
	a.sorted, a.sortedAt = all, a.version
	return all
}

func sortFailures(rs []FailureRow) {
	slices.SortFunc(rs, func(a, b FailureRow) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Group, b.Group), cmp.Compare(a.Endpoint, b.Endpoint),
			cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Status, b.Status), cmp.Compare(a.Check, b.Check))
	})
}

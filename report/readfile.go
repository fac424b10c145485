package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/brink-load/brink/termtext"
)

// ErrNotReport is returned (wrapped) by ReadFile for a file that is not a
// brink report, ErrNewerSchema for one written by a newer brink.
var (
	ErrNotReport   = errors.New("not a brink report")
	ErrNewerSchema = errors.New("report schema is newer than this brink")
)

// ReadFile reads a report written by WriteFile. Its errors are one line.
func ReadFile(path string) (*Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, termtext.BareErr(err))
	}
	return Parse(path, data)
}

// Parse decodes a report; name labels errors.
func Parse(name string, data []byte) (*Report, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("%s: %w", name, ErrNotReport)
	}
	var head struct {
		SchemaVersion *int            `json:"schema_version"`
		Summary       json.RawMessage `json:"summary"`
	}
	if err := json.Unmarshal(trimmed, &head); err != nil {
		return nil, fmt.Errorf("%s: %w (%s)", name, ErrNotReport, termtext.OneLine(err.Error(), 0))
	}
	if head.SchemaVersion == nil || *head.SchemaVersion < 1 {
		return nil, fmt.Errorf("%s: %w (no schema_version)", name, ErrNotReport)
	}
	if *head.SchemaVersion > SchemaVersion {
		return nil, fmt.Errorf("%s: %w (schema %d, this brink reads up to %d): upgrade brink",
			name, ErrNewerSchema, *head.SchemaVersion, SchemaVersion)
	}
	var rep Report
	if err := json.Unmarshal(trimmed, &rep); err != nil {
		return nil, fmt.Errorf("%s: damaged brink report: %s", name, termtext.OneLine(err.Error(), 0))
	}
	// Every report brink writes, autosaves included, has a summary: without
	// one the figures printed would be zeros that look like a real run.
	if s := bytes.TrimSpace(head.Summary); len(s) == 0 || s[0] != '{' {
		return nil, fmt.Errorf("%s: %w (no summary)", name, ErrNotReport)
	}
	repairPeaks(&rep)
	return &rep, nil
}

// repairPeaks redoes the peak RPS of a report written by an older brink,
// which took it from the run's last, partial window (6 requests in 16 ms
// read as 378 rps). The timeline holds every window, so the peak over the
// full ones is exact; it only ever lowers the figures.
func repairPeaks(rep *Report) {
	half := reportWindow(rep) / 2
	peak, found := 0.0, false
	for i := range rep.Timeline {
		if w := &rep.Timeline[i]; w.WindowS >= half && w.RPS.Valid() {
			peak, found = max(peak, float64(w.RPS)), true
		}
	}
	if !found {
		return
	}
	if s := &rep.Summary; !s.RPSMax.Valid() || float64(s.RPSMax) > peak {
		s.RPSMax = Num(peak)
	}
	if p := &rep.Verdict.Peak; float64(p.RPS) > peak {
		p.RPS = Num(peak)
	}
}

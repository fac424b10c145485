package run

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// What an unwritable report path holds is said with the failure: an
// autosave of this run is incomplete, a file older than the run is not
// this run's at all.
func TestStaleAutosaveSaid(t *testing.T) {
	dir := t.TempDir()
	start := time.Now().Add(-time.Minute)
	p := filepath.Join(dir, "r.json")
	if got := staleAutosave(p, start); got != "" {
		t.Errorf("no file: %q, want nothing", got)
	}
	os.WriteFile(p, []byte("{}"), 0o644)
	saved := start.Add(20 * time.Second)
	os.Chtimes(p, saved, saved)
	if got, want := staleAutosave(p, start), " ("+p+" holds an incomplete autosave of "+saved.Format("15:04:05")+")"; got != want {
		t.Errorf("autosave: %q, want %q", got, want)
	}
	os.Chtimes(p, start.Add(-time.Hour), start.Add(-time.Hour))
	if got, want := staleAutosave(p, start), " ("+p+" is from before this run)"; got != want {
		t.Errorf("older file: %q, want %q", got, want)
	}
}

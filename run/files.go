package run

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/brink-load/brink/termtext"
)

// checkWritable fails early, before any load, when the report cannot be
// written where asked.
func checkWritable(path string) error {
	// The report is renamed into place at the end: over a directory that
	// fails after the whole run, so it is refused now.
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return errors.New("is a directory (give a file name, e.g. " + filepath.Join(path, "run.json") + ")")
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".brink-check-*")
	if err != nil {
		return fmt.Errorf("cannot write there: %w", err)
	}
	defer os.Remove(f.Name())
	// An empty file fits on a full disk; a report's first kilobytes do
	// not. Written and synced, so a full disk is refused before the load,
	// not found after it.
	_, err = f.Write(make([]byte, 64<<10))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cannot write there: %w", termtext.BareErr(err))
	}
	return nil
}

// staleAutosave says what an unwritable report path holds: an autosave from
// this run is an incomplete report, and the reader must know it is one.
func staleAutosave(path string, start time.Time) string {
	fi, err := os.Stat(path)
	if err != nil || fi.IsDir() {
		return ""
	}
	if fi.ModTime().Before(start) {
		return fmt.Sprintf(" (%s is from before this run)", path)
	}
	return fmt.Sprintf(" (%s holds an incomplete autosave of %s)", path, fi.ModTime().Format("15:04:05"))
}

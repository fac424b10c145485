package report

import (
	"context"
	"time"
)

// Save writes the report of the run as it is now to path, atomically, and
// stops Autosave from writing to it afterwards (an older snapshot must never
// replace the final report). Finish already stops autosaves, so after
// Finish, Save and WriteFile(path, r.Report()) are equivalent.
func (r *Recorder) Save(path string) error {
	r.saveMu.Lock()
	defer r.saveMu.Unlock()
	r.finalSaved = true
	return WriteFile(path, r.Report())
}

// Autosave refreshes the report at path every interval (10 s when every is
// 0) until ctx is done, so even a SIGKILL loses at most one interval. Run
// it on its own goroutine: a slow or full disk stalls only this loop, never
// the load. Each failed write goes to onErr (if not nil) and the loop keeps
// going; a later write that succeeds replaces the stale file.
func Autosave(ctx context.Context, r *Recorder, path string, every time.Duration, onErr func(error)) {
	if every <= 0 {
		every = 10 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := r.autosave(path); err != nil && onErr != nil {
			onErr(err)
		}
	}
}

func (r *Recorder) autosave(path string) error {
	r.saveMu.Lock()
	defer r.saveMu.Unlock()
	if r.finalSaved {
		return nil
	}
	var done bool
	r.View(func(v *View) { done = v.Done })
	if done {
		return nil // the final report is the caller's to write
	}
	return WriteFile(path, r.Report())
}

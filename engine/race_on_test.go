//go:build race

package engine

// raceOn: sync.Pool drops a quarter of its Puts under the race detector,
// so allocation counts of pooled paths mean nothing there.
const raceOn = true

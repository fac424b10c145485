package scenarios

import (
	"math"
	"time"

	"github.com/brink-load/brink/measure"
)

// The defaults, in one place: Validate fills a scenario's zero fields with
// them (files and brink probe alike), and the engine falls back on the same
// values for a scenario built in code that skipped Validate.
const (
	DefaultWindow  = time.Second
	DefaultSustain = 3 * time.Second
	DefaultTimeout = 30 * time.Second
	DefaultMatch   = measure.DefaultNodeMatch
	DefaultName    = measure.DefaultNameLabel
	// DefaultMaxVUs caps an arrival-rate group that sets no max_vus, so a
	// stalled target cannot make the generator start VUs without bound.
	DefaultMaxVUs = 1000
	// DefaultEvery is a WebSocket VU's send interval when send is set
	// without every.
	DefaultEvery = time.Second
	// DefaultMaxBody is max_body when the scenario sets none.
	DefaultMaxBody = 4 << 20
	// defaultIteration is the iteration length an arrival-rate group's
	// default pre-allocation covers without adding VUs mid-run.
	defaultIteration = time.Second
)

// OpenVUs is the one rule for an arrival-rate group's VU budget: a zero
// max_vus becomes DefaultMaxVUs (or pre_allocated_vus if that is more); a
// zero pre_allocated_vus becomes the VUs in flight at the peak rate when an
// iteration takes defaultIteration, at least 1 and at most max_vus. Values
// set are kept. Validate (for files and brink probe) and the engine (for a
// scenario built in code) both size with it. A peak that is not a finite
// number ≥ 0 leaves pre_allocated_vus as it is (Validate refuses it).
func OpenVUs(peak float64, pre, maxVUs int) (int, int) {
	if maxVUs == 0 {
		maxVUs = max(DefaultMaxVUs, pre)
	}
	if pre == 0 && finite(peak) && peak >= 0 {
		pre = min(maxVUs, VUsInFlight(min(peak, maxLevel), defaultIteration))
	}
	return pre, maxVUs
}

// VUsInFlight is Little's law for an open model: the VUs busy at once when
// rate arrivals/s each take latency, rounded up (float noise is not a
// user: 520.0000000001 is 520), at least 1.
func VUsInFlight(rate float64, latency time.Duration) int {
	return max(int(math.Ceil(rate*latency.Seconds()-1e-9)), 1)
}

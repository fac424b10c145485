package report

import (
	"github.com/brink-load/brink/measure"
)

// Generator health events: brink itself became (or stopped being) the
// bottleneck (engine GeneratorStats.Overloaded), so the latency it
// measured meanwhile is partly its own.
const (
	EventGeneratorOverloaded EventKind = "generator_overloaded"
	EventGeneratorRecovered  EventKind = "generator_recovered"
)

// genHealth logs a change of the generator's health at tick t: the first
// overloaded window after healthy ones, and the first healthy one after.
// Each is stamped at its window's start, where the change happened at the
// latest. The caller holds the lock.
func (r *Recorder) genHealth(t *measure.Tick) {
	over := t.Generator.Overloaded
	if over == r.genOver {
		return
	}
	r.genOver = over
	load := tickLoad(t)
	at := t.Time.Add(-t.Window)
	if over {
		text := "brink itself overloaded (" + t.Generator.Reason + "): its latencies here are partly its own — "
		if t.Generator.Partial {
			text = "load short of the plan (" + t.Generator.Reason + "): client-side signals not judged here — "
		}
		r.addEvent(Event{Time: at, Kind: EventGeneratorOverloaded, Value: t.Generator.CPUPercent,
			Text: text + r.loadText(load), Load: load})
		return
	}
	r.addEvent(Event{Time: at, Kind: EventGeneratorRecovered, Value: t.Generator.CPUPercent,
		Text: "brink healthy again — " + r.loadText(load), Load: load})
}

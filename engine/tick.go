// Package engine generates the load: closed (ramping-vus) and open
// (ramping-arrival-rate) executors over HTTP and WebSocket, recording every
// outcome into per-worker HDR histograms and emitting one Tick per window.
// It imports measure, scenarios and termtext; never promquery, report or tui.
//
// Shape of a run: Schedule (stage curves) and pace (arrival clock under
// Hold/Scale/SetTarget) are pure functions of elapsed time. One ramp
// goroutine keeps closed groups' VU counts on target; one pacer per open
// group hands arrivals to idle VUs on an absolute schedule. Each VU is one
// goroutine with its own connection(s) and buffers: HTTP/1.1 over
// fasthttp's wire format on a single keep-alive connection per host,
// net/http for http2 groups, gorilla/websocket for WebSocket groups. A VU
// records into one of a few shards (mutex + double-buffered window of HDR
// histograms and counters); the ticker swaps and merges the shards once a
// window and calls Options.OnTick. Segment splits one scenario over several
// generators. When a closed group's target drops (or its stages end), VUs
// above it leave: an HTTP VU after its iteration, cutting its think time;
// a WebSocket VU at once, kicked through the group's per-slot registry.
package engine

import "github.com/brink-load/brink/measure"

// Control steers a running engine (measure.Control, declared there so the
// console can drive it without importing engine).
type Control = measure.Control

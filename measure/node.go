package measure

import (
	"time"
)

// Sample is one node at one poll. A metric that is not available is NaN
// (JSON writers must turn NaN into null).
type Sample struct {
	Node     string    `json:"node"`
	Role     string    `json:"role,omitempty"`
	Instance string    `json:"instance"`
	Time     time.Time `json:"time"` // the value's own timestamp, not the poll's

	CPU          float64 `json:"cpu"`            // busy %, node-mixin: 1 - avg over cpus of (idle+iowait+steal) rate
	IOWait       float64 `json:"iowait"`         // %, avg over cpus of the iowait rate
	DiskUtil     float64 `json:"disk_util"`      // % of the busiest device
	DiskDevice   string  `json:"disk_device"`    // which device that was
	ReadBps      float64 `json:"read_bps"`       // bytes/s, all devices
	WriteBps     float64 `json:"write_bps"`      // bytes/s, all devices
	Load1        float64 `json:"load1"`          //
	Cores        int     `json:"cores"`          //
	Load1PerCore float64 `json:"load1_per_core"` //
	Mem          float64 `json:"mem"`            // used %, 1 - MemAvailable/MemTotal
	NetRxBps     float64 `json:"net_rx_bps"`     // bytes/s, all non-loopback devices
	NetTxBps     float64 `json:"net_tx_bps"`     //

	// Stale is set when the values are old or this poll failed for this
	// node; StaleReason says why in a few words.
	Stale       bool   `json:"stale,omitempty"`
	StaleReason string `json:"stale_reason,omitempty"`
}

// PanelSeries is one series of a custom panel's query.
type PanelSeries struct {
	Labels string  `json:"labels"` // e.g. {instance="web-1:8080",uri="/api/rooms"}
	Value  float64 `json:"value"`
}

// PanelValue is one custom panel (scenario nodes.panels) at one poll.
type PanelValue struct {
	Title  string        `json:"title"`
	Unit   string        `json:"unit,omitempty"`
	Series []PanelSeries `json:"series"`
	Err    string        `json:"error,omitempty"`
}

// Poll is the result of one poll of every node.
type Poll struct {
	Time time.Time `json:"time"` // when the poll started
	// EvalTime is the one evaluation time of all of a Prometheus poll's
	// queries, on Prometheus's clock (zero for direct scrape).
	EvalTime time.Time    `json:"-"`
	Samples  []Sample     `json:"samples"`
	Panels   []PanelValue `json:"panels,omitempty"`
	Warnings []string     `json:"warnings,omitempty"`
	// Err is set when the whole poll failed (samples then are the last
	// known values marked stale, or empty).
	Err string `json:"error,omitempty"`
}

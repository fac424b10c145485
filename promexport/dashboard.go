package promexport

import _ "embed"

// Dashboard is the Grafana dashboard for brink's /metrics (brink
// grafana-dashboard prints it): load per group, requests/s, p95/p99 and
// errors on top; nodes' CPU, load1 per core and disk I/O from node_exporter
// below, on the same time axis; the breakpoint and threshold crossings as
// annotations from brink_breakpoint_timestamp_seconds and
// brink_event_timestamp_seconds (no Grafana API access needed). Its
// variables: datasource, group, instance (node_exporter's).
//
//go:embed dashboard.json
var Dashboard []byte

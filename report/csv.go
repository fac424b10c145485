package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/brink-load/brink/termtext"
)

// CSVFiles are the files WriteCSV writes, in order. Their columns are
// contracts like the JSON report's fields (README lists them): add at
// the end, never rename.
var CSVFiles = []string{"timeline.csv", "thresholds.csv", "endpoints.csv", "failures.csv", "nodes.csv"}

// WriteCSV writes the report's timeline and tables as CSV files into dir
// (made if missing), each whole or not at all. It returns the paths it
// wrote, which on an error are the files written before it.
func WriteCSV(dir string, rep *Report) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	tables := [][][]string{timelineCSV(rep), thresholdsCSV(rep), endpointsCSV(rep), failuresCSV(rep), nodesCSV(rep)}
	var wrote []string
	for i, rows := range tables {
		path := filepath.Join(dir, CSVFiles[i])
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		if err := w.WriteAll(rows); err != nil {
			return wrote, fmt.Errorf("%s: %w", path, err)
		}
		if err := WriteAtomic(path, buf.Bytes()); err != nil {
			return wrote, err
		}
		wrote = append(wrote, path)
	}
	return wrote, nil
}

// WriteAtomic writes data to path through a temp file in the same
// directory renamed into place, so a reader never sees half a file. The
// error names path (not the temp file).
func WriteAtomic(path string, data []byte) error {
	if err := writeAtomic(path, data, false); err != nil {
		return fmt.Errorf("%s: %w", path, termtext.BareErr(err))
	}
	return nil
}

// writeAtomic writes data to path through a temp file in the same
// directory (mode 0644) renamed into place; durable syncs the file before
// the rename and the directory after, so a crash leaves the old file or the
// new one. On an error the temp file is gone and path untouched; the error
// is the call's own (it may name the temp file).
func writeAtomic(path string, data []byte, durable bool) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil && durable {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	// The rename is durable only once the directory is synced; a failure
	// here leaves a complete file, so it is not an error worth failing on.
	if durable {
		if d, err := os.Open(dir); err == nil {
			_ = d.Sync()
			d.Close()
		}
	}
	return nil
}

// csvNum is a figure as CSV: the shortest exact form, "" when missing.
func csvNum(n Num) string {
	if !n.Valid() {
		return ""
	}
	return strconv.FormatFloat(float64(n), 'g', -1, 64)
}

func csvF(f float64) string   { return strconv.FormatFloat(f, 'g', -1, 64) }
func csvI(n int64) string     { return strconv.FormatInt(n, 10) }
func csvB(b bool) string      { return strconv.FormatBool(b) }
func csvT(t time.Time) string { return t.Format(time.RFC3339Nano) }

// timelineCSV is one row per window; after the fixed columns, five per
// scenario group (in order of first appearance): NAME_vus, NAME_rate,
// NAME_rps, NAME_p95_ms, NAME_errors.
func timelineCSV(rep *Report) [][]string {
	head := []string{"time", "elapsed_s", "window_s", "stage", "held", "vus", "target_vus", "target_rate",
		"requests", "iterations", "rps", "errors", "error_rate", "dropped", "mean_ms", "p50_ms", "p90_ms",
		"p95_ms", "p99_ms", "p999_ms", "max_ms", "ws_open", "generator_cpu_percent", "generator_overloaded", "ok"}
	var groups []string
	seen := map[string]bool{}
	for i := range rep.Timeline {
		for _, g := range rep.Timeline[i].Groups {
			if !seen[g.Name] {
				seen[g.Name] = true
				groups = append(groups, g.Name)
			}
		}
	}
	for _, g := range groups {
		head = append(head, g+"_vus", g+"_rate", g+"_rps", g+"_p95_ms", g+"_errors")
	}
	rows := [][]string{head}
	for i := range rep.Timeline {
		w := &rep.Timeline[i]
		l := &w.Latency
		over := false
		if w.Generator != nil {
			over = w.Generator.Overloaded
		}
		row := []string{csvT(w.Time), csvF(w.ElapsedS), csvF(w.WindowS), strconv.Itoa(w.Stage), csvB(w.Held),
			strconv.Itoa(w.VUs), strconv.Itoa(w.TargetVUs), csvF(w.TargetRate), csvI(w.Requests), csvI(w.Iterations),
			csvNum(w.RPS), csvI(w.Errors), csvNum(w.ErrorRate), csvI(w.Dropped), csvNum(l.Mean), csvNum(l.P50),
			csvNum(l.P90), csvNum(l.P95), csvNum(l.P99), csvNum(l.P999), csvNum(l.Max), strconv.Itoa(w.WSOpen),
			csvNum(w.GenCPU), csvB(over), csvB(w.OK)}
		for _, name := range groups {
			cells := []string{"", "", "", "", ""}
			for _, g := range w.Groups {
				if g.Name == name {
					rate := ""
					if g.Open {
						rate = csvNum(g.Rate)
					}
					cells = []string{strconv.Itoa(g.VUs), rate, csvNum(g.RPS), csvNum(g.P95Ms), csvI(g.Errors)}
				}
			}
			row = append(row, cells...)
		}
		rows = append(rows, row)
	}
	return rows
}

func thresholdsCSV(rep *Report) [][]string {
	rows := [][]string{{"metric", "expr", "agg", "ok", "no_data", "value", "bad_windows", "first_breach", "default"}}
	for _, t := range rep.Thresholds {
		fb := ""
		if t.FirstBreach != nil {
			fb = csvT(*t.FirstBreach)
		}
		rows = append(rows, []string{t.Metric, t.Expr, t.Agg, csvB(t.OK), csvB(t.NoData), csvNum(t.Value),
			strconv.Itoa(t.BadWindows), fb, csvB(t.Default)})
	}
	return rows
}

func endpointsCSV(rep *Report) [][]string {
	rows := [][]string{{"group", "name", "requests", "errors", "error_rate", "mean_ms", "p50_ms", "p90_ms", "p95_ms",
		"p99_ms", "max_ms", "hotspot_s"}}
	for _, e := range rep.Endpoints {
		d := &e.LatencyMs
		rows = append(rows, []string{e.Group, e.Name, csvI(e.Requests), csvI(e.Errors), csvNum(e.ErrorRate),
			csvNum(d.Mean), csvNum(d.Med), csvNum(d.P90), csvNum(d.P95), csvNum(d.P99), csvNum(d.Max), csvNum(e.HotspotS)})
	}
	return rows
}

func failuresCSV(rep *Report) [][]string {
	rows := [][]string{{"kind", "status", "group", "endpoint", "count", "sample", "check"}}
	for _, f := range rep.Failures {
		st := ""
		if f.Status != 0 {
			st = strconv.Itoa(f.Status)
		}
		rows = append(rows, []string{string(f.Kind), st, f.Group, f.Endpoint, csvI(f.Count), f.Sample, f.Check})
	}
	return rows
}

// nodesCSV is one row per node sample, the baseline (before the load)
// first with baseline=true.
func nodesCSV(rep *Report) [][]string {
	rows := [][]string{{"node", "role", "instance", "time", "elapsed_s", "baseline", "stale", "cpu", "iowait",
		"disk_util", "disk_device", "read_bps", "write_bps", "load1", "load1_per_core", "mem", "net_rx_bps", "net_tx_bps"}}
	add := func(n *NodeSeries, s *NodeSample, base bool) {
		rows = append(rows, []string{n.Node, n.Role, n.Instance, csvT(s.Time), csvF(s.Time.Sub(rep.Start).Seconds()),
			csvB(base), csvB(s.Stale), csvNum(s.CPU), csvNum(s.IOWait), csvNum(s.DiskUtil), s.DiskDevice,
			csvNum(s.ReadBps), csvNum(s.WriteBps), csvNum(s.Load1), csvNum(s.Load1PerCore), csvNum(s.Mem),
			csvNum(s.NetRxBps), csvNum(s.NetTxBps)})
	}
	for i := range rep.Nodes {
		n := &rep.Nodes[i]
		if n.Baseline != nil {
			add(n, n.Baseline, true)
		}
		for j := range n.Samples {
			add(n, &n.Samples[j], false)
		}
	}
	return rows
}

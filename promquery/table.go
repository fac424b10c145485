package promquery

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/brink-load/brink/measure"
)

// tableHeader are WriteTable's columns; numeric ones are right-aligned.
var tableHeader = []string{"NODE", "ROLE", "INSTANCE", "CPU%", "IOWAIT%", "DISK%", "DEVICE", "READ/WRITE B/s", "LOAD1", "PER CORE", "MEM%", "NET RX/TX B/s", ""}

var tableRight = []bool{false, false, false, true, true, true, false, true, true, true, true, true, false}

// WriteTable prints a poll's samples as an aligned table, one node a line;
// unknown values print as "-", and a stale node says why in the last
// column.
func WriteTable(w io.Writer, p measure.Poll) error {
	rows := [][]string{tableHeader}
	for _, s := range p.Samples {
		note := ""
		if s.Stale {
			note = "stale: " + s.StaleReason
		}
		rows = append(rows, []string{
			s.Node, dash(s.Role), s.Instance,
			num(s.CPU, 1), num(s.IOWait, 1), num(s.DiskUtil, 1), dash(s.DiskDevice),
			Bytes(s.ReadBps) + "/" + Bytes(s.WriteBps),
			num(s.Load1, 2), num(s.Load1PerCore, 2), num(s.Mem, 1),
			Bytes(s.NetRxBps) + "/" + Bytes(s.NetTxBps),
			note,
		})
	}
	width := make([]int, len(tableHeader))
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		var line strings.Builder
		for i, c := range r {
			if i > 0 {
				line.WriteString("  ")
			}
			pad := strings.Repeat(" ", width[i]-len([]rune(c)))
			if tableRight[i] {
				line.WriteString(pad + c)
			} else {
				line.WriteString(c + pad)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func num(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

// Bytes formats a byte rate compactly in SI units (1.5k, 12M); NaN is "-".
func Bytes(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "-"
	case v < 0:
		return "-" + Bytes(-v)
	case v < 1000:
		return fmt.Sprintf("%.0f", v)
	}
	units := "kMGTPE"
	i := -1
	for v >= 1000 && i < len(units)-1 {
		v /= 1000
		i++
	}
	if v < 10 {
		return fmt.Sprintf("%.1f%c", v, units[i])
	}
	return fmt.Sprintf("%.0f%c", v, units[i])
}

package demo

import (
	"bufio"
	"io"
	"math"
	"strconv"
	"time"
)

// bootOffset is how long the simulated machines have been up when the demo
// starts (matches the quiet hour the counters start from).
const bootOffset = time.Hour

// WriteMetrics writes the node's metrics in node_exporter's text format
// (version 0.0.4), with the metric names and labels node_exporter 1.x
// uses, so promquery — or a real Prometheus — reads them unchanged.
func (n *Node) WriteMetrics(w io.Writer, start time.Time) error {
	n.mu.Lock()
	a := n.acc
	// Copy the per-core slices: the writer must not hold the lock while
	// the client reads slowly.
	user := append([]float64(nil), a.user...)
	system := append([]float64(nil), a.system...)
	iowait := append([]float64(nil), a.iowait...)
	idle := append([]float64(nil), a.idle...)
	n.mu.Unlock()

	s := n.spec
	used := s.MemBase*float64(s.MemTotal) + float64(n.InFlight()+n.memTasks.Load())*float64(s.MemPerTask)
	avail := math.Max(float64(s.MemTotal)-used, float64(s.MemTotal)*0.02)

	b := bufio.NewWriter(w)
	p := &promWriter{b: b}
	p.family("node_cpu_seconds_total", "Seconds the CPUs spent in each mode.", "counter")
	for c := range user {
		cpu := strconv.Itoa(c)
		for _, m := range []struct {
			mode string
			v    float64
		}{{"idle", idle[c]}, {"iowait", iowait[c]}, {"irq", 0}, {"nice", 0}, {"softirq", 0}, {"steal", 0}, {"system", system[c]}, {"user", user[c]}} {
			p.sample("node_cpu_seconds_total", m.v, "cpu", cpu, "mode", m.mode)
		}
	}
	p.gauge("node_load1", "1m load average.", a.load1)
	p.gauge("node_load5", "5m load average.", a.load5)
	p.gauge("node_load15", "15m load average.", a.load15)

	dev := s.DiskDevice
	p.family("node_disk_io_time_seconds_total", "Total seconds spent doing I/Os.", "counter")
	p.sample("node_disk_io_time_seconds_total", a.diskIO, "device", dev)
	p.family("node_disk_io_time_weighted_seconds_total", "The weighted # of seconds spent doing I/Os.", "counter")
	p.sample("node_disk_io_time_weighted_seconds_total", a.diskWeighted, "device", dev)
	p.family("node_disk_read_bytes_total", "The total number of bytes read successfully.", "counter")
	p.sample("node_disk_read_bytes_total", float64(n.readBytes.Load()), "device", dev)
	p.family("node_disk_written_bytes_total", "The total number of bytes written successfully.", "counter")
	p.sample("node_disk_written_bytes_total", float64(n.writeBytes.Load()), "device", dev)

	p.gauge("node_memory_MemTotal_bytes", "Memory information field MemTotal_bytes.", float64(s.MemTotal))
	p.gauge("node_memory_MemAvailable_bytes", "Memory information field MemAvailable_bytes.", math.Floor(avail))

	p.family("node_network_receive_bytes_total", "Network device statistic receive_bytes.", "counter")
	p.sample("node_network_receive_bytes_total", 0, "device", "lo")
	p.sample("node_network_receive_bytes_total", float64(n.rxBytes.Load()), "device", "eth0")
	p.family("node_network_transmit_bytes_total", "Network device statistic transmit_bytes.", "counter")
	p.sample("node_network_transmit_bytes_total", 0, "device", "lo")
	p.sample("node_network_transmit_bytes_total", float64(n.txBytes.Load()), "device", "eth0")

	p.gauge("node_boot_time_seconds", "Node boot time, in unixtime.", float64(start.Add(-bootOffset).Unix()))
	p.family("node_uname_info", "Labeled system information as provided by the uname system call.", "gauge")
	p.sample("node_uname_info", 1, "nodename", s.Name, "machine", "x86_64", "sysname", "Linux")
	return b.Flush()
}

// promWriter appends text-format lines without fmt, so a scrape of six
// nodes a second costs next to nothing.
type promWriter struct {
	b   *bufio.Writer
	buf []byte
}

func (p *promWriter) family(name, help, typ string) {
	p.b.WriteString("# HELP " + name + " " + help + "\n# TYPE " + name + " " + typ + "\n")
}

func (p *promWriter) gauge(name, help string, v float64) {
	p.family(name, help, "gauge")
	p.sample(name, v)
}

// sample writes name{k="v",...} value; label values here never need
// escaping (names, digits, modes).
func (p *promWriter) sample(name string, v float64, kv ...string) {
	b := append(p.buf[:0], name...)
	if len(kv) > 0 {
		b = append(b, '{')
		for i := 0; i+1 < len(kv); i += 2 {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, kv[i]...)
			b = append(b, '=')
			b = strconv.AppendQuote(b, kv[i+1])
		}
		b = append(b, '}')
	}
	b = append(b, ' ')
	b = strconv.AppendFloat(b, v, 'g', -1, 64)
	b = append(b, '\n')
	p.buf = b
	p.b.Write(b)
}

package proto

import (
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/brink-load/brink/measure"
)

// Tick is one agent's window on the wire: the counters of measure.Tick
// and its histograms in hdrhistogram-go's V2 compressed encoding (base64
// text, "" when empty). The latency summaries are not sent: the controller
// computes them from the merged histograms.
type Tick struct {
	// Seq is the window's index from the common start: round(Elapsed /
	// window) for a full window; the final partial window is the one
	// after the agent's last.
	Seq   int  `json:"seq"`
	Final bool `json:"final,omitempty"`

	Elapsed time.Duration `json:"el"`
	Window  time.Duration `json:"win"`
	Stage   int           `json:"stage,omitempty"`
	Held    bool          `json:"held,omitempty"`
	Planned time.Duration `json:"planned,omitempty"`
	Scale   float64       `json:"scale,omitempty"`

	VUs        int     `json:"vus,omitempty"`
	TargetVUs  int     `json:"tvus,omitempty"`
	TargetRate float64 `json:"trate,omitempty"`

	Requests     int64                       `json:"req,omitempty"`
	Iterations   int64                       `json:"iter,omitempty"`
	BytesIn      int64                       `json:"bin,omitempty"`
	BytesOut     int64                       `json:"bout,omitempty"`
	Errors       map[measure.ErrorKind]int64 `json:"errs,omitempty"`
	ErrorCount   int64                       `json:"errn,omitempty"`
	Dropped      int64                       `json:"drop,omitempty"`
	ChecksPassed int64                       `json:"chkok,omitempty"`
	ChecksFailed int64                       `json:"chkno,omitempty"`

	Hist        string `json:"h,omitempty"`
	ServiceHist string `json:"hs,omitempty"`
	ConnectHist string `json:"hc,omitempty"`
	TTFBHist    string `json:"ht,omitempty"`

	Failures  []measure.Failure `json:"fail,omitempty"`
	Endpoints []Endpoint        `json:"ep,omitempty"`
	Groups    []Group           `json:"g,omitempty"`
	WS        *WS               `json:"ws,omitempty"`
	Generator Generator         `json:"gen"`
}

// Endpoint is one (group, request name) row of a window.
type Endpoint struct {
	Group    string `json:"g"`
	Name     string `json:"n"`
	Requests int64  `json:"req,omitempty"`
	Errors   int64  `json:"err,omitempty"`
	Hist     string `json:"h,omitempty"`
}

// Group is one scenario group's row of a window.
type Group struct {
	Name       string  `json:"n"`
	Executor   string  `json:"x"`
	VUs        int     `json:"vus,omitempty"`
	TargetVUs  int     `json:"tvus,omitempty"`
	TargetRate float64 `json:"trate,omitempty"`
	Requests   int64   `json:"req,omitempty"`
	Iterations int64   `json:"iter,omitempty"`
	Errors     int64   `json:"err,omitempty"`
	Dropped    int64   `json:"drop,omitempty"`
	Started    int64   `json:"start,omitempty"`
	BusyVUs    int     `json:"busy,omitempty"`
	Hist       string  `json:"h,omitempty"`
	WSSessions int64   `json:"wss,omitempty"`
	WSFailed   int64   `json:"wsf,omitempty"`
	WSOutcomes int64   `json:"wso,omitempty"`
}

// WS is a window's WebSocket figures (nil without WebSocket activity).
type WS struct {
	Open        int                         `json:"open,omitempty"`
	Opened      int64                       `json:"opened,omitempty"`
	Closed      int64                       `json:"closed,omitempty"`
	Sent        int64                       `json:"sent,omitempty"`
	Received    int64                       `json:"recv,omitempty"`
	Sessions    int64                       `json:"sess,omitempty"`
	Failed      int64                       `json:"failed,omitempty"`
	Outcomes    int64                       `json:"outc,omitempty"`
	Errors      map[measure.ErrorKind]int64 `json:"errs,omitempty"`
	ConnectHist string                      `json:"hc,omitempty"`
	ReplyHist   string                      `json:"hr,omitempty"`
	SessionHist string                      `json:"hs,omitempty"`
}

// Generator is the agent's own health in the window.
type Generator struct {
	CPUPercent float64       `json:"cpu"`
	Cores      int           `json:"cores"`
	Goroutines int           `json:"gor,omitempty"`
	OpenFiles  int           `json:"fds,omitempty"`
	MaxFiles   int           `json:"maxfds,omitempty"`
	HeapBytes  uint64        `json:"heap,omitempty"`
	Stretch    float64       `json:"stretch"`
	LagCount   int64         `json:"lagn,omitempty"`
	LagP50     time.Duration `json:"lag50,omitempty"`
	LagP99     time.Duration `json:"lag99,omitempty"`
	LagMax     time.Duration `json:"lagmax,omitempty"`
	Overloaded bool          `json:"over,omitempty"`
	Reason     string        `json:"why,omitempty"`
}

// FromTick is the wire form of one engine window.
func FromTick(t *measure.Tick, seq int, final bool) (*Tick, error) {
	w := &Tick{Seq: seq, Final: final, Elapsed: t.Elapsed, Window: t.Window, Stage: t.Stage, Held: t.Held,
		Planned: t.Planned, Scale: t.Scale, VUs: t.VUs, TargetVUs: t.TargetVUs, TargetRate: t.TargetRate,
		Requests: t.Requests, Iterations: t.Iterations, BytesIn: t.BytesIn, BytesOut: t.BytesOut,
		Errors: t.Errors, ErrorCount: t.ErrorCount, Dropped: t.Dropped, ChecksPassed: t.ChecksPassed,
		ChecksFailed: t.ChecksFailed, Failures: t.Failures}
	var err error
	enc := func(s *hdrhistogram.Snapshot) string {
		if err != nil {
			return ""
		}
		var out string
		out, err = EncodeHist(s)
		return out
	}
	w.Hist, w.ServiceHist, w.ConnectHist, w.TTFBHist = enc(t.Hist), enc(t.ServiceHist), enc(t.ConnectHist), enc(t.TTFBHist)
	for i := range t.Endpoints {
		e := &t.Endpoints[i]
		w.Endpoints = append(w.Endpoints, Endpoint{Group: e.Group, Name: e.Name, Requests: e.Requests, Errors: e.Errors, Hist: enc(e.Hist)})
	}
	for i := range t.Groups {
		g := &t.Groups[i]
		w.Groups = append(w.Groups, Group{Name: g.Name, Executor: g.Executor, VUs: g.VUs, TargetVUs: g.TargetVUs,
			TargetRate: g.TargetRate, Requests: g.Requests, Iterations: g.Iterations, Errors: g.Errors, Dropped: g.Dropped,
			Started: g.Started, BusyVUs: g.BusyVUs, Hist: enc(g.Hist), WSSessions: g.WSSessions, WSFailed: g.WSFailed,
			WSOutcomes: g.WSOutcomes})
	}
	if ws := &t.WS; ws.Open != 0 || ws.Sessions != 0 || ws.Sent != 0 || ws.Received != 0 || ws.Outcomes != 0 || ws.Closed != 0 {
		w.WS = &WS{Open: ws.Open, Opened: ws.Opened, Closed: ws.Closed, Sent: ws.Sent, Received: ws.Received,
			Sessions: ws.Sessions, Failed: ws.Failed, Outcomes: ws.Outcomes, Errors: ws.Errors,
			ConnectHist: enc(ws.ConnectHist), ReplyHist: enc(ws.ReplyHist), SessionHist: enc(ws.SessionHist)}
	}
	g := &t.Generator
	w.Generator = Generator{CPUPercent: g.CPUPercent, Cores: g.Cores, Goroutines: g.Goroutines, OpenFiles: g.OpenFiles,
		MaxFiles: g.MaxFiles, HeapBytes: g.HeapBytes, Stretch: g.Stretch, LagCount: g.SendLag.Count, LagP50: g.SendLag.P50,
		LagP99: g.SendLag.P99, LagMax: g.SendLag.Max, Overloaded: g.Overloaded, Reason: g.Reason}
	return w, err
}

// Counters is the window's counters, its WebSocket ones too, as a
// measure.Tick holds them (all else zero): what the controller adds up
// (measure.Tick.AddCounts).
func (t *Tick) Counters() measure.Tick {
	m := measure.Tick{Requests: t.Requests, Iterations: t.Iterations, BytesIn: t.BytesIn, BytesOut: t.BytesOut,
		Errors: t.Errors, ErrorCount: t.ErrorCount, Dropped: t.Dropped, ChecksPassed: t.ChecksPassed,
		ChecksFailed: t.ChecksFailed}
	if ws := t.WS; ws != nil {
		m.WS = measure.WSStats{Opened: ws.Opened, Closed: ws.Closed, Sent: ws.Sent, Received: ws.Received,
			Sessions: ws.Sessions, Failed: ws.Failed, Outcomes: ws.Outcomes, Errors: ws.Errors}
	}
	return m
}

// Counters is the group's counters as a measure.GroupStats holds them (all
// else zero).
func (g *Group) Counters() measure.GroupStats {
	return measure.GroupStats{Requests: g.Requests, Iterations: g.Iterations, Errors: g.Errors, Dropped: g.Dropped,
		Started: g.Started, WSSessions: g.WSSessions, WSFailed: g.WSFailed, WSOutcomes: g.WSOutcomes}
}

package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/brink-load/brink/scenarios"
)

// headerFlags collects repeatable --header 'K: V'.
type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

type probeFlags struct {
	vus, from, to          int
	duration, over         time.Duration
	rate, rateTo           float64
	maxVUs                 int
	method, body, think    string
	headers                headerFlags
	p95, p99               time.Duration
	maxErrorRate           string
	timeout                time.Duration
	http2                  bool
	maxBody                string
	expectStatus           int
	window, sustain        time.Duration
	setVUs, setRate, setTo bool
	setDuration            bool
}

func cmdProbe(fs *flag.FlagSet, stdout, stderr io.Writer) func() int {
	var p probeFlags
	var o runOpts
	addProbeFlags(fs, &p)
	addRunFlags(fs, &o)
	return func() int {
		p.noteSet(fs)
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, "brink probe: want exactly one URL (try 'brink probe --help')")
			return exitUsage
		}
		// The scenario from the flags, with the node flags, checked: each
		// step's error is the same usage error.
		sc, err := probeScenario(fs.Arg(0), &p)
		if err == nil {
			err = o.Nodes.apply(sc)
		}
		if err == nil {
			err = scenarios.Validate(sc)
		}
		if err != nil {
			fmt.Fprintf(stderr, "brink probe: %v\n", err)
			return exitUsage
		}
		return execute(sc, o, stdout, stderr)
	}
}

// addProbeFlags registers the flags that build probe's one-request
// scenario (find takes them too).
func addProbeFlags(fs *flag.FlagSet, p *probeFlags) {
	fs.IntVar(&p.vus, "vus", 10, "closed model: this many VUs for --duration")
	fs.DurationVar(&p.duration, "duration", 30*time.Second, "how long to hold the load (after any ramp)")
	fs.IntVar(&p.from, "from", 0, "ramp VUs from this many (with --to)")
	fs.IntVar(&p.to, "to", 0, "ramp VUs up to this many over --over (closed model)")
	fs.DurationVar(&p.over, "over", time.Minute, "ramp length for --to or --rate-to")
	fs.Float64Var(&p.rate, "rate", 0, "open model: requests/s (the start rate with --rate-to)")
	fs.Float64Var(&p.rateTo, "rate-to", 0, "open model: ramp the arrival rate up to this over --over")
	fs.IntVar(&p.maxVUs, "max-vus", 0, "open model: at most this many VUs (default 1000, as a scenario's max_vus)")
	fs.StringVar(&p.method, "method", "GET", "HTTP method")
	fs.Var(&p.headers, "header", "request header 'K: V' (repeatable)")
	fs.StringVar(&p.body, "body", "", "request body (templates allowed: {{vu}} {{iter}} {{rand A B}} {{uuid}})")
	fs.StringVar(&p.think, "think", "", "closed model: pause between requests, e.g. 1s or 500ms-2s")
	fs.DurationVar(&p.p95, "p95", 0, "threshold: p95 latency below this (e.g. 500ms)")
	fs.DurationVar(&p.p99, "p99", 0, "threshold: p99 latency below this")
	fs.StringVar(&p.maxErrorRate, "max-error-rate", "", "threshold: failed requests below this rate (e.g. 1%)")
	fs.IntVar(&p.expectStatus, "expect-status", 0, "check: responses must have this status (default any 2xx/3xx)")
	fs.DurationVar(&p.timeout, "timeout", scenarios.DefaultTimeout, "per-request timeout")
	fs.BoolVar(&p.http2, "http2", false, "use net/http (HTTP/2 where the server offers it) instead of fasthttp")
	fs.StringVar(&p.maxBody, "max-body", scenarios.FormatSize(scenarios.DefaultMaxBody), "read at most this much of a response body; a larger one is a body_too_large error")
	fs.DurationVar(&p.window, "window", scenarios.DefaultWindow, "statistics window (one tick)")
	fs.DurationVar(&p.sustain, "sustain", scenarios.DefaultSustain, "how long a threshold must stay broken to count")
}

// noteSet records which of the flags that pick the model were given.
func (p *probeFlags) noteSet(fs *flag.FlagSet) {
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "vus":
			p.setVUs = true
		case "rate":
			p.setRate = true
		case "to":
			p.setTo = true
		case "duration":
			p.setDuration = true
		}
	})
}

// probeScenario turns probe's flags into a scenario with one group and one
// request.
func probeScenario(rawURL string, p *probeFlags) (*scenarios.Scenario, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("URL %q: want http://host[:port]/path or https://…", rawURL)
	}
	open := p.setRate || p.rateTo > 0
	if open && (p.setVUs || p.setTo) {
		return nil, errors.New("--rate/--rate-to (open model) and --vus/--to (closed model) do not mix")
	}
	if p.duration < 0 || p.over <= 0 {
		return nil, errors.New("--duration must be ≥ 0 and --over > 0")
	}
	reqURL, err := scenarios.CompileTemplate(rawURL)
	if err != nil {
		return nil, fmt.Errorf("URL: %v", err)
	}
	req := scenarios.Request{Name: p.method + " " + u.Path, Method: strings.ToUpper(p.method), URL: reqURL}
	if u.Path == "" {
		req.Name = p.method + " /"
	}
	for _, h := range p.headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("--header %q: want 'Name: value'", h)
		}
		t, err := scenarios.CompileTemplate(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("--header %q: %v", h, err)
		}
		req.Headers = append(req.Headers, scenarios.Header{Name: strings.TrimSpace(k), Value: t})
	}
	if p.body != "" {
		if req.Body, err = scenarios.CompileTemplate(p.body); err != nil {
			return nil, fmt.Errorf("--body: %v", err)
		}
	}
	if p.expectStatus != 0 {
		req.Check = &scenarios.Check{Status: []int{p.expectStatus}}
	}
	g := scenarios.Group{Name: "probe", Requests: []scenarios.Request{req}, Timeout: p.timeout, HTTP2: p.http2}
	if p.think != "" {
		if g.Think, err = scenarios.ParseThink(p.think); err != nil {
			return nil, fmt.Errorf("--think: %v", err)
		}
	}
	switch {
	case open:
		g.Executor = scenarios.RampingArrivalRate
		g.Start = p.rate
		peak := p.rate
		if p.rateTo > 0 {
			g.Stages = append(g.Stages, scenarios.Stage{Duration: p.over, Target: p.rateTo})
			peak = max(peak, p.rateTo)
		}
		if p.duration > 0 && (p.rateTo == 0 || p.setDuration) {
			g.Stages = append(g.Stages, scenarios.Stage{Duration: p.duration, Target: peak})
		}
		if peak <= 0 {
			return nil, errors.New("--rate must be > 0 (or give --rate-to)")
		}
		// Validate sizes the group by the scenario rule (scenarios.OpenVUs).
		g.MaxVUs = p.maxVUs
	case p.setTo:
		g.Executor = scenarios.RampingVUs
		g.Start = float64(p.from)
		g.Stages = append(g.Stages, scenarios.Stage{Duration: p.over, Target: float64(p.to)})
		if p.duration > 0 && p.setDuration {
			g.Stages = append(g.Stages, scenarios.Stage{Duration: p.duration, Target: float64(p.to)})
		}
	default:
		if p.vus <= 0 {
			return nil, errors.New("--vus must be > 0")
		}
		g.Executor = scenarios.RampingVUs
		g.Start = float64(p.vus)
		g.Stages = []scenarios.Stage{{Duration: p.duration, Target: float64(p.vus)}}
	}
	sc := &scenarios.Scenario{Name: "probe " + u.Host + u.Path, Groups: []scenarios.Group{g},
		Window: p.window, Sustain: p.sustain}
	if p.maxBody != "" {
		if sc.MaxBody, err = scenarios.ParseSize(p.maxBody); err != nil {
			return nil, fmt.Errorf("--max-body: %v", err)
		}
		if sc.MaxBody == 0 {
			return nil, errors.New("--max-body must be > 0")
		}
	}
	if p.p95 > 0 {
		sc.Thresholds = append(sc.Thresholds, mustThreshold("http_req_duration", "p(95)<"+msString(p.p95)))
	}
	if p.p99 > 0 {
		sc.Thresholds = append(sc.Thresholds, mustThreshold("http_req_duration", "p(99)<"+msString(p.p99)))
	}
	if p.maxErrorRate != "" {
		th, err := scenarios.ParseThreshold("http_req_failed", "rate<"+p.maxErrorRate)
		if err != nil {
			return nil, fmt.Errorf("--max-error-rate %q: %v", p.maxErrorRate, err)
		}
		sc.Thresholds = append(sc.Thresholds, th)
	}
	return sc, nil
}

func msString(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64) + "ms"
}

func mustThreshold(metric, expr string) scenarios.Threshold {
	th, err := scenarios.ParseThreshold(metric, expr)
	if err != nil {
		panic(err) // built from a valid duration: cannot fail
	}
	return th
}

// Package fleet runs one brink run over several generators through NATS:
// `brink agent` processes that each run an execution segment of the plan,
// and a controller that hands out the segments, starts them at one time,
// steers them and merges their windows exactly (histograms added count by
// count, counters added) before the recorder sees them. The wire protocol
// is package fleet/proto. It imports engine, measure, scenarios and
// fleet/proto.
package fleet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/brink-load/brink/engine"
	"github.com/brink-load/brink/fleet/proto"
	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
	"github.com/brink-load/brink/termtext"
)

// Limits of the protocol's timing.
const (
	// LostAfter: a peer silent this long is gone. An agent stops its load
	// then (within 5 s of the controller's end); the controller names the
	// agent and goes on without it.
	LostAfter = 3 * time.Second
	// beatEvery is how often each side says it is still there.
	beatEvery = 500 * time.Millisecond
	// MaxClockUncertainty is the most a clock offset may be unsure by: half
	// the best round trip of the pings.
	MaxClockUncertainty = 100 * time.Millisecond
	requestTimeout      = 5 * time.Second
	startLead           = 750 * time.Millisecond // start time ahead of now, so every agent hears it in time
)

// ControllerOptions are a fleet run's settings, from the flags.
type ControllerOptions struct {
	Agents int    // how many agents to wait for
	URL    string // the user's NATS; "" starts an embedded server on Listen
	// Listen is the embedded server's address (default ":4222").
	Listen string
	// Wait bounds the wait for Agents (default 2 min).
	Wait     time.Duration
	Insecure bool
	// Say receives the wait's countdown and the agent command (stderr,
	// before any console opens).
	Say io.Writer
}

// Controller is the run's load source when agents send the load. It
// offers the engine's Control (fanned out to every agent and acknowledged)
// and Run.
type Controller struct {
	sc     *scenarios.Scenario
	o      ControllerOptions
	scJSON []byte
	run    string
	window time.Duration

	srv      *server.Server
	nc       *nats.Conn
	agents   []*agent
	stopBeat context.CancelFunc
	beatDone chan struct{}

	// Set before Run.
	onTick func(measure.Tick)
	logf   func(string, ...any)
	event  func(string, time.Time)

	mu    sync.Mutex
	held  bool
	start time.Time
	once  *engine.RunOnce // Run once, Stop waits for it
}

// agent is one joined agent as the controller sees it.
type agent struct {
	proto.HelloMsg
	name   string // unique within the run
	seg    engine.Segment
	offset time.Duration // agent clock − controller clock
	bound  time.Duration // how unsure offset is

	// The run loop's own.
	seen   int // windows received: the highest seq + 1
	last   *proto.Tick
	lastAt time.Time
	heard  time.Time
	done   bool
	lost   bool
	lostAt time.Time
	failed string

	// Read by Agents from other goroutines, under Controller.mu.
	status measure.Agent
}

func (a *agent) share() float64 { return a.seg.To - a.seg.From }

func (a *agent) lostReason() string {
	return fmt.Sprintf("agent %s lost at %s: the load after it is short by %.0f %%", a.name, a.lostAt.Format("15:04:05"), 100*a.share())
}

// NewController checks the options and the scenario's wire form; it
// connects to nothing yet.
func NewController(sc *scenarios.Scenario, o ControllerOptions) (*Controller, error) {
	if o.Agents < 1 {
		return nil, errors.New("fleet: --agents must be at least 1")
	}
	if o.Listen == "" {
		o.Listen = ":4222"
	}
	if o.Wait <= 0 {
		o.Wait = 2 * time.Minute
	}
	if o.Say == nil {
		o.Say = io.Discard
	}
	// Every agent builds its engine from this; a scenario the engine
	// refuses is refused here, before anyone waits.
	if _, err := engine.New(sc, engine.Options{}); err != nil {
		return nil, err
	}
	b, err := json.Marshal(sc)
	if err != nil {
		return nil, fmt.Errorf("fleet: scenario: %w", err)
	}
	c := &Controller{sc: sc, o: o, scJSON: b, run: randomID(), window: sc.Window, logf: func(string, ...any) {}}
	c.once = engine.NewRunOnce(&c.mu)
	if c.window <= 0 {
		c.window = time.Second
	}
	return c, nil
}

// Bind sets where merged windows, rare messages and the run's fleet
// events (an agent lost) go; call before Run.
func (c *Controller) Bind(onTick func(measure.Tick), logf func(string, ...any), event func(text string, at time.Time)) {
	c.onTick, c.logf, c.event = onTick, logf, event
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Prepare starts or joins the bus, waits for the agents (saying how many
// are in and how long is left), measures their clocks and hands out the
// segments. Every agent has built its engine when it returns.
func (c *Controller) Prepare(ctx context.Context) error {
	url := c.o.URL
	if url == "" {
		var err error
		if url, err = c.serve(); err != nil {
			return err
		}
	}
	nc, err := nats.Connect(url, nats.Name("brink controller"), nats.MaxReconnects(-1), nats.ReconnectWait(250*time.Millisecond))
	if err != nil {
		return fmt.Errorf("fleet: connect to %s: %w", redactURL(url), err)
	}
	c.nc = nc
	if err := c.gather(ctx); err != nil {
		return err
	}
	for _, a := range c.agents {
		if err := c.clock(ctx, a); err != nil {
			return err
		}
	}
	// The heartbeat starts before the assignment: an agent that stops
	// hearing it drops its share, assigned or running.
	beatCtx, stopBeat := context.WithCancel(context.Background())
	c.stopBeat = stopBeat
	c.beatDone = make(chan struct{})
	go func() { defer close(c.beatDone); c.beat(beatCtx) }()
	return c.assign(ctx)
}

// serve starts the embedded NATS server with a fresh token and says the
// exact command an agent elsewhere joins with.
func (c *Controller) serve() (string, error) {
	host, portS, err := net.SplitHostPort(c.o.Listen)
	if err != nil {
		return "", fmt.Errorf("fleet: --nats-listen %s: %w", c.o.Listen, err)
	}
	port, err := strconv.Atoi(portS)
	if err != nil {
		return "", fmt.Errorf("fleet: --nats-listen %s: bad port", c.o.Listen)
	}
	token := randomID() + randomID()
	if port == 0 {
		port = server.RANDOM_PORT
	} else {
		// A taken port is said at once, not after the server's start timeout.
		l, err := net.Listen("tcp", c.o.Listen)
		if err != nil {
			return "", fmt.Errorf("fleet: --nats-listen %s: %w", c.o.Listen, err)
		}
		_ = l.Close()
	}
	opts := &server.Options{Host: host, Port: port, Authorization: token, NoSigs: true, NoLog: true,
		MaxPayload: 8 << 20, ServerName: "brink-" + c.run}
	if host == "" {
		opts.Host = "0.0.0.0"
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return "", fmt.Errorf("fleet: embedded NATS server: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return "", fmt.Errorf("fleet: embedded NATS server on %s did not start (is the port taken?)", c.o.Listen)
	}
	c.srv = srv
	addr := srv.Addr().(*net.TCPAddr)
	shown := host
	if shown == "" || net.ParseIP(shown).IsUnspecified() {
		if h, err := os.Hostname(); err == nil {
			shown = h
		}
	}
	fmt.Fprintf(c.o.Say, "brink: NATS listening on %s; on each generator run:\n  brink agent --nats nats://%s@%s\n",
		addr, token, net.JoinHostPort(shown, strconv.Itoa(addr.Port)))
	return fmt.Sprintf("nats://%s@%s", token, net.JoinHostPort(loopbackFor(opts.Host), strconv.Itoa(addr.Port))), nil
}

// loopbackFor is the address the controller itself reaches its own
// server at.
func loopbackFor(host string) string {
	ip := net.ParseIP(host)
	if ip == nil || ip.IsUnspecified() {
		return "127.0.0.1"
	}
	return host
}

// redactURL hides a credential in a NATS URL.
func redactURL(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		if j := strings.LastIndex(u, "@"); j > i {
			return u[:i+3] + termtext.Redacted + u[j:]
		}
	}
	return u
}

// gather waits for o.Agents idle agents of this protocol version.
func (c *Controller) gather(ctx context.Context) error {
	hellos := make(chan *nats.Msg, 256)
	sub, err := c.nc.ChanSubscribe(proto.Hello, hellos)
	if err != nil {
		return fmt.Errorf("fleet: subscribe: %w", err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := c.publish(proto.Discover, &proto.Msg{Type: proto.TypeBeat}); err != nil {
		return err
	}
	deadline := time.Now().Add(c.o.Wait)
	timer := time.NewTimer(c.o.Wait)
	defer timer.Stop()
	every := time.NewTicker(10 * time.Second)
	defer every.Stop()
	fmt.Fprintf(c.o.Say, "brink: waiting for %s (at most %s)\n", plural(c.o.Agents, "agent"), c.o.Wait)
	ids := map[string]bool{}
	refused := map[string]bool{}
	var refusals []string // who was refused and why, for the timeout's line
	names := map[string]int{}
	for len(c.agents) < c.o.Agents {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			// A refused agent is named with why: "0 joined" alone hides
			// that the generator is there, on another brink.
			why := ""
			if len(refusals) > 0 {
				why = fmt.Sprintf(", %d refused (%s; this brink speaks %d: run the same brink version on the controller and every agent)",
					len(refusals), strings.Join(refusals, "; "), proto.Version)
			}
			return fmt.Errorf("fleet: waited %s for %s, %d joined%s%s: start `brink agent --nats URL` on more generators, or lower --agents",
				c.o.Wait, plural(c.o.Agents, "agent"), len(c.agents), c.joinedNames(), why)
		case <-every.C:
			fmt.Fprintf(c.o.Say, "brink: waiting for agents: %d of %d joined, %s left\n", len(c.agents), c.o.Agents, time.Until(deadline).Round(time.Second))
		case raw := <-hellos:
			m, err := proto.Decode(raw.Data)
			if err != nil {
				if errors.Is(err, proto.ErrVersion) && m.Agent != "" && !refused[m.Agent] {
					refused[m.Agent] = true
					who := m.Agent
					if h := m.Hello; h != nil && h.Name != "" {
						var about []string
						if h.Host != "" {
							about = append(about, termtext.Clean(h.Host))
						}
						if h.Brink != "" {
							about = append(about, "brink "+termtext.Clean(h.Brink))
						}
						who = termtext.Clean(h.Name)
						if len(about) > 0 {
							who += " (" + strings.Join(about, ", ") + ")"
						}
					}
					fmt.Fprintf(c.o.Say, "brink: agent %s refused: %v\n", who, err)
					refusals = append(refusals, fmt.Sprintf("%s speaks fleet protocol %d", who, m.V))
					_ = c.publish(proto.Agent(m.Agent), &proto.Msg{Type: proto.TypeRefused,
						Refused: fmt.Sprintf("this controller speaks brink fleet protocol %d", proto.Version)})
				}
				continue
			}
			h := m.Hello
			if m.Type != proto.TypeHello || h == nil || h.ID == "" || ids[h.ID] {
				continue
			}
			ids[h.ID] = true
			a := &agent{HelloMsg: *h, name: h.Name}
			if n := names[h.Name]; n > 0 {
				a.name = fmt.Sprintf("%s#%d", h.Name, n+1)
			}
			names[h.Name]++
			c.agents = append(c.agents, a)
			fmt.Fprintf(c.o.Say, "brink: agent %s joined (%s, %d cores, brink %s): %d of %d, %s left\n",
				a.name, h.Host, h.Cores, h.Brink, len(c.agents), c.o.Agents, time.Until(deadline).Round(time.Second))
		}
	}
	return nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func (c *Controller) joinedNames() string {
	if len(c.agents) == 0 {
		return ""
	}
	var n []string
	for _, a := range c.agents {
		n = append(n, a.name)
	}
	return " (" + strings.Join(n, ", ") + ")"
}

func (c *Controller) publish(subj string, m *proto.Msg) error {
	b, err := proto.Encode(m)
	if err != nil {
		return fmt.Errorf("fleet: %s: %w", m.Type, err)
	}
	if err := c.nc.Publish(subj, b); err != nil {
		return fmt.Errorf("fleet: publish %s: %w", m.Type, err)
	}
	return nil
}

// request sends m to agent a and waits for its reply.
func (c *Controller) request(ctx context.Context, a *agent, m *proto.Msg) (*proto.ReplyMsg, error) {
	b, err := proto.Encode(m)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	raw, err := c.nc.RequestWithContext(ctx, proto.Agent(a.ID), b)
	if err != nil {
		return nil, fmt.Errorf("agent %s: %s: %w", a.name, m.Type, err)
	}
	r, err := proto.Decode(raw.Data)
	if err != nil {
		return nil, fmt.Errorf("agent %s: %w", a.name, err)
	}
	if r.Type == proto.TypeRefused {
		return nil, fmt.Errorf("agent %s refused %s: %s", a.name, m.Type, r.Refused)
	}
	if r.Reply == nil {
		return nil, fmt.Errorf("agent %s: %s: no reply", a.name, m.Type)
	}
	if r.Reply.Err != "" {
		return r.Reply, fmt.Errorf("agent %s: %s: %s", a.name, m.Type, r.Reply.Err)
	}
	return r.Reply, nil
}

// clock estimates a's clock offset from the ping with the shortest round
// trip (NTP's rule: the offset is unsure by half of it), and refuses an
// agent whose offset cannot be bounded within MaxClockUncertainty.
func (c *Controller) clock(ctx context.Context, a *agent) error {
	best := time.Duration(math.MaxInt64)
	for range 5 {
		t0 := time.Now()
		r, err := c.request(ctx, a, &proto.Msg{Type: proto.TypePing})
		t1 := time.Now()
		if err != nil {
			return fmt.Errorf("fleet: clock: %w", err)
		}
		if rtt := t1.Sub(t0); rtt < best {
			best = rtt
			mid := t0.Add(rtt / 2)
			a.offset = time.Unix(0, r.Now).Sub(mid)
			a.bound = rtt / 2
		}
	}
	if a.bound > MaxClockUncertainty {
		return fmt.Errorf("fleet: agent %s: its clock offset cannot be bounded within %s (best round trip %s): refused",
			a.name, MaxClockUncertainty, 2*a.bound)
	}
	return nil
}

// assign splits the plan into one segment per agent (every VU slot and
// arrival owned by exactly one) and has each build its engine.
func (c *Controller) assign(ctx context.Context) error {
	n := len(c.agents)
	for i, a := range c.agents {
		a.seg = engine.Segment{From: float64(i) / float64(n), To: float64(i+1) / float64(n)}
		if i == n-1 {
			a.seg.To = 1
		}
		a.status = measure.Agent{Name: a.name, Host: a.Host, Cores: a.Cores, Version: a.Brink, Share: a.share(), ClockOffset: a.offset}
	}
	errs := c.fanOut(ctx, func(a *agent) *proto.Msg {
		return &proto.Msg{Type: proto.TypeAssign, Assign: &proto.AssignMsg{Run: c.run, Scenario: c.scJSON,
			From: a.seg.From, To: a.seg.To, Index: indexOf(c.agents, a), Of: n, Insecure: c.o.Insecure, Data: dataTables(c.sc)}}
	})
	if err := joinLine(errs); err != nil {
		return fmt.Errorf("fleet: %w", err)
	}
	return nil
}

// dataTables are the scenario's loaded data files, by group.
func dataTables(sc *scenarios.Scenario) map[string]proto.DataTable {
	var out map[string]proto.DataTable
	for _, g := range sc.Groups {
		if g.Data != nil && g.Data.Table != nil {
			if out == nil {
				out = map[string]proto.DataTable{}
			}
			out[g.Name] = proto.DataTable{Columns: g.Data.Table.Columns, Rows: g.Data.Table.Rows}
		}
	}
	return out
}

func indexOf(as []*agent, a *agent) int {
	for i, x := range as {
		if x == a {
			return i
		}
	}
	return -1
}

// fanOut sends each agent its message at once and gathers the errors.
func (c *Controller) fanOut(ctx context.Context, msg func(*agent) *proto.Msg) []error {
	errs := make([]error, len(c.agents))
	var wg sync.WaitGroup
	for i, a := range c.agents {
		m := msg(a)
		if m == nil {
			continue
		}
		wg.Add(1)
		go func() { defer wg.Done(); _, errs[i] = c.request(ctx, a, m) }()
	}
	wg.Wait()
	return errs
}

// live are the agents still running the load.
func (c *Controller) live() []*agent {
	var out []*agent
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range c.agents {
		if a.status.LostAt.IsZero() {
			out = append(out, a)
		}
	}
	return out
}

// control fans a control operation out to every live agent and says which
// did not acknowledge it.
func (c *Controller) control(cm proto.ControlMsg) error {
	live := c.live()
	errs := c.fanOut(context.Background(), func(a *agent) *proto.Msg {
		if !slicesContains(live, a) {
			return nil
		}
		m := cm
		return &proto.Msg{Type: proto.TypeControl, Control: &m}
	})
	err := joinLine(errs)
	if err != nil {
		c.logf("fleet: %s not acknowledged: %v", cm.Op, err)
	}
	return err
}

// joinLine joins errors on one line, as brink says errors.
func joinLine(errs []error) error {
	var msgs []string
	for _, e := range errs {
		if e != nil {
			msgs = append(msgs, e.Error())
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return errors.New(strings.Join(msgs, "; "))
}

func slicesContains(as []*agent, a *agent) bool { return indexOf(as, a) >= 0 }

// Hold freezes every agent's targets.
func (c *Controller) Hold() {
	c.mu.Lock()
	c.held = true
	c.mu.Unlock()
	_ = c.control(proto.ControlMsg{Op: proto.OpHold})
}

// Resume continues every agent's stages.
func (c *Controller) Resume() {
	c.mu.Lock()
	c.held = false
	c.mu.Unlock()
	_ = c.control(proto.ControlMsg{Op: proto.OpResume})
}

// Held reports whether the ramp is on hold.
func (c *Controller) Held() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.held
}

// Scale multiplies every agent's targets (each scales its own share).
func (c *Controller) Scale(factor float64) {
	_ = c.control(proto.ControlMsg{Op: proto.OpScale, Factor: factor})
}

// SetTarget overrides one group's whole-run target; each agent takes its
// segment's share of it.
func (c *Controller) SetTarget(group string, target float64) error {
	return c.control(proto.ControlMsg{Op: proto.OpTarget, Group: group, Target: target})
}

// Note gives every live agent an engineer's note for its log; the
// agents acknowledge it like any control.
func (c *Controller) Note(who, text string) {
	_ = c.control(proto.ControlMsg{Op: proto.OpNote, Text: who + ": " + text})
}

// Stop ramps every agent down gracefully and returns when the run has
// ended (at once when it never started).
func (c *Controller) Stop() { c.once.Stop() }

// Agents is every agent's health now.
func (c *Controller) Agents() []measure.Agent {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]measure.Agent, 0, len(c.agents))
	for _, a := range c.agents {
		out = append(out, a.status)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Close releases the agents, leaves the bus and stops the embedded server.
func (c *Controller) Close() {
	if c.stopBeat != nil {
		c.stopBeat()
		<-c.beatDone
	}
	if c.nc != nil {
		for _, a := range c.agents {
			_ = c.publish(proto.Agent(a.ID), &proto.Msg{Type: proto.TypeRelease})
		}
		_ = c.nc.Flush()
		c.nc.Close()
	}
	if c.srv != nil {
		c.srv.Shutdown()
		c.srv.WaitForShutdown()
	}
}

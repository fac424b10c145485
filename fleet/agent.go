package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/brink-load/brink/engine"
	"github.com/brink-load/brink/fleet/proto"
	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
)

// AgentOptions are `brink agent`'s flags.
type AgentOptions struct {
	URL     string // the NATS server, with its credential
	Name    string // default: the host name
	Version string // brink's
	// Logf says what the agent does (joined, assigned, started, ended,
	// controller lost); one line each.
	Logf func(format string, args ...any)
	// OnTick, when set, sees each of this agent's own windows before it is
	// sent (tests compare them with the controller's merge).
	OnTick func(measure.Tick)
}

// Agent is a generator waiting for work from a controller.
type Agent struct {
	o     AgentOptions
	id    string
	hello proto.HelloMsg
	nc    *nats.Conn

	mu  sync.Mutex
	job *job // the run assigned to this agent, nil when idle
}

// job is one run's share on this agent.
type job struct {
	run     string
	eng     *engine.Engine
	cancel  context.CancelFunc // cuts the load at once
	ctx     context.Context
	started bool
	beat    *nats.Subscription
	mu      sync.Mutex
	heard   time.Time // the controller's last heartbeat
	seq     int       // next window's index
	win     time.Duration
}

// RunAgent connects, announces itself and runs whatever share of a run a
// controller hands it, one run after another, until ctx ends.
func RunAgent(ctx context.Context, o AgentOptions) error {
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	host, _ := os.Hostname()
	if o.Name == "" {
		o.Name = host
	}
	a := &Agent{o: o, id: randomID()}
	a.hello = proto.HelloMsg{ID: a.id, Name: o.Name, Host: host, Cores: runtime.GOMAXPROCS(0), Brink: o.Version, Proto: proto.Version}
	// A dropped connection is retried for ever: a blip shorter than
	// LostAfter changes nothing, a longer one stops the load (watchdog).
	// Each loss and return of the bus is said once: an agent whose
	// controller's embedded bus went with it would otherwise wait in
	// silence.
	nc, err := nats.Connect(o.URL, nats.Name("brink agent "+o.Name), nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			why := "closed"
			if err != nil {
				why = err.Error()
			}
			o.Logf("agent %s: bus %s lost (%s); retrying until it is back (a controller's embedded bus ends with its run: start the next run's printed command instead, Ctrl-C to stop)",
				o.Name, redactURL(o.URL), why)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			o.Logf("agent %s: bus back at %s; waiting for work", o.Name, redactURL(nc.ConnectedUrlRedacted()))
		}))
	if err != nil {
		return fmt.Errorf("agent: connect to %s: %w", redactURL(o.URL), err)
	}
	a.nc = nc
	defer nc.Close()
	reqs := make(chan *nats.Msg, 64)
	if _, err := nc.ChanSubscribe(proto.Agent(a.id), reqs); err != nil {
		return fmt.Errorf("agent: subscribe: %w", err)
	}
	disc := make(chan *nats.Msg, 4)
	if _, err := nc.ChanSubscribe(proto.Discover, disc); err != nil {
		return fmt.Errorf("agent: subscribe: %w", err)
	}
	o.Logf("agent %s: connected to %s; waiting for work", o.Name, redactURL(nc.ConnectedUrlRedacted()))
	a.announce()
	announce := time.NewTicker(time.Second)
	defer announce.Stop()
	watch := time.NewTicker(250 * time.Millisecond)
	defer watch.Stop()
	defer a.drop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-disc:
			a.announce()
		case <-announce.C:
			a.announce()
		case <-watch.C:
			a.watchdog()
		case m := <-reqs:
			a.handle(ctx, m)
		}
	}
}

// announce says who this agent is, while it has no run.
func (a *Agent) announce() {
	a.mu.Lock()
	busy := a.job != nil
	a.mu.Unlock()
	if !busy {
		_ = a.send(proto.Hello, &proto.Msg{Type: proto.TypeHello, Hello: &a.hello})
	}
}

func (a *Agent) send(subj string, m *proto.Msg) error {
	m.Agent = a.id
	b, err := proto.Encode(m)
	if err != nil {
		return err
	}
	return a.nc.Publish(subj, b)
}

func (a *Agent) reply(m *nats.Msg, err error) {
	r := &proto.Msg{Type: proto.TypeReply, Reply: &proto.ReplyMsg{Now: time.Now().UnixNano()}}
	if err != nil {
		r.Reply.Err = err.Error()
	}
	if m.Reply != "" {
		_ = a.send(m.Reply, r)
	}
}

// handle answers one request from a controller.
func (a *Agent) handle(ctx context.Context, m *nats.Msg) {
	msg, err := proto.Decode(m.Data)
	if err != nil {
		a.o.Logf("agent %s: controller refused: %v", a.o.Name, err)
		if errors.Is(err, proto.ErrVersion) && m.Reply != "" {
			_ = a.send(m.Reply, &proto.Msg{Type: proto.TypeRefused,
				Refused: fmt.Sprintf("agent %s speaks brink fleet protocol %d", a.o.Name, proto.Version)})
		}
		return
	}
	switch msg.Type {
	case proto.TypePing:
		a.reply(m, nil)
	case proto.TypeRefused:
		a.o.Logf("agent %s: refused by a controller: %s", a.o.Name, msg.Refused)
	case proto.TypeAssign:
		a.reply(m, a.assign(msg.Assign))
	case proto.TypeStart:
		a.reply(m, a.start(ctx, msg.Start))
	case proto.TypeControl:
		a.reply(m, a.control(msg.Control))
	case proto.TypeRelease:
		a.drop()
	}
}

// assign builds the engine for this agent's segment of the run.
func (a *Agent) assign(as *proto.AssignMsg) error {
	if as == nil {
		return errors.New("assign without a run")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.job != nil {
		return fmt.Errorf("busy with run %s", a.job.run)
	}
	var sc scenarios.Scenario
	if err := json.Unmarshal(as.Scenario, &sc); err != nil {
		return fmt.Errorf("scenario: %w", err)
	}
	// The data files travel with the assignment; the engine binds the
	// groups' variables to them (scenarios.BindFlows).
	for i := range sc.Groups {
		g := &sc.Groups[i]
		if t, ok := as.Data[g.Name]; ok && g.Data != nil {
			g.Data.Table = &scenarios.DataTable{Columns: t.Columns, Rows: t.Rows}
		}
	}
	j := &job{run: as.Run, win: sc.Window}
	if j.win <= 0 {
		j.win = time.Second
	}
	eng, err := engine.New(&sc, engine.Options{
		Segment:            engine.Segment{From: as.From, To: as.To},
		InsecureSkipVerify: as.Insecure,
		OnTick:             func(t measure.Tick) { a.tick(j, &t) },
		Logf:               func(f string, args ...any) { a.o.Logf("agent %s: "+f, append([]any{a.o.Name}, args...)...) },
	})
	if err != nil {
		return err
	}
	j.eng = eng
	j.ctx, j.cancel = context.WithCancel(context.Background())
	// From now on the controller's heartbeat keeps this run alive, so a
	// controller gone before the start frees the agent too.
	j.touch()
	if j.beat, err = a.nc.Subscribe(proto.Beat(j.run), func(*nats.Msg) { j.touch() }); err != nil {
		j.cancel()
		return err
	}
	a.job = j
	a.o.Logf("agent %s: assigned run %s, segment %d of %d (%.4g..%.4g of the plan)", a.o.Name, as.Run, as.Index+1, as.Of, as.From, as.To)
	return nil
}

// start runs the engine from the common start time.
func (a *Agent) start(ctx context.Context, st *proto.StartMsg) error {
	a.mu.Lock()
	j := a.job
	a.mu.Unlock()
	if j == nil || st == nil {
		return errors.New("start without an assigned run")
	}
	if j.started {
		return errors.New("already started")
	}
	j.started = true
	at := time.Unix(0, st.At)
	go a.runJob(ctx, j, at)
	return nil
}

func (j *job) touch() {
	j.mu.Lock()
	j.heard = time.Now()
	j.mu.Unlock()
}

// runJob waits for the start time, runs the load, then says it is done
// and goes idle.
func (a *Agent) runJob(ctx context.Context, j *job, at time.Time) {
	var runErr error
	t := time.NewTimer(time.Until(at))
	select {
	case <-t.C:
		a.o.Logf("agent %s: run %s started", a.o.Name, j.run)
		beats := make(chan struct{})
		go a.beats(j, beats)
		runErr = j.eng.Run(j.ctx)
		close(beats)
	case <-j.ctx.Done():
		t.Stop()
		runErr = j.ctx.Err()
	case <-ctx.Done():
		t.Stop()
		runErr = ctx.Err()
	}
	done := &proto.DoneMsg{}
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		done.Err = runErr.Error()
	}
	_ = a.send(proto.Run(j.run), &proto.Msg{Type: proto.TypeDone, Done: done})
	_ = a.nc.Flush()
	a.o.Logf("agent %s: run %s ended", a.o.Name, j.run)
	a.mu.Lock()
	if a.job == j {
		a.job = nil
	}
	a.mu.Unlock()
	if j.beat != nil {
		_ = j.beat.Unsubscribe()
	}
	a.announce()
}

// beats tells the controller this agent is alive between windows.
func (a *Agent) beats(j *job, stop <-chan struct{}) {
	t := time.NewTicker(beatEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			_ = a.send(proto.Run(j.run), &proto.Msg{Type: proto.TypeBeat, Beat: &proto.BeatMsg{Now: time.Now().UnixNano()}})
		}
	}
}

// tick publishes one window; its index counts from the common start, so
// windows of all agents line up at the controller.
func (a *Agent) tick(j *job, t *measure.Tick) {
	if a.o.OnTick != nil {
		a.o.OnTick(*t)
	}
	seq := int(math.Round(float64(t.Elapsed) / float64(j.win)))
	seq = max(seq, j.seq)
	j.seq = seq + 1
	w, err := proto.FromTick(t, seq, false)
	if err != nil {
		a.o.Logf("agent %s: %v", a.o.Name, err)
	}
	if err := a.send(proto.Run(j.run), &proto.Msg{Type: proto.TypeTick, Tick: w}); err != nil {
		a.o.Logf("agent %s: window %d not sent: %v", a.o.Name, seq, err)
	}
}

// control applies a controller's live control to this agent's engine.
func (a *Agent) control(cm *proto.ControlMsg) error {
	a.mu.Lock()
	j := a.job
	a.mu.Unlock()
	if cm == nil {
		return errors.New("control without an operation")
	}
	if j == nil {
		return errors.New("no run")
	}
	switch cm.Op {
	case proto.OpHold:
		j.eng.Hold()
	case proto.OpResume:
		j.eng.Resume()
	case proto.OpScale:
		j.eng.Scale(cm.Factor)
	case proto.OpTarget:
		return j.eng.SetTarget(cm.Group, cm.Target)
	case proto.OpStop:
		go j.eng.Stop()
	case proto.OpAbort:
		j.cancel()
	case proto.OpNote:
		a.o.Logf("agent %s: note: %s", a.o.Name, cm.Text)
	default:
		return fmt.Errorf("unknown control %q", cm.Op)
	}
	return nil
}

// watchdog stops the load once the controller has been silent LostAfter.
func (a *Agent) watchdog() {
	a.mu.Lock()
	j := a.job
	a.mu.Unlock()
	if j == nil {
		return
	}
	j.mu.Lock()
	silent := time.Since(j.heard)
	j.mu.Unlock()
	if silent >= LostAfter {
		a.controllerLost(fmt.Sprintf("nothing heard from the controller for %s", silent.Round(100*time.Millisecond)))
	}
}

// controllerLost cuts the load: nobody would see its results.
func (a *Agent) controllerLost(why string) {
	a.mu.Lock()
	j := a.job
	a.mu.Unlock()
	if j == nil {
		return
	}
	if j.ctx.Err() == nil {
		a.o.Logf("agent %s: controller lost (%s): load stopped", a.o.Name, why)
	}
	a.drop()
}

// drop ends the current job, running or not.
func (a *Agent) drop() {
	a.mu.Lock()
	j := a.job
	if j != nil && !j.started {
		a.job = nil // never started: runJob will not clear it
	}
	a.mu.Unlock()
	if j == nil {
		return
	}
	j.cancel()
	if !j.started && j.beat != nil {
		_ = j.beat.Unsubscribe()
	}
}

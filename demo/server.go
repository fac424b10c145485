package demo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options tune the demo target. The zero value is a real-time simulation.
type Options struct {
	// Speed compresses time for the load averages only: Linux's 5 s load
	// sample happens every 5/Speed real seconds, so load1 reacts within
	// seconds instead of a minute. Request rates and latencies stay real.
	// 0 means 1.
	Speed float64
	// ReadShare is the fraction of secondary reads sent to db-3 (the rest
	// go to db-2); 0 means 0.8, as in the story where DB #3 gave out.
	ReadShare float64
	// Nodes overrides the simulated machines (tests); nil means
	// DefaultNodes().
	Nodes []NodeSpec
}

// Rooms is how many chat rooms the service has (ids 1..Rooms).
const Rooms = 50

// HistoryQueries is how many reads one GET /api/rooms/{id}/messages makes
// in parallel (messages, authors, reactions, read markers, attachments,
// mentions, pins, threads): the page the team's chat client loads.
const HistoryQueries = 8

// Costs of one operation on a node. Service times are ms to tens of ms so
// the demo saturates at hundreds of real requests per second.
var (
	costHTTP      = Work{CPU: 1200 * time.Microsecond}                           // app server per request
	costWSMessage = Work{CPU: 300 * time.Microsecond}                            // app server per WebSocket message
	costCacheGet  = Work{CPU: 60 * time.Microsecond, RxBytes: 90, TxBytes: 2600} // rooms from Redis
	costPublish   = Work{CPU: 40 * time.Microsecond, RxBytes: 200, TxBytes: 120} // Redis pub/sub
	costRead      = Work{CPU: 3 * time.Millisecond, IO: 22 * time.Millisecond, ReadBytes: 32 << 10, RxBytes: 180, TxBytes: 1400}
	costWrite     = Work{CPU: 1500 * time.Microsecond, IO: 5 * time.Millisecond, WriteBytes: 4 << 10, RxBytes: 600, TxBytes: 120}
	costReplicate = Work{CPU: 400 * time.Microsecond, IO: 600 * time.Microsecond, WriteBytes: 4 << 10, RxBytes: 700}
)

// DefaultNodes are the machines of the story: two app servers, Redis, a
// replica set of three. db-2 and db-3 are the same size; db-3 gives out
// first only because it takes most of the reads.
func DefaultNodes() []NodeSpec {
	const gib = 1 << 30
	return []NodeSpec{
		{Name: "web-1", Role: "web", Cores: 2, MemTotal: 4 * gib, MemBase: 0.42, MemPerTask: 512 << 10},
		{Name: "web-2", Role: "web", Cores: 2, MemTotal: 4 * gib, MemBase: 0.40, MemPerTask: 512 << 10},
		{Name: "redis-1", Role: "cache", Cores: 2, MemTotal: 4 * gib, MemBase: 0.35},
		{Name: "db-1", Role: "db", Cores: 4, Workers: 16, QueueCap: 2000, Timeout: 2 * time.Second,
			MemTotal: 16 * gib, MemBase: 0.71, MemPerTask: 1 << 20, DiskDevice: "nvme0n1"},
		{Name: "db-2", Role: "db", Cores: 4, Workers: 24, QueueCap: 600, Timeout: 750 * time.Millisecond,
			MemTotal: 16 * gib, MemBase: 0.68, MemPerTask: 1 << 20, DiskDevice: "nvme0n1"},
		{Name: "db-3", Role: "db", Cores: 4, Workers: 24, QueueCap: 600, Timeout: 750 * time.Millisecond,
			MemTotal: 16 * gib, MemBase: 0.69, MemPerTask: 1 << 20, DiskDevice: "nvme0n1"},
	}
}

// Server is a running demo target.
type Server struct {
	opts  Options
	start time.Time
	ln    net.Listener
	http  *http.Server
	base  string

	nodes  []*Node
	byName map[string]*Node
	web    []*Node
	redis  *Node
	db1    *Node // primary: takes writes
	reads  []*Node
	rr     atomic.Uint64

	chat *chat
	hub  *hub
	shop *shop

	stop      chan struct{}
	stopOnCtx func() bool // unregisters the Close that ctx's end would run
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// Start serves the chat service and the node metrics on addr ("" or
// "127.0.0.1:0" for a free loopback port) until ctx ends or Close.
func Start(ctx context.Context, addr string, opts Options) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if opts.Speed <= 0 {
		opts.Speed = 1
	}
	if opts.ReadShare <= 0 || opts.ReadShare > 1 {
		opts.ReadShare = 0.8
	}
	specs := opts.Nodes
	if specs == nil {
		specs = DefaultNodes()
	}
	now := time.Now()
	s := &Server{opts: opts, start: now, byName: map[string]*Node{}, chat: newChat(now), hub: newHub(), shop: newShop(), stop: make(chan struct{})}
	for _, sp := range specs {
		n := newNode(sp, now)
		if _, dup := s.byName[sp.Name]; dup {
			return nil, fmt.Errorf("demo: node %s listed twice", sp.Name)
		}
		s.nodes = append(s.nodes, n)
		s.byName[sp.Name] = n
	}
	s.web = s.pick("web-1", "web-2")
	s.redis = s.byName["redis-1"]
	s.db1 = s.byName["db-1"]
	s.reads = s.pick("db-3", "db-2")
	if len(s.web) == 0 || s.redis == nil || s.db1 == nil || len(s.reads) != 2 {
		return nil, errors.New("demo: nodes must include web-1 or web-2, redis-1, db-1, db-2 and db-3")
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("demo: listen %s: %w", addr, err)
	}
	s.ln = ln
	s.base = "http://" + ln.Addr().String()
	s.http = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}

	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.closeErr = err
		}
	}()
	go func() {
		defer s.wg.Done()
		s.integrate()
	}()
	if ctx != nil {
		// No goroutine waits on ctx: Close runs only if it ends first.
		s.stopOnCtx = context.AfterFunc(ctx, func() { s.Close() })
	}
	return s, nil
}

func (s *Server) pick(names ...string) []*Node {
	var out []*Node
	for _, n := range names {
		if x := s.byName[n]; x != nil {
			out = append(out, x)
		}
	}
	return out
}

// integrate advances every node's counters and load averages often enough
// that each simulated 5 s load sample sees a fresh run queue.
func (s *Server) integrate() {
	every := time.Duration(float64(loadSample*float64(time.Second)) / s.opts.Speed)
	every = min(max(every, 10*time.Millisecond), 250*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			for _, n := range s.nodes {
				n.step(now, s.opts.Speed)
			}
		}
	}
}

// BaseURL is the chat service's root, e.g. http://127.0.0.1:41234.
func (s *Server) BaseURL() string { return s.base }

// NodeURLs maps each simulated machine's name to its node_exporter URL.
func (s *Server) NodeURLs() map[string]string {
	m := make(map[string]string, len(s.nodes))
	for _, n := range s.nodes {
		m[n.spec.Name] = NodeURL(s.base, n.spec.Name)
	}
	return m
}

// NodeURL is where node name's metrics are served under base.
func NodeURL(base, name string) string {
	return strings.TrimRight(base, "/") + "/nodes/" + name + "/metrics"
}

// Node returns a simulated machine by name, or nil.
func (s *Server) Node(name string) *Node { return s.byName[name] }

// Close stops serving, closes every WebSocket and waits for the server's
// goroutines.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if s.stopOnCtx != nil {
			s.stopOnCtx()
		}
		close(s.stop)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s.hub.closeAll()
		if err := s.http.Shutdown(ctx); err != nil {
			s.http.Close()
		}
		s.hub.wait()
		s.wg.Wait()
	})
	return s.closeErr
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleIndex)
	mux.HandleFunc("GET /api/rooms", s.handleRooms)
	mux.HandleFunc("GET /api/rooms/{id}/messages", s.handleHistory)
	mux.HandleFunc("POST /api/rooms/{id}/messages", s.handlePost)
	// The room in the body, as scenarios/examples posts it.
	mux.HandleFunc("POST /api/messages", s.handlePost)
	mux.HandleFunc("GET /ws", s.handleWS)
	// A login and orders, for user flows (shop.go).
	mux.HandleFunc("POST /login", s.handleLogin)
	mux.HandleFunc("POST /orders", s.handleNewOrder)
	mux.HandleFunc("GET /orders/{id}", s.handleOrder)
	mux.HandleFunc("GET /nodes/{name}/metrics", s.handleMetrics)
	return mux
}

func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "brink demo chat service\n\nGET  %[1]s/api/rooms\nGET  %[1]s/api/rooms/{1..%[2]d}/messages\nPOST %[1]s/api/rooms/{id}/messages\nWS   %[3]s/ws?room=N\n"+
		"POST %[1]s/login {\"user\": \"user1\", \"password\": \"pw-user1\"} (user1 … user%[4]d): access_token and a session cookie\n"+
		"POST %[1]s/orders {\"item\": N}, GET %[1]s/orders/{id}: with Authorization: Bearer TOKEN and the cookie\n\nnode_exporter endpoints:\n",
		s.base, Rooms, "ws"+strings.TrimPrefix(s.base, "http"), DemoUsers)
	names := make([]string, 0, len(s.nodes))
	for _, n := range s.nodes {
		names = append(names, n.spec.Name)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, NodeURL(s.base, n))
	}
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	n := s.byName[r.PathValue("name")]
	if n == nil {
		http.Error(w, "no such node", http.StatusNotFound)
		return
	}
	// Bring counters up to the scrape's moment; the load average keeps its
	// own 5 s (simulated) cadence.
	n.step(time.Now(), s.opts.Speed)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	n.WriteMetrics(w, s.start)
}

// webNode spreads requests over the app servers like a round-robin load
// balancer.
func (s *Server) webNode() *Node {
	return s.web[s.rr.Add(1)%uint64(len(s.web))]
}

// readNode picks the secondary a read goes to: db-3 with ReadShare.
func (s *Server) readNode() *Node {
	if rand.Float64() < s.opts.ReadShare {
		return s.reads[0]
	}
	return s.reads[1]
}

// httpError maps a node's failure to a status: a full queue is 503, a
// wait past the timeout 504.
func httpError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrQueueFull):
		http.Error(w, "database busy: queue full", http.StatusServiceUnavailable)
	case errors.Is(err, ErrTimeout):
		http.Error(w, "database timeout", http.StatusGatewayTimeout)
	default:
		// The client went away; nobody reads this.
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
	}
}

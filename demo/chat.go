package demo

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// keepMessages is how many recent messages a room keeps; history returns
// the last historyPage of them.
const (
	keepMessages = 50
	historyPage  = 20
)

// Message is one chat message as the API returns it.
type Message struct {
	ID   int64     `json:"id"`
	Room int       `json:"room"`
	From string    `json:"from"`
	Text string    `json:"text"`
	Time time.Time `json:"time"`
}

type room struct {
	mu   sync.Mutex
	msgs []Message // ring of the last keepMessages
	next int
	n    int64
}

// chat is the in-memory message store standing in for the replica set's
// data; the nodes only model the cost of reaching it.
type chat struct {
	rooms [Rooms + 1]room // index 0 unused: ids are 1..Rooms
	seq   atomic.Int64
}

var greetings = []string{"hello", "morning all", "has anyone seen the deploy notes?", "lunch?", "👋", "brb", "looks good to me", "ship it"}

func newChat(now time.Time) *chat {
	c := &chat{}
	for id := 1; id <= Rooms; id++ {
		for i := 0; i < 10; i++ {
			c.add(id, "user"+strconv.Itoa((id*7+i)%40+1), greetings[(id+i)%len(greetings)], now.Add(-time.Duration(10-i)*time.Minute))
		}
	}
	return c
}

func (c *chat) add(id int, from, text string, t time.Time) Message {
	r := &c.rooms[id]
	m := Message{ID: c.seq.Add(1), Room: id, From: from, Text: text, Time: t.UTC()}
	r.mu.Lock()
	if len(r.msgs) < keepMessages {
		r.msgs = append(r.msgs, m)
	} else {
		r.msgs[r.next] = m
	}
	r.next = (r.next + 1) % keepMessages
	r.n++
	r.mu.Unlock()
	return m
}

// recent returns up to k latest messages, oldest first.
func (c *chat) recent(id, k int) []Message {
	r := &c.rooms[id]
	r.mu.Lock()
	defer r.mu.Unlock()
	k = min(k, len(r.msgs))
	out := make([]Message, 0, k)
	for i := k; i > 0; i-- {
		out = append(out, r.msgs[(r.next-i+keepMessages)%keepMessages])
	}
	return out
}

func roomID(s string) (int, bool) {
	id, err := strconv.Atoi(s)
	return id, err == nil && validRoom(id)
}

func validRoom(id int) bool { return id >= 1 && id <= Rooms }

func writeJSON(w http.ResponseWriter, status int, v any) int64 {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
	return int64(len(b))
}

// reqBytes is a rough size of the request on the wire, for network
// counters.
func reqBytes(r *http.Request) int64 {
	n := int64(len(r.Method) + len(r.URL.RequestURI()) + 64)
	for k, v := range r.Header {
		n += int64(len(k) + 4)
		for _, x := range v {
			n += int64(len(x))
		}
	}
	if r.ContentLength > 0 {
		n += r.ContentLength
	}
	return n
}

func (s *Server) handleRooms(w http.ResponseWriter, r *http.Request) {
	web := s.webNode()
	s.redis.Account(costCacheGet)
	type roomInfo struct {
		ID       int    `json:"id"`
		Name     string `json:"name"`
		Members  int    `json:"members"`
		Messages int64  `json:"messages"`
	}
	out := make([]roomInfo, 0, Rooms)
	members := s.hub.members()
	for id := 1; id <= Rooms; id++ {
		rm := &s.chat.rooms[id]
		rm.mu.Lock()
		n := rm.n
		rm.mu.Unlock()
		out = append(out, roomInfo{ID: id, Name: "room-" + strconv.Itoa(id), Members: members[id], Messages: n})
	}
	tx := writeJSON(w, http.StatusOK, out)
	web.Account(Work{CPU: costHTTP.CPU, RxBytes: reqBytes(r), TxBytes: tx})
}

// handleHistory loads a room's page: HistoryQueries reads in parallel on
// the secondaries. The page is as slow as its slowest read and fails if
// any read fails — which is how one hot replica sets the app's latency.
func (s *Server) handleHistory(w http.ResponseWriter, r *http.Request) {
	id, ok := roomID(r.PathValue("id"))
	if !ok {
		http.Error(w, "no such room", http.StatusNotFound)
		return
	}
	web := s.webNode()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	var wg sync.WaitGroup
	var once sync.Once
	var failed error
	wg.Add(HistoryQueries)
	for i := 0; i < HistoryQueries; i++ {
		go func() {
			defer wg.Done()
			if err := s.readNode().Do(ctx, costRead); err != nil {
				once.Do(func() { failed = err; cancel() })
			}
		}()
	}
	wg.Wait()
	if failed != nil {
		httpError(w, failed)
		web.Account(Work{CPU: costHTTP.CPU, RxBytes: reqBytes(r), TxBytes: 200})
		return
	}
	tx := writeJSON(w, http.StatusOK, s.chat.recent(id, historyPage))
	web.Account(Work{CPU: costHTTP.CPU, RxBytes: reqBytes(r), TxBytes: tx})
}

// post stores a message: a write on the primary, replication to both
// secondaries, a Redis publish and a broadcast to the room's sockets.
func (s *Server) post(ctx context.Context, id int, from, text string, skip *client) (Message, error) {
	if err := s.db1.Do(ctx, costWrite); err != nil {
		return Message{}, err
	}
	for _, n := range s.reads {
		n.Account(costReplicate)
	}
	s.redis.Account(costPublish)
	m := s.chat.add(id, from, text, time.Now())
	s.hub.broadcast(id, m, skip)
	return m, nil
}

func (s *Server) handlePost(w http.ResponseWriter, r *http.Request) {
	web := s.webNode()
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	var in struct {
		Room int    `json:"room"`
		Text string `json:"text"`
		From string `json:"from"`
	}
	if json.Unmarshal(body, &in) != nil || in.Text == "" {
		in.Text = string(body) // plain text bodies are fine too
	}
	id, ok := in.Room, validRoom(in.Room)
	if v := r.PathValue("id"); v != "" {
		id, ok = roomID(v)
	} else if in.Room == 0 {
		// POST /api/messages without a room (scenarios/examples/chat.yaml)
		// goes to room 1, the general room.
		id, ok = 1, true
	}
	if !ok {
		http.Error(w, "no such room", http.StatusNotFound)
		return
	}
	if in.From == "" {
		in.From = "anonymous"
	}
	m, err := s.post(r.Context(), id, in.From, in.Text, nil)
	if err != nil {
		httpError(w, err)
		web.Account(Work{CPU: costHTTP.CPU, RxBytes: reqBytes(r), TxBytes: 200})
		return
	}
	tx := writeJSON(w, http.StatusCreated, m)
	web.Account(Work{CPU: costHTTP.CPU, RxBytes: reqBytes(r), TxBytes: tx})
}

// ---- WebSocket ----

type client struct {
	conn *websocket.Conn
	send chan []byte
	room int // guarded by hub.mu
	web  *Node
}

// hub tracks sockets by room. Sends never block: a client whose buffer is
// full misses the broadcast, as a slow consumer would.
type hub struct {
	mu      sync.Mutex
	rooms   map[int]map[*client]struct{}
	clients map[*client]struct{}
	closed  bool
	wg      sync.WaitGroup
}

func newHub() *hub {
	return &hub{rooms: map[int]map[*client]struct{}{}, clients: map[*client]struct{}{}}
}

// join registers c in room id (leaving its previous room). It returns
// false once the hub is closed.
func (h *hub) join(c *client, id int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	if old := h.rooms[c.room]; old != nil {
		delete(old, c)
	}
	if h.rooms[id] == nil {
		h.rooms[id] = map[*client]struct{}{}
	}
	h.rooms[id][c] = struct{}{}
	c.room = id
	h.clients[c] = struct{}{}
	return true
}

func (h *hub) leave(c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.clients[c]; !ok {
		return
	}
	delete(h.clients, c)
	delete(h.rooms[c.room], c)
	close(c.send)
}

// broadcast queues m for every socket in room id except skip.
func (h *hub) broadcast(id int, m Message, skip *client) {
	b, _ := json.Marshal(struct {
		Type string `json:"type"`
		Message
	}{"message", m})
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.rooms[id] {
		if c == skip {
			continue
		}
		select {
		case c.send <- b:
			c.web.AddNet(0, int64(len(b)))
		default:
		}
	}
}

func (h *hub) members() map[int]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[int]int, len(h.rooms))
	for id, cs := range h.rooms {
		out[id] = len(cs)
	}
	return out
}

// closeAll closes every socket so their goroutines end; new joins fail.
func (h *hub) closeAll() {
	h.mu.Lock()
	h.closed = true
	conns := make([]*websocket.Conn, 0, len(h.clients))
	for c := range h.clients {
		conns = append(conns, c.conn)
	}
	h.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

func (h *hub) wait() { h.wg.Wait() }

var upgrader = websocket.Upgrader{
	ReadBufferSize:  1024,
	WriteBufferSize: 1024,
	// The demo serves loopback tools, not browsers on other origins.
	CheckOrigin: func(*http.Request) bool { return true },
}

// wsIn is what a chat client sends; Room switches the socket to that room.
type wsIn struct {
	Room int    `json:"room"`
	Text string `json:"text"`
	From string `json:"from"`
}

// wsAck is the reply to the sender once its message is stored, so a load
// tool can time send → reply.
type wsAck struct {
	Type string `json:"type"`
	ID   int64  `json:"id"`
	Room int    `json:"room"`
	Err  string `json:"error,omitempty"`
}

// handleWS serves a chat socket: every message is stored (a write on
// db-1), acknowledged to its sender and broadcast to the others in the
// room. ?room=N picks the first room (default 1).
func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	first := 1
	if v := r.URL.Query().Get("room"); v != "" {
		id, ok := roomID(v)
		if !ok {
			http.Error(w, "no such room", http.StatusBadRequest)
			return
		}
		first = id
	}
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade already answered
	}
	c := &client{conn: conn, send: make(chan []byte, 64), web: s.webNode()}
	s.hub.wg.Add(1)
	defer s.hub.wg.Done()
	if !s.hub.join(c, first) {
		conn.Close()
		return
	}
	c.web.AddMemTasks(1)
	defer c.web.AddMemTasks(-1)
	c.web.Account(Work{CPU: costHTTP.CPU, RxBytes: reqBytes(r), TxBytes: 160})

	done := make(chan struct{})
	go func() { // the only writer of conn
		defer close(done)
		for b := range c.send {
			conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if conn.WriteMessage(websocket.TextMessage, b) != nil {
				conn.Close() // unblocks the reader
				for range c.send {
				}
				return
			}
		}
		conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	}()

	conn.SetReadLimit(64 << 10)
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			break
		}
		c.web.Account(Work{CPU: costWSMessage.CPU, RxBytes: int64(len(data))})
		var in wsIn
		if json.Unmarshal(data, &in) != nil || in.Text == "" {
			in.Text = string(data)
		}
		id := in.Room
		if !validRoom(id) {
			s.hub.mu.Lock()
			id = c.room
			s.hub.mu.Unlock()
		} else if !s.hub.join(c, id) {
			break
		}
		if in.From == "" {
			in.From = "ws"
		}
		ack := wsAck{Type: "ack", Room: id}
		if m, err := s.post(r.Context(), id, in.From, in.Text, c); err != nil {
			ack.Err = err.Error()
		} else {
			ack.ID = m.ID
		}
		b, _ := json.Marshal(ack)
		if !s.hub.deliver(c, b) {
			break
		}
	}
	s.hub.leave(c)
	<-done
	conn.Close()
}

// deliver queues b for c (the sender's ack); false when c is gone.
func (h *hub) deliver(c *client, b []byte) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.clients[c]; !ok {
		return false
	}
	select {
	case c.send <- b:
		c.web.AddNet(0, int64(len(b)))
	default:
	}
	return true
}

package demo

// A login and orders beside the chat, so a scenario can show a real user
// flow (scenarios/examples/login-order.yaml): POST /login answers a token
// in JSON and sets a session cookie; /orders wants both.

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// DemoUsers is how many demo users log in: user1 … userN, each with the
// password "pw-" and its name (pw-user1), as in the example's users.csv.
const DemoUsers = 50

// maxSessions bounds the logins (and orders) the demo remembers: past it
// the oldest are forgotten, so a long run cannot grow the demo's memory.
const maxSessions = 1 << 16

type shop struct {
	mu       sync.Mutex
	sessions map[string]string // session cookie → token
	tokens   map[string]string // token → user
	order    []string          // tokens, oldest first, to forget them in order
	orders   map[int]shopOrder
	nextID   int
	issued   []string // every token, for tests (Server.IssuedTokens)
}

type shopOrder struct {
	ID    int    `json:"id"`
	Item  int    `json:"item"`
	User  string `json:"user"`
	token string
}

func newShop() *shop {
	return &shop{sessions: map[string]string{}, tokens: map[string]string{}, orders: map[int]shopOrder{}}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// demoUser reports whether user and password are a demo login.
func demoUser(user, password string) bool {
	n, err := strconv.Atoi(strings.TrimPrefix(user, "user"))
	return strings.HasPrefix(user, "user") && err == nil && n >= 1 && n <= DemoUsers && password == "pw-"+user
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	web := s.webNode()
	defer web.Account(Work{CPU: costHTTP.CPU, RxBytes: reqBytes(r), TxBytes: 160})
	var in struct {
		User     string `json:"user"`
		Password string `json:"password"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 4<<10)).Decode(&in); err != nil || !demoUser(in.User, in.Password) {
		http.Error(w, "wrong user or password (demo users: user1 … user"+strconv.Itoa(DemoUsers)+", password pw-userN)", http.StatusUnauthorized)
		return
	}
	tok, sid := randomHex(16), randomHex(16)
	sh := s.shop
	sh.mu.Lock()
	if len(sh.order) >= maxSessions {
		old := sh.order[0]
		sh.order = sh.order[1:]
		delete(sh.tokens, old)
		for k, v := range sh.sessions {
			if v == old {
				delete(sh.sessions, k)
			}
		}
	}
	sh.sessions[sid] = tok
	sh.tokens[tok] = in.User
	sh.order = append(sh.order, tok)
	if len(sh.issued) < maxSessions {
		sh.issued = append(sh.issued, tok)
	}
	sh.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "session", Value: sid, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	writeJSON(w, http.StatusOK, map[string]string{"access_token": tok, "token_type": "Bearer", "user": in.User})
}

// authUser is the caller's user when its bearer token and session cookie
// come from the same login.
func (s *Server) authUser(r *http.Request) (user, token string, ok bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	c, err := r.Cookie("session")
	if !ok || err != nil {
		return "", "", false
	}
	sh := s.shop
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.sessions[c.Value] != tok || sh.tokens[tok] == "" {
		return "", "", false
	}
	return sh.tokens[tok], tok, true
}

const unauthorized = "log in first: POST /login, then send its access_token as Authorization: Bearer and its session cookie"

// authOrRefuse is authUser for an order handler: a caller who is not logged
// in is answered 401 here, its work accounted on the web node.
func (s *Server) authOrRefuse(w http.ResponseWriter, r *http.Request, web *Node) (user, token string, ok bool) {
	user, token, ok = s.authUser(r)
	if !ok {
		web.Account(Work{CPU: costHTTP.CPU, RxBytes: reqBytes(r), TxBytes: 120})
		http.Error(w, unauthorized, http.StatusUnauthorized)
	}
	return user, token, ok
}

func (s *Server) handleNewOrder(w http.ResponseWriter, r *http.Request) {
	web := s.webNode()
	user, tok, ok := s.authOrRefuse(w, r, web)
	if !ok {
		return
	}
	var in struct {
		Item int `json:"item"`
	}
	_ = json.NewDecoder(io.LimitReader(r.Body, 4<<10)).Decode(&in)
	// An order is a write to the primary, as a chat message is.
	if err := s.db1.Do(r.Context(), costWrite); err != nil {
		httpError(w, err)
		web.Account(Work{CPU: costHTTP.CPU, RxBytes: reqBytes(r), TxBytes: 120})
		return
	}
	sh := s.shop
	sh.mu.Lock()
	sh.nextID++
	o := shopOrder{ID: sh.nextID, Item: in.Item, User: user, token: tok}
	sh.orders[o.ID] = o
	delete(sh.orders, o.ID-maxSessions)
	sh.mu.Unlock()
	tx := writeJSON(w, http.StatusCreated, o)
	web.Account(Work{CPU: costHTTP.CPU, RxBytes: reqBytes(r), TxBytes: tx})
}

func (s *Server) handleOrder(w http.ResponseWriter, r *http.Request) {
	web := s.webNode()
	_, tok, ok := s.authOrRefuse(w, r, web)
	if !ok {
		return
	}
	id, _ := strconv.Atoi(r.PathValue("id"))
	sh := s.shop
	sh.mu.Lock()
	o, found := sh.orders[id]
	sh.mu.Unlock()
	if !found || o.token != tok {
		web.Account(Work{CPU: costHTTP.CPU, RxBytes: reqBytes(r), TxBytes: 120})
		http.Error(w, fmt.Sprintf("no order %d of yours", id), http.StatusNotFound)
		return
	}
	tx := writeJSON(w, http.StatusOK, o)
	web.Account(Work{CPU: costHTTP.CPU, RxBytes: reqBytes(r), TxBytes: tx})
}

// IssuedTokens are the access tokens the demo's logins handed out (the
// first 65 536), so a test can look for them where they must not be.
func (s *Server) IssuedTokens() []string {
	s.shop.mu.Lock()
	defer s.shop.mu.Unlock()
	return append([]string(nil), s.shop.issued...)
}

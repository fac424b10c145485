package engine

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/scenarios"
	"github.com/brink-load/brink/testout"
	"github.com/gorilla/websocket"
)

// shop is a test target that wants a real user flow: POST /login with a
// known user and password answers a token in JSON and sets a session
// cookie; POST /orders needs both and answers the new order's id;
// GET /orders/{id} needs both and only shows the caller's own order;
// GET /ws upgrades only with the session cookie, the Origin it expects and
// the token in the query, from its own Origin. It counts logins per user, and tells any
// request that broke a rule (the test's failure, not a 4xx for brink).
type shop struct {
	users  map[string]string // user → password
	echo   bool              // answer GET /orders/{id} with a 500 that echoes the token
	mu     sync.Mutex
	logins map[string]int
	tokens map[string]string // token → user
	sess   map[string]string // session cookie → token
	orders map[int]string    // id → token
	nextID int
	wsOK   int
	broken []string
}

func newShop(users map[string]string) *shop {
	return &shop{users: users, logins: map[string]int{}, tokens: map[string]string{}, sess: map[string]string{}, orders: map[int]string{}}
}

func (s *shop) fail(w http.ResponseWriter, code int, format string, args ...any) {
	s.mu.Lock()
	s.broken = append(s.broken, fmt.Sprintf(format, args...))
	s.mu.Unlock()
	http.Error(w, "no", code)
}

func secret() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// auth is the caller's token when its bearer token and session cookie
// belong to the same login.
func (s *shop) auth(r *http.Request) (string, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	c, err := r.Cookie("session")
	if !ok || err != nil {
		return "", false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return tok, s.sess[c.Value] == tok && s.tokens[tok] != ""
}

func (s *shop) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ User, Password string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || s.users[in.User] == "" || s.users[in.User] != in.Password {
			s.fail(w, http.StatusUnauthorized, "login %q refused", in.User)
			return
		}
		tok, sid := secret(), secret()
		s.mu.Lock()
		s.logins[in.User]++
		s.tokens[tok] = in.User
		s.sess[sid] = tok
		s.mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "session", Value: sid, Path: "/", HttpOnly: true})
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":%q,"user":{"name":%q}}`, tok, in.User)
	})
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		tok, ok := s.auth(r)
		if !ok {
			s.fail(w, http.StatusUnauthorized, "POST /orders without a matching token and session")
			return
		}
		s.mu.Lock()
		s.nextID++
		id := s.nextID
		s.orders[id] = tok
		s.mu.Unlock()
		fmt.Fprintf(w, `{"id":%d,"ok":true}`, id)
	})
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		tok, ok := s.auth(r)
		id, _ := strconv.Atoi(r.PathValue("id"))
		s.mu.Lock()
		owner := s.orders[id]
		s.mu.Unlock()
		switch {
		case !ok:
			s.fail(w, http.StatusUnauthorized, "GET /orders/%d without a matching token and session", id)
		case owner != tok:
			s.fail(w, http.StatusNotFound, "GET /orders/%d: not this user's order", id)
		case s.echo:
			http.Error(w, "order store down for token "+tok, http.StatusInternalServerError)
		default:
			fmt.Fprintf(w, `{"id":%d}`, id)
		}
	})
	// As a browser-facing server does: only its own pages' Origin (brink
	// sends the url's origin by default).
	up := websocket.Upgrader{CheckOrigin: func(r *http.Request) bool { return r.Header.Get("Origin") == "http://"+r.Host }}
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("session")
		s.mu.Lock()
		ok := err == nil && s.sess[c.Value] != "" && s.sess[c.Value] == r.URL.Query().Get("token")
		s.mu.Unlock()
		if !ok {
			s.fail(w, http.StatusForbidden, "GET /ws without the login's cookie and token")
			return
		}
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		s.mu.Lock()
		s.wsOK++
		s.mu.Unlock()
		defer conn.Close()
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	})
	return mux
}

// writeFlow writes a login-and-order scenario and its users file into a
// temporary directory and loads it as brink would.
func writeFlow(t *testing.T, base string, users map[string]string, group string) *scenarios.Scenario {
	t.Helper()
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("user,password\n")
	for i := range len(users) {
		u := fmt.Sprintf("user%d", i)
		fmt.Fprintf(&csv, "%s,%s\n", u, users[u])
	}
	if err := os.WriteFile(filepath.Join(dir, "users.csv"), []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	y := "name: shop\nbase_url: " + base + "\nwindow: 100ms\ngroups:\n" + group
	path := filepath.Join(dir, "shop.yaml")
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

const shopGroup = `  - name: buyers
    executor: constant-vus
    vus: 4
    duration: 600ms
    think: 20ms
    data: {file: users.csv, mode: per-vu}
    setup:
      - name: login
        method: POST
        url: /login
        headers: {Content-Type: application/json}
        body: '{"user": "{{.user}}", "password": "{{.password}}"}'
        extract:
          token: {json: "$.access_token"}
          who: {json: "$.user.name"}
    requests:
      - name: order
        method: POST
        url: /orders
        headers: {Authorization: "Bearer {{.token}}"}
        extract: {order: {json: "$.id"}}
      - name: show order
        url: /orders/{{.order}}
        headers: {Authorization: "Bearer {{.token}}"}
        check: {status: 200, body_contains: '"id"'}
`

func shopUsers(n int) map[string]string {
	users := map[string]string{}
	for i := range n {
		users[fmt.Sprintf("user%d", i)] = fmt.Sprintf("pw-%d-%s", i, secret()[:6])
	}
	return users
}

// A VU logs in once with its own CSV user, carries the token and the
// session cookie, and reads back the order it created: no errors, and each
// user logs in exactly once (per-vu: one user per VU) — in the closed
// model, in the open model (whose pre-allocated VUs keep their login
// between arrivals) and through net/http (http2: true).
func TestLoginAndOrderFlow(t *testing.T) {
	for _, c := range []struct{ name, from, to string }{
		{"closed", "", ""},
		{"open", "    executor: constant-vus\n    vus: 4\n    duration: 600ms\n    think: 20ms\n",
			"    executor: constant-arrival-rate\n    rate: 40\n    duration: 600ms\n    pre_allocated_vus: 4\n    max_vus: 4\n"},
		{"http2", "    think: 20ms\n", "    think: 20ms\n    http2: true\n"},
	} {
		t.Run(c.name, func(t *testing.T) { loginAndOrder(t, strings.Replace(shopGroup, c.from, c.to, 1), c.name == "open") })
	}
}

func loginAndOrder(t *testing.T, group string, open bool) {
	users := shopUsers(4)
	s := newShop(users)
	srv := httptest.NewServer(s.handler())
	defer srv.Close()
	sc := writeFlow(t, srv.URL, users, group)
	_, tk := run(t, sc, Options{}, 20*time.Second)
	sum := tk.sum()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.broken) > 0 {
		t.Fatalf("the server saw %d broken requests, first: %s", len(s.broken), s.broken[0])
	}
	for k, n := range sum.Errors {
		// An arrival with every VU busy (a slow box) is dropped, not sent.
		if n > 0 && k != measure.ErrDropped {
			t.Fatalf("errors %v", sum.Errors)
		}
	}
	if sum.ChecksFailed != 0 {
		t.Fatalf("%d checks failed", sum.ChecksFailed)
	}
	if sum.Iterations == 0 || len(s.orders) == 0 {
		t.Fatalf("%d iterations, %d orders: the flow did not run", sum.Iterations, len(s.orders))
	}
	for u := range users {
		if s.logins[u] != 1 {
			t.Errorf("%s logged in %d times, want once (one VU per CSV user)", u, s.logins[u])
		}
	}
	// Setup is measured in its own row and is no iteration.
	logins := int64(0)
	for _, x := range tk.All() {
		for _, ep := range x.Endpoints {
			if ep.Name == "login" {
				logins += ep.Requests
			}
		}
	}
	if logins != 4 {
		t.Errorf("login row counted %d requests, want 4", logins)
	}
	if !open && sum.Requests != 4+2*sum.Iterations {
		t.Errorf("%d requests for %d iterations and 4 logins", sum.Requests, sum.Iterations)
	}
}

// Round-robin hands rows out in turn across the group's VUs; random
// reaches every row; both pick anew each iteration.
func TestDataModes(t *testing.T) {
	for _, mode := range []scenarios.DataMode{scenarios.DataRoundRobin, scenarios.DataRandom} {
		t.Run(string(mode), func(t *testing.T) {
			var mu sync.Mutex
			seen := map[string]int{}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen[r.URL.Query().Get("u")]++
				mu.Unlock()
			}))
			defer srv.Close()
			g := constVUs(get("g", srv.URL+"/?u={{.user}}"), 2, 300*time.Millisecond)
			g.Think = scenarios.Think{Min: 5 * time.Millisecond, Max: 5 * time.Millisecond}
			g.Data = &scenarios.Data{File: "users.csv", Mode: mode, Table: &scenarios.DataTable{
				Columns: []string{"user"}, Rows: [][]string{{"a"}, {"b"}, {"c"}}}}
			sc := scenario(100*time.Millisecond, g)
			if err := scenarios.Validate(sc); err != nil {
				t.Fatal(err)
			}
			_, tk := run(t, sc, Options{}, 20*time.Second)
			n := tk.sum().Requests
			mu.Lock()
			defer mu.Unlock()
			if n < 12 || len(seen) != 3 {
				t.Fatalf("%d requests saw %v", n, seen)
			}
			if mode == scenarios.DataRoundRobin {
				// Rows are handed out in turn: counts differ by at most
				// the requests in flight when the run stopped (2 VUs).
				lo, hi := int(n), 0
				for _, c := range seen {
					lo, hi = min(lo, c), max(hi, c)
				}
				if hi-lo > 2 {
					t.Errorf("round-robin counts %v", seen)
				}
			}
		})
	}
}

// A token never shows: a server that echoes it in a 500 body has its
// failures counted with the token replaced, in every message.
func TestExtractedTokenIsRedacted(t *testing.T) {
	users := shopUsers(2)
	s := newShop(users)
	s.echo = true
	srv := httptest.NewServer(s.handler())
	defer srv.Close()
	sc := writeFlow(t, srv.URL, users, strings.Replace(shopGroup, "vus: 4", "vus: 2", 1))
	var logs testout.Logs
	_, tk := run(t, sc, Options{Logf: logs.Logf}, 20*time.Second)
	if tk.sum().Errors[measure.ErrStatus5xx] == 0 {
		t.Fatal("no 5xx counted")
	}
	var all []string
	redacted := false
	for _, x := range tk.All() {
		b, _ := json.Marshal(x) // every field a tick hands on
		all = append(all, string(b))
		for _, f := range x.Failures {
			redacted = redacted || strings.Contains(f.Message, "[redacted]")
		}
	}
	all = append(all, logs.Lines()...)
	s.mu.Lock()
	defer s.mu.Unlock()
	for tok := range s.tokens {
		for _, text := range all {
			if strings.Contains(text, tok) || strings.Contains(text, tok[:8]) {
				t.Fatalf("token %s… shown: %.300s", tok[:4], text)
			}
		}
	}
	if !redacted {
		t.Error("no failure message says [redacted]")
	}
}

// An extract that finds nothing fails its request as extract, and a
// request that needs the missing value is not sent at all.
func TestExtractMissingIsNotSent(t *testing.T) {
	var orders sync.Map
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"error":"nope"}`) })
	mux.HandleFunc("/orders", func(w http.ResponseWriter, r *http.Request) { orders.Store(r.Header.Get("Authorization"), true) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	g := constVUs(scenarios.Group{Name: "g", Think: scenarios.Think{Min: 20 * time.Millisecond, Max: 20 * time.Millisecond},
		Setup: []scenarios.Request{{Name: "login", Method: "POST", URL: scenarios.MustTemplate(srv.URL + "/login"),
			Extract: []scenarios.Extract{{Name: "token", JSON: scenarios.MustJSONPath("$.access_token")}}}},
		Requests: []scenarios.Request{{Name: "orders", URL: scenarios.MustTemplate(srv.URL + "/orders"),
			Headers: []scenarios.Header{{Name: "Authorization", Value: scenarios.MustTemplate("Bearer {{.token}}")}}}},
	}, 1, 300*time.Millisecond)
	sc := scenario(100*time.Millisecond, g)
	if err := scenarios.Validate(sc); err != nil {
		t.Fatal(err)
	}
	_, tk := run(t, sc, Options{}, 20*time.Second)
	sum := tk.sum()
	if sum.Errors[measure.ErrExtract] == 0 || sum.ErrorCount != sum.Errors[measure.ErrExtract] {
		t.Fatalf("errors %v, want only extract", sum.Errors)
	}
	n := 0
	orders.Range(func(any, any) bool { n++; return true })
	if n != 0 {
		t.Fatal("a request needing {{.token}} was sent without it")
	}
	msgs := map[string]bool{}
	for _, x := range tk.All() {
		for _, f := range x.Failures {
			msgs[f.Endpoint+": "+f.Message] = true
		}
	}
	for _, want := range []string{"login: extract token: $.access_token not in the response body",
		"orders: not sent: {{.token}} has no value (its extract failed or has not run yet)"} {
		if !msgs[want] {
			t.Errorf("no failure %q in %v", want, msgs)
		}
	}
}

// The VU's WebSocket handshake carries the cookie its setup got, and its
// URL the extracted token; cookies: false sends no cookie (refused); a VU
// whose login is refused does not connect at all.
func TestWebSocketSharesTheVUsLogin(t *testing.T) {
	users := shopUsers(2)
	for _, c := range []struct {
		name    string
		cookies bool
		known   map[string]string // the users the server knows
	}{{"cookies", true, users}, {"no cookies", false, users}, {"login refused", true, shopUsers(2)}} {
		t.Run(c.name, func(t *testing.T) {
			s := newShop(c.known)
			srv := httptest.NewServer(s.handler())
			defer srv.Close()
			group := `  - name: chat
    vus: 2
    duration: 300ms
    executor: constant-vus
    cookies: ` + strconv.FormatBool(c.cookies) + `
    data: {file: users.csv}
    setup:
      - name: login
        method: POST
        url: /login
        body: '{"user": "{{.user}}", "password": "{{.password}}"}'
        extract: {token: {json: "$.access_token"}, sid: {header: Set-Cookie}}
    websocket:
      url: /ws?token={{.token}}
`
			sc := writeFlow(t, srv.URL, users, group)
			_, tk := run(t, sc, Options{}, 20*time.Second)
			sum := tk.sum()
			s.mu.Lock()
			defer s.mu.Unlock()
			switch c.name {
			case "cookies":
				if s.wsOK != 2 || len(s.broken) > 0 || sum.WS.Failed != 0 {
					t.Fatalf("%d sessions accepted, %d ws failed, broken: %v", s.wsOK, sum.WS.Failed, s.broken)
				}
			case "no cookies":
				if s.wsOK != 0 || sum.WS.Opened != 0 || sum.WS.Failed == 0 {
					t.Fatalf("%d sessions accepted without cookies, %d failed", s.wsOK, sum.WS.Failed)
				}
			default:
				if s.wsOK != 0 || sum.WS.Opened != 0 || sum.WS.Failed != 0 || sum.Errors[measure.ErrStatus4xx] == 0 {
					t.Fatalf("%d sessions accepted, %d opened, %d failed, errors %v: a VU whose login failed connected", s.wsOK, sum.WS.Opened, sum.WS.Failed, sum.Errors)
				}
			}
		})
	}
}

// A scenario sent as JSON (as the fleet sends it to agents) carries no
// variable slots and no data rows: the engine binds them again and the
// flow runs as loaded.
func TestFlowFromJSON(t *testing.T) {
	users := shopUsers(2)
	s := newShop(users)
	srv := httptest.NewServer(s.handler())
	defer srv.Close()
	loaded := writeFlow(t, srv.URL, users, strings.Replace(shopGroup, "vus: 4", "vus: 2", 1))
	b, err := json.Marshal(loaded)
	if err != nil {
		t.Fatal(err)
	}
	var sc scenarios.Scenario
	if err := json.Unmarshal(b, &sc); err != nil {
		t.Fatal(err)
	}
	_, tk := run(t, &sc, Options{}, 20*time.Second)
	sum := tk.sum()
	s.mu.Lock()
	defer s.mu.Unlock()
	if sum.ErrorCount != 0 || len(s.broken) > 0 || len(s.orders) == 0 || s.logins["user0"] != 1 || s.logins["user1"] != 1 {
		t.Fatalf("errors %v, broken %v, %d orders, logins %v", sum.Errors, s.broken, len(s.orders), s.logins)
	}
}

// A per-vu group that may run more VUs than its file has rows says so
// once, at the start.
func TestPerVUWarnsWhenRowsRunShort(t *testing.T) {
	g := constVUs(get("g", "http://127.0.0.1:1/?u={{.user}}"), 3, time.Second)
	g.Data = &scenarios.Data{File: "/x/users.csv", Table: &scenarios.DataTable{Columns: []string{"user"}, Rows: [][]string{{"a"}, {"b"}}}}
	sc := scenario(time.Second, g)
	if err := scenarios.Validate(sc); err != nil {
		t.Fatal(err)
	}
	var logs testout.Logs
	if _, err := New(sc, Options{Logf: logs.Logf}); err != nil {
		t.Fatal(err)
	}
	want := `engine: group "g": up to 3 VUs for 2 rows of users.csv (data mode per-vu): VUs past row 2 reuse rows from the first`
	if l := logs.Lines(); len(l) != 1 || l[0] != want {
		t.Fatalf("logs %q", l)
	}
}

// A secret never shows in a failure: a server that echoes what it
// refused (an HTTP request's key header, a WebSocket handshake's query)
// has its 403s counted with the value replaced, the message cut at the
// sample's length keeping no start of it. Secrets are {{env}} values,
// data columns whose name looks like a credential's, and those data:
// secret: names; another column (the user) is shown as it is. Of what is
// written literally, a credential by its syntax is a secret (an
// Authorization's credentials, a url's password: the report's copy of the
// scenario hides them), a key with another header's name is shown.
func TestSecretsAreRedactedInFailures(t *testing.T) {
	const key = "ENVKEY-4f1c9a"
	t.Setenv("BRINK_TEST_API_KEY", key)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pass, _ := r.BasicAuth()
		v := r.Header.Get("X-Api-Key") + r.URL.Query().Get("k") + strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if pass != "" {
			v = pass
		}
		http.Error(w, "bad key: "+v+" "+strings.Repeat("x", 92)+v, http.StatusForbidden)
	}))
	defer srv.Close()
	for _, c := range []struct {
		name, value, secret string
		shown               bool
	}{
		{"env", `{{env "BRINK_TEST_API_KEY"}}`, key, false},
		{"password column", "{{.api_password}}", "PW-77ab21", false},
		{"secret: column", "{{.pin}}", "PIN-5521", false},
		{"plain column", "{{.user}}", "ann-3d9f", true},
		{"literal key", "LITKEY-5e1", "LITKEY-5e1", true},
		{"literal authorization", "Authorization: Bearer LITTOK-9c2", "LITTOK-9c2", false},
		{"url password", "url: bob:LITPW-31d", "LITPW-31d", false},
	} {
		for _, ws := range []bool{false, true} {
			if ws && strings.HasPrefix(c.value, "url: ") {
				continue // a WebSocket url takes no user-info (the dialer refuses it)
			}
			t.Run(fmt.Sprint(c.name, " ws=", ws), func(t *testing.T) {
				g := scenarios.Group{Name: "g", Think: scenarios.Think{Min: 20 * time.Millisecond, Max: 20 * time.Millisecond},
					Data: &scenarios.Data{File: "users.csv", Secret: []string{"pin"}, Table: &scenarios.DataTable{
						Columns: []string{"user", "api_password", "pin"}, Rows: [][]string{{"ann-3d9f", "PW-77ab21", "PIN-5521"}}}}}
				base, query, hdr := srv.URL, "?k="+c.value, scenarios.Header{Name: "X-Api-Key", Value: scenarios.MustTemplate(c.value)}
				if v, ok := strings.CutPrefix(c.value, "Authorization: "); ok {
					query, hdr = "", scenarios.Header{Name: "Authorization", Value: scenarios.MustTemplate(v)}
				}
				if v, ok := strings.CutPrefix(c.value, "url: "); ok {
					base, query, hdr = strings.Replace(srv.URL, "//", "//"+v+"@", 1), "", scenarios.Header{Name: "X-A", Value: scenarios.MustTemplate("a")}
				}
				if ws {
					g.WebSocket = &scenarios.WebSocket{URL: scenarios.MustTemplate("ws" + strings.TrimPrefix(base, "http") + "/ws" + query)}
					if query == "" {
						g.WebSocket.Headers = []scenarios.Header{hdr}
					}
				} else {
					g.Requests = []scenarios.Request{{Name: "key", URL: scenarios.MustTemplate(base + "/key"), Headers: []scenarios.Header{hdr}}}
				}
				sc := scenario(100*time.Millisecond, constVUs(g, 1, 300*time.Millisecond))
				if err := scenarios.Validate(sc); err != nil {
					t.Fatal(err)
				}
				_, tk := run(t, sc, Options{}, 20*time.Second)
				if sum := tk.sum(); sum.Errors[measure.ErrStatus4xx] == 0 && sum.WS.Failed == 0 {
					t.Fatal("no 403 counted")
				}
				want := "bad key: [redacted]"
				if c.shown {
					want = "bad key: " + c.secret
				}
				said := false
				for _, x := range tk.All() {
					b, _ := json.Marshal(x)
					if !c.shown && strings.Contains(string(b), c.secret[:4]) {
						t.Fatalf("secret shown: %.300s", b)
					}
					for _, f := range x.Failures {
						said = said || strings.Contains(f.Message, want)
					}
				}
				if !said {
					t.Errorf("no failure message says %s", want)
				}
			})
		}
	}
}

// A VU whose setup fails waits before trying it again, backing off: with
// no think time a broken login is tried a few times per VU over a 3 s
// run (at 0 s, after 1 s, after 2 s more), not in a tight loop. Both
// models; the bound counts tries the backoff allows, not timing.
func TestFailedSetupBacksOff(t *testing.T) {
	for _, open := range []bool{false, true} {
		t.Run(fmt.Sprint("open=", open), func(t *testing.T) {
			var logins, orders atomic.Int64
			mux := http.NewServeMux()
			mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
				logins.Add(1)
				w.WriteHeader(http.StatusUnauthorized)
			})
			mux.HandleFunc("/orders", func(w http.ResponseWriter, r *http.Request) { orders.Add(1) })
			srv := httptest.NewServer(mux)
			defer srv.Close()
			g := scenarios.Group{Name: "g",
				Setup: []scenarios.Request{{Name: "login", Method: "POST", URL: scenarios.MustTemplate(srv.URL + "/login"),
					Extract: []scenarios.Extract{{Name: "token", JSON: scenarios.MustJSONPath("$.access_token")}}}},
				Requests: []scenarios.Request{{Name: "orders", URL: scenarios.MustTemplate(srv.URL + "/orders?t={{.token}}")}},
			}
			const vus = 2
			if open {
				g = constRate(g, 200, 3*time.Second, vus)
			} else {
				g = constVUs(g, vus, 3*time.Second)
			}
			sc := scenario(100*time.Millisecond, g)
			if err := scenarios.Validate(sc); err != nil {
				t.Fatal(err)
			}
			_, tk := run(t, sc, Options{}, 30*time.Second)
			// Per VU: the first try, then one each after 1 s and 2 s more
			// (the last capped at the run's end); one spare for the end.
			if n := logins.Load(); n == 0 || n > vus*4 {
				t.Fatalf("%d logins by %d VUs over 3 s, want 1..%d", n, vus, vus*4)
			}
			if orders.Load() != 0 {
				t.Fatal("orders sent without a token")
			}
			if tk.sum().Errors[measure.ErrStatus4xx] == 0 {
				t.Fatal("the refused login is not counted")
			}
		})
	}
}

package engine

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/brink-load/brink/engine/wstest"
	"github.com/brink-load/brink/scenarios"
)

// rawServer answers every request on a keep-alive connection with a fixed
// response, allocating nothing per request itself, so the test below sees
// only the client's allocations. It reads until the blank line that ends a
// bodiless request.
func rawServer(t testing.TB) string {
	return rawServerBody(t, "ok")
}

// rawServerBody is rawServer answering with body.
func rawServerBody(t testing.TB, body string) string {
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\nContent-Type: text/plain\r\n\r\n" + body)
	return "http://" + wstest.ListenTCP(t, func(c net.Conn) {
		defer c.Close()
		br := bufio.NewReaderSize(c, 4096)
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				return
			}
			if len(line) <= 2 { // "\r\n": end of the request head
				if _, err := c.Write(resp); err != nil {
					return
				}
			}
		}
	})
}

// One iteration of a VU — render, send, read, judge, record — allocates
// nothing once its buffers have grown, including templated URLs, headers
// and a check; a POST too (its reused connection is peeked at first); a
// constant request too.
func TestIterationAllocatesNothing(t *testing.T) {
	for _, method := range []string{"GET", "POST", "GET-discard", "GET-checks", "GET-json", "GET-vars", "GET-const"} {
		t.Run(method, func(t *testing.T) { iterationAllocatesNothing(t, method) })
	}
}

func iterationAllocatesNothing(t *testing.T, method string) {
	u := rawServer(t)
	if method == "GET-json" {
		u = rawServerBody(t, `{"ok":true,"user":{"id":42,"name":"ann"},"items":[{"sku":"a-1"}]}`)
	}
	g := constVUs(get("hot", u+"/item/{{rand 1 1000}}?vu={{vu}}"), 1, time.Second)
	g.Requests[0].Headers = []scenarios.Header{{Name: "X-Iter", Value: scenarios.MustTemplate("{{iter}}")}}
	g.Requests[0].Check = &scenarios.Check{Status: []int{200}, BodyContains: "ok"}
	if method == "GET-discard" {
		// No body_contains: the body is streamed through and dropped.
		g.Requests[0].Check = &scenarios.Check{Status: []int{200}}
	}
	if method == "GET-checks" {
		// Every check but the body's: the body is still dropped unread.
		g.Requests[0].Check = &scenarios.Check{Status: []int{201}, StatusClass: []int{2},
			Header:      []scenarios.HeaderCheck{{Name: "content-type", Value: str("text/plain")}, {Name: "X-Gone", Absent: true}},
			MaxDuration: time.Minute}
	}
	if method == "GET-json" {
		// One parse of the held body per path, nothing unmarshalled.
		g.Requests[0].Check = &scenarios.Check{JSON: []scenarios.JSONCheck{{Path: scenarios.MustJSONPath("$.ok"), Value: true},
			{Path: scenarios.MustJSONPath("$.user.id"), Value: 42.0}, {Path: scenarios.MustJSONPath("$.items[0].sku"), Value: "a-1"},
			{Path: scenarios.MustJSONPath("$.user.name"), Value: "ann"}}}
	}
	if method == "GET-const" {
		// A constant request: its first sending's bytes, sent again.
		g.Requests[0].URL = scenarios.MustTemplate(u + "/item/7")
		g.Requests[0].Headers[0].Value = scenarios.MustTemplate("7")
	}
	if method == "POST" {
		g.Requests[0].Method = method
		// No newline in the body: rawServer reads lines up to the blank one.
		g.Requests[0].Body = scenarios.MustTemplate(`{"vu":{{vu}}}`)
	}
	sc := scenario(time.Hour, g)
	if method == "GET-vars" {
		// Variables from a data row in the url and a header, and a cookie
		// in the jar: still nothing allocated when nothing is extracted.
		sc.Groups[0].Data = &scenarios.Data{File: "users.csv", Mode: scenarios.DataRoundRobin, Table: &scenarios.DataTable{
			Columns: []string{"user", "id"}, Rows: [][]string{{"ann", "1"}, {"bob", "2"}}}}
		sc.Groups[0].Requests[0].URL = scenarios.MustTemplate(u + "/item/{{.id}}?vu={{vu}}")
		sc.Groups[0].Requests[0].Headers = append(sc.Groups[0].Requests[0].Headers,
			scenarios.Header{Name: "X-User", Value: scenarios.MustTemplate("{{.user}}")})
		if err := scenarios.Validate(sc); err != nil {
			t.Fatal(err)
		}
	}
	e, v := soloVU(t, sc)
	stop := v.setup()
	defer v.teardown(stop)
	if method == "GET-vars" {
		v.jar.store(jarCookie{name: "session", value: "s1"}, "127.0.0.1", "/", false)
	}
	for range 100 { // warm up: connection, buffers, pools
		v.iterate(time.Time{})
	}
	allocs := testing.AllocsPerRun(500, func() { v.iterate(time.Time{}) })
	if (method == "GET-discard" || method == "GET-checks") && raceOn {
		return // the streamed body comes from fasthttp's sync.Pool, which drops Puts under -race
	}
	if allocs != 0 {
		t.Fatalf("%v allocations per iteration, want 0", allocs)
	}
	// An open-model iteration (with an intended start) records its send
	// lag too, still without allocating.
	intended := time.Now()
	if allocs := testing.AllocsPerRun(500, func() { v.iterate(intended) }); allocs != 0 {
		t.Fatalf("%v allocations per open-model iteration, want 0", allocs)
	}
	tk := e.collect(newMerger(e), e.start, time.Now())
	if tk.Generator.SendLag.Count < 500 {
		t.Fatalf("%d send lags recorded, want ≥ 500", tk.Generator.SendLag.Count)
	}
	if tk.ErrorCount != 0 || tk.ChecksPassed != tk.Requests || tk.Requests < 600 {
		t.Fatalf("requests %d errors %v checks passed %d", tk.Requests, tk.Errors, tk.ChecksPassed)
	}
}

// BenchmarkIterationFlow is BenchmarkIteration with a user flow: a data
// row (round-robin) in the url and a header, a cookie sent from the jar,
// and a JSON extraction from each response, used by the next request.
func BenchmarkIterationFlow(b *testing.B) {
	body := `{"access_token":"eyJhbGciOiJIUzI1NiJ9.abcdefghijklmnop","user":{"id":42,"name":"ann"},"items":[1,2,3]}`
	u := rawServerBody(b, body)
	g := constVUs(get("hot", u+"/users/{{.user}}"), 1, time.Second)
	g.Data = &scenarios.Data{File: "users.csv", Mode: scenarios.DataRoundRobin, Table: &scenarios.DataTable{
		Columns: []string{"user"}, Rows: [][]string{{"ann"}, {"bob"}, {"cy"}}}}
	g.Requests[0].Extract = []scenarios.Extract{{Name: "token", JSON: scenarios.MustJSONPath("$.access_token")}}
	g.Requests = append(g.Requests, scenarios.Request{Name: "me", Method: "GET", URL: scenarios.MustTemplate(u + "/me"),
		Headers: []scenarios.Header{{Name: "Authorization", Value: scenarios.MustTemplate("Bearer {{.token}}")}}})
	sc := scenario(time.Hour, g)
	if err := scenarios.Validate(sc); err != nil {
		b.Fatal(err)
	}
	_, v := soloVU(b, sc)
	stop := v.setup()
	defer v.teardown(stop)
	v.jar.store(jarCookie{name: "session", value: "s1"}, "127.0.0.1", "/", false)
	v.iterate(time.Time{})
	if !v.have[1] {
		b.Fatal("token not extracted")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v.iterate(time.Time{})
	}
}

// BenchmarkIteration is one VU's request loop over loopback against the
// raw server: the engine's own cost per request plus two syscalls.
func BenchmarkIteration(b *testing.B) {
	u := rawServer(b)
	g := constVUs(get("hot", u+"/"), 1, time.Second)
	benchIterate(b, g)
}

// BenchmarkIterationJSON is BenchmarkIteration with a json check of three
// paths on a small JSON body.
func BenchmarkIterationJSON(b *testing.B) {
	u := rawServerBody(b, `{"ok":true,"user":{"id":42,"name":"ann"},"items":[{"sku":"a-1"}]}`)
	g := constVUs(get("hot", u+"/"), 1, time.Second)
	g.Requests[0].Check = &scenarios.Check{JSON: []scenarios.JSONCheck{{Path: scenarios.MustJSONPath("$.ok"), Value: true},
		{Path: scenarios.MustJSONPath("$.user.id"), Value: 42.0}, {Path: scenarios.MustJSONPath("$.items[0].sku"), Value: "a-1"}}}
	benchIterate(b, g)
}

// BenchmarkIterationChecks is BenchmarkIteration with a check on status
// class, two headers, the body (both ways) and max_duration.
func BenchmarkIterationChecks(b *testing.B) {
	u := rawServer(b)
	g := constVUs(get("hot", u+"/"), 1, time.Second)
	g.Requests[0].Check = &scenarios.Check{StatusClass: []int{2},
		Header:       []scenarios.HeaderCheck{{Name: "Content-Type", Value: str("text/plain")}, {Name: "X-Gone", Absent: true}},
		BodyContains: "ok", BodyNotContains: "error", MaxDuration: time.Minute}
	benchIterate(b, g)
}

// benchIterate measures one VU of g iterating by hand, allocations
// reported.
func benchIterate(b *testing.B, g scenarios.Group) {
	_, v := soloVU(b, scenario(time.Hour, g))
	stop := v.setup()
	defer v.teardown(stop)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v.iterate(time.Time{})
	}
}

// BenchmarkIterationInMemory is BenchmarkIteration over an in-memory
// connection that answers every write with one response: the engine's and
// fasthttp's CPU per request without syscalls, the scheduler or the
// server, so an A/B of the hot path is readable on a loaded box.
func BenchmarkIterationInMemory(b *testing.B) {
	u := "http://127.0.0.1:9/"
	_, v := soloVU(b, scenario(time.Hour, constVUs(get("hot", u), 1, time.Second)))
	stop := v.setup()
	defer v.teardown(stop)
	h, err := v.fastConn([]byte(u))
	if err != nil {
		b.Fatal(err)
	}
	c := &countingConn{Conn: &echoConn{resp: []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok")}, v: v}
	h.c, h.br, h.bw = c, bufio.NewReaderSize(c, 4096), bufio.NewWriterSize(c, 4096)
	v.iterate(time.Time{})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v.iterate(time.Time{})
	}
	b.StopTimer()
	if n := v.sh.cur.requests; n != int64(b.N)+1 || v.sh.cur.errors != [numKinds]int64{} {
		b.Fatalf("%d requests recorded, errors %v", n, v.sh.cur.errors)
	}
}

// echoConn answers each write with resp (once read, the next read waits
// for the next write); nothing is sent anywhere.
type echoConn struct {
	net.Conn
	resp, pending []byte
}

func (c *echoConn) Write(p []byte) (int, error) { c.pending = c.resp; return len(p), nil }

func (c *echoConn) Read(p []byte) (int, error) {
	if len(c.pending) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

func (c *echoConn) SetDeadline(time.Time) error { return nil }
func (c *echoConn) Close() error                { return nil }

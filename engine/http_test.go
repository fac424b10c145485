package engine

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/brink-load/brink/scenarios"
	"github.com/brink-load/brink/testout"
)

// A url's user:password@ is the request's basic auth, on both clients
// (fasthttp's path took it for part of the address: every request failed
// with the password in its message), unless the scenario sets its own
// Authorization.
func TestURLUserinfo(t *testing.T) {
	var seen testout.List[string]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(r.Host + " " + r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	u := strings.Replace(srv.URL, "http://", "http://bob:hunter%402@", 1)
	for _, c := range []struct {
		name, header, want string
	}{
		{"from_url", "", "Basic " + base64.StdEncoding.EncodeToString([]byte("bob:hunter@2"))},
		{"header_wins", "Bearer t0k", "Bearer t0k"},
	} {
		eachClient(t, c.name, func(t *testing.T, h2 bool) {
			seen.Reset()
			g := constVUs(get("basic", u+"/x"), 1, 200*time.Millisecond)
			g.Think = scenarios.Think{Min: 20 * time.Millisecond, Max: 20 * time.Millisecond}
			g.HTTP2 = h2
			if c.header != "" {
				g.Requests[0].Headers = []scenarios.Header{{Name: "Authorization", Value: scenarios.MustTemplate(c.header)}}
			}
			_, tk := run(t, scenario(time.Hour, g), Options{}, 10*time.Second)
			s := tk.sum()
			got := seen.All()
			if s.Requests == 0 || s.ErrorCount != 0 || int64(len(got)) != s.Requests {
				t.Fatalf("%d requests, errors %v, %d at the server", s.Requests, s.Errors, len(got))
			}
			if want := strings.TrimPrefix(srv.URL, "http://") + " " + c.want; got[0] != want {
				t.Errorf("server saw %q, want %q", got[0], want)
			}
		})
	}
}

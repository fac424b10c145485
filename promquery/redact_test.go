package promquery

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brink-load/brink/measure"
	"github.com/brink-load/brink/tabletest"
)

const (
	testUser   = "brinkuser"
	testPass   = "S3cretPW-xyz"
	testToken  = "T0kenValue-abc"
	testBearer = "BearerTok-123456789"
)

// secretsIn lists which credentials (in any form a server or Go may print
// them) and which terminal control characters s contains.
func secretsIn(s string) []string {
	var out []string
	for _, sec := range []string{testPass, testToken, testBearer, "S3cretPW%2Dxyz",
		base64.StdEncoding.EncodeToString([]byte(testUser + ":" + testPass))} {
		if strings.Contains(s, sec) {
			out = append(out, sec)
		}
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			out = append(out, fmt.Sprintf("control %U", r))
			break
		}
	}
	return out
}

// pollTexts is every text a poll gives out.
func pollTexts(p measure.Poll) []string {
	out := append([]string{p.Err}, p.Warnings...)
	for _, s := range p.Samples {
		out = append(out, s.Node, s.Role, s.Instance, s.DiskDevice, s.StaleReason)
	}
	for _, pv := range p.Panels {
		out = append(out, pv.Title, pv.Err)
		for _, ps := range pv.Series {
			out = append(out, ps.Labels)
		}
	}
	return out
}

// echoServer answers every request with status, echoing what a careless
// proxy or a hostile server echoes: the Authorization header, the URL with
// its query, and a screen-clearing escape.
func echoServer(t *testing.T, status int) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Short, so the error detail shows it whole.
		echo := fmt.Sprintf("no\x1b[2J %s %s", r.Header.Get("Authorization"), r.URL.RawQuery)
		if strings.HasPrefix(r.URL.Path, "/api/") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"status":"error","errorType":"bad_data","error":%q}`, echo)
			return
		}
		w.WriteHeader(status)
		fmt.Fprintln(w, echo)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestNoCredentialInMessages sends every kind of node-source failure
// through real listeners with credentials in the URL, in files and in the
// http-client YAML, and looks for them in every text promquery gives out.
func TestNoCredentialInMessages(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	tokFile := filepath.Join(dir, "token")
	os.WriteFile(pwFile, []byte(testPass+"\n"), 0o600)
	os.WriteFile(tokFile, []byte(testBearer+"\n"), 0o600)
	yml := filepath.Join(dir, "http.yml")
	os.WriteFile(yml, []byte("basic_auth:\n  username: "+testUser+"\n  password: "+testPass+"\n"), 0o600)

	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadAddr := dead.Addr().String()
	dead.Close()
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read the body so the server notices the client leaving, then
		// wait for that, at most 10 s.
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	t.Cleanup(hang.Close)

	withCreds := func(base, path string) string {
		return strings.Replace(base, "http://", "http://"+testUser+":"+testPass+"@", 1) + path + "?token=" + testToken
	}
	tests := []struct {
		name string
		cfg  Config
	}{
		{"prometheus 401 echoing", Config{Prometheus: withCreds(echoServer(t, 401).URL, "")}},
		{"prometheus 500 echoing", Config{Prometheus: withCreds(echoServer(t, 500).URL, "")}},
		{"prometheus 400 echoing", Config{Prometheus: withCreds(echoServer(t, 400).URL, "")}},
		{"prometheus unreachable", Config{Prometheus: withCreds("http://"+deadAddr, "")}},
		{"prometheus no answer", Config{Prometheus: withCreds(hang.URL, ""), Timeout: 300 * time.Millisecond}},
		{"prometheus password file", Config{Prometheus: echoServer(t, 401).URL,
			HTTP: HTTPOptions{BasicAuthUser: testUser, BasicAuthPasswordFile: pwFile}}},
		{"prometheus bearer file", Config{Prometheus: echoServer(t, 500).URL, HTTP: HTTPOptions{CredentialsFile: tokFile}}},
		{"prometheus http-client yaml", Config{Prometheus: echoServer(t, 401).URL, PromConfigFile: yml}},
		{"scrape 401 echoing", Config{Scrape: []string{withCreds(echoServer(t, 401).URL, "/metrics")}}},
		{"scrape 200 not metrics", Config{Scrape: []string{withCreds(echoServer(t, 200).URL, "/metrics")}}},
		{"scrape unreachable", Config{Scrape: []string{withCreds("http://"+deadAddr, "/metrics")}}},
		{"scrape no answer", Config{Scrape: []string{withCreds(hang.URL, "/metrics")}, Timeout: 300 * time.Millisecond}},
		{"scrape bearer file, two nodes", Config{Scrape: []string{echoServer(t, 403).URL + "/metrics",
			withCreds(echoServer(t, 403).URL, "/metrics")}, HTTP: HTTPOptions{CredentialsFile: tokFile}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := mustNew(t, tc.cfg)
			if s := secretsIn(src.Describe()); len(s) > 0 {
				t.Errorf("Describe %q shows %v", src.Describe(), s)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			for i := 0; i < 2; i++ { // the second poll re-uses the first's stale samples
				p, err := src.Poll(ctx)
				if err == nil {
					t.Fatalf("poll succeeded against a failing server: %+v", p)
				}
				if err.Error() != p.Err {
					t.Errorf("error %q, Poll.Err %q", err, p.Err)
				}
				for _, s := range append(pollTexts(p), err.Error()) {
					if found := secretsIn(s); len(found) > 0 {
						t.Errorf("%q shows %v", s, found)
					}
				}
				if i == 0 {
					t.Logf("error: %s", err)
				}
			}
		})
	}

	t.Run("config errors", func(t *testing.T) {
		for _, c := range []Config{
			{Prometheus: "http://" + testUser + ":" + testPass + "@127.0.0.1:99x/"},
			{Prometheus: "ftp://" + testUser + ":" + testPass + "@127.0.0.1/"},
			{Scrape: []string{"http://127.0.0.1:9100/metrics?token=" + testToken, "gopher://" + testToken + "@x/"}},
			{Prometheus: "http://" + testToken + "@127.0.0.1:9090", Match: "{job=}"},
		} {
			_, err := New(c)
			if err == nil {
				t.Fatalf("%+v: no error", c)
			}
			if s := secretsIn(err.Error()); len(s) > 0 {
				t.Errorf("%q shows %v", err, s)
			}
		}
	})
}

func TestRedactText(t *testing.T) {
	tabletest.Run(t, "RedactText", RedactText, []struct{ In, Want string }{
		{`Get "http://u:pw@h:9090/api/v1/query": EOF`, `Get "http://u:[redacted]@h:9090/api/v1/query": EOF`},
		{"http://tok3n@h/x", "http://[redacted]@h/x"},
		{"https://h/m?collect=cpu&api_key=abc&x=1", "https://h/m?collect=cpu&api_key=[redacted]&x=1"},
		{"GET /metrics?access_token=abc#f", "GET /metrics?access_token=[redacted]#f"},
		{"Authorization: Bearer abcdefgh12345", "Authorization: Bearer [redacted]"},
		{"basic auth password file /x: empty", "basic auth password file /x: empty"},
		{"got Basic dTpzZWNyZXQ= back", "got Basic [redacted] back"},
		{"Basic authentication required", "Basic authentication required"},
		{"no answer within 2s", "no answer within 2s"},
		{"mail me at a@b.c", "mail me at a@b.c"},
	})
	// A redacted error still says what it wraps.
	r := &redactor{}
	r.add("secretvalue")
	base := fmt.Errorf("x: %w", context.DeadlineExceeded)
	err := r.err(fmt.Errorf("secretvalue: %w", base))
	if err.Error() != "[redacted]: x: context deadline exceeded" || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("%q, Is deadline %v", err, errors.Is(err, context.DeadlineExceeded))
	}
}

// TestHostileLabels has a Prometheus answer with escape sequences in label
// values, node names, panel labels and its error texts: none reaches a
// sample, a panel, a warning or an error.
func TestHostileLabels(t *testing.T) {
	const esc = "\x1b[2J\x1b]52;c;cHduZWQ=\x07"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		q := r.Form.Get("query")
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(q, "panel_fails") {
			w.WriteHeader(422)
			json.NewEncoder(w).Encode(map[string]any{"status": "error", "errorType": "execution", "error": "boom" + esc})
			return
		}
		m := map[string]string{"instance": "10.0.0.1:9100" + esc, "node": "db-3" + esc, "role": "db" + esc,
			"device": "sda" + esc, "uri": "/x" + esc}
		json.NewEncoder(w).Encode(map[string]any{"status": "success", "warnings": []string{"careful" + esc},
			"data": map[string]any{"resultType": "vector", "result": []any{
				map[string]any{"metric": m, "value": []any{time.Now().Unix(), "1"}}}}})
	}))
	t.Cleanup(srv.Close)
	src := mustNew(t, Config{Prometheus: srv.URL, NameLabel: "node", RoleLabel: "role", ScrapeInterval: time.Second,
		Panels: []PanelQuery{{Title: "ok", Query: "up"}, {Title: "bad", Query: "panel_fails"}}})
	p := pollOK(t, src)
	if len(p.Samples) != 1 || p.Samples[0].Node != "db-3" || p.Samples[0].Role != "db" {
		t.Fatalf("samples %+v", p.Samples)
	}
	for _, s := range pollTexts(p) {
		if found := secretsIn(s); len(found) > 0 {
			t.Errorf("%q shows %v", s, found)
		}
	}
	var table strings.Builder
	WriteTable(&table, p)
	if strings.ContainsRune(table.String(), 0x1b) {
		t.Errorf("table:\n%q", table.String())
	}

	// Direct scrape: a node named by an escaped URL path.
	exp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "node_load1 1\n")
	}))
	t.Cleanup(exp.Close)
	ds := mustNew(t, Config{Scrape: []string{exp.URL + "/nodes/db-3%1b%5b2J/metrics"}})
	p, err := ds.Poll(context.Background())
	if err != nil || len(p.Samples) != 1 || p.Samples[0].Node != "db-3" {
		t.Errorf("direct: %+v, %v", p.Samples, err)
	}
}

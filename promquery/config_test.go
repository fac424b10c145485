package promquery

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The HTTP options of a Config (auth, TLS, a proxy), as the Prometheus
// source's client uses them.

// writeIn writes body (mode 0600, as secrets are kept) to the file name in
// dir and returns its path.
func writeIn(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := dir + "/" + name
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHTTPAuth(t *testing.T) {
	dir := t.TempDir() // one directory: http.yml names its credentials file relative to itself
	token := writeIn(t, dir, "token", "s3cret\n")
	pass := writeIn(t, dir, "pass", "hunter2")
	cfgFile := writeIn(t, dir, "http.yml", "authorization:\n  type: Bearer\n  credentials_file: token\n")
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"bearer from flags", Config{HTTP: HTTPOptions{CredentialsFile: token}}, "Bearer s3cret"},
		{"basic from flags", Config{HTTP: HTTPOptions{BasicAuthUser: "brink", BasicAuthPasswordFile: pass}}, "Basic YnJpbms6aHVudGVyMg=="},
		{"prom-config file, relative credentials file", Config{PromConfigFile: cfgFile}, "Bearer s3cret"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := make(chan string, 1)
			f := newFakeProm(t, 1)
			inner := f.srv.Config.Handler
			f.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case got <- r.Header.Get("Authorization"):
				default:
				}
				inner.ServeHTTP(w, r)
			})
			tc.cfg.Prometheus = f.srv.URL
			src := mustNew(t, tc.cfg)
			pollOK(t, src)
			if a := <-got; a != tc.want {
				t.Errorf("Authorization %q, want %q", a, tc.want)
			}
		})
	}
}

func TestHTTPTLS(t *testing.T) {
	f := newFakeProm(t, 1)
	tlsSrv := httptest.NewUnstartedServer(f.srv.Config.Handler)
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are the point
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	ca := writeIn(t, t.TempDir(), "ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw})))
	tests := []struct {
		name string
		http HTTPOptions
		want string // error substring; "" = works
	}{
		{"unknown CA", HTTPOptions{}, "certificate"},
		{"CA file", HTTPOptions{CAFile: ca}, ""},
		{"insecure", HTTPOptions{InsecureSkipVerify: true}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A generous limit: the test is about which error, and a busy
			// box under -race can take seconds over a TLS handshake.
			src := mustNew(t, Config{Prometheus: tlsSrv.URL, HTTP: tc.http, Timeout: 15 * time.Second})
			p, err := src.Poll(context.Background())
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("poll: %v", err)
			case tc.want == "" && len(p.Samples) != 1:
				t.Errorf("samples %+v", p.Samples)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n")):
				t.Errorf("err %v, want one line containing %q", err, tc.want)
			}
		})
	}
}

func TestHTTPProxy(t *testing.T) {
	f := newFakeProm(t, 1)
	var proxied atomic.Int64
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A forward proxy sees the absolute target URL.
		if r.URL.Host == strings.TrimPrefix(f.srv.URL, "http://") {
			proxied.Add(1)
		}
		f.serve(w, r)
	}))
	defer proxy.Close()
	src := mustNew(t, Config{Prometheus: "http://" + strings.TrimPrefix(f.srv.URL, "http://"), HTTP: HTTPOptions{ProxyURL: proxy.URL}})
	pollOK(t, src)
	if proxied.Load() == 0 {
		t.Error("no request went through the proxy")
	}
}

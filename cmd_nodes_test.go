package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brink-load/brink/promquery/promtest"
)

func runNodesArgs(args ...string) (code int, stdout, stderr string) {
	var o, e strings.Builder
	code = runMain(append([]string{"nodes"}, args...), &o, &e)
	return code, o.String(), e.String()
}

func TestNodesUsageErrors(t *testing.T) {
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadURL := "http://" + dead.Addr().String()
	dead.Close()
	// A Prometheus that knows no series at all.
	empty := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
	}))
	defer empty.Close()
	emptyToken := filepath.Join(t.TempDir(), "token")
	os.WriteFile(emptyToken, nil, 0o600)

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no source", nil, "need a Prometheus URL or node_exporter URLs"},
		{"unreachable prometheus", []string{"--prom", deadURL}, "unreachable: connection refused"},
		{"unreachable exporter", []string{"--scrape", deadURL + "/metrics"}, "unreachable: connection refused"},
		{"matches nothing", []string{"--prom", empty.URL, "--match", `{job="nope"}`}, `selector {job="nope"} matches no targets`},
		{"bad credentials file", []string{"--prom", empty.URL, "--prom-credentials-file", "/nonexistent/token"}, "credentials file /nonexistent/token: no such file or directory"},
		{"empty credentials file", []string{"--prom", empty.URL, "--prom-credentials-file", emptyToken}, "empty"},
		{"bad prom-config", []string{"--prom", empty.URL, "--prom-config", "/nonexistent.yml"}, "prom config /nonexistent.yml"},
		{"bad names", []string{"--prom", empty.URL, "--names", "x"}, "--names: want key=value"},
		{"bad selector", []string{"--prom", empty.URL, "--match", "{job=}"}, "label matchers"},
		{"stray argument", []string{"--prom", empty.URL, "extra"}, `unexpected argument "extra"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runNodesArgs(tc.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if out != "" {
				t.Errorf("stdout %q", out)
			}
			if strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.want) || !strings.HasPrefix(errOut, "brink nodes: ") {
				t.Errorf("stderr %q, want one line containing %q", errOut, tc.want)
			}
		})
	}
}

func TestNodesRealServers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real servers")
	}
	neURL := promtest.StartNodeExporter(t)
	u, _ := url.Parse(neURL)
	promURL := promtest.StartPrometheus(t, promtest.Target{Addr: u.Host, Labels: map[string]string{"node": "db-3", "role": "db"}})

	tests := []struct {
		name string
		args []string
	}{
		{"prometheus", []string{"--prom", promURL, "--name-label", "node", "--role-label", "role"}},
		{"direct scrape", []string{"--scrape", neURL, "--names", u.Host + "=db-3", "--roles", "db=db-.*"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runNodesArgs(tc.args...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 2 || !strings.HasPrefix(lines[0], "NODE") {
				t.Fatalf("table:\n%s", out)
			}
			f := strings.Fields(lines[1])
			if f[0] != "db-3" || f[1] != "db" || f[2] != u.Host || f[3] == "-" || strings.Contains(lines[1], "stale") {
				t.Errorf("row %q", lines[1])
			}
			t.Logf("\n%s", out)
		})
	}
	t.Run("matches nothing on a real server", func(t *testing.T) {
		code, _, errOut := runNodesArgs("--prom", promURL, "--match", `{job="nope"}`)
		if code != exitUsage || !strings.Contains(errOut, "matches no targets") {
			t.Errorf("exit %d, %q", code, errOut)
		}
	})
}

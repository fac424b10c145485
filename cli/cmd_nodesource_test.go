package cli

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/brink-load/brink/report"
)

// TestNodeSourcePasswordNeverShown runs a probe whose --prom URL carries a
// password, against a Prometheus that refuses it and echoes the
// credentials and a screen-clearing escape back: neither reaches stderr,
// the report file or its events.
func TestNodeSourcePasswordNeverShown(t *testing.T) {
	const user, pw, token = "brinkuser", "S3cretPW-xyz", "T0kenValue-abc"
	basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + pw))
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"status":"error","errorType":"bad_data","error":"no\u001b[2J %s %s"}`, r.Header.Get("Authorization"), r.URL.RawQuery)
	}))
	t.Cleanup(prom.Close)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	t.Cleanup(target.Close)

	for _, promURL := range []string{
		strings.Replace(prom.URL, "http://", "http://"+user+":"+pw+"@", 1) + "/?token=" + token,
		strings.Replace(prom.URL, "http://", "http://"+pw+"@", 1), // a bare user-info is a token
	} {
		probeAndLook(t, target.URL, promURL, []string{pw, token, basic})
	}
}

var escInJSON = regexp.MustCompile(`(^|[^\\])\\u001[bB]`)

func probeAndLook(t *testing.T, targetURL, promURL string, secrets []string) {
	t.Helper()
	rep := filepath.Join(t.TempDir(), "r.json")
	var out, errb bytes.Buffer
	code := runMain([]string{"probe", targetURL, "--vus", "1", "--duration", "2s", "--think", "100ms",
		"--prom", promURL, "--headless", "--progress", "1s", "--report", rep}, &out, &errb)
	if code == exitUsage {
		t.Fatalf("exit %d; stderr: %s", code, errb.String())
	}
	data, err := os.ReadFile(rep)
	if err != nil {
		t.Fatal(err)
	}
	r, err := report.ReadFile(rep)
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, e := range r.Events {
		if e.Kind == report.EventSourceError {
			failed = append(failed, e.Text)
		}
	}
	if len(failed) == 0 {
		t.Fatalf("no source_error event; events %+v", r.Events)
	}
	t.Logf("event: %s", failed[0])
	for what, text := range map[string]string{"stdout": out.String(), "stderr": errb.String(), "report": string(data),
		"event": strings.Join(failed, "\n")} {
		for _, sec := range append(secrets, "\x1b") {
			if strings.Contains(text, sec) {
				t.Errorf("%s shows %q:\n%s", what, sec, text)
			}
		}
		// An ESC in the report file would be JSON's \u001b (the server's
		// own text "\u001b" is harmless, and written \\u001b).
		if what == "report" && escInJSON.MatchString(text) {
			t.Errorf("%s holds an escaped ESC:\n%s", what, text)
		}
	}
	if !strings.Contains(failed[0], "[redacted]") {
		t.Errorf("event %q does not say what was redacted", failed[0])
	}

	// brink nodes: the same failure, one line on stderr.
	code, stdout, stderr := runNodesArgs("--prom", promURL)
	for _, sec := range append(secrets, "\x1b") {
		if strings.Contains(stdout+stderr, sec) {
			t.Errorf("brink nodes (exit %d) shows %q: %s%s", code, sec, stdout, stderr)
		}
	}
}

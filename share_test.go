package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// viewerBuffer collects a viewer's output while the test reads it.
type viewerBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *viewerBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *viewerBuffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}

func (s *viewerBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// The engineer's terminal hangs up mid-run (tmux session killed: SIGHUP).
// With --share the run goes on: an SSH viewer keeps receiving frames, and
// the report at the end is whole.
func TestShareDetachKeepsRun(t *testing.T) {
	requireBinary(t, "tmux")
	dir := t.TempDir()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	sshPub, _ := ssh.NewPublicKey(pub)
	signer, _ := ssh.NewSignerFromKey(priv)
	keys := filepath.Join(dir, "authorized_keys")
	os.WriteFile(keys, ssh.MarshalAuthorizedKey(sshPub), 0o600)

	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond)
		w.Write([]byte("ok"))
	}))
	defer target.Close()
	rep := filepath.Join(dir, "r.json")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))

	s := tmuxSession{t: t, name: fmt.Sprintf("brinkshare%d", os.Getpid())}
	s.run("new-session", "-d", "-s", s.name, "-x", "120", "-y", "40",
		"env", "TERM=xterm-256color", "XDG_CONFIG_HOME="+dir, brinkBin, "probe", target.URL,
		"--vus", "2", "--duration", "14s", "--think", "20ms", "--report", rep,
		"--share", addr, "--authorized-keys", keys)
	defer exec.Command("tmux", "kill-session", "-t", s.name).Run()
	s.waitFor(15*time.Second, "Latency", "Throughput")

	client, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{
		User: "alice", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatalf("ssh: %v", err)
	}
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	var out viewerBuffer
	sess.Stdout = &out
	if err := sess.RequestPty("xterm-256color", 40, 120, ssh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	waitOut := func(d time.Duration, want string) {
		t.Helper()
		deadline := time.Now().Add(d)
		for !strings.Contains(out.String(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("viewer never saw %q; got %d bytes", want, out.Len())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitOut(10*time.Second, "Throughput")

	// Hang up the local terminal.
	exec.Command("tmux", "kill-session", "-t", s.name).Run()
	before := out.Len()
	time.Sleep(3 * time.Second)
	if out.Len() <= before {
		t.Fatalf("viewer output stopped after the local console hung up (%d bytes)", before)
	}

	// The run ends on schedule and the report is whole.
	deadline := time.Now().Add(40 * time.Second)
	var r struct {
		Complete bool              `json:"complete"`
		Timeline []json.RawMessage `json:"timeline"`
		Events   []struct {
			Kind, Text, Who string
		} `json:"events"`
	}
	for {
		if b, err := os.ReadFile(rep); err == nil && json.Unmarshal(b, &r) == nil && r.Complete {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no complete report after the detached run")
		}
		time.Sleep(300 * time.Millisecond)
	}
	if len(r.Timeline) < 12 {
		t.Fatalf("timeline has %d windows, want the whole 14 s run", len(r.Timeline))
	}
	var sawDetach bool
	for _, e := range r.Events {
		if strings.Contains(e.Text, "detached") {
			sawDetach = true
		}
		if e.Kind == "abort" {
			t.Fatalf("the run was aborted by the hang-up: %+v", e)
		}
	}
	if !sawDetach {
		t.Fatalf("no detach event in %+v", r.Events)
	}
}

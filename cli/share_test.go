package cli

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// newKeyFile makes an ed25519 key and writes its public half to path as
// an authorized keys file (mode 0600): the private key is the client's.
func newKeyFile(t *testing.T, path string) ed25519.PrivateKey {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	sshPub, _ := ssh.NewPublicKey(pub)
	if err := os.WriteFile(path, ssh.MarshalAuthorizedKey(sshPub), 0o600); err != nil {
		t.Fatal(err)
	}
	return priv
}

// The engineer's terminal hangs up mid-run (tmux session killed: SIGHUP).
// With --share the run goes on: an SSH viewer keeps receiving frames, and
// the report at the end is whole.
func TestShareDetachKeepsRun(t *testing.T) {
	inLane(t, waiting)
	requireBinary(t, "tmux")
	dir := t.TempDir()
	keys := filepath.Join(dir, "authorized_keys")
	key := newKeyFile(t, keys)

	target := okServer(t, 2*time.Millisecond)
	rep := filepath.Join(dir, "r.json")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))

	s := newTmuxSession(t, "brinkshare", 120, 40,
		"env", "TERM=xterm-256color", "XDG_CONFIG_HOME="+dir, brinkBin, "probe", target.URL,
		"--vus", "2", "--duration", "14s", "--think", "20ms", "--report", rep,
		"--share", addr, "--authorized-keys", keys)
	s.waitFor(15*time.Second, "Latency", "Throughput")

	viewer := attach(t, addr, "alice", key)
	defer viewer.close()
	viewer.waitFor(t, 10*time.Second, "Throughput")

	// Hang up the local terminal.
	s.hangUp()
	before := viewer.out.Len()
	time.Sleep(3 * time.Second)
	if viewer.out.Len() <= before {
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

type sshViewer struct {
	client *ssh.Client
	sess   *ssh.Session
	in     interface{ Write([]byte) (int, error) }
	out    *syncBuffer
}

func attach(t *testing.T, addr, user string, key ed25519.PrivateKey) *sshViewer {
	t.Helper()
	signer, _ := ssh.NewSignerFromKey(key)
	var client *ssh.Client
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; {
		client, err = ssh.Dial("tcp", addr, &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
			HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second})
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("ssh %s: %v", user, err)
	}
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	v := &sshViewer{client: client, sess: sess, out: &syncBuffer{}}
	sess.Stdout = v.out
	stdin, _ := sess.StdinPipe()
	v.in = stdin
	if err := sess.RequestPty("xterm-256color", 40, 120, ssh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	return v
}

func (v *sshViewer) waitFor(t *testing.T, d time.Duration, want string) {
	t.Helper()
	for deadline := time.Now().Add(d); !strings.Contains(v.out.String(), want); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("viewer never saw %q (%d bytes)", want, v.out.Len())
		}
	}
}

func (v *sshViewer) close() { v.sess.Close(); v.client.Close() }

// Viewers watch, controllers steer: a viewer's space is refused, a
// controller's holds the ramp and the report names who did it; five viewers
// at once leave the engine's ticks regular; a viewer leaving mid-run
// changes nothing.
func TestShareViewersAndControllers(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	keys := filepath.Join(dir, "authorized_keys")
	ctls := filepath.Join(dir, "controllers")
	vKey, cKey := newKeyFile(t, keys), newKeyFile(t, ctls)

	target := okServer(t, time.Millisecond)
	rep := filepath.Join(dir, "r.json")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	done := make(chan int, 1)
	var out, errb syncBuffer
	go func() {
		done <- runMain([]string{"probe", target.URL, "--vus", "2", "--duration", "12s", "--think", "10ms",
			"--headless", "--report", rep, "--share", addr, "--authorized-keys", keys, "--controllers", ctls}, &out, &errb)
	}()

	viewer := attach(t, addr, "bob", vKey)
	defer viewer.close()
	viewer.waitFor(t, 10*time.Second, "Throughput")
	viewer.in.Write([]byte(" "))
	viewer.waitFor(t, 5*time.Second, "read-only")

	ctl := attach(t, addr, "carol", cKey)
	defer ctl.close()
	ctl.waitFor(t, 10*time.Second, "Throughput")
	ctl.in.Write([]byte(" "))
	ctl.waitFor(t, 5*time.Second, "HELD")

	// Five more viewers for a few seconds, then they all leave.
	var crowd []*sshViewer
	for i := 0; i < 5; i++ {
		crowd = append(crowd, attach(t, addr, fmt.Sprintf("guest%d", i), vKey))
	}
	for _, c := range crowd {
		c.waitFor(t, 10*time.Second, "Throughput")
	}
	time.Sleep(2 * time.Second)
	for _, c := range crowd {
		c.close()
	}
	// Hold stops the stage clock: resume, or the run never ends.
	ctl.in.Write([]byte(" "))
	viewer.close() // the first viewer leaves mid-run

	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("exit %d; stderr: %s", code, errb.String())
		}
	case <-time.After(40 * time.Second):
		t.Fatalf("run did not end; stderr: %s", errb.String())
	}
	var r struct {
		Complete bool `json:"complete"`
		Timeline []struct {
			Time time.Time `json:"time"`
			Held bool      `json:"held"`
		} `json:"timeline"`
		Events []struct{ Kind, Text, Who string } `json:"events"`
	}
	b, err := os.ReadFile(rep)
	if err != nil || json.Unmarshal(b, &r) != nil || !r.Complete {
		t.Fatalf("report: %v complete=%v", err, r.Complete)
	}
	var held, gaps int
	var span time.Duration
	for i, w := range r.Timeline {
		if w.Held {
			held++
		}
		// Ticks stay regular with seven SSH consoles attached: a console
		// that held the ticker up would cost seconds per window; a busy
		// 2-core box under -race stalls it for well under 3 s. A late
		// window's successor comes early (the ticker keeps its schedule),
		// so the lower bound is on the mean gap, not on each.
		if i > 0 && i < len(r.Timeline)-1 {
			gap := w.Time.Sub(r.Timeline[i-1].Time)
			if gap > 3*time.Second || gap <= 0 {
				t.Errorf("window %d came %v after the previous one", i, gap)
			}
			span += gap
			gaps++
		}
	}
	if gaps > 0 && span/time.Duration(gaps) < 500*time.Millisecond {
		t.Errorf("windows came %v apart on average, want about 1 s", span/time.Duration(gaps))
	}
	if held == 0 {
		t.Errorf("no window was held after the controller's space")
	}
	var byCarol, byBob bool
	for _, e := range r.Events {
		if e.Kind == "control" && strings.HasPrefix(e.Who, "carol (SHA256:") && strings.Contains(e.Text, "hold") {
			byCarol = true
		}
		if e.Kind == "control" && strings.HasPrefix(e.Who, "bob") {
			byBob = true
		}
	}
	var resumed bool
	for _, e := range r.Events {
		resumed = resumed || (e.Kind == "control" && strings.Contains(e.Text, "resume"))
	}
	if !byCarol || byBob || !resumed {
		t.Fatalf("control events: carol's hold logged=%v, bob's refused space logged=%v, resume=%v: %+v", byCarol, byBob, resumed, r.Events)
	}
	if len(r.Timeline) < 11 {
		t.Fatalf("timeline has %d windows, want the whole 12 s", len(r.Timeline))
	}
}

// An authorized keys file others can write stops brink at start-up with
// one line and exit 2, before any load is sent.
func TestShareRefusesKeysOthersCanWrite(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "authorized_keys")
	newKeyFile(t, keys)
	if err := os.Chmod(keys, 0o664); err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int64
	target := serve(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
	cmd := exec.Command(brinkBin, "probe", target.URL, "--vus", "1", "--duration", "3s", "--headless",
		"--report", filepath.Join(dir, "r.json"), "--share", "127.0.0.1:0", "--authorized-keys", keys)
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+dir)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if code := cmd.ProcessState.ExitCode(); code != exitUsage {
		t.Fatalf("exit %d (%v), want %d; stderr: %s", code, err, exitUsage, stderr.String())
	}
	msg := strings.TrimSpace(stderr.String())
	if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "writable by group or others (mode 0664)") ||
		!strings.Contains(msg, "chmod go-w "+keys) {
		t.Errorf("stderr = %q, want one line saying why and what to do", msg)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests sent before refusing", n)
	}
}

// An SSH viewer (OpenSSH in tmux) pressing q while the load runs is told
// that only they leave; y disconnects them and the run goes on to its end.
func TestShareViewerQuitPromptInTmux(t *testing.T) {
	inLane(t, waiting)
	requireBinary(t, "tmux")
	sshBin := requireBinary(t, "ssh")
	dir := t.TempDir()
	keys := filepath.Join(dir, "authorized_keys")
	priv := newKeyFile(t, keys)
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	id := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(id, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}

	target := okServer(t, time.Millisecond)
	rep := filepath.Join(dir, "r.json")
	port := freePort(t)
	cmd := exec.Command(brinkBin, "probe", target.URL, "--vus", "2", "--duration", "15s", "--think", "10ms",
		"--headless", "--report", rep, "--share", fmt.Sprintf("127.0.0.1:%d", port), "--authorized-keys", keys)
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+dir)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done })

	sshCmd := strings.Join([]string{sshBin, "-F", "/dev/null", "-p", strconv.Itoa(port), "-i", id,
		"-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-o", "ConnectionAttempts=10", "-t", "dana@127.0.0.1"}, " ")
	// Retried until brink listens; the marker shows when ssh has ended.
	v := newTmuxSession(t, "v", 120, 40,
		"for i in 1 2 3 4 5 6 7 8 9 10; do "+sshCmd+" && break; sleep 0.5; done; echo VIEWER-GONE; sleep 60")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("brink stderr: %s", stderr.String())
		}
	})
	v.waitFor(15*time.Second, "Throughput")
	v.run("send-keys", "-t", "v", "q")
	v.waitFor(5*time.Second, "Leave? You disconnect; the load goes on (owner or controllers stop it).")
	v.run("send-keys", "-t", "v", "y")
	v.waitFor(5*time.Second, "VIEWER-GONE")

	select {
	case err := <-done:
		done <- err // for the cleanup
		t.Fatalf("brink ended when the viewer left: %v; stderr: %s", err, stderr.String())
	default:
	}
	select {
	case err := <-done:
		done <- err
		if code := cmd.ProcessState.ExitCode(); code != exitOK {
			t.Fatalf("exit %d (%v); stderr: %s", code, err, stderr.String())
		}
	case <-time.After(40 * time.Second):
		t.Fatalf("run did not end; stderr: %s", stderr.String())
	}
	var r struct {
		Complete bool                    `json:"complete"`
		Events   []struct{ Kind string } `json:"events"`
	}
	if b, err := os.ReadFile(rep); err != nil || json.Unmarshal(b, &r) != nil || !r.Complete {
		t.Fatalf("report: %v complete=%v", err, r.Complete)
	}
	for _, e := range r.Events {
		if e.Kind == "abort" {
			t.Errorf("the viewer's leaving aborted the run: %+v", r.Events)
		}
	}
}

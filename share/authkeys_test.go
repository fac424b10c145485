package share

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	gossh "golang.org/x/crypto/ssh"
)

// withOptions is k's authorized_keys line with options in front.
func withOptions(opts string, k keypair) keypair {
	return keypair{signer: k.signer, line: opts + " " + k.line}
}

// Keys whose lines carry options: from= is honoured (the tests connect
// from 127.0.0.1), and options brink cannot honour refuse the line, with a
// log line saying which.
func TestAuthorizedKeysOptions(t *testing.T) {
	f := startServer(t, nil)
	cases := []struct {
		name, opts string
		in         bool
		log        string // in the refusal (or load) log line
	}{
		{"the probe's key", `from="10.9.9.9",no-pty,command="/bin/false"`, false, "command= cannot be honoured"},
		{"from elsewhere", `from="10.9.9.9"`, false, `not from a permitted host (from="10.9.9.9")`},
		{"from loopback", `from="127.0.0.0/8"`, true, ""},
		{"from here by glob", `from="10.9.9.9,127.0.0.*"`, true, ""},
		{"negated here", `from="!127.0.0.1,*"`, false, "not from a permitted host"},
		{"negated elsewhere", `from="!10.9.9.9,*"`, true, ""},
		{"host bits set", `from="127.0.0.1/8"`, false, "not from a permitted host"},
		{"command", `command="/bin/false"`, false, "command= cannot be honoured"},
		{"no-pty", `no-pty`, false, "no-pty/restrict forbid the terminal"},
		{"restrict", `restrict`, false, "no-pty/restrict forbid the terminal"},
		{"restrict,pty", `restrict,pty`, true, ""},
		{"harmless restrictions", `no-port-forwarding,no-agent-forwarding,no-X11-forwarding`, true, ""},
		{"unknown", `frobnicate`, false, "unknown option frobnicate"},
		{"expired", `expiry-time="20200101"`, false, "expired 2020-01-01"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := newKey(t)
			writeKeys(t, f.keysPath, f.alice, withOptions(tc.opts, k))
			// A new window: the first refusal from 127.0.0.1 is said at once.
			f.srv.refusals.flush()
			c, err := dial(t, f.srv.Addr(), "carol", gossh.PublicKeys(k.signer))
			if !tc.in {
				if err == nil {
					t.Fatalf("%s: got in", tc.opts)
				}
				fp := fingerprint(k.signer.PublicKey())
				if !f.log.Contains("refused key "+fp) || !f.log.Contains(tc.log) {
					t.Fatalf("no log line with %s and %q: %q", fp, tc.log, f.log.Lines())
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", tc.opts, err)
			}
			openConsole(t, c, 80, 24).waitFor(t, "viewer=carol")
		})
	}
	// The line with options brink cannot honour is named at load.
	if !f.log.Contains("authorized keys " + f.keysPath + " line 3: key SHA256:") {
		t.Errorf("refused line not named at load: %q", f.log.Lines())
	}
}

// A refusing line does not hide a later one for the same key (sshd reads
// on), and a controllers line from elsewhere gives no control.
func TestKeyLinesAndControl(t *testing.T) {
	f := startServer(t, nil)
	writeKeys(t, f.keysPath, withOptions(`from="10.9.9.9"`, f.alice), f.alice, f.bob)
	writeKeys(t, f.ctrlPath, withOptions(`from="10.9.9.9"`, f.bob))
	c := mustDial(t, f.srv.Addr(), "alice", f.alice)
	openConsole(t, c, 80, 24).waitFor(t, "viewer=alice")
	c = mustDial(t, f.srv.Addr(), "bob", f.bob)
	openConsole(t, c, 80, 24).waitFor(t, "control=false")

	writeKeys(t, f.ctrlPath, withOptions(`from="127.0.0.1"`, f.bob))
	c = mustDial(t, f.srv.Addr(), "bob", f.bob)
	openConsole(t, c, 80, 24).waitFor(t, "control=true")
}

// Key files others can write are refused at start-up with one line, and
// on reload with a log line (nobody gets in through them until fixed).
func TestKeyFilesOthersCanWrite(t *testing.T) {
	model := func(v Viewer, w, h int) tea.Model { return &standIn{v: v} }
	start := func(keys, ctrl string) error {
		srv, err := Start(context.Background(), Config{Addr: "127.0.0.1:0", AuthorizedKeys: keys, Controllers: ctrl,
			HostKeyPath: filepath.Join(t.TempDir(), "host"), NewModel: model, Logf: t.Logf})
		if err == nil {
			srv.Close()
		}
		return err
	}
	cases := []struct {
		name      string
		file, dir os.FileMode
		ctrl      bool
		want      string
	}{
		{"file group-writable", 0o660, 0o700, false, "is writable by group or others (mode 0660"},
		{"file world-writable", 0o606, 0o700, false, "(mode 0606"},
		{"controllers group-writable", 0o620, 0o700, true, "controllers: file"},
		{"directory world-writable", 0o600, 0o777, false, "is writable by group or others (mode 0777"},
		{"directory group-writable", 0o600, 0o770, true, "controllers: directory"},
		{"sticky directory", 0o600, os.ModeSticky | 0o777, false, ""},
		{"readable is fine", 0o644, 0o755, false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ok := filepath.Join(t.TempDir(), "keys")
			writeKeys(t, ok, newKey(t))
			dir := filepath.Join(t.TempDir(), "d")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "keys")
			writeKeys(t, path, newKey(t))
			if err := os.Chmod(path, tc.file); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, tc.dir); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(dir, 0o700) })
			var err error
			if tc.ctrl {
				err = start(ok, path)
			} else {
				err = start(path, "")
			}
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Start: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Start: err = %v, want one line with %q", err, tc.want)
			}
		})
	}

	t.Run("on reload", func(t *testing.T) {
		f := startServer(t, nil)
		mustDial(t, f.srv.Addr(), "alice", f.alice).Close()
		if err := os.Chmod(f.keysPath, 0o666); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := dial(t, f.srv.Addr(), "alice", gossh.PublicKeys(f.alice.signer)); err == nil {
				t.Fatal("alice got in through a world-writable file")
			}
		}
		if n := f.log.Count("writable by group or others (mode 0666"); n != 1 {
			t.Errorf("logged %d times, want once: %q", n, f.log.Lines())
		}
		if err := os.Chmod(f.keysPath, 0o600); err != nil {
			t.Fatal(err)
		}
		mustDial(t, f.srv.Addr(), "alice", f.alice).Close()
	})
}

package share

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/brink-load/brink/tabletest"
	"github.com/brink-load/brink/testout"
)

func TestParseAuthorizedKeys(t *testing.T) {
	a, b := newKey(t), newKey(t)
	aLine := strings.TrimSpace(a.line)
	bLine := strings.TrimSpace(b.line)
	cases := []struct {
		name  string
		file  string
		wantA bool
		wantB bool
	}{
		{"empty", "", false, false},
		{"comments and blanks", "# " + aLine + "\n\n   \n", false, false},
		{"one key", aLine + "\n", true, false},
		{"no trailing newline", aLine, true, false},
		{"CRLF", aLine + " alice@laptop\r\n" + bLine + "\r\n", true, true},
		{"options", `from="127.0.0.1",no-pty ` + aLine + " c\n" + "restrict " + bLine + "\n", true, true},
		{"bad line is skipped", "ssh-ed25519 AAAAnotbase64!!\n" + bLine + "\n", false, true},
		{"garbage then key", "hello\nworld\n" + aLine + "\n", true, false},
		{"tab separated", strings.Replace(aLine, " ", "\t", 1) + "\n", true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			keys := parseAuthorizedKeys([]byte(tc.file))
			_, gotA := keys[string(a.signer.PublicKey().Marshal())]
			_, gotB := keys[string(b.signer.PublicKey().Marshal())]
			if gotA != tc.wantA || gotB != tc.wantB {
				t.Errorf("a=%v b=%v, want a=%v b=%v", gotA, gotB, tc.wantA, tc.wantB)
			}
		})
	}
}

func FuzzParseAuthorizedKeys(f *testing.F) {
	k := newKey(f)
	f.Add([]byte(k.line))
	f.Add([]byte("# c\n" + k.line + "\r\n" + `command="x" ` + k.line))
	f.Add([]byte("ssh-ed25519 AAAA\n\n\t\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for raw := range parseAuthorizedKeys(data) {
			// Every key kept must be a real, re-parsable public key.
			if _, err := gossh.ParsePublicKey([]byte(raw)); err != nil {
				t.Fatalf("kept an unparsable key: %v", err)
			}
		}
	})
}

var loopback = netip.MustParseAddr("127.0.0.1")

func TestKeyFileFollowsChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	a, b := newKey(t), newKey(t)
	log := &testout.Logs{}
	kf := newKeyFile(path, "authorized keys", log.Logf)
	allows := func(k keypair) bool { return kf.allows(k.signer.PublicKey(), loopback, time.Now()).ok }

	if allows(a) {
		t.Fatal("missing file: a allowed")
	}
	if !log.Contains("no such file") {
		t.Fatalf("missing file not logged: %q", log.Lines())
	}
	allows(a)
	if n := log.Count("no such file"); n != 1 {
		t.Errorf("missing file logged %d times, want once", n)
	}
	writeKeys(t, path, a)
	if !allows(a) {
		t.Fatal("a not allowed after write")
	}
	if allows(b) {
		t.Fatal("b before it was added")
	}
	writeKeys(t, path, a, b)
	if !allows(b) {
		t.Fatal("b not seen after it was added")
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if allows(a) {
		t.Fatal("a still allowed after the file was removed")
	}
}

func TestHostKeyFileErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage")
	if err := os.WriteFile(garbage, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	open := filepath.Join(dir, "open")
	if err := createHostKey(open); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o640); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, path, want string }{
		{"garbage", garbage, "host key " + garbage},
		{"group readable", open, "chmod 600"},
		{"under a file", filepath.Join(garbage, "key"), "host key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadOrCreateHostKey(tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestCleanName(t *testing.T) {
	tabletest.Run(t, "cleanName", cleanName, []struct{ In, Want string }{
		{"alice", "alice"},
		{"", "?"},
		{"\x1b[2Jevil\a", "evil"},
		{"\x1b[31mbob\x1b[0m" + strings.Repeat("x", 20000), "bob" + strings.Repeat("x", 29)},
		{"a b", "ab"},
		{"émilie", "émilie"},
		{strings.Repeat("x", 40), strings.Repeat("x", 32)},
	})
}

func TestShortFingerprint(t *testing.T) {
	tabletest.Run(t, "shortFingerprint", shortFingerprint, []struct{ In, Want string }{
		{"SHA256:abcdefghijklmnop", "SHA256:abcdefgh…"},
		{"SHA256:abc", "SHA256:abc"},
	})
}

func BenchmarkAllowKey(b *testing.B) {
	path := filepath.Join(b.TempDir(), "keys")
	var keys []keypair
	for range 100 {
		keys = append(keys, newKey(b))
	}
	writeKeys(b, path, keys...)
	kf := newKeyFile(path, "authorized keys", b.Logf)
	last := keys[len(keys)-1].signer.PublicKey()
	b.ReportAllocs()
	for b.Loop() {
		if c := kf.allows(last, loopback, time.Now()); !c.ok {
			b.Fatal(c.why)
		}
	}
}

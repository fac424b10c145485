package share

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// keyFile is an authorized_keys-format file that is re-read whenever it
// changes, so adding a colleague's key needs no restart. Only the parsed set
// is cached; a few stats per authentication attempt (the file and its
// directories, for their permissions) are cheap next to the handshake.
type keyFile struct {
	path string
	what string // "authorized keys" or "controllers", for log lines
	logf func(format string, args ...any)

	mu      sync.Mutex
	mod     time.Time
	size    int64
	keys    map[string][]keyLine // key.Marshal() → the lines listing it
	valid   bool
	lastErr string // the last error logged, so a broken file is said once
}

func newKeyFile(path, what string, logf func(string, ...any)) *keyFile {
	return &keyFile{path: path, what: what, logf: logf}
}

// check is what a key file says about one login.
type check struct {
	ok     bool   // a line lets the key in from there, now
	listed bool   // the key is in the file at all
	why    string // why not, when listed and not ok
}

// allows says whether a line of the file lets key log in from ip at now,
// re-reading the file if its size or modification time moved. A file that
// group or others can write (or that is gone) lets nobody in; the error is
// logged once, when it first appears.
func (k *keyFile) allows(key gossh.PublicKey, ip netip.Addr, now time.Time) check {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.load(); err != nil {
		k.valid = false
		if msg := err.Error(); msg != k.lastErr {
			k.lastErr = msg
			k.logf("share: %s: %v; nobody gets in through it until that is fixed", k.what, err)
		}
		return check{why: k.what + " file unusable"}
	}
	k.lastErr = ""
	lines := k.keys[string(key.Marshal())]
	c := check{listed: len(lines) > 0}
	// As sshd: the first line that lets the key in wins; a refusing line
	// does not hide a later one.
	for _, l := range lines {
		ok, why := l.permits(ip, now)
		if ok {
			return check{ok: true, listed: true}
		}
		if c.why == "" {
			c.why = fmt.Sprintf("%s line %d: %s", k.what, l.line, why)
		}
	}
	return c
}

// open loads the file at start-up, so a problem with it stops brink there.
func (k *keyFile) open() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.load()
}

// load re-reads the file when it changed, after checking that only its
// owner can write it and its directories.
func (k *keyFile) load() error {
	if err := securePath(k.path); err != nil {
		return err
	}
	st, err := os.Stat(k.path)
	if err != nil {
		return err
	}
	if k.valid && st.ModTime().Equal(k.mod) && st.Size() == k.size {
		return nil
	}
	data, err := os.ReadFile(k.path)
	if err != nil {
		return err
	}
	k.keys = parseAuthorizedKeys(data)
	k.mod, k.size, k.valid = st.ModTime(), st.Size(), true
	// Said at each (re)load, in file order: a key brink will not let in
	// through a line, and why.
	type refusal struct {
		line    int
		fp, why string
	}
	var refused []refusal
	for raw, lines := range k.keys {
		for _, l := range lines {
			if l.refused != "" {
				pk, _ := gossh.ParsePublicKey([]byte(raw)) // parsed once already
				refused = append(refused, refusal{l.line, fingerprint(pk), l.refused})
			}
		}
	}
	slices.SortFunc(refused, func(a, b refusal) int { return a.line - b.line })
	for _, r := range refused {
		k.logf("share: %s %s line %d: key %s refused: %s", k.what, k.path, r.line, r.fp, r.why)
	}
	return nil
}

// parseAuthorizedKeys returns the keys in an authorized_keys file with
// what each of their lines allows. Lines that do not parse are skipped, as
// sshd does, so one bad paste does not lock everybody out.
func parseAuthorizedKeys(data []byte) map[string][]keyLine {
	keys := map[string][]keyLine{}
	for rest := data; len(rest) > 0; {
		pk, _, opts, next, err := gossh.ParseAuthorizedKey(rest)
		if err != nil {
			break // no further key in the rest of the file
		}
		// The key's line is the last one consumed.
		consumed := data[:len(data)-len(next)]
		line := bytes.Count(consumed, []byte("\n"))
		if !bytes.HasSuffix(consumed, []byte("\n")) {
			line++
		}
		raw := string(pk.Marshal())
		keys[raw] = append(keys[raw], parseKeyOptions(opts, line))
		rest = next
	}
	return keys
}

// loadOrCreateHostKey reads the host key at path, or creates a new ed25519
// key there (mode 0600, directory 0700) on first use. A key readable by
// group or others is refused, as sshd refuses it.
func loadOrCreateHostKey(path string) (gossh.Signer, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := createHostKey(path); err != nil {
			return nil, err
		}
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("host key %s is readable by others (mode %04o); chmod 600 it", path, perm)
	}
	signer, err := gossh.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("host key %s: %w", path, err)
	}
	return signer, nil
}

// createHostKey writes a fresh key to a temporary file and links it into
// place, so a concurrent brink never sees a half-written key and the first
// of two racing writers wins.
func createHostKey(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("host key: %w", err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("host key: %w", err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "brink host key")
	if err != nil {
		return fmt.Errorf("host key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".host_key-*")
	if err != nil {
		return fmt.Errorf("host key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("host key: %w", err)
	}
	if _, err := tmp.Write(pem.EncodeToMemory(block)); err != nil {
		tmp.Close()
		return fmt.Errorf("host key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("host key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("host key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("host key: %w", err)
	}
	return nil
}

// defaultHostKeyPath is $XDG_CONFIG_HOME/brink/host_ed25519, or
// ~/.config/brink/host_ed25519.
func defaultHostKeyPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("host key: %w", err)
	}
	return filepath.Join(dir, "brink", "host_ed25519"), nil
}

// expandHome turns a leading "~/" into the home directory: flag values like
// --authorized-keys=~/.ssh/authorized_keys reach us unexpanded by the shell.
func expandHome(path string) (string, error) {
	if path != "~" && !strings.HasPrefix(path, "~/") {
		return path, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, strings.TrimPrefix(path, "~")), nil
}

// shortFingerprint shortens "SHA256:abcdefgh…" for headers; the full one goes
// in logs and reports.
func shortFingerprint(fp string) string {
	const keep = len("SHA256:") + 8
	if len(fp) <= keep {
		return fp
	}
	return fp[:keep] + "…"
}

package share

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// keyFile is an authorized_keys-format file that is re-read whenever it
// changes, so adding a colleague's key needs no restart. Only the parsed set
// is cached; a stat per authentication attempt is cheap next to the handshake.
type keyFile struct {
	path string

	mu    sync.Mutex
	mod   time.Time
	size  int64
	keys  map[string]struct{} // key.Marshal() → present
	valid bool
}

func newKeyFile(path string) *keyFile { return &keyFile{path: path} }

// contains reports whether key is listed in the file, re-reading it if its
// size or modification time moved since the last read.
func (k *keyFile) contains(key gossh.PublicKey) (bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	st, err := os.Stat(k.path)
	if err != nil {
		k.valid = false
		return false, err
	}
	if !k.valid || !st.ModTime().Equal(k.mod) || st.Size() != k.size {
		data, err := os.ReadFile(k.path)
		if err != nil {
			k.valid = false
			return false, err
		}
		k.keys = parseAuthorizedKeys(data)
		k.mod, k.size, k.valid = st.ModTime(), st.Size(), true
	}
	_, ok := k.keys[string(key.Marshal())]
	return ok, nil
}

// parseAuthorizedKeys returns the set of keys in an authorized_keys file.
// Lines that do not parse are skipped, as sshd does, so one bad paste does
// not lock everybody out. Options (from=, command=…) are not enforced: brink
// serves only its console, so they have nothing to restrict.
func parseAuthorizedKeys(data []byte) map[string]struct{} {
	keys := map[string]struct{}{}
	for rest := data; len(rest) > 0; {
		pk, _, _, next, err := gossh.ParseAuthorizedKey(rest)
		if err != nil {
			break // no further key in the rest of the file
		}
		keys[string(pk.Marshal())] = struct{}{}
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

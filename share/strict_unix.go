//go:build unix

package share

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// securePath refuses a keys file that someone other than its owner could
// change, as sshd's StrictModes does: the file (symlinks resolved) must be
// a regular file, and it and every directory above it, up to but not
// including /, must belong to the user running brink or to root and must
// not be writable by group or others. A sticky directory (/tmp) is
// allowed: others cannot rename or remove what is ours in it.
func securePath(path string) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	if real, err = filepath.Abs(real); err != nil {
		return err
	}
	st, err := os.Stat(real)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", real)
	}
	if err := ownedAndClosed(real, st, false); err != nil {
		return err
	}
	for dir := filepath.Dir(real); dir != "/" && dir != "."; dir = filepath.Dir(dir) {
		st, err := os.Stat(dir)
		if err != nil {
			return err
		}
		if err := ownedAndClosed(dir, st, true); err != nil {
			return err
		}
	}
	return nil
}

func ownedAndClosed(path string, st os.FileInfo, isDir bool) error {
	what := "file " + path
	if isDir {
		what = "directory " + path
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		if uid := int(sys.Uid); uid != 0 && uid != os.Geteuid() {
			return fmt.Errorf("%s belongs to uid %d, not to you or root, which sshd's StrictModes refuses too", what, uid)
		}
	}
	perm := st.Mode().Perm()
	if perm&0o022 == 0 || (isDir && st.Mode()&os.ModeSticky != 0) {
		return nil
	}
	return fmt.Errorf("%s is writable by group or others (mode %04o), which sshd's StrictModes refuses too: chmod go-w %s", what, perm, path)
}

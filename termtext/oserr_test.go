package termtext

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
)

func TestBareErr(t *testing.T) {
	other := errors.New("other")
	for _, tc := range []struct {
		err, want error
	}{
		{&os.PathError{Op: "open", Path: "/tmp/.r.json.tmp-1", Err: syscall.ENOSPC}, syscall.ENOSPC},
		{&os.LinkError{Op: "rename", Old: "a", New: "b", Err: syscall.EXDEV}, syscall.EXDEV},
		{fmt.Errorf("write: %w", &os.PathError{Op: "write", Path: "x", Err: syscall.EROFS}), syscall.EROFS},
		{other, other},
	} {
		if got := BareErr(tc.err); got != tc.want {
			t.Errorf("BareErr(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

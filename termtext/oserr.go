package termtext

import (
	"errors"
	"os"
)

// BareErr is err without the file name an *os.PathError or *os.LinkError
// carries, keeping what went wrong ("no space left on device"): the caller
// names the file once, its own way (a temp file's name would mislead).
func BareErr(err error) error {
	var pe *os.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}

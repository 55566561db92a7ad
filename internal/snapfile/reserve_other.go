//go:build !linux

package snapfile

import (
	"errors"
	"os"
)

// reservePages reserves nothing where fallocate is not known: snapshots
// are written into new pages.
func reservePages(*os.File, int64, int64, []byte) error {
	return errors.New("reserving pages is implemented only on Linux")
}

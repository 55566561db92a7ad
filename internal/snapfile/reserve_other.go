//go:build !linux

package snapfile

import (
	"errors"
	"os"
)

// reservation reserves nothing where fallocate is not known: snapshots
// are written into new pages.
type reservation struct{}

func (*reservation) reserve(*os.File, int64, int64) error {
	return errors.New("reserving pages is implemented only on Linux")
}

func (*reservation) release() {}

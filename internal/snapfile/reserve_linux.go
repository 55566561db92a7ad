package snapfile

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// reservePages allocates n bytes of f's blocks at off and reads them, so
// that the kernel holds them in the page cache. The blocks are
// allocated unwritten: reading them costs no disk I/O, and they read as
// zeros.
func reservePages(f *os.File, off, n int64, buf []byte) error {
	if err := unix.Fallocate(int(f.Fd()), 0, off, n); err != nil {
		return fmt.Errorf("fallocate: %w", err)
	}
	for done := int64(0); done < n; {
		k, err := f.ReadAt(buf[:min(int64(len(buf)), n-done)], off+done)
		done += int64(k)
		if err != nil {
			return fmt.Errorf("reading the reserved blocks: %w", err)
		}
	}
	return nil
}

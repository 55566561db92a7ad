//go:build linux

package executor

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestReadSnapshotShort reads a snapshot from a descriptor that ends
// before the size the parent stated: an error that says so, and the
// descriptor closed all the same.
func TestReadSnapshotShort(t *testing.T) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Write(p[1], []byte("0123456789")); err != nil {
		t.Fatal(err)
	}
	unix.Close(p[1])
	if _, err := readSnapshot(p[0], 20); err == nil || !strings.Contains(err.Error(), "ended after 10 of its 20 bytes") {
		t.Errorf("reading 20 bytes of 10: %v", err)
	}
	if err := unix.Close(p[0]); !errors.Is(err, unix.EBADF) {
		t.Errorf("closing the descriptor after readSnapshot: %v, want EBADF (it closed it)", err)
	}
}

// TestFDWriterFails writes to a descriptor that cannot be written: the
// error names the snapshot file and the count stays at what was written.
func TestFDWriterFails(t *testing.T) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	w := &fdWriter{fd: p[0]} // the read end
	if n, err := w.Write([]byte("abc")); n != 0 || w.n != 0 || err == nil || !strings.Contains(err.Error(), "writing the snapshot file") {
		t.Errorf("writing to a read end: %d bytes (counted %d), %v", n, w.n, err)
	}
	w = &fdWriter{fd: p[1]}
	if n, err := w.Write([]byte("abc")); n != 3 || w.n != 3 || err != nil {
		t.Errorf("writing to a pipe: %d bytes (counted %d), %v", n, w.n, err)
	}
}

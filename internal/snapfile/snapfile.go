// Package snapfile writes a snapshot to a file atomically, into pages of
// the page cache reserved while the program runs.
//
// Writing 64 MiB into a new file costs the kernel 64 MiB of new page-cache
// pages. On a virtual machine that hands free memory back to its host
// (virtio-balloon free page reporting), each such page faults in from the
// host on its first write, which made writing a 64 MiB snapshot take
// 70–180 ms instead of 10–20 (docs/PERFORMANCE.md). A File therefore
// reserves, while the program runs, as many pages as its snapshot will
// need: it allocates the file's blocks (fallocate), reads them, so that
// the kernel holds them in the page cache as zeros, and maps them, so
// that it keeps them; a suspension then writes over pages the kernel
// already has.
//
// The package must not know what a snapshot is: it reserves, writes and
// renames bytes.
package snapfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// chunk is how much the reserver allocates and reads at once: it checks
// for a stop between chunks, so a suspension waits for at most one.
const chunk = 4 << 20

// File is a snapshot file being prepared: a temporary file beside its
// final path, with pages reserved up to the size last asked for. Reserve
// may be called from any goroutine; Write, Commit and Discard from one.
type File struct {
	path   string
	tmp    *os.File
	logger *slog.Logger

	target  atomic.Int64  // bytes to reserve
	wake    chan struct{} // 1-buffered: the target grew
	stop    chan struct{} // closed when writing starts or the file is discarded
	stopped chan struct{} // closed when the reserver has returned

	stopOnce sync.Once
	err      error // of the first failed write
	done     bool  // committed or discarded
}

// Create makes the temporary file of a snapshot that Commit will rename
// to path, in path's directory (so that the rename is atomic), and starts
// reserving its pages as Reserve asks. logger, if not nil, hears why a
// reservation stopped.
func Create(path string, logger *slog.Logger) (*File, error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		// The temporary file's random name would only puzzle.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("cannot create a snapshot file in %s: %w", dir, err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	f := &File{
		path: path, tmp: tmp, logger: logger,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{}),
	}
	go f.reserve()
	return f, nil
}

// Name is the temporary file's name.
func (f *File) Name() string { return f.tmp.Name() }

// Reserve asks for size bytes of the file's pages to be reserved, if not
// already: a snapshot expected to take size bytes. It does not wait.
func (f *File) Reserve(size int64) {
	// Whole pages of any size up to 64 KiB, so that every piece
	// reserved starts at a page: it is mapped.
	size = (size + 64<<10 - 1) &^ (64<<10 - 1)
	for {
		old := f.target.Load()
		if size <= old {
			return
		}
		if f.target.CompareAndSwap(old, size) {
			break
		}
	}
	select {
	case f.wake <- struct{}{}:
	default: // a wake-up is pending; the reserver reads the target then
	}
}

// reserve reserves the file's pages, a chunk at a time, up to the
// target, until stopped; then it releases its hold on them.
func (f *File) reserve() {
	defer close(f.stopped)
	var r reservation
	defer r.release()
	var reserved int64
	for {
		select {
		case <-f.stop:
			return
		case <-f.wake:
		}
		for reserved < f.target.Load() {
			select {
			case <-f.stop:
				return
			default:
			}
			n := min(chunk, f.target.Load()-reserved)
			if err := r.reserve(f.tmp, reserved, n); err != nil {
				// The snapshot is still written, into new pages.
				f.logger.Debug("reserving the snapshot file's pages stopped", "file", f.tmp.Name(), "reserved", reserved, "err", err)
				return
			}
			reserved += n
		}
	}
}

// stopReserving stops the reserver and waits for it, so that it neither
// extends the file after Commit truncates it nor works on a removed one.
func (f *File) stopReserving() {
	f.stopOnce.Do(func() { close(f.stop) })
	<-f.stopped
}

// Write writes the snapshot's next bytes, from the file's start: the
// first call stops the reservation. It implements io.Writer.
func (f *File) Write(p []byte) (int, error) {
	if f.done {
		return 0, errors.New("snapshot file: write after Commit or Discard")
	}
	f.stopReserving()
	if f.err != nil {
		return 0, f.err
	}
	n, err := f.tmp.Write(p)
	if err != nil {
		f.err = fmt.Errorf("writing the snapshot file: %w", err)
	}
	return n, f.err
}

// OSFile stops the reservation and returns the temporary file, for a
// writer that needs a descriptor (the sandboxed executor writes into a
// copy of it): what is written from its offset, 0 until written to, is
// the snapshot, and Commit cuts the file at its offset then. The caller
// must not close it.
func (f *File) OSFile() *os.File {
	f.stopReserving()
	return f.tmp
}

// Commit makes what was written the snapshot at the path given to
// Create: it cuts off reserved pages beyond the file's offset, syncs the
// file to disk and renames it. A file that exists at the path is a whole
// snapshot. After a failure the temporary file is removed.
func (f *File) Commit() error {
	if f.done {
		return errors.New("snapshot file: Commit after Commit or Discard")
	}
	f.stopReserving()
	err := f.err
	var size int64
	if err == nil {
		// The reserver reads and allocates at offsets of its own: the
		// offset is where the writes ended.
		size, err = f.tmp.Seek(0, io.SeekCurrent)
	}
	if err == nil {
		err = f.tmp.Truncate(size)
	}
	if err == nil {
		err = f.tmp.Sync()
	}
	if cerr := f.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.tmp.Name(), f.path)
	}
	f.done = true
	if err != nil {
		os.Remove(f.tmp.Name())
		return fmt.Errorf("writing the snapshot file %s: %w", f.path, err)
	}
	return nil
}

// Discard removes the temporary file: the program ended without a
// snapshot, or writing it failed. It may follow a failed Commit.
func (f *File) Discard() error {
	if f.done {
		return nil
	}
	f.stopReserving()
	f.done = true
	return errors.Join(f.tmp.Close(), os.Remove(f.tmp.Name()))
}

var _ io.Writer = (*File)(nil)

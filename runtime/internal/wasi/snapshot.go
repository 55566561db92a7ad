package wasi

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gate-wasm/gate/runtime/internal/wire"
)

// snapshotVersion is the version of the encoding AppendSnapshot writes.
const snapshotVersion = 1

// Limits on what a snapshot may hold, so that a hostile one cannot make
// ParseSnapshot allocate much. They are far above what Gate itself writes.
const (
	maxSnapshotStrings = 1 << 16
	maxSnapshotStdin   = 1 << 20
)

// stdin states in a snapshot.
const (
	stdinOpen   = 0
	stdinEnded  = 1 // the host's stream reached its end
	stdinFailed = 2 // the host's stream failed
)

// Snapshot is what a suspended instance's ABI state carries into its
// snapshot: what the program was given, its clock, its descriptors, and
// the bytes of standard input that the host had read and the program had
// not.
type Snapshot struct {
	Args, Env []string
	// Monotonic is the program's monotonic clock at suspension, in
	// nanoseconds (it starts at one second).
	Monotonic uint64
	FdFlags   [3]uint16
	FdClosed  [3]bool
	Stdin     []byte
	// StdinState is stdinOpen, stdinEnded or stdinFailed.
	StdinState byte
}

// Snapshot returns the state to carry into a snapshot. Call it once the
// program has unwound: nothing else may use the state meanwhile, and the
// program must not run on it afterwards.
//
// The snapshot holds every byte the state has taken from standard input
// and the program has not read. From Snapshot on, the state starts no
// Read of its reader. A Read already under way cannot be cancelled on an
// arbitrary io.Reader: when the reader takes a read deadline (an *os.File
// of a pipe or terminal opened for Go's poller, a net.Conn), Snapshot
// interrupts the Read and waits briefly for it, so that what it returned
// is in the snapshot; otherwise what it returns later is not, and
// RemainingStdin hands it to whoever reads the input next.
func (s *State) Snapshot() Snapshot {
	snap := Snapshot{Monotonic: s.monotonic()}
	for _, a := range s.args {
		snap.Args = append(snap.Args, string(a[:len(a)-1]))
	}
	for _, e := range s.env {
		snap.Env = append(snap.Env, string(e[:len(e)-1]))
	}
	for i, f := range s.fds {
		snap.FdFlags[i], snap.FdClosed[i] = f.flags, f.closed
	}
	pending, err := s.stdin.snapshot()
	snap.Stdin = pending
	switch {
	case errors.Is(err, io.EOF):
		snap.StdinState = stdinEnded
	case err != nil:
		snap.StdinState = stdinFailed
	}
	return snap
}

// RemainingStdin returns standard input as this state leaves it to its
// next owner: the bytes of a Read that was under way at Snapshot and
// returned after it (which the snapshot does not hold), then the rest of
// the host's reader. An instance resumed from the snapshot in the same
// process must be given this reader rather than the original one, or
// those bytes are lost; reading the original one meanwhile would also
// race with the Read under way. When the stream had ended by the
// snapshot, it reports that end again. RemainingStdin detaches the input
// as Snapshot does: call it after Snapshot.
func (s *State) RemainingStdin() io.Reader {
	s.stdin.detach()
	return remainder{s.stdin}
}

// Restore returns the state of an instance resumed from snap. The
// program keeps its arguments, environment, clock and descriptors; cfg
// gives the new host's streams (its Args and Env are ignored). Bytes of
// standard input pending in snap come before cfg.Stdin.
func Restore(cfg Config, snap Snapshot) (*State, error) {
	if snap.Monotonic < uint64(time.Second) || snap.Monotonic > 1<<62 {
		return nil, fmt.Errorf("monotonic clock of %d ns is out of range", snap.Monotonic)
	}
	cfg.Args, cfg.Env = snap.Args, snap.Env
	s := New(cfg)
	s.start = time.Now().Add(-time.Duration(snap.Monotonic - uint64(time.Second)))
	for i := range s.fds {
		s.fds[i] = fdState{closed: snap.FdClosed[i], flags: snap.FdFlags[i]}
	}
	var ended error
	switch snap.StdinState {
	case stdinOpen:
	case stdinEnded:
		ended = io.EOF
	case stdinFailed:
		ended = errors.New("standard input failed before the snapshot")
	default:
		return nil, fmt.Errorf("unknown standard input state %d", snap.StdinState)
	}
	if s.fds[fdStdin].closed {
		ended = io.EOF
	}
	s.stdin = restoredInput(cfg.Stdin, snap.Stdin, ended)
	return s, nil
}

// AppendBinary appends the encoding of snap to b: a version byte, then
// length-prefixed (uvarint) strings and bytes and uvarint numbers.
func (snap *Snapshot) AppendBinary(b []byte) []byte {
	b = append(b, snapshotVersion)
	for _, strs := range [][]string{snap.Args, snap.Env} {
		b = wire.AppendUvarint(b, uint64(len(strs)))
		for _, s := range strs {
			b = wire.AppendText(b, s)
		}
	}
	b = wire.AppendUvarint(b, snap.Monotonic)
	for i := range snap.FdFlags {
		b = wire.AppendBool(b, snap.FdClosed[i])
		b = wire.AppendUvarint(b, uint64(snap.FdFlags[i]))
	}
	b = append(b, snap.StdinState)
	return wire.AppendBytes(b, snap.Stdin)
}

// ParseSnapshot decodes what AppendBinary wrote, checking every field.
func ParseSnapshot(data []byte) (Snapshot, error) {
	d := wire.NewDecoder(data)
	var snap Snapshot
	if v := d.Byte("version"); d.Err() == nil && v != snapshotVersion {
		return snap, fmt.Errorf("WASI state: version %d, this Gate reads %d", v, snapshotVersion)
	}
	snap.Args = parseStrings(d, "arguments")
	snap.Env = parseStrings(d, "environment")
	snap.Monotonic = d.Uvarint("monotonic clock", 1<<62)
	for i := range snap.FdFlags {
		snap.FdClosed[i] = d.Bool("descriptor closed flag")
		snap.FdFlags[i] = uint16(d.Uvarint("descriptor flags", fdflagAppend|fdflagNonblock))
	}
	snap.StdinState = d.Byte("standard input state")
	snap.Stdin = d.Bytes("standard input", maxSnapshotStdin)
	if err := d.Finish("the end"); err != nil {
		return Snapshot{}, fmt.Errorf("WASI state: %w", err)
	}
	return snap, nil
}

// parseStrings reads a count and that many length-prefixed strings.
func parseStrings(d *wire.Decoder, what string) []string {
	count := d.Count(what+" count", maxSnapshotStrings, 1)
	var strs []string
	for i := uint64(0); i < count && d.Err() == nil; i++ {
		strs = append(strs, d.Text(what, d.Len()))
	}
	return strs
}

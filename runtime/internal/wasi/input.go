package wasi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// inputBufferSize bounds what the host holds of standard input that the
// program has not read yet.
const inputBufferSize = 64 << 10

// interruptWait bounds how long a snapshot waits for a read it has
// interrupted through a deadline to return. A reader that honours
// deadlines returns at once; one that accepts a deadline and ignores it
// must not hold a suspension up: its read is then handed over as if it
// could not be interrupted.
const interruptWait = 100 * time.Millisecond

// input is a program's standard input. A goroutine, started on first use,
// reads from the host reader into a bounded buffer, so that a blocked read
// can be abandoned when the instance is stopped or suspended, so that
// poll_oneoff can wait for input and a timer together, and so that a
// snapshot can take the bytes the host has read and the program has not.
//
// Every byte a Read of the host reader returns ends up in exactly one
// place: the buffer (the program reads it, or a snapshot holds it), or,
// for a Read that was under way when the input was detached for a
// snapshot and could not be interrupted, the remainder that the next
// owner of the reader reads first (see detach and remainder).
type input struct {
	r         io.Reader
	startOnce sync.Once
	// arrived has a token when bytes or the end arrived since the
	// program last looked.
	arrived chan struct{}

	mu     sync.Mutex
	space  *sync.Cond // signalled when the buffer has room, or the pump must stop
	buf    []byte     // read from the host, not yet by the program
	err    error      // the host reader's end (io.EOF) or failure, after buf
	closed bool
	stage  stage
	// inflight is set while the pump is inside a Read of r, and closed
	// once that Read's result has been stored.
	inflight chan struct{}
	// late and lateErr are what a Read under way at detach returned after
	// it: no snapshot holds them; the remainder yields them first.
	late    []byte
	lateErr error
}

// stage is where an input is in being handed over to a snapshot.
type stage byte

const (
	attached  stage = iota // the pump reads for the program
	detaching              // no new Read; one under way still fills buf
	detached               // buf and err are frozen; a Read under way fills late
)

func newInput(r io.Reader) *input {
	in := &input{r: r, arrived: make(chan struct{}, 1)}
	in.space = sync.NewCond(&in.mu)
	if r == nil {
		in.err = io.EOF
	}
	return in
}

// restoredInput is standard input that resumes with pending bytes already
// read by a host before a snapshot, and then reads r (unless ended).
func restoredInput(r io.Reader, pending []byte, ended error) *input {
	in := newInput(r)
	in.buf = pending
	if ended != nil {
		in.err = ended
	}
	return in
}

// active reports whether the pump may start another Read. Call with mu
// held.
func (in *input) active() bool { return !in.closed && in.stage == attached }

func (in *input) pump() {
	chunk := make([]byte, inputBufferSize)
	for {
		in.mu.Lock()
		for len(in.buf) >= inputBufferSize && in.active() {
			in.space.Wait()
		}
		if !in.active() {
			in.mu.Unlock()
			return
		}
		room := inputBufferSize - len(in.buf)
		done := make(chan struct{})
		in.inflight = done
		in.mu.Unlock()

		n, err := in.r.Read(chunk[:room])
		if n < 0 || n > room {
			n, err = 0, fmt.Errorf("standard input: the host's reader returned %d bytes for a buffer of %d", n, room)
		}

		// The result is stored under the same lock that detach takes, so
		// that it lands either before the snapshot (in buf) or after it
		// (in late), never in between.
		in.mu.Lock()
		in.inflight = nil
		switch in.stage {
		case detached:
			in.late, in.lateErr = append([]byte(nil), chunk[:n]...), err
		case detaching:
			if errors.Is(err, os.ErrDeadlineExceeded) {
				err = nil // detach's own interruption, not the stream's
			}
			fallthrough
		default:
			in.buf = append(in.buf, chunk[:n]...)
			if err != nil {
				in.err = err
			}
		}
		close(done)
		in.mu.Unlock()
		select {
		case in.arrived <- struct{}{}:
		default:
		}
		if err != nil {
			return
		}
	}
}

func (in *input) close() {
	in.mu.Lock()
	in.closed = true
	in.space.Broadcast()
	in.mu.Unlock()
}

// readDeadliner is a reader whose blocked Read can be interrupted, as an
// *os.File of a pipe or terminal opened for the poller, or a net.Conn.
type readDeadliner interface {
	SetReadDeadline(time.Time) error
}

// detach stops the pump reading for this input, so that a snapshot can
// take buf and err and nothing is read from r on their behalf afterwards.
// A Read under way cannot be cancelled on an arbitrary io.Reader: when r
// takes a read deadline, detach sets one in the past and waits (up to
// interruptWait) for the Read to return, so that what it returned is in
// buf, and then clears the deadline for the next owner of r; otherwise,
// or if the Read does not return in time, what it returns later goes to
// late, for the remainder. detach may be called more than once.
func (in *input) detach() {
	in.mu.Lock()
	if in.stage != attached {
		in.mu.Unlock()
		return
	}
	in.stage = detaching
	in.space.Broadcast()
	inflight := in.inflight
	in.mu.Unlock()

	if d, ok := in.r.(readDeadliner); ok && inflight != nil && d.SetReadDeadline(time.Unix(1, 0)) == nil {
		timer := time.NewTimer(interruptWait)
		select {
		case <-inflight:
		case <-timer.C:
		}
		timer.Stop()
		// An error here leaves the deadline in the past; the next owner's
		// first Read then fails, and reports it.
		_ = d.SetReadDeadline(time.Time{})
	}

	in.mu.Lock()
	in.stage = detached
	in.mu.Unlock()
}

// remainder is the host's reader as a detached input leaves it: first
// what a Read under way at detach returned, then r itself.
type remainder struct{ in *input }

func (rm remainder) Read(p []byte) (int, error) {
	in := rm.in
	in.mu.Lock()
	inflight := in.inflight
	in.mu.Unlock()
	if inflight != nil {
		// The detached pump's Read is still under way: reading r now
		// would take bytes from under it, out of order.
		<-inflight
	}
	in.mu.Lock()
	if len(in.late) > 0 {
		n := copy(p, in.late)
		in.late = in.late[n:]
		in.mu.Unlock()
		return n, nil
	}
	if errors.Is(in.lateErr, os.ErrDeadlineExceeded) {
		in.lateErr = nil // detach's interruption, or a deadline r's next owner set: r says again
	}
	if err := firstErr(in.err, in.lateErr); err != nil {
		in.mu.Unlock()
		return 0, err // the stream ended before the snapshot, or during the Read under way
	}
	in.mu.Unlock()
	return in.r.Read(p)
}

// SetReadDeadline sets r's read deadline, so that an input that reads the
// remainder can be detached in turn.
func (rm remainder) SetReadDeadline(t time.Time) error {
	if d, ok := rm.in.r.(readDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return fmt.Errorf("standard input: %w", os.ErrNoDeadline)
}

// firstErr returns the first of errs that is not nil.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// ready reports whether a read would not block: bytes are pending or the
// stream has ended. When not, it makes sure the host is being read.
func (in *input) ready() bool {
	in.mu.Lock()
	ready := len(in.buf) > 0 || in.err != nil
	in.mu.Unlock()
	if !ready {
		in.startOnce.Do(func() { go in.pump() })
	}
	return ready
}

// pending is the number of bytes a read would return at once.
func (in *input) pending() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.buf)
}

// failed reports a failure of the host reader once every byte before it
// has been read.
func (in *input) failed() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.buf) == 0 && in.err != nil && !errors.Is(in.err, io.EOF)
}

// poll reports whether a read would not block, without waiting.
func (in *input) poll() bool { return in.ready() }

// wait blocks until a read would not block. It raises Interrupted when ctx
// is done and suspended when suspend is closed first.
func (in *input) wait(ctx context.Context, suspend <-chan struct{}) {
	for !in.ready() {
		select {
		case <-in.arrived:
		case <-ctx.Done():
			interrupt(ctx, "fd_read")
		case <-suspend:
			panic(suspended{})
		}
	}
}

// read moves pending bytes into b and returns how many it moved.
func (in *input) read(b []byte) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	n := copy(b, in.buf)
	in.buf = append(in.buf[:0], in.buf[n:]...)
	in.space.Signal()
	return n
}

// snapshot detaches the input and returns the bytes read from the host
// that the program has not read, and how the host's stream ended if it
// has.
func (in *input) snapshot() ([]byte, error) {
	in.detach()
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]byte(nil), in.buf...), in.err
}

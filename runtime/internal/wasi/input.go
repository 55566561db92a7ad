package wasi

import (
	"context"
	"errors"
	"io"
	"sync"
)

// inputBufferSize bounds what the host holds of standard input that the
// program has not read yet.
const inputBufferSize = 64 << 10

// input is a program's standard input. A goroutine, started on first use,
// reads from the host reader into a bounded buffer, so that a blocked read
// can be abandoned when the instance is stopped or suspended, so that
// poll_oneoff can wait for input and a timer together, and so that a
// snapshot can take the bytes the host has read and the program has not.
type input struct {
	r         io.Reader
	startOnce sync.Once
	// arrived has a token when bytes or the end arrived since the
	// program last looked.
	arrived chan struct{}

	mu     sync.Mutex
	space  *sync.Cond // signalled when the buffer has room or input is closed
	buf    []byte     // read from the host, not yet by the program
	err    error      // the host reader's end (io.EOF) or failure, after buf
	closed bool
}

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

func (in *input) pump() {
	chunk := make([]byte, inputBufferSize)
	for {
		in.mu.Lock()
		for len(in.buf) >= inputBufferSize && !in.closed {
			in.space.Wait()
		}
		room := inputBufferSize - len(in.buf)
		closed := in.closed
		in.mu.Unlock()
		if closed {
			return
		}
		n, err := in.r.Read(chunk[:room])
		in.mu.Lock()
		in.buf = append(in.buf, chunk[:n]...)
		if err != nil {
			in.err = err
		}
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

// snapshot returns the bytes read from the host that the program has not
// read, and how the host's stream ended if it has.
func (in *input) snapshot() ([]byte, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]byte(nil), in.buf...), in.err
}

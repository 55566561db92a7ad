package wasi

import (
	"context"
	"io"
	"sync"
)

// inputChunkSize bounds what the host holds of standard input that the
// program has not read yet: one chunk in flight plus one pending.
const inputChunkSize = 64 << 10

// chunk is one read from the host's standard input.
type chunk struct {
	data []byte
	err  error // io.EOF at the end
}

// input is a program's standard input. A goroutine, started on first use,
// reads from the host reader so that a blocked read can be abandoned when
// the instance is stopped and so that poll_oneoff can wait for input and a
// timer together.
type input struct {
	r         io.Reader
	startOnce sync.Once
	chunks    chan chunk
	stop      chan struct{}
	stopOnce  sync.Once
	pending   []byte // read from the host, not yet by the program
	err       error  // sticky end (io.EOF) or failure, once pending is empty
}

func newInput(r io.Reader) *input {
	if r == nil {
		return &input{err: io.EOF}
	}
	return &input{r: r, chunks: make(chan chunk), stop: make(chan struct{})}
}

func (in *input) pump() {
	for {
		buf := make([]byte, inputChunkSize)
		n, err := in.r.Read(buf)
		if n > 0 {
			select {
			case in.chunks <- chunk{data: buf[:n]}:
			case <-in.stop:
				return
			}
		}
		if err != nil {
			select {
			case in.chunks <- chunk{err: err}:
			case <-in.stop:
			}
			return
		}
	}
}

func (in *input) close() {
	if in.stop != nil {
		in.stopOnce.Do(func() { close(in.stop) })
	}
}

// ready reports whether a read would not block: bytes are pending or the
// stream has ended.
func (in *input) ready() bool { return len(in.pending) > 0 || in.err != nil }

// channel returns the channel on which the next chunk arrives, starting
// the reader on first use, or nil when nothing more can arrive.
func (in *input) channel() <-chan chunk {
	if in.ready() || in.r == nil {
		return nil
	}
	in.startOnce.Do(func() { go in.pump() })
	return in.chunks
}

func (in *input) accept(c chunk) {
	in.pending = c.data
	if c.err != nil {
		in.err = c.err
	}
}

// poll takes a chunk if one has arrived, without waiting.
func (in *input) poll() bool {
	if c := in.channel(); c != nil {
		select {
		case ch := <-c:
			in.accept(ch)
		default:
		}
	}
	return in.ready()
}

// wait blocks until a read would not block or ctx is done.
func (in *input) wait(ctx context.Context) {
	for !in.ready() {
		select {
		case ch := <-in.channel():
			in.accept(ch)
		case <-ctx.Done():
			interrupt(ctx, "fd_read")
		}
	}
}

// read moves pending bytes into b and returns how many it moved.
func (in *input) read(b []byte) int {
	n := copy(b, in.pending)
	in.pending = in.pending[n:]
	return n
}

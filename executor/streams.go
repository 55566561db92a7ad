package executor

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/gate-wasm/gate/executor/internal/proto"
)

// errClosed is what a program's stream returns once its instance is
// closed or killed.
var errClosed = errors.New("stream closed")

// stdinPipe is an instance's standard input in the executor. A read asks
// the parent for at most as many bytes as the reader wants, and the
// parent reads its own input only then: the executor never holds input
// that the program has not asked for, so a suspension loses none of it
// (it is where it would be without the executor: still in the parent's
// input, or in the runtime's buffer that the snapshot carries).
//
// It takes read deadlines, as the runtime expects of a reader whose
// read under way a snapshot can interrupt: when the deadline passes
// with a request unanswered, it asks the parent to interrupt its own
// read (StdinCancel) and waits for the answer, so that bytes the parent
// read are returned here, before the snapshot, rather than lost after
// it. If the parent's input cannot be interrupted (it said so when it
// made the instance), Read gives up at once, and what the parent reads
// later waits in buf for the next Read.
type stdinPipe struct {
	w  *proto.Writer
	id uint32

	mu        sync.Mutex
	cond      sync.Cond
	buf       []byte
	requested int // bytes asked for and not yet answered
	eof       bool
	closed    bool
	deadline  time.Time
	timer     *time.Timer
	// interruptible says the parent can interrupt its reads.
	interruptible bool
	canceled      bool // StdinCancel sent for the request under way
}

func newStdinPipe(w *proto.Writer, id uint32, interruptible bool) *stdinPipe {
	p := &stdinPipe{w: w, id: id, interruptible: interruptible}
	p.cond.L = &p.mu
	return p
}

func (p *stdinPipe) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.buf) == 0 && !p.eof && !p.closed {
		expired := !p.deadline.IsZero() && !time.Now().Before(p.deadline)
		switch {
		case expired && (p.requested == 0 || !p.interruptible):
			return 0, os.ErrDeadlineExceeded
		case expired && !p.canceled:
			// Sent under the lock, as requests are.
			p.canceled = true
			if err := p.w.Write(proto.StdinCancel, p.id); err != nil {
				return 0, fmt.Errorf("cancelling a read of input: %w", err)
			}
		case !expired && p.requested == 0:
			// Sent under the lock, so that no request follows
			// close (and the Closed frame).
			n := min(len(b), proto.MaxChunk)
			p.requested = n
			if err := p.w.Write(proto.StdinRequest, p.id, proto.EncodeU32(uint32(n))); err != nil {
				return 0, fmt.Errorf("asking for input: %w", err)
			}
		}
		p.cond.Wait()
	}
	if len(p.buf) > 0 {
		n := copy(b, p.buf)
		p.buf = p.buf[n:]
		return n, nil
	}
	return 0, io.EOF
}

// SetReadDeadline sets the time after which Read gives up, as
// os.File's does; the zero time means none.
func (p *stdinPipe) SetReadDeadline(t time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deadline = t
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	if d := time.Until(t); !t.IsZero() && d > 0 {
		p.timer = time.AfterFunc(d, func() {
			p.mu.Lock()
			p.cond.Broadcast()
			p.mu.Unlock()
		})
	}
	p.cond.Broadcast()
	return nil
}

// deliver takes the parent's answer to a request: data, or nothing for
// the end of input.
func (p *stdinPipe) deliver(data []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.requested == 0 || len(data) > p.requested {
		return fmt.Errorf("%w: %d bytes of input, %d asked for", proto.ErrProtocol, len(data), p.requested)
	}
	p.requested, p.canceled = 0, false
	if len(data) == 0 {
		p.eof = true
	}
	p.buf = append(p.buf, data...)
	p.cond.Broadcast()
	return nil
}

// interrupted takes the parent's answer to a StdinCancel whose read was
// interrupted with nothing read: the request is void.
func (p *stdinPipe) interrupted(f proto.Frame) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := proto.Empty(f); err != nil {
		return err
	}
	if !p.canceled {
		return fmt.Errorf("%w: input interrupted without a cancel", proto.ErrProtocol)
	}
	p.requested, p.canceled = 0, false
	p.cond.Broadcast()
	return nil
}

func (p *stdinPipe) close() {
	p.mu.Lock()
	p.closed = true
	if p.timer != nil {
		p.timer.Stop()
	}
	p.cond.Broadcast()
	p.mu.Unlock()
}

// output is an instance's standard output or error in the executor. It
// sends what the program writes as Output frames, never more than the
// credit the parent has returned (each frame costs its bytes and
// proto.OutputCost): a program that writes faster than the parent's
// reader reads waits, as it would on a pipe.
type output struct {
	w      *proto.Writer
	id     uint32
	stream uint8

	mu     sync.Mutex
	cond   sync.Cond
	avail  int // credit: bytes that may be sent
	closed bool
}

func newOutput(w *proto.Writer, id uint32, stream uint8) *output {
	o := &output{w: w, id: id, stream: stream, avail: proto.Window}
	o.cond.L = &o.mu
	return o
}

func (o *output) Write(p []byte) (int, error) {
	done := 0
	for done < len(p) {
		o.mu.Lock()
		for o.avail <= proto.OutputCost && !o.closed {
			o.cond.Wait()
		}
		if o.closed {
			o.mu.Unlock()
			return done, errClosed
		}
		n := min(o.avail-proto.OutputCost, len(p)-done)
		o.avail -= n + proto.OutputCost
		// Sent under the lock, so that no output follows close.
		err := o.w.Write(proto.Output, o.id, []byte{o.stream}, p[done:done+n])
		o.mu.Unlock()
		if err != nil {
			return done, fmt.Errorf("sending output: %w", err)
		}
		done += n
	}
	return done, nil
}

// credit returns n bytes of credit from the parent.
func (o *output) credit(n int) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.avail+n > proto.Window {
		return fmt.Errorf("%w: credit of %d bytes beyond the window", proto.ErrProtocol, n)
	}
	o.avail += n
	o.cond.Broadcast()
	return nil
}

func (o *output) close() {
	o.mu.Lock()
	o.closed = true
	o.cond.Broadcast()
	o.mu.Unlock()
}

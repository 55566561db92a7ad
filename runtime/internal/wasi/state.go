package wasi

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Config is what a program sees of the world.
type Config struct {
	Args []string
	// Env holds "KEY=VALUE" strings.
	Env    []string
	Stdin  io.Reader // nil reads as empty
	Stdout io.Writer // nil discards
	Stderr io.Writer // nil discards
	// Random is the source of random_get; nil means crypto/rand.
	Random io.Reader
	// Now is the wall clock; nil means time.Now.
	Now func() time.Time
}

// The standard file descriptors, the only ones a program has.
const (
	fdStdin  = 0
	fdStdout = 1
	fdStderr = 2
)

// fdState is what the ABI remembers of one standard descriptor.
type fdState struct {
	closed bool
	flags  uint16 // fdflags set through fd_fdstat_set_flags
}

// State is the ABI state of one instance. Its methods are called from the
// goroutine that runs the instance, one at a time; Close may be called
// from any goroutine.
type State struct {
	args, env [][]byte // each NUL-terminated
	stdin     *input
	stdout    io.Writer
	stderr    io.Writer
	fds       [3]fdState
	random    io.Reader
	now       func() time.Time
	// start is the origin of the monotonic clock, read with the host's
	// monotonic clock so that wall-clock steps do not move it.
	start time.Time
	// closed is set by Close: from then on every call ends the program
	// rather than touch the readers and writers, which the runtime's
	// caller may be reusing.
	closed atomic.Bool
	// suspend is closed by RequestSuspend.
	suspend     chan struct{}
	suspendOnce sync.Once
}

// Suspended is not a WASI errno. A function that is a suspension point
// (fd_read and poll_oneoff when they would block, sched_yield) answers it
// when a suspension has been requested: the call has had no effect, the
// runtime unwinds the program, and the call is made again on resume.
const Suspended Errno = 0xffff

// suspended is raised (as a panic) inside a blocking wait when a
// suspension is requested; Call turns it into Suspended.
type suspended struct{}

// RequestSuspend asks the blocking functions to answer Suspended rather
// than wait. It may be called from any goroutine, more than once.
func (s *State) RequestSuspend() {
	s.suspendOnce.Do(func() { close(s.suspend) })
}

// New returns the state of a fresh instance.
func New(cfg Config) *State {
	s := &State{
		args:    nulTerminated(cfg.Args),
		env:     nulTerminated(cfg.Env),
		stdin:   newInput(cfg.Stdin),
		stdout:  orDiscard(cfg.Stdout),
		stderr:  orDiscard(cfg.Stderr),
		random:  cfg.Random,
		now:     cfg.Now,
		suspend: make(chan struct{}),
	}
	if s.random == nil {
		s.random = rand.Reader
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.start = time.Now()
	return s
}

// ErrClosed is the cause of the Interrupted panic of a call made after
// Close.
var ErrClosed = errors.New("instance closed")

// Close releases the goroutine that reads standard input, if any. Calls
// made afterwards raise Interrupted with ErrClosed; a call already under
// way completes. Close may be called more than once.
func (s *State) Close() {
	s.closed.Store(true)
	s.stdin.close()
}

func nulTerminated(strs []string) [][]byte {
	out := make([][]byte, len(strs))
	for i, v := range strs {
		out[i] = append([]byte(v), 0)
	}
	return out
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// monotonic is the value of the monotonic clock in nanoseconds. It starts
// at one second rather than zero so that programs which treat zero as
// "unset" behave.
func (s *State) monotonic() uint64 {
	return uint64(time.Second + time.Since(s.start))
}

// Exit is raised (as a panic) by proc_exit to end the program; the
// runtime recovers it and reports Code as the exit status.
type Exit struct{ Code uint32 }

func (e *Exit) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// Interrupted is raised (as a panic) when the context of a blocked call
// is done: the instance is being stopped.
type Interrupted struct {
	Func  string
	Cause error
}

func (e *Interrupted) Error() string { return fmt.Sprintf("%s interrupted: %v", e.Func, e.Cause) }
func (e *Interrupted) Unwrap() error { return e.Cause }

func interrupt(ctx context.Context, fn string) {
	panic(&Interrupted{Func: fn, Cause: context.Cause(ctx)})
}

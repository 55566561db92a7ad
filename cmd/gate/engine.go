package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/gate-wasm/gate/runtime"
	"github.com/gate-wasm/gate/wasm"
)

// program is a running or runnable instance: a runtime.Instance in
// gate's own process, or an executor.Instance in the sandbox.
type program interface {
	Run(ctx context.Context, timeout time.Duration) (uint32, error)
	Suspend()
	// WriteSnapshot writes a suspended program's snapshot to w and
	// returns the number of bytes written.
	WriteSnapshot(w io.Writer) (int64, error)
	Close(ctx context.Context) error
}

// fileSnapshotter is a program that writes its snapshot into a file
// itself, by the file's descriptor: an executor.Instance, whose executor
// then writes the snapshot straight from the instance's memory rather
// than send it through its socket.
type fileSnapshotter interface {
	WriteSnapshotTo(f *os.File) (int64, error)
}

// resumePreparer is a program whose resume module can be compiled ahead
// of time into the compiled-code cache: a runtime.Instance in gate's
// own process (the sandboxed executor has no cache directory).
type resumePreparer interface {
	PrepareResume(ctx context.Context, memoryLimit uint64) error
}

// engine compiles and instantiates programs, in process or in the
// sandboxed executor.
type engine interface {
	// start compiles binary and instantiates it; a module that cannot
	// be compiled is a *compileError.
	start(ctx context.Context, binary []byte, memory uint64, suspendable bool, opts runtime.Options) (program, error)
	// resume resumes a snapshot.
	resume(ctx context.Context, snap snapshotSource, memory uint64, opts runtime.Options) (program, error)
	close(ctx context.Context)
}

// snapshotSource is the snapshot that gate resume resumes: an open
// regular file, which the sandboxed executor reads itself (by its
// descriptor), or, read from anything else (a pipe), its bytes.
type snapshotSource struct {
	file *os.File
	data []byte
	size int64
}

// openSnapshot opens the snapshot at path, of at most maxSize bytes. A
// file that does not start like a module, or is larger, is refused
// before it is read.
func openSnapshot(path string, maxSize uint64) (snapshotSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return snapshotSource{}, err
	}
	st, err := f.Stat()
	if err == nil && st.Mode().IsRegular() {
		if err := checkSnapshotFile(f, st.Size(), maxSize); err != nil {
			f.Close()
			return snapshotSource{}, fmt.Errorf("%s: %w", path, err)
		}
		return snapshotSource{file: f, size: st.Size()}, nil
	}
	var data []byte
	if err == nil {
		// A snapshot is a module: the same checks, as it is read.
		data, err = wasm.ReadModule(f, -1, maxSize)
		if err != nil {
			err = fmt.Errorf("%s: %w", path, snapshotSizeError(err))
		}
	}
	f.Close()
	return snapshotSource{data: data, size: int64(len(data))}, err
}

// checkSnapshotFile checks the header and the size of the snapshot file
// f of size bytes, without reading more than its header.
func checkSnapshotFile(f *os.File, size int64, maxSize uint64) error {
	header := make([]byte, wasm.HeaderSize)
	n, err := f.ReadAt(header, 0)
	if err != nil && err != io.EOF {
		return err
	}
	if err := wasm.CheckHeader(header[:n]); err != nil {
		return fmt.Errorf("invalid snapshot: %w", err)
	}
	if uint64(size) > maxSize {
		return fmt.Errorf("snapshot of %d bytes, more than any snapshot for this memory cap may be (%d)", size, maxSize)
	}
	return nil
}

// snapshotSizeError rewords the module size limit of wasm.ReadModule
// as the snapshot's.
func snapshotSizeError(err error) error {
	var limit *wasm.LimitError
	if errors.As(err, &limit) {
		return fmt.Errorf("snapshot of more than %d bytes, more than any snapshot for this memory cap may be", limit.Max)
	}
	return fmt.Errorf("invalid snapshot: %w", err)
}

// close closes the file, if any.
func (s snapshotSource) close() {
	if s.file != nil {
		s.file.Close()
	}
}

// bytes returns the snapshot, read from the file if it is one: into one
// buffer of the size it had when opened, as os.ReadFile does (a
// snapshot is large: a buffer grown as it is read would be copied
// several times).
func (s snapshotSource) bytes() ([]byte, error) {
	if s.file == nil {
		return s.data, nil
	}
	b := make([]byte, s.size)
	n, err := io.ReadFull(s.file, b)
	if err == io.ErrUnexpectedEOF {
		// Cut short since it was opened: what is there is refused
		// as a truncated snapshot.
		err = nil
	}
	if err != nil {
		return nil, err
	}
	return b[:n], nil
}

// compileError is a module refused by the compiler, as opposed to an
// instance that failed to start.
type compileError struct{ err error }

func (e *compileError) Error() string { return e.err.Error() }
func (e *compileError) Unwrap() error { return e.err }

func (f *runFlags) addSandboxFlag(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.sandbox, "sandbox", "on", `"off" runs the program inside gate's own process, without the sandboxed executor (for debugging; unsafe with untrusted programs)`)
}

// engine returns the engine the flags ask for. Without the sandbox, it
// warns on stderr; where the sandbox cannot be built, gate refuses.
func (f *runFlags) engine(ctx context.Context, logger *slog.Logger, stderr io.Writer, memory uint64) (engine, error) {
	if f.sandbox == "off" {
		fmt.Fprintln(stderr, "gate: warning: --sandbox=off: the program runs inside gate's own process, without the sandbox")
		// Stop checks slow compiled code down (docs/PERFORMANCE.md):
		// only a timeout needs them.
		rt, err := runtime.New(ctx, runtime.Config{CacheDir: f.cacheDir, Logger: logger, Interruptible: f.timeout > 0})
		if err != nil {
			return nil, refused("%v", err)
		}
		return inProcess{rt: rt, abandoned: new(atomic.Bool)}, nil
	}
	eng, err := newSandboxed(ctx, logger, memory, f.timeout > 0)
	if err != nil {
		return nil, refused("%v (--sandbox=off runs without it)", err)
	}
	return eng, nil
}

// inProcess runs programs in gate's own process.
type inProcess struct {
	rt *runtime.Runtime
	// abandoned is set when a compile or resume was given up on: it
	// still runs, on code the runtime must not free under it.
	abandoned *atomic.Bool
}

func (e inProcess) start(ctx context.Context, binary []byte, memory uint64, suspendable bool, opts runtime.Options) (program, error) {
	return e.abandonable(ctx, func() (program, error) {
		var module *runtime.Module
		var err error
		if suspendable {
			module, err = e.rt.CompileSuspendable(ctx, binary, memory)
		} else {
			module, err = e.rt.Compile(ctx, binary, memory)
		}
		if err != nil {
			return nil, &compileError{err}
		}
		inst, err := e.rt.Instantiate(ctx, module, opts)
		if err != nil {
			return nil, err
		}
		return inst, nil
	})
}

func (e inProcess) resume(ctx context.Context, snap snapshotSource, memory uint64, opts runtime.Options) (program, error) {
	return e.abandonable(ctx, func() (program, error) {
		data, err := snap.bytes()
		if err != nil {
			return nil, err
		}
		inst, err := e.rt.Resume(ctx, data, memory, opts)
		if err != nil {
			return nil, err
		}
		return inst, nil
	})
}

// abandonable calls f on a goroutine of its own and returns what it
// returns, or the cause of ctx as soon as ctx is done: decoding, the
// transform and the engine's compiler do not stop when asked, and gate
// must not wait minutes for a hostile module's compile to end (it exits
// with it still running).
func (e inProcess) abandonable(ctx context.Context, f func() (program, error)) (program, error) {
	type result struct {
		p   program
		err error
	}
	done := make(chan result, 1)
	go func() {
		p, err := f()
		done <- result{p, err}
	}()
	select {
	case r := <-done:
		return r.p, r.err
	case <-ctx.Done():
		e.abandoned.Store(true)
		go func() {
			if r := <-done; r.p != nil {
				r.p.Close(context.Background())
			}
		}()
		return nil, context.Cause(ctx)
	}
}

func (e inProcess) close(ctx context.Context) {
	if !e.abandoned.Load() {
		e.rt.Close(ctx)
	}
}

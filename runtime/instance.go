package runtime

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"

	"github.com/gate-wasm/gate/runtime/internal/wasi"
	"github.com/gate-wasm/gate/suspend"
)

// Instance is one instantiation of a Module: its own memory, globals and
// ABI state. It runs once.
type Instance struct {
	module api.Module
	binding
	start      api.Function
	ran        bool
	runtime    *Runtime
	moduleInfo *Module
	// hash is the SHA-256 of the program as first given, for instances
	// of suspendable programs: their snapshots carry it.
	hash [32]byte
	// suspended is set when Run returned ErrSuspended.
	suspended bool
	// abandoned is set when Run gave up waiting for the program to stop:
	// its goroutine may still be in compiled code, which must not be
	// freed under it.
	abandoned bool
}

// Instantiate creates an instance of m. A module's start function, if it
// has one, runs now, so Instantiate can fail with the errors of Run.
// Arguments and environment beyond CheckArgs's bounds are refused.
func (r *Runtime) Instantiate(ctx context.Context, m *Module, opts Options) (*Instance, error) {
	if err := CheckArgs(opts.Args, opts.Env); err != nil {
		return nil, err
	}
	var s *suspension
	if m.transformed != nil {
		s = newSuspension(m, nil)
	}
	if m.hasMemory && opts.MemoryGrown != nil {
		ctx = experimental.WithMemoryAllocator(ctx, &linearMemory{grown: opts.MemoryGrown})
	}
	inst, err := r.instantiate(ctx, m, wasi.New(opts.wasiConfig()), s)
	if err != nil {
		return nil, err
	}
	inst.hash = m.hash
	return inst, nil
}

func (r *Runtime) instantiate(ctx context.Context, m *Module, state *wasi.State, s *suspension) (*Instance, error) {
	b := binding{state: state, hasMemory: m.hasMemory, suspension: s}
	mod, err := r.engine.InstantiateModule(context.WithValue(ctx, bindingKey{}, b), m.compiled, r.moduleConfig)
	if err != nil {
		state.Close()
		if _, classified := classify(ctx, err); classified != nil {
			return nil, classified
		}
		return nil, fmt.Errorf("instantiating module: %w", err)
	}
	return &Instance{module: mod, binding: b, start: mod.ExportedFunction("_start"), runtime: r, moduleInfo: m}, nil
}

// abandonAfter is how long Run waits, once its context is done, for the
// program to stop before it gives up on it. Interruptible compiled code
// stops at its next function entry or loop header; only a host call stuck
// in a write to a reader that does not read can outlast this, or, on a
// runtime that is not interruptible, a program that does not call the
// host.
const abandonAfter = 100 * time.Millisecond

// ErrNotInterruptible is returned by Run when given a timeout on a runtime
// whose Config.Interruptible is false.
var ErrNotInterruptible = errors.New("a timeout needs a runtime created with Config.Interruptible")

// Run runs the program's _start function and returns its exit status: 0
// when _start returns, the argument of proc_exit otherwise. It returns a
// *TrapError if the program trapped, a *LimitError if timeout (when
// positive) passed first, and the context's cause if ctx was done first.
//
// If the program does not stop within 100 ms of the timeout or of ctx
// being done, Run returns anyway and the instance is abandoned: its
// goroutine runs on until its next call into the host, and Close leaves
// its memory and code to the garbage collector rather than free them
// under it.
func (i *Instance) Run(ctx context.Context, timeout time.Duration) (uint32, error) {
	if i.ran {
		return 0, errors.New("instance has already run")
	}
	if timeout > 0 && !i.runtime.interruptible {
		return 0, ErrNotInterruptible
	}
	i.ran = true
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, timeout, &LimitError{Limit: "timeout",
			Detail: fmt.Sprintf("wall-clock time limit of %v reached", timeout)})
		defer cancel()
	}
	ctx = context.WithValue(ctx, bindingKey{}, i.binding)
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("internal error: %v", r)
			}
		}()
		_, err := i.start.Call(ctx)
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		select {
		case err = <-done:
		case <-time.After(abandonAfter):
			// Cut it off from the caller's readers and writers
			// before returning.
			i.state.Close()
			i.abandoned = true
			i.runtime.abandoned.Add(1)
			i.runtime.log.Warn("program did not stop; abandoned it", "cause", context.Cause(ctx))
			err = context.Cause(ctx)
		}
	}
	if err == nil && i.suspension != nil {
		return i.afterSuspendable()
	}
	return classify(ctx, err)
}

// afterSuspendable tells, once _start of a suspendable program has
// returned, whether it finished or unwound.
func (i *Instance) afterSuspendable() (code uint32, err error) {
	defer func() {
		if r := recover(); r != nil {
			mismatch, ok := r.(*snapshotMismatch)
			if !ok {
				panic(r)
			}
			code, err = 0, mismatch
		}
	}()
	i.suspension.rewound(i.module)
	if i.suspension.state != nil && i.suspension.state.Get() == suspend.StateUnwinding {
		// The transform's code saves at least the innermost frame,
		// and closes every frame it opens; a snapshot's code may not.
		if st := &i.suspension.stack; len(st.Frames) == 0 || st.Saving() {
			return 0, &snapshotMismatch{errors.New("the program unwound without saving its frames whole")}
		}
		i.suspended = true
		return 0, ErrSuspended
	}
	return 0, nil
}

// MemorySize is the current size of the instance's linear memory in
// bytes.
func (i *Instance) MemorySize() uint64 {
	// Without a memory, Memory returns an interface that is not nil
	// but holds a nil pointer (see binding.hasMemory).
	if !i.hasMemory {
		return 0
	}
	return uint64(i.module.Memory().Size())
}

// Close frees the instance. An abandoned instance (see Run) is only
// closed to new calls; what its goroutine still uses is left to it.
func (i *Instance) Close(ctx context.Context) error {
	i.state.Close()
	if i.abandoned {
		return nil
	}
	return i.module.Close(ctx)
}

// classify turns what the engine returned into an exit status or one of
// the errors Run documents.
func classify(ctx context.Context, err error) (uint32, error) {
	if err == nil {
		return 0, nil
	}
	var exit *wasi.Exit
	if errors.As(err, &exit) {
		return exit.Code, nil
	}
	var mismatch *snapshotMismatch
	if errors.As(err, &mismatch) {
		return 0, mismatch
	}
	// Raised by a host function (the suspended stack's limit); a
	// timeout is the context's cause, below.
	var limit *LimitError
	if errors.As(err, &limit) {
		return 0, limit
	}
	if ctx.Err() != nil {
		// Stopped from outside: by the engine's own check
		// (sys.ExitError), in a blocked call (wasi.Interrupted), or
		// abandoned.
		return 0, context.Cause(ctx)
	}
	var sysExit *sys.ExitError
	if errors.As(err, &sysExit) {
		return sysExit.ExitCode(), nil
	}
	if trap := trapOf(err); trap != nil {
		return 0, trap
	}
	return 0, fmt.Errorf("internal error: %s", firstLine(err.Error()))
}

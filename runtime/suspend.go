package runtime

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	goruntime "runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/gate-wasm/gate/runtime/internal/frames"
	"github.com/gate-wasm/gate/runtime/internal/globals"
	"github.com/gate-wasm/gate/runtime/internal/snapshot"
	"github.com/gate-wasm/gate/runtime/internal/wasi"
	"github.com/gate-wasm/gate/suspend"
	"github.com/gate-wasm/gate/wasm"
)

// ErrSuspended is returned by Run when the program was suspended: its
// call stack has been unwound into the host and Snapshot can write it.
var ErrSuspended = errors.New("program suspended")

// checkInterval is the fuel the host gives compiled code: how many check
// sites (function entries, loop headers) it passes before it calls the
// host again. It bounds how long a suspension request waits, and how long
// the Go runtime waits for the goroutine (see docs/SUSPEND.md).
const checkInterval = 1 << 14

// globalExportPrefix names the exports through which the host reads and
// writes the module's mutable globals: "gate_suspend.global.<index>".
const globalExportPrefix = suspend.ImportModule + ".global."

// suspension is the host side of one suspendable instance.
type suspension struct {
	requested atomic.Bool
	stack     frames.Stack
	rewinder  *frames.Rewinder // while resuming
	// state and fuel are the transform's globals, found on first use.
	state, fuel api.MutableGlobal
	// countdown, when positive, is the number of check calls after
	// which a suspension is requested; meanwhile every check site calls
	// check. Tests use it to suspend at exact points.
	countdown int
}

// minFrameBytes is the least that a suspended stack may take, whatever
// the memory cap: a program with little memory may still recurse deeply.
const minFrameBytes = 1 << 20

// newSuspension returns the host side of an instance of m, resumed by
// rewinder if not nil. The frames it saves may take as many bytes as m's
// memory may (at least minFrameBytes): the host holds them, outside the
// memory cap, and a snapshot's code saves as many as it likes.
func newSuspension(m *Module, rewinder *frames.Rewinder) *suspension {
	s := &suspension{rewinder: rewinder}
	s.stack.MaxBytes = int64(max(m.memoryLimit, minFrameBytes))
	return s
}

// globals finds the transform's globals. A snapshot is untrusted: its
// module may lack them, or declare them immutable.
func (s *suspension) globals(mod api.Module) {
	if s.state != nil {
		return
	}
	state, ok1 := mod.ExportedGlobal(suspend.StateExport).(api.MutableGlobal)
	fuel, ok2 := mod.ExportedGlobal(suspend.FuelExport).(api.MutableGlobal)
	if !ok1 || !ok2 {
		panic(&snapshotMismatch{errors.New("the module does not export the transform's mutable globals")})
	}
	s.state, s.fuel = state, fuel
}

// unwind makes the program unwind from where it is.
func (s *suspension) unwind(mod api.Module) {
	s.globals(mod)
	s.state.Set(suspend.StateUnwinding)
}

// rewound is called at the first call into the host after resuming, which
// the innermost frame makes: it checks that every saved value has been
// restored. A blocking import re-issued through call_indirect finds the
// state still "rewinding" (the transform cannot tell that the callee is an
// import); it is the end of the rewind, so the state becomes normal.
func (s *suspension) rewound(mod api.Module) {
	if s.rewinder == nil {
		return
	}
	s.globals(mod)
	if s.state.Get() == suspend.StateRewinding {
		s.state.Set(suspend.StateNormal)
	}
	err := s.rewinder.Done()
	s.rewinder = nil
	if err != nil {
		panic(&snapshotMismatch{err})
	}
}

// mustUnwind stops the program (see snapshotMismatch) unless it is
// unwinding: the transform's code saves values only then, and code that
// calls the save functions at other times is not the transform's but a
// snapshot's, written by whoever wrote the snapshot.
func (s *suspension) mustUnwind(mod api.Module, name string) {
	s.globals(mod)
	if st := s.state.Get(); uint32(st) != suspend.StateUnwinding {
		panic(&snapshotMismatch{fmt.Errorf("the program called %s.%s while not unwinding (state %d)", suspend.ImportModule, name, uint32(st))})
	}
}

// mustRewind stops the program unless it is being resumed and rewinding.
func (s *suspension) mustRewind(mod api.Module, name string) {
	if s.rewinder == nil {
		panic(&snapshotMismatch{fmt.Errorf("the program called %s.%s while not resuming", suspend.ImportModule, name)})
	}
	s.globals(mod)
	if st := s.state.Get(); uint32(st) != suspend.StateRewinding {
		panic(&snapshotMismatch{fmt.Errorf("the program called %s.%s while not rewinding (state %d)", suspend.ImportModule, name, uint32(st))})
	}
}

// saved stops the program if saving a value or frame failed: over the
// limits of a suspended stack (a LimitError, which a program of any
// origin may reach), or a value the transform never saves.
func (s *suspension) saved(err error) {
	if err == nil {
		return
	}
	var bytesErr *frames.BytesError
	switch {
	case errors.As(err, &bytesErr):
		panic(&LimitError{Limit: "suspended stack", Detail: fmt.Sprintf(
			"the program's suspended call stack takes more than %d bytes, the limit for its memory cap (docs/SUSPEND.md)", bytesErr.Max)})
	case errors.Is(err, frames.ErrTooLarge):
		panic(&LimitError{Limit: "suspended stack", Detail: fmt.Sprintf(
			"%v (at most %d frames of %d values each)", err, frames.MaxFrames, frames.MaxValuesPerFrame)})
	}
	panic(&snapshotMismatch{err})
}

// snapshotMismatch is raised (as a panic) in a host function when the
// program being resumed does not restore what its snapshot holds.
type snapshotMismatch struct{ err error }

func (e *snapshotMismatch) Error() string {
	return "snapshot does not match the program: " + e.err.Error()
}
func (e *snapshotMismatch) Unwrap() error { return e.err }

// instantiateSuspend registers the host functions of the transform.
func (r *Runtime) instantiateSuspend(ctx context.Context) error {
	b := r.engine.NewHostModuleBuilder(suspend.ImportModule)
	fn := func(name string, params, results []api.ValueType, f func(s *suspension, mod api.Module, stack []uint64)) {
		b.NewFunctionBuilder().
			WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
				s := ctx.Value(bindingKey{}).(binding).suspension
				if s == nil {
					panic(errors.New(name + " called by a module that is not suspendable"))
				}
				f(s, mod, stack)
			}), params, results).
			WithName(name).
			Export(name)
	}
	i32, i64, f32, f64 := api.ValueTypeI32, api.ValueTypeI64, api.ValueTypeF32, api.ValueTypeF64
	fn("check", nil, nil, func(s *suspension, mod api.Module, _ []uint64) {
		s.rewound(mod)
		s.globals(mod)
		s.fuel.Set(checkInterval)
		if s.countdown > 0 {
			s.fuel.Set(1)
			if s.countdown--; s.countdown == 0 {
				s.requested.Store(true)
			}
		}
		if s.requested.Load() {
			s.state.Set(suspend.StateUnwinding)
		}
	})
	for _, t := range []struct {
		name string
		vt   api.ValueType
		ft   frames.Type
	}{{"i32", i32, frames.I32}, {"i64", i64, frames.I64}, {"f32", f32, frames.F32}, {"f64", f64, frames.F64}} {
		fn("save_"+t.name, []api.ValueType{t.vt}, nil, func(s *suspension, mod api.Module, stack []uint64) {
			s.mustUnwind(mod, "save_"+t.name)
			s.saved(s.stack.Save(t.ft, stack[0]))
		})
		fn("load_"+t.name, nil, []api.ValueType{t.vt}, func(s *suspension, mod api.Module, stack []uint64) {
			s.mustRewind(mod, "load_"+t.name)
			v, err := s.rewinder.Load(t.ft)
			if err != nil {
				panic(&snapshotMismatch{err})
			}
			stack[0] = v
		})
	}
	fn("save_frame", []api.ValueType{i32, i32}, nil, func(s *suspension, mod api.Module, stack []uint64) {
		s.mustUnwind(mod, "save_frame")
		s.saved(s.stack.SaveFrame(uint32(stack[0]), uint32(stack[1])))
	})
	fn("restore_frame", []api.ValueType{i32}, []api.ValueType{i32}, func(s *suspension, mod api.Module, stack []uint64) {
		s.mustRewind(mod, "restore_frame")
		point, err := s.rewinder.RestoreFrame(uint32(stack[0]))
		if err != nil {
			panic(&snapshotMismatch{err})
		}
		stack[0] = uint64(point)
	})
	if _, err := b.Instantiate(ctx); err != nil {
		return fmt.Errorf("registering the suspension functions: %w", err)
	}
	return nil
}

// MaxSnapshotSize is the size of the largest snapshot that Resume takes
// for a memory cap of memoryLimit bytes (0 meaning DefaultMemoryLimit):
// the memory, the program's module after the transform (1.8 times a Go
// program's: four times the limit on modules leaves room for any
// program's but the most contrived, whose snapshots are then refused),
// and 64 MiB for frames and the ABI's state. A larger file is refused
// before it is read.
func MaxSnapshotSize(memoryLimit uint64) uint64 {
	if memoryLimit == 0 {
		memoryLimit = DefaultMemoryLimit
	}
	return min(memoryLimit, wasm.MaxPages*wasm.PageSize) + 4*wasm.DefaultModuleLimits().ModuleSize + 64<<20
}

// CompileSuspendable compiles binary after the suspendable transform
// (docs/SUSPEND.md), so that its instances can be suspended with Suspend
// and written with WriteSnapshot, to be resumed with Resume. Otherwise it
// is Compile.
func (r *Runtime) CompileSuspendable(ctx context.Context, binary []byte, memoryLimit uint64) (*Module, error) {
	m, err := r.decodeProgram(binary)
	if err != nil {
		return nil, err
	}
	points, err := pointCounts(m)
	if err != nil {
		return nil, err
	}
	if err := checkSuspendable(m, points, r.suspendable); err != nil {
		return nil, err
	}
	t, err := suspend.Transform(m)
	if err != nil {
		return nil, &ModuleError{Reason: err.Error(), Err: err}
	}
	if err := checkSuspendable(t, points, r.suspendable); err != nil {
		return nil, err
	}
	compiled, err := suspendableModule(t)
	if err != nil {
		return nil, &ModuleError{Reason: err.Error(), Err: err}
	}
	mod, err := r.compile(ctx, wasm.Encode(compiled), memoryLimit)
	if err != nil {
		return nil, err
	}
	mod.transformed, mod.hash = t, sha256.Sum256(binary)
	return mod, nil
}

// suspendableModule adds to t, a module after the suspendable transform,
// what the host needs to reach its state: t itself gets the exports of
// its mutable globals (exportMutableGlobals), which its snapshots keep;
// the module returned, which is what is compiled, also has the accessors
// of its mutable v128 globals (package globals), which snapshots do not
// hold and resumeModule adds again. Without a mutable v128 global it is t.
func suspendableModule(t *wasm.Module) (*wasm.Module, error) {
	exportMutableGlobals(t)
	return globals.AddV128Accessors(t, globals.Host(t))
}

// exportMutableGlobals exports every mutable global that m defines, so
// that the host can read them all into a snapshot and set them when
// resuming; but not the transform's scratch globals (those after its fuel
// global), which hold nothing between calls of check.
func exportMutableGlobals(m *wasm.Module) {
	exported := make(map[string]bool)
	for _, e := range m.Exports {
		exported[e.Name] = true
	}
	for _, index := range globals.Host(m) {
		if name := globalExportPrefix + strconv.Itoa(int(index)); !exported[name] {
			m.Exports = append(m.Exports, wasm.Export{Name: name, Kind: wasm.ExternGlobal, Index: index})
		}
	}
}

// Suspend asks the instance's program to suspend at its next suspension
// point: Run then returns ErrSuspended. It may be called from any
// goroutine, before or during Run. It does nothing to an instance of a
// module not compiled with CompileSuspendable.
func (i *Instance) Suspend() {
	if i.suspension == nil {
		return
	}
	i.suspension.requested.Store(true)
	i.state.RequestSuspend()
}

// WriteSnapshot writes a suspended instance (Run returned ErrSuspended)
// to w as a snapshot (docs/SNAPSHOT.md), and returns the number of bytes
// written. The memory is written straight from the instance's: nothing
// of its size is allocated. The snapshot is checked before anything is
// written; an error of w is returned, wrapped.
func (i *Instance) WriteSnapshot(w io.Writer) (int64, error) {
	if !i.suspended {
		return 0, errors.New("snapshot of an instance that has not been suspended")
	}
	p, err := i.moduleInfo.resumeProgram()
	if err != nil {
		return 0, fmt.Errorf("snapshot: %w", err)
	}
	if err := i.checkCarriable(); err != nil {
		return 0, fmt.Errorf("snapshot: %w", err)
	}
	abi := i.state.Snapshot()
	st := snapshot.State{
		Globals: make(map[uint32][2]uint64),
		Frames:  i.suspension.stack.AppendBinary(nil),
		ABI:     abi.AppendBinary(nil),
	}
	if mem := i.module.Memory(); i.hasMemory {
		// A view of the memory, not a copy: the instance does not run
		// while suspended.
		b, ok := mem.Read(0, mem.Size())
		if !ok {
			return 0, errors.New("snapshot: reading the instance's memory")
		}
		st.Memory = b
	}
	m := p.Module()
	imported := uint32(m.NumImports(wasm.ExternGlobal))
	for _, index := range p.MutableGlobals() {
		t := m.Globals[index-imported].Type.Type
		if t.IsRef() {
			return 0, fmt.Errorf("snapshot: global %d holds a %v, which a snapshot cannot carry yet", index, t)
		}
		if t == wasm.V128 {
			// wazero's api.Global reads 64 bits: the accessor returns
			// both halves.
			v, err := i.callAccessor(globals.GetName(index))
			if err != nil {
				return 0, fmt.Errorf("snapshot: global %d: %w", index, err)
			}
			st.Globals[index] = [2]uint64{v[0], v[1]}
			continue
		}
		global := i.module.ExportedGlobal(globalExportPrefix + strconv.Itoa(int(index)))
		if global == nil {
			return 0, fmt.Errorf("snapshot: global %d is not exported to the host", index)
		}
		st.Globals[index] = [2]uint64{global.Get()}
	}
	return p.Write(w, i.hash, st)
}

// callAccessor calls one of the functions that package globals adds
// (they call nothing and touch nothing but their global, so they may run
// while the program is suspended or before it rewinds), and checks the
// number of results: two for a getter, none for a setter.
func (i *Instance) callAccessor(name string, args ...uint64) ([]uint64, error) {
	fn := i.module.ExportedFunction(name)
	if fn == nil {
		return nil, fmt.Errorf("the module exports no function %s", name)
	}
	results, err := fn.Call(context.Background(), args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if want := 2 - len(args); len(results) != want {
		return nil, fmt.Errorf("%s returned %d values, want %d", name, len(results), want)
	}
	return results, nil
}

// RemainingStdin returns the standard input that a snapshotted instance
// leaves to its successor: the bytes of a read that was under way when
// the snapshot was written and returned after it (the snapshot does not
// hold them), then the rest of the reader given in Options.Stdin. An
// instance resumed from the snapshot in the same process, with the same
// input, must be given this reader (Options.Stdin), not the original
// one, or those bytes are lost. Call it after WriteSnapshot or Snapshot.
func (i *Instance) RemainingStdin() io.Reader {
	return i.state.RemainingStdin()
}

// checkCarriable refuses a suspended state that a snapshot would not
// carry exactly: a module that changes its tables, or a frame that holds
// a reference that is not null (the transform saves only whether each
// reference was null, and restores null; docs/SUSPEND.md).
func (i *Instance) checkCarriable() error {
	refs, err := i.moduleInfo.snapshotRefs()
	if err != nil {
		return err
	}
	for _, f := range i.suspension.stack.Frames {
		if err := refs.Check(f.Func, f.Point, f.Values); err != nil {
			return err
		}
	}
	return nil
}

// Snapshot returns a suspended instance's snapshot: WriteSnapshot into
// memory.
func (i *Instance) Snapshot() ([]byte, error) {
	var b bytes.Buffer
	if p, err := i.moduleInfo.resumeProgram(); err == nil {
		b.Grow(len(p.Binary()) + int(i.MemorySize()) + 1<<16)
	}
	if _, err := i.WriteSnapshot(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// resumeKey identifies a resume module in a runtime: the SHA-256 of its
// binary and the memory cap it was compiled with.
type resumeKey struct {
	sum   [sha256.Size]byte
	pages uint64
}

// resumeModule returns p's resume module compiled for memoryLimit: from
// the runtime's own modules if it has compiled it before, else validated
// and compiled (by the engine, from its compiled-code cache if that has
// it) and kept.
func (r *Runtime) resumeModule(ctx context.Context, p *snapshot.Program, memoryLimit uint64) (*Module, error) {
	pages, err := capPages(memoryLimit)
	if err != nil {
		return nil, err
	}
	key := resumeKey{sha256.Sum256(p.Binary()), pages}
	r.resumeMu.Lock()
	mod := r.resumeModules[key]
	r.resumeMu.Unlock()
	if mod != nil {
		return mod, nil
	}
	// What a snapshot says is as untrusted as a program: validate the
	// code (only the code: the memory is not part of this module), and
	// check that the host can reach every global it must set.
	m := p.Module()
	if err := wasm.Validate(m); err != nil {
		return nil, &ModuleError{Reason: "snapshot: invalid module: " + err.Error(), Err: err}
	}
	points, err := pointCounts(m)
	if err == nil {
		err = checkSuspendable(m, points, r.suspendable)
	}
	if err == nil {
		err = r.checkImportsOf(m.Types, m.Imports, true)
	}
	if err != nil {
		var me *ModuleError
		if errors.As(err, &me) {
			me.Reason = "snapshot: " + me.Reason
		}
		return nil, err
	}
	if err := checkResumeExports(p); err != nil {
		return nil, &ModuleError{Reason: "snapshot: " + err.Error(), Err: err}
	}
	// The accessors of its v128 globals, as CompileSuspendable adds
	// them to the program: same functions at the same indices.
	withAccessors, err := globals.AddV128Accessors(m, p.MutableGlobals())
	if err != nil {
		return nil, &ModuleError{Reason: "snapshot: " + err.Error(), Err: err}
	}
	bin := p.Binary()
	if withAccessors != m {
		bin = wasm.Encode(withAccessors)
	}
	mod, err = r.compile(ctx, bin, memoryLimit)
	if err != nil {
		return nil, err
	}
	mod.transformed, mod.program = m, p
	mod.programOnce.Do(func() {}) // program is set
	r.resumeMu.Lock()
	defer r.resumeMu.Unlock()
	if kept := r.resumeModules[key]; kept != nil { // compiled meanwhile
		mod.Close(ctx)
		return kept, nil
	}
	r.resumeModules[key] = mod
	return mod, nil
}

// checkResumeExports checks that a resume module exports every mutable
// global it defines as gate_suspend.global.<index>, and the transform's
// fuel global: Resume sets them all before any code runs.
func checkResumeExports(p *snapshot.Program) error {
	m := p.Module()
	exports := make(map[string]wasm.Export, len(m.Exports))
	for _, e := range m.Exports {
		exports[e.Name] = e
	}
	for _, index := range p.MutableGlobals() {
		e, ok := exports[globalExportPrefix+strconv.Itoa(int(index))]
		if !ok || e.Kind != wasm.ExternGlobal || e.Index != index {
			return fmt.Errorf("mutable global %d is not exported as %s%d", index, globalExportPrefix, index)
		}
	}
	if _, ok := p.FuelIndex(); !ok {
		return fmt.Errorf("the module exports no global %s", suspend.FuelExport)
	}
	return nil
}

// PrepareResume compiles, ahead of time, the module that resumes the
// snapshots of m's program (m compiled by CompileSuspendable, in this
// runtime or another), for Resume with the same memoryLimit: compiled
// code is cached by what it is compiled from, and the memory cap is part
// of that. With Config.CacheDir the code is kept on disk, where the first
// Resume of another process, created with the same Config, finds it; it
// is kept in this runtime until Close either way. Call it after writing a
// snapshot, so that the program's resumption need not compile it.
func (r *Runtime) PrepareResume(ctx context.Context, m *Module, memoryLimit uint64) error {
	if m.transformed == nil {
		return errors.New("prepare resume: the module was not compiled with CompileSuspendable")
	}
	p, err := m.resumeProgram()
	if err != nil {
		return fmt.Errorf("prepare resume: %w", err)
	}
	if _, err := r.resumeModule(ctx, p, memoryLimit); err != nil {
		return fmt.Errorf("prepare resume: %w", err)
	}
	return nil
}

// PrepareResume is the runtime's PrepareResume of the instance's module.
func (i *Instance) PrepareResume(ctx context.Context, memoryLimit uint64) error {
	return i.runtime.PrepareResume(ctx, i.moduleInfo, memoryLimit)
}

// Resume returns an instance that continues the program of a snapshot
// when run. opts gives the new instance's streams; its arguments and
// environment are those of the snapshot. Its memory must fit
// memoryLimit.
//
// The snapshot is not compiled as a module of its own: its program's
// canonical resume module is (see snapshot.NewProgram), which is the same
// for every snapshot of the program, so that compiled code is reused
// (kept in the runtime, and in Config.CacheDir; see PrepareResume). Once
// instantiated, its memory is grown to the snapshot's size, the
// snapshot's pages are copied in, its mutable globals are set, and the
// state is set to rewinding. Everything is checked before anything of the
// snapshot runs (docs/SNAPSHOT.md).
func (r *Runtime) Resume(ctx context.Context, binary []byte, memoryLimit uint64, opts Options) (*Instance, error) {
	if max := MaxSnapshotSize(memoryLimit); uint64(len(binary)) > max {
		return nil, &ModuleError{Reason: fmt.Sprintf("snapshot of %d bytes, more than any snapshot for a memory cap of %d bytes may be (%d)",
			len(binary), memoryLimit, max)}
	}
	snap, err := snapshot.ParseUnverified(binary)
	if err != nil {
		return nil, &ModuleError{Reason: err.Error(), Err: err}
	}
	// The checksum is computed on another goroutine, where a core is
	// usually free, while the instance is prepared: it is a pass over the
	// whole file, as long as the copy of the memory. Nothing runs before
	// it is known to be right.
	verified := make(chan error, 1)
	go func() { verified <- snap.Verify() }()
	inst, err := r.resume(ctx, snap, memoryLimit, opts)
	if verr := <-verified; verr != nil {
		if inst != nil {
			inst.Close(ctx)
		}
		// Damage explains any other error.
		return nil, &ModuleError{Reason: verr.Error(), Err: verr}
	}
	return inst, err
}

// resume is Resume of a snapshot whose checksum is being verified.
func (r *Runtime) resume(ctx context.Context, snap *snapshot.Snapshot, memoryLimit uint64, opts Options) (*Instance, error) {
	stack, err := frames.Parse(snap.Frames)
	if err != nil {
		return nil, &ModuleError{Reason: "snapshot: " + err.Error(), Err: err}
	}
	rewinder, err := frames.NewRewinder(stack)
	if err != nil {
		return nil, &ModuleError{Reason: "snapshot: frames: " + err.Error(), Err: err}
	}
	abi, err := wasi.ParseSnapshot(snap.ABI)
	if err != nil {
		return nil, &ModuleError{Reason: "snapshot: " + err.Error(), Err: err}
	}
	// Gate never writes a snapshot of a program given more.
	if err := CheckArgs(abi.Args, abi.Env); err != nil {
		return nil, &ModuleError{Reason: "snapshot: " + err.Error(), Err: err}
	}
	lim := snapshotLimits(r.limits)
	p, values, err := snap.Program(&lim)
	if err != nil {
		return nil, &ModuleError{Reason: err.Error(), Err: err}
	}
	if err := checkResumeGlobals(p); err != nil {
		return nil, &ModuleError{Reason: "snapshot: " + err.Error(), Err: err}
	}
	if err := checkSuspendedState(p, values, stack); err != nil {
		return nil, &ModuleError{Reason: "snapshot: " + err.Error(), Err: err}
	}
	pages, err := capPages(memoryLimit)
	if err != nil {
		return nil, err
	}
	if uint64(snap.MemoryPages) > pages {
		capErr := &wasm.MemoryCapError{MinPages: snap.MemoryPages, CapPages: uint32(pages)}
		return nil, &ModuleError{Reason: "snapshot: " + capErr.Error(), Err: capErr}
	}
	// Parse has checked the memory against the module's maximum and
	// the stored pages against the memory's size.
	mod, err := r.resumeModule(ctx, p, memoryLimit)
	if err != nil {
		return nil, err
	}
	state, err := wasi.Restore(opts.wasiConfig(), abi)
	if err != nil {
		return nil, &ModuleError{Reason: "snapshot: WASI state: " + err.Error(), Err: err}
	}
	ictx := ctx
	if snap.MemoryPages > 0 || opts.MemoryGrown != nil {
		ictx = experimental.WithMemoryAllocator(ctx, newResumeMemory(snap, opts.MemoryGrown))
	}
	inst, err := r.instantiate(ictx, mod, state, newSuspension(mod, rewinder))
	if err != nil {
		return nil, err
	}
	inst.hash = snap.ModuleHash
	if err := inst.restore(p, snap, values); err != nil {
		inst.Close(ctx)
		return nil, &ModuleError{Reason: "snapshot: " + err.Error(), Err: err}
	}
	return inst, nil
}

// checkResumeGlobals refuses a program with a mutable global that the
// host cannot set: a reference, which WriteSnapshot does not write
// either. (A v128 is set through its accessor, package globals.)
func checkResumeGlobals(p *snapshot.Program) error {
	m := p.Module()
	imported := uint32(m.NumImports(wasm.ExternGlobal))
	for _, index := range p.MutableGlobals() {
		if t := m.Globals[index-imported].Type.Type; t.IsRef() {
			return fmt.Errorf("global %d holds a %v, which a snapshot cannot carry yet", index, t)
		}
	}
	return nil
}

// checkSuspendedState refuses a snapshot whose transform globals or
// frames are not what a suspension of its code leaves: the state global
// rewinding and the fuel 0 (as WriteSnapshot writes them), and frames
// that name suspension points their functions have, as found in the
// snapshot's code (suspend.Points), never in a record the snapshot
// carries: the innermost stopped at a check site or in a call that
// makes no frame of its own (an import, through call or call_indirect),
// every other at a call of the function of the frame inside it.
func checkSuspendedState(p *snapshot.Program, values map[uint32][2]uint64, stack *frames.Stack) error {
	if v := values[p.StateIndex()][0]; v != suspend.StateRewinding {
		return fmt.Errorf("the state global %s is %d; a suspended program's is %d (rewinding)", suspend.StateExport, v, suspend.StateRewinding)
	}
	if fuel, ok := p.FuelIndex(); ok && values[fuel][0] != 0 {
		return fmt.Errorf("the fuel global %s is %d; a suspended program's is 0", suspend.FuelExport, int32(values[fuel][0]))
	}
	points := suspend.NewPoints(p.Module())
	for i, f := range stack.Frames {
		all, err := points.Of(f.Func)
		if err != nil {
			return fmt.Errorf("frame %d: %w", i, err)
		}
		if f.Point == 0 || uint64(f.Point) > uint64(len(all)) {
			return fmt.Errorf("frame %d (innermost first) names suspension point %d of function %d, which has %d", i, f.Point, f.Func, len(all))
		}
		point := all[f.Point-1]
		if i == 0 {
			if point.Kind == suspend.PointCall && uint64(point.Callee) >= uint64(p.Module().NumImports(wasm.ExternFunc)) {
				return fmt.Errorf("the innermost frame, of function %d, stopped at point %d, a call of function %d, which would have saved a frame of its own", f.Func, f.Point, point.Callee)
			}
			continue
		}
		inner := stack.Frames[i-1].Func
		switch point.Kind {
		case suspend.PointEntry, suspend.PointLoop:
			return fmt.Errorf("frame %d, of function %d, stopped at point %d, a check site, but holds the frame of function %d", i, f.Func, f.Point, inner)
		case suspend.PointCall:
			if point.Callee != inner {
				return fmt.Errorf("frame %d, of function %d, stopped at point %d, a call of function %d, but holds the frame of function %d", i, f.Func, f.Point, point.Callee, inner)
			}
		}
	}
	return nil
}

// copyChunk is the most newResumeMemory copies at once.
const copyChunk = 1 << 20

// linearMemory is an instance's linear memory, allocated through wazero's
// experimental.MemoryAllocator when Options.MemoryGrown is set or the
// instance is resumed; otherwise wazero allocates it. It grows as
// wazero's own memory does, by appending to a Go slice, and reports
// every size it has to grown, from the first (a resumed instance's: the
// snapshot's).
//
// A resumed instance's memory starts as a buffer that already holds the
// snapshot's pages (full), which restore's Grow to the snapshot's size
// hands to the instance. The alternative, growing zeroed memory and
// copying the pages over it, clears the whole memory first in one call
// that cannot be preempted: in a new process the garbage collector,
// started by these large allocations, then interrupts it with preemption
// signals again and again.
type linearMemory struct {
	buf   []byte // len(buf) is the memory's current size
	full  []byte // the snapshot's pages, until the memory has them
	grown func(size uint64)
}

// newResumeMemory returns a memory holding the snapshot's pages. The
// buffer is new, so zero where no page is stored; the copy is made in
// pieces, so that the goroutine can be preempted meanwhile.
func newResumeMemory(snap *snapshot.Snapshot, grown func(uint64)) *linearMemory {
	if snap.MemoryPages == 0 {
		return &linearMemory{grown: grown}
	}
	full := make([]byte, uint64(snap.MemoryPages)*wasm.PageSize)
	for _, run := range snap.Memory { // within full: Parse checked
		for done := 0; done < len(run.Data); done += copyChunk {
			copy(full[int(run.Offset)+done:], run.Data[done:min(done+copyChunk, len(run.Data))])
			// copy is not a preemption point: without this, the
			// collector signals the thread again and again until
			// the loop ends, slowing the page faults of the copy.
			goruntime.Gosched()
		}
	}
	return &linearMemory{full: full, grown: grown}
}

// Allocate implements experimental.MemoryAllocator: the modules Gate
// instantiates with it have one memory.
func (m *linearMemory) Allocate(capacity, _ uint64) experimental.LinearMemory {
	if m.full == nil {
		m.buf = make([]byte, 0, capacity)
	}
	return m
}

// Reallocate implements experimental.LinearMemory: size bytes, the old
// ones kept and the new ones the snapshot's if within its size, else
// zero.
func (m *linearMemory) Reallocate(size uint64) []byte {
	switch {
	case size <= uint64(len(m.buf)):
		m.buf = m.buf[:size] // not asked for by wazero: memory does not shrink
	case m.full != nil && size <= uint64(len(m.full)):
		// The instance's minimum (0), then the snapshot's size.
		m.buf = m.full[:size]
		if size == uint64(len(m.full)) {
			m.full = nil
		}
	default:
		m.buf = append(m.buf, make([]byte, size-uint64(len(m.buf)))...)
		m.full = nil
	}
	// A resumed instance's memory has its first size when it has
	// the snapshot's pages.
	if m.grown != nil && m.full == nil {
		m.grown(size)
	}
	return m.buf
}

// Free implements experimental.LinearMemory.
func (m *linearMemory) Free() { m.buf, m.full = nil, nil }

// restore gives a fresh instance of a resume module the snapshot's memory
// and globals, and makes it rewind when run. No code of it has run: the
// resume module has no start function.
func (i *Instance) restore(p *snapshot.Program, snap *snapshot.Snapshot, values map[uint32][2]uint64) error {
	if snap.MemoryPages > 0 {
		mem := i.module.Memory()
		have := mem.Size() / wasm.PageSize // 0: the resume module's minimum
		if have > snap.MemoryPages {
			return fmt.Errorf("memory of %d pages is larger than the snapshot's %d", have, snap.MemoryPages)
		}
		// The memory is a linearMemory that holds the snapshot's
		// pages: growing it to their size makes them the memory.
		if _, ok := mem.Grow(snap.MemoryPages - have); !ok {
			return fmt.Errorf("growing memory from %d to %d pages failed", have, snap.MemoryPages)
		}
	}
	fuel, hasFuel := p.FuelIndex()
	m := p.Module()
	imported := uint32(m.NumImports(wasm.ExternGlobal))
	for _, index := range p.MutableGlobals() {
		if m.Globals[index-imported].Type.Type == wasm.V128 {
			v := values[index]
			if _, err := i.callAccessor(globals.SetName(index), v[0], v[1]); err != nil {
				return fmt.Errorf("global %d: %w", index, err)
			}
			continue
		}
		g, ok := i.module.ExportedGlobal(globalExportPrefix + strconv.Itoa(int(index))).(api.MutableGlobal)
		if !ok {
			return fmt.Errorf("mutable global %d is not exported to the host", index)
		}
		v := values[index][0]
		switch {
		case index == p.StateIndex():
			v = suspend.StateRewinding
		case hasFuel && index == fuel:
			// Fuel is at most 0 while rewinding (docs/SUSPEND.md): the
			// check sites passed on the way take their slow path.
			v = 0
		}
		g.Set(v)
	}
	return nil
}

// SnapshotInfo is what InspectSnapshot finds in a snapshot.
type SnapshotInfo struct {
	Version      uint32
	ModuleHash   [32]byte
	MemoryPages  uint32
	MemoryStored uint64 // bytes of memory in data segments
	Args, Env    []string
	Monotonic    time.Duration
	PendingInput int
	// Frames are the unwound call stack, innermost first.
	Frames []FrameInfo
}

// FrameInfo describes one frame of a snapshot.
type FrameInfo struct {
	Function uint32 // index in the transformed module
	Point    uint32
	Values   int
}

// InspectSnapshot checks a snapshot's format and says what it holds,
// without compiling or running it.
func InspectSnapshot(binary []byte) (*SnapshotInfo, error) {
	return InspectSnapshotAt(bytes.NewReader(binary), int64(len(binary)))
}

// InspectSnapshotAt is InspectSnapshot of the snapshot of size bytes that
// r holds. It reads the sections' headers and the sections it needs,
// but not the memory's runs, except once, in pieces, for the checksum;
// it refuses a size larger than any snapshot at once. So a file of any
// size is described or refused with little memory.
func InspectSnapshotAt(r io.ReaderAt, size int64) (*SnapshotInfo, error) {
	snap, err := snapshot.ParseAt(r, size)
	if err != nil {
		return nil, err
	}
	stack, err := frames.Parse(snap.Frames)
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	abi, err := wasi.ParseSnapshot(snap.ABI)
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	lim := snapshotLimits(wasm.DefaultModuleLimits())
	p, values, err := snap.Program(&lim)
	if err != nil {
		return nil, err
	}
	if err := checkSuspendedState(p, values, stack); err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	info := &SnapshotInfo{
		Version:      snap.Version,
		ModuleHash:   snap.ModuleHash,
		MemoryPages:  snap.MemoryPages,
		Args:         abi.Args,
		Env:          abi.Env,
		Monotonic:    time.Duration(abi.Monotonic),
		PendingInput: len(abi.Stdin),
	}
	info.MemoryStored = snap.Stored
	for _, f := range stack.Frames {
		info.Frames = append(info.Frames, FrameInfo{Function: f.Func, Point: f.Point, Values: len(f.Values)})
	}
	return info, nil
}

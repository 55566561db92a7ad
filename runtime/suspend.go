package runtime

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/gate-wasm/gate/runtime/internal/frames"
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
		fn("save_"+t.name, []api.ValueType{t.vt}, nil, func(s *suspension, _ api.Module, stack []uint64) {
			if err := s.stack.Save(t.ft, stack[0]); err != nil {
				panic(&snapshotMismatch{err})
			}
		})
		fn("load_"+t.name, nil, []api.ValueType{t.vt}, func(s *suspension, _ api.Module, stack []uint64) {
			if s.rewinder == nil {
				panic(&snapshotMismatch{errors.New("load_" + t.name + " while not resuming")})
			}
			v, err := s.rewinder.Load(t.ft)
			if err != nil {
				panic(&snapshotMismatch{err})
			}
			stack[0] = v
		})
	}
	fn("save_frame", []api.ValueType{i32, i32}, nil, func(s *suspension, _ api.Module, stack []uint64) {
		if err := s.stack.SaveFrame(uint32(stack[0]), uint32(stack[1])); err != nil {
			panic(&snapshotMismatch{err})
		}
	})
	fn("restore_frame", []api.ValueType{i32}, []api.ValueType{i32}, func(s *suspension, _ api.Module, stack []uint64) {
		if s.rewinder == nil {
			panic(&snapshotMismatch{errors.New("restore_frame while not resuming")})
		}
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

// CompileSuspendable compiles binary after the suspendable transform
// (docs/SUSPEND.md), so that its instances can be suspended with Suspend
// and written with Snapshot, to be resumed with Resume. Otherwise it is
// Compile.
func (r *Runtime) CompileSuspendable(ctx context.Context, binary []byte, memoryLimit uint64) (*Module, error) {
	m, err := wasm.Decode(binary)
	if err != nil {
		return nil, &ModuleError{Reason: "invalid module: " + err.Error(), Err: err}
	}
	if err := wasm.Validate(m); err != nil {
		return nil, &ModuleError{Reason: "invalid module: " + err.Error(), Err: err}
	}
	t, err := suspend.Transform(m)
	if err != nil {
		return nil, &ModuleError{Reason: err.Error(), Err: err}
	}
	exportMutableGlobals(t)
	return r.compileTransformed(ctx, t, sha256.Sum256(binary), memoryLimit)
}

// compileTransformed compiles a module that has been through the
// transform: a program's or a snapshot's.
func (r *Runtime) compileTransformed(ctx context.Context, t *wasm.Module, hash [sha256.Size]byte, memoryLimit uint64) (*Module, error) {
	mod, err := r.compile(ctx, wasm.Encode(t), memoryLimit, true)
	if err != nil {
		return nil, err
	}
	mod.transformed, mod.hash = t, hash
	return mod, nil
}

// exportMutableGlobals exports every mutable global that m defines, so
// that the host can read them all into a snapshot.
func exportMutableGlobals(m *wasm.Module) {
	exported := make(map[string]bool)
	for _, e := range m.Exports {
		exported[e.Name] = true
	}
	imported := uint32(m.NumImports(wasm.ExternGlobal))
	for i, g := range m.Globals {
		name := globalExportPrefix + strconv.Itoa(int(imported)+i)
		if g.Type.Mutable && !exported[name] {
			m.Exports = append(m.Exports, wasm.Export{Name: name, Kind: wasm.ExternGlobal, Index: imported + uint32(i)})
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

// Snapshot writes a suspended instance (Run returned ErrSuspended) as a
// snapshot (docs/SNAPSHOT.md).
func (i *Instance) Snapshot() ([]byte, error) {
	if !i.suspended {
		return nil, errors.New("snapshot of an instance that has not been suspended")
	}
	st := snapshot.State{
		Globals: make(map[uint32][2]uint64),
		Frames:  i.suspension.stack.AppendBinary(nil),
	}
	abi := i.state.Snapshot()
	st.ABI = abi.AppendBinary(nil)
	if mem := i.module.Memory(); i.hasMemory {
		b, ok := mem.Read(0, mem.Size())
		if !ok {
			return nil, errors.New("reading the instance's memory")
		}
		st.Memory = b
	}
	t := i.moduleInfo.transformed
	imported := uint32(t.NumImports(wasm.ExternGlobal))
	for j, g := range t.Globals {
		if !g.Type.Mutable {
			continue
		}
		index := imported + uint32(j)
		if !g.Type.Type.IsNum() {
			return nil, fmt.Errorf("global %d holds a %v, which a snapshot cannot carry yet", index, g.Type.Type)
		}
		global := i.module.ExportedGlobal(globalExportPrefix + strconv.Itoa(int(index)))
		if global == nil {
			return nil, fmt.Errorf("global %d is not exported to the host", index)
		}
		st.Globals[index] = [2]uint64{global.Get()}
	}
	return snapshot.Build(t, i.moduleInfo.hash, st)
}

// Resume compiles a snapshot and returns an instance that continues the
// program when run. opts gives the new instance's streams; its arguments
// and environment are those of the snapshot. The snapshot is checked
// before anything of it runs (docs/SNAPSHOT.md); its memory must fit
// memoryLimit.
func (r *Runtime) Resume(ctx context.Context, binary []byte, memoryLimit uint64, opts Options) (*Instance, error) {
	snap, err := snapshot.Parse(binary)
	if err != nil {
		return nil, &ModuleError{Reason: err.Error(), Err: err}
	}
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
	m, err := wasm.Decode(snap.Module)
	if err == nil {
		err = wasm.Validate(m) // a snapshot is as untrusted as a program
	}
	if err != nil {
		return nil, &ModuleError{Reason: "snapshot: " + err.Error(), Err: err}
	}
	mod, err := r.compileTransformed(ctx, m, snap.ModuleHash, memoryLimit)
	if err != nil {
		return nil, err
	}
	state, err := wasi.Restore(opts.wasiConfig(), abi)
	if err != nil {
		mod.Close(ctx)
		return nil, &ModuleError{Reason: "snapshot: WASI state: " + err.Error(), Err: err}
	}
	return r.instantiate(ctx, mod, state, &suspension{rewinder: rewinder})
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
	snap, err := snapshot.Parse(binary)
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
	m, err := wasm.Decode(snap.Module)
	if err != nil {
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
	for _, d := range m.Data {
		if d.Mode == wasm.Active {
			info.MemoryStored += uint64(len(d.Init))
		}
	}
	for _, f := range stack.Frames {
		info.Frames = append(info.Frames, FrameInfo{Function: f.Func, Point: f.Point, Values: len(f.Values)})
	}
	return info, nil
}

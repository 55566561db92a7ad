package runtime_test

import (
	"context"
	"errors"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/gate-wasm/gate/runtime"
	"github.com/gate-wasm/gate/runtime/internal/frames"
	"github.com/gate-wasm/gate/runtime/internal/snapshot"
	"github.com/gate-wasm/gate/runtime/internal/wasi"
	"github.com/gate-wasm/gate/wasm"
)

// forgedModule is a module that passes for a transformed program (the
// transform's exported globals, state 0 and fuel 1, each exported as a
// global the host sets) and imports from gate_suspend what body calls:
// imports are the gate_suspend function names, with their types, in the
// order of their function indices; _start is the function after them.
func forgedModule(imports []string, body []wasm.Instr) *wasm.Module {
	types := map[string]wasm.FuncType{
		"check":         {},
		"save_i32":      {Params: []wasm.ValType{wasm.I32}},
		"save_frame":    {Params: []wasm.ValType{wasm.I32, wasm.I32}},
		"restore_frame": {Params: []wasm.ValType{wasm.I32}, Results: []wasm.ValType{wasm.I32}},
		"load_i32":      {Results: []wasm.ValType{wasm.I32}},
	}
	m := &wasm.Module{Types: []wasm.FuncType{{}}}
	for _, name := range imports {
		m.Types = append(m.Types, types[name])
		m.Imports = append(m.Imports, wasm.Import{Module: "gate_suspend", Name: name, Kind: wasm.ExternFunc, Type: uint32(len(m.Types) - 1)})
	}
	zero := wasm.EncodeBody([]wasm.Instr{{Op: wasm.OpI32Const}, {Op: wasm.OpEnd}})
	mutI32 := wasm.GlobalType{Type: wasm.I32, Mutable: true}
	m.Globals = []wasm.Global{{Type: mutI32, Init: zero}, {Type: mutI32, Init: zero}}
	start := uint32(len(imports))
	m.Funcs = []uint32{0}
	m.Exports = []wasm.Export{
		{Name: "_start", Kind: wasm.ExternFunc, Index: start},
		{Name: "gate_suspend.state", Kind: wasm.ExternGlobal, Index: 0},
		{Name: "gate_suspend.fuel", Kind: wasm.ExternGlobal, Index: 1},
		{Name: "gate_suspend.global.0", Kind: wasm.ExternGlobal, Index: 0},
		{Name: "gate_suspend.global.1", Kind: wasm.ExternGlobal, Index: 1},
	}
	m.Code = []wasm.Code{{Body: wasm.EncodeBody(append(body, wasm.Instr{Op: wasm.OpEnd}))}}
	return m
}

// forgedSnapshot is a snapshot of m (see forgedModule) with one frame,
// of _start at point 1, holding no values.
func forgedSnapshot(t testing.TB, m *wasm.Module) []byte {
	t.Helper()
	var st frames.Stack
	if err := st.SaveFrame(uint32(len(m.Imports)), 1); err != nil {
		t.Fatal(err)
	}
	abi := wasi.Snapshot{Monotonic: 1e9}
	snap, err := snapshot.Build(m, [32]byte{}, snapshot.State{Frames: st.AppendBinary(nil), ABI: abi.AppendBinary(nil), Globals: map[uint32][2]uint64{0: {}, 1: {}}})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// forgedLoops are bodies of a _start that sets the state to unwinding
// and saves, for ever: values into one frame, or frames of one value
// each (save_i32 is function 0, save_frame function 1).
var forgedLoops = map[string][]wasm.Instr{
	"values": {
		wasm.BlockInstr(wasm.OpLoop, wasm.BlockEmpty),
		{Op: wasm.OpI32Const, Imm: 1}, {Op: wasm.OpGlobalSet, X: 0},
		{Op: wasm.OpI32Const, Imm: 7}, {Op: wasm.OpCall, X: 0},
		{Op: wasm.OpBr, X: 0},
		{Op: wasm.OpEnd},
	},
	"frames": {
		wasm.BlockInstr(wasm.OpLoop, wasm.BlockEmpty),
		{Op: wasm.OpI32Const, Imm: 1}, {Op: wasm.OpGlobalSet, X: 0},
		{Op: wasm.OpI32Const, Imm: 7}, {Op: wasm.OpCall, X: 0},
		{Op: wasm.OpI32Const, Imm: 2}, {Op: wasm.OpI32Const, Imm: 1}, {Op: wasm.OpCall, X: 1},
		{Op: wasm.OpBr, X: 0},
		{Op: wasm.OpEnd},
	},
}

// TestForgedSaveLoop resumes snapshots whose code, which is whoever
// wrote the snapshot's, saves values or frames in a loop while it says it
// unwinds: the frames the host keeps count against the memory cap, so it
// stops with one error that names the limit, and the host's heap grows
// by a small multiple of the cap, not without bound.
func TestForgedSaveLoop(t *testing.T) {
	// Not parallel: the heap is measured.
	ctx := context.Background()
	rt := newRuntime(t, runtime.Config{Interruptible: true})
	const memoryCap = 16 << 20
	for _, name := range []string{"values", "frames"} {
		snap := forgedSnapshot(t, forgedModule([]string{"save_i32", "save_frame"}, forgedLoops[name]))
		var before, after goruntime.MemStats
		goruntime.GC()
		goruntime.ReadMemStats(&before)
		start := time.Now()
		inst, err := rt.Resume(ctx, snap, memoryCap, runtime.Options{})
		if err == nil {
			_, err = inst.Run(ctx, 20*time.Second)
			inst.Close(ctx)
		}
		elapsed := time.Since(start)
		goruntime.ReadMemStats(&after)
		allocated := after.TotalAlloc - before.TotalAlloc
		t.Logf("%s: forged snapshot of %d bytes: %v after %v; %.1f MiB allocated, heap %.1f MiB after",
			name, len(snap), err, elapsed, float64(allocated)/(1<<20), float64(after.HeapAlloc)/(1<<20))
		var limit *runtime.LimitError
		if !errors.As(err, &limit) || limit.Limit != "suspended stack" {
			t.Errorf("%s: resumed and run: %v; want a LimitError of the suspended stack", name, err)
		}
		// Within one frame the per-frame count is reached first.
		if name == "frames" && !strings.Contains(err.Error(), "16777216 bytes") {
			t.Errorf("%s: %v; want the error to name the 16 MiB limit", name, err)
		}
		if allocated > 128<<20 {
			t.Errorf("%s: the host allocated %d MiB for a 16 MiB memory cap", name, allocated>>20)
		}
	}
}

// TestForgedSuspendCalls resumes snapshots whose code calls the
// transform's functions when the transform's code never would: each
// stops the program with an error that says what it called and when.
func TestForgedSuspendCalls(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	setState := func(v uint64) []wasm.Instr {
		return []wasm.Instr{{Op: wasm.OpI32Const, Imm: v}, {Op: wasm.OpGlobalSet, X: 0}}
	}
	cases := []struct {
		name    string
		imports []string
		body    []wasm.Instr
		want    string
	}{
		{"save_i32 while rewinding", []string{"save_i32"},
			[]wasm.Instr{{Op: wasm.OpI32Const, Imm: 7}, {Op: wasm.OpCall, X: 0}},
			"called gate_suspend.save_i32 while not unwinding (state 2)"},
		{"save_frame in state normal", []string{"save_frame"},
			append(setState(0), wasm.Instr{Op: wasm.OpI32Const, Imm: 1}, wasm.Instr{Op: wasm.OpI32Const, Imm: 1}, wasm.Instr{Op: wasm.OpCall, X: 0}),
			"called gate_suspend.save_frame while not unwinding (state 0)"},
		{"restore_frame while unwinding", []string{"restore_frame"},
			append(setState(1), wasm.Instr{Op: wasm.OpI32Const, Imm: 1}, wasm.Instr{Op: wasm.OpCall, X: 0}, wasm.Instr{Op: wasm.OpDrop}),
			"called gate_suspend.restore_frame while not rewinding (state 1)"},
		{"load_i32 in state normal", []string{"load_i32"},
			append(setState(0), wasm.Instr{Op: wasm.OpCall, X: 0}, wasm.Instr{Op: wasm.OpDrop}),
			"called gate_suspend.load_i32 while not rewinding (state 0)"},
		{"load_i32 after the rewind", []string{"restore_frame", "check", "load_i32"},
			[]wasm.Instr{{Op: wasm.OpI32Const, Imm: 3}, {Op: wasm.OpCall, X: 0}, {Op: wasm.OpDrop},
				{Op: wasm.OpCall, X: 1}, {Op: wasm.OpCall, X: 2}, {Op: wasm.OpDrop}},
			"called gate_suspend.load_i32 while not resuming"},
		{"unwound without a frame", []string{"restore_frame"},
			append([]wasm.Instr{{Op: wasm.OpI32Const, Imm: 1}, {Op: wasm.OpCall, X: 0}, {Op: wasm.OpDrop}}, setState(1)...),
			"unwound without saving its frames"},
		{"unwound within a frame", []string{"restore_frame", "save_i32"},
			append([]wasm.Instr{{Op: wasm.OpI32Const, Imm: 2}, {Op: wasm.OpCall, X: 0}, {Op: wasm.OpDrop}},
				append(setState(1), wasm.Instr{Op: wasm.OpI32Const, Imm: 7}, wasm.Instr{Op: wasm.OpCall, X: 1})...),
			"unwound without saving its frames"},
	}
	for _, c := range cases {
		// The loop gives the frame its point 1.
		body := append([]wasm.Instr{wasm.BlockInstr(wasm.OpLoop, wasm.BlockEmpty)}, c.body...)
		body = append(body, wasm.Instr{Op: wasm.OpEnd})
		snap := forgedSnapshot(t, forgedModule(c.imports, body))
		rt := newRuntime(t, runtime.Config{})
		inst, err := rt.Resume(ctx, snap, 1<<20, runtime.Options{})
		if err != nil {
			t.Errorf("%s: Resume: %v", c.name, err)
			continue
		}
		_, err = inst.Run(ctx, 0)
		inst.Close(ctx)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Run: %v; want an error with %q", c.name, err, c.want)
		}
		noTrace(t, c.name, err)
	}
}

// TestSuspendProgramBadPoints resumes snapshots of a small C program
// whose frames name suspension points that their functions do not have,
// or points that no suspension leaves in their place, or whose transform
// globals hold what no suspension writes: Resume refuses each before
// anything runs, with an error that says what is wrong.
func TestSuspendProgramBadPoints(t *testing.T) {
	t.Parallel()
	snap, want := tinySuspended(t)
	setGlobal := func(name string, v uint64) func(m *wasm.Module) {
		return func(m *wasm.Module) {
			for _, e := range m.Exports {
				if e.Name == name {
					m.Globals[int(e.Index)-m.NumImports(wasm.ExternGlobal)].Init = wasm.EncodeBody([]wasm.Instr{{Op: wasm.OpI32Const, Imm: v}, {Op: wasm.OpEnd}})
				}
			}
		}
	}
	cases := map[string]struct {
		snap []byte
		want string
	}{
		"innermost point huge":     {withFrames(t, snap, func(s *frames.Stack) { s.Frames[0].Point = 1 << 30 }), "names suspension point 1073741824 of function"},
		"innermost point 0":        {withFrames(t, snap, func(s *frames.Stack) { s.Frames[0].Point = 0 }), "names suspension point 0 of function"},
		"outermost point huge":     {withFrames(t, snap, func(s *frames.Stack) { s.Frames[len(s.Frames)-1].Point += 1000 }), "names suspension point"},
		"outer frame at its entry": {withFrames(t, snap, func(s *frames.Stack) { s.Frames[1].Point = 1 }), "a check site, but holds the frame of function"},
		"innermost frame moved out": {withFrames(t, snap, func(s *frames.Stack) { s.Frames = s.Frames[1:] }),
			"which would have saved a frame of its own"},
		"function without points": {withFrames(t, snap, func(s *frames.Stack) { s.Frames[0].Func = 0 }), "names suspension point"},
		"function out of range":   {withFrames(t, snap, func(s *frames.Stack) { s.Frames[0].Func = 1 << 20 }), "no function 1048576"},
		"state global normal":     {withModule(t, snap, setGlobal("gate_suspend.state", 0)), "the state global gate_suspend.state is 0"},
		"state global unwinding":  {withModule(t, snap, setGlobal("gate_suspend.state", 1)), "the state global gate_suspend.state is 1"},
		"fuel global positive":    {withModule(t, snap, setGlobal("gate_suspend.fuel", 5)), "the fuel global gate_suspend.fuel is 5"},
	}
	for name, c := range cases {
		outcome, err := tryBad(t, name, c.snap, 0, want)
		t.Logf("%s: %v", name, err)
		if outcome != refused || !strings.Contains(err.Error(), "snapshot: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: outcome %d (%v), want refused by Resume with %q", name, outcome, err, c.want)
		}
		if _, err := runtime.InspectSnapshot(c.snap); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: InspectSnapshot: %v, want an error with %q", name, err, c.want)
		}
	}
}

// TestSuspendWithoutMemory suspends a program without memory, writes its
// snapshot, resumes it and suspends it again. Found by FuzzResume:
// Instance.MemorySize, which Snapshot calls, panicked on an instance
// without memory.
func TestSuspendWithoutMemory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	spin := &wasm.Module{
		Types:   []wasm.FuncType{{}},
		Funcs:   []uint32{0},
		Exports: []wasm.Export{{Name: "_start", Kind: wasm.ExternFunc, Index: 0}},
		Code: []wasm.Code{{Body: wasm.EncodeBody([]wasm.Instr{
			wasm.BlockInstr(wasm.OpLoop, wasm.BlockEmpty), {Op: wasm.OpBr}, {Op: wasm.OpEnd}, {Op: wasm.OpEnd}})}},
	}
	rt := newRuntime(t, runtime.Config{})
	m, err := rt.CompileSuspendable(ctx, wasm.Encode(spin), 0)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := rt.Instantiate(ctx, m, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		runtime.SuspendAtCheck(inst, 5)
		if _, err := inst.Run(ctx, 0); !errors.Is(err, runtime.ErrSuspended) {
			t.Fatalf("round %d: Run: %v, want ErrSuspended", round, err)
		}
		if size := inst.MemorySize(); size != 0 {
			t.Errorf("round %d: MemorySize %d, want 0", round, size)
		}
		snap, err := inst.Snapshot()
		if err != nil {
			t.Fatalf("round %d: Snapshot: %v", round, err)
		}
		inst.Close(ctx)
		if inst, err = rt.Resume(ctx, snap, 0, runtime.Options{}); err != nil {
			t.Fatalf("round %d: Resume: %v", round, err)
		}
	}
	inst.Close(ctx)
}

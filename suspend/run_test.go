package suspend

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gate-wasm/gate/wasm"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// testHost implements the imports of gate_suspend for the tests, as
// docs/SUSPEND.md describes: frames are a stack, saved innermost first and
// restored outermost first, and the values of a frame are a stack too.
type testHost struct {
	t         *testing.T
	suspendAt int // check asks for a suspension at its suspendAt-th call (0: never)
	checks    int
	fuel      int // the fuel check gives (at least 1)
	frames    []testFrame
	cur       []uint64 // values of the frame being saved or restored
	saved     int      // values saved, for the log

	// refused is why the last suspension could not be snapshotted
	// (Refs.Check), which ends runHost.
	refused error

	// sched_yield of wasi_snapshot_preview1 returns how many times it has
	// run; with yieldSuspendAt > 0, every yieldSuspendAt-th call asks for a
	// suspension instead, without effect.
	yieldSuspendAt, yieldCalls, yields int
}

type testFrame struct {
	fn, point uint32
	values    []uint64
}

func (h *testHost) global(m api.Module, name string) api.MutableGlobal {
	return m.ExportedGlobal(name).(api.MutableGlobal)
}

func (h *testHost) instantiate(ctx context.Context, r wazero.Runtime) error {
	save := func(_ context.Context, v uint64) { h.cur = append(h.cur, v); h.saved++ }
	load := func(_ context.Context, m api.Module) uint64 {
		// The contract (docs/SUSPEND.md): fuel is at most 0 whenever
		// the state is rewinding, so that check sites look at the state.
		if fuel := int32(h.global(m, FuelExport).Get()); fuel > 0 {
			h.t.Errorf("load while rewinding with fuel %d", fuel)
		}
		if len(h.cur) == 0 {
			h.t.Error("load past the values of the frame")
			return 0
		}
		v := h.cur[len(h.cur)-1]
		h.cur = h.cur[:len(h.cur)-1]
		return v
	}
	b := r.NewHostModuleBuilder(ImportModule)
	b.NewFunctionBuilder().WithFunc(func(ctx context.Context, m api.Module) {
		if state := h.global(m, StateExport).Get(); state != StateNormal {
			h.t.Errorf("check called in state %d", state)
		}
		h.checks++
		h.global(m, FuelExport).Set(uint64(max(h.fuel, 1))) // by default every check site calls check
		if h.suspendAt > 0 && h.checks%h.suspendAt == 0 {
			h.global(m, StateExport).Set(StateUnwinding)
		}
	}).Export("check")
	b.NewFunctionBuilder().WithFunc(func(ctx context.Context, v uint32) { save(ctx, uint64(v)) }).Export("save_i32")
	b.NewFunctionBuilder().WithFunc(func(ctx context.Context, v uint64) { save(ctx, v) }).Export("save_i64")
	b.NewFunctionBuilder().WithFunc(func(ctx context.Context, v float32) { save(ctx, api.EncodeF32(v)) }).Export("save_f32")
	b.NewFunctionBuilder().WithFunc(func(ctx context.Context, v float64) { save(ctx, api.EncodeF64(v)) }).Export("save_f64")
	b.NewFunctionBuilder().WithFunc(func(ctx context.Context, fn, point uint32) {
		h.frames = append(h.frames, testFrame{fn, point, h.cur})
		if os.Getenv("TRACE") != "" {
			h.t.Logf("save_frame %d %d %v", fn, point, h.cur)
		}
		h.cur = nil
	}).Export("save_frame")
	b.NewFunctionBuilder().WithFunc(func(ctx context.Context, fn uint32) uint32 {
		if len(h.cur) != 0 {
			h.t.Errorf("restore_frame(%d) with %d values of the previous frame not loaded", fn, len(h.cur))
		}
		if len(h.frames) == 0 {
			h.t.Errorf("restore_frame(%d) without a frame", fn)
			return 0
		}
		f := h.frames[len(h.frames)-1]
		h.frames = h.frames[:len(h.frames)-1]
		if f.fn != fn {
			h.t.Errorf("restore_frame(%d) for a frame of function %d", fn, f.fn)
		}
		h.cur = f.values
		if os.Getenv("TRACE") != "" {
			h.t.Logf("restore_frame %d: %d %v", fn, f.point, f.values)
		}
		return f.point
	}).Export("restore_frame")
	b.NewFunctionBuilder().WithFunc(func(ctx context.Context, m api.Module) uint32 { return uint32(load(ctx, m)) }).Export("load_i32")
	b.NewFunctionBuilder().WithFunc(func(ctx context.Context, m api.Module) uint64 { return load(ctx, m) }).Export("load_i64")
	b.NewFunctionBuilder().WithFunc(func(ctx context.Context, m api.Module) float32 { return api.DecodeF32(load(ctx, m)) }).Export("load_f32")
	b.NewFunctionBuilder().WithFunc(func(ctx context.Context, m api.Module) float64 { return api.DecodeF64(load(ctx, m)) }).Export("load_f64")
	if _, err := b.Instantiate(ctx); err != nil {
		return err
	}
	_, err := r.NewHostModuleBuilder("wasi_snapshot_preview1").NewFunctionBuilder().
		WithFunc(func(ctx context.Context, m api.Module) uint32 {
			if state := h.global(m, StateExport).Get(); state != StateNormal {
				h.t.Errorf("sched_yield called in state %d", state)
			}
			h.yieldCalls++
			if h.yieldSuspendAt > 0 && h.yieldCalls%h.yieldSuspendAt == 0 {
				h.global(m, StateExport).Set(StateUnwinding)
				return 0
			}
			h.yields++
			return uint32(h.yields)
		}).Export("sched_yield").Instantiate(ctx)
	return err
}

// runSuspending calls export of the transformed module bin with args,
// suspending every suspendAt-th check (never if 0): at each suspension it
// keeps the frames, the memory and the exported mutable globals, makes a
// fresh instance with them and calls export again to rewind. It returns
// the final results and the number of suspensions.
func runSuspending(t *testing.T, bin []byte, export string, args []uint64, suspendAt int) ([]uint64, int) {
	t.Helper()
	return runHost(t, bin, export, args, &testHost{t: t, suspendAt: suspendAt})
}

func runHost(t *testing.T, bin []byte, export string, args []uint64, h *testHost) ([]uint64, int) {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer r.Close(ctx)
	suspendAt := h.suspendAt
	if err := h.instantiate(ctx, r); err != nil {
		t.Fatal(err)
	}
	compiled, err := r.CompileModule(ctx, bin)
	if err != nil {
		t.Fatal(err)
	}
	dm, err := wasm.Decode(bin)
	if err != nil {
		t.Fatal(err)
	}
	refs, err := ReadRefs(dm)
	if err != nil {
		t.Fatal(err)
	}
	hasMemory := len(dm.Memories) > 0 || dm.NumImports(wasm.ExternMemory) > 0
	var globalNames []string
	for _, ex := range dm.Exports {
		if ex.Kind == wasm.ExternGlobal && ex.Name != StateExport {
			globalNames = append(globalNames, ex.Name)
		}
	}
	instances := 0
	newInstance := func() api.Module {
		instances++
		m, err := r.InstantiateModule(ctx, compiled, wazero.NewModuleConfig().WithName(fmt.Sprint("p", instances)))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	m := newInstance()
	suspensions := 0
	for {
		res, err := m.ExportedFunction(export).Call(ctx, args...)
		if err != nil {
			t.Fatalf("%s after %d suspensions: %v", export, suspensions, err)
		}
		state := h.global(m, StateExport).Get()
		if state == StateNormal {
			if len(h.frames) != 0 || len(h.cur) != 0 {
				t.Fatalf("%s returned with %d frames and %d values not restored", export, len(h.frames), len(h.cur))
			}
			m.Close(ctx)
			return res, suspensions
		}
		if state != StateUnwinding {
			t.Fatalf("%s returned in state %d (suspending every %d, after %d suspensions, frames %v)", export, state, suspendAt, suspensions, h.frames)
		}
		if len(h.frames) == 0 {
			t.Fatalf("%s unwound without frames", export)
		}
		suspensions++
		if suspensions > 100000 {
			t.Fatal("no progress")
		}
		// What a host does before a snapshot: refuse frames that held
		// references that were not null. The values that stand for
		// references are whether they were null: 0 or 1.
		for _, fr := range h.frames {
			for _, i := range refs.Slots(fr.fn, fr.point, len(fr.values)) {
				if v := fr.values[i]; v > 1 {
					t.Fatalf("frame of function %d at point %d: value %d, a reference slot, is %d", fr.fn, fr.point, i, v)
				}
			}
			if err := refs.Check(fr.fn, fr.point, fr.values); err != nil {
				h.refused = err
				m.Close(ctx)
				return nil, suspensions
			}
		}
		// Snapshot: memory and exported mutable globals.
		var mem []byte
		// wazero's Memory of a module without one is a nil pointer in a
		// non-nil interface: ask the module itself.
		if mm := m.Memory(); hasMemory {
			b, _ := mm.Read(0, mm.Size())
			mem = slices.Clone(b)
		}
		globals := map[string]uint64{}
		for _, name := range globalNames {
			if g, ok := m.ExportedGlobal(name).(api.MutableGlobal); ok {
				globals[name] = g.Get()
			}
		}
		m.Close(ctx)
		m = newInstance()
		if mem != nil {
			mm := m.Memory()
			if extra := uint32(len(mem)) - mm.Size(); extra > 0 {
				mm.Grow(extra / 65536)
			}
			mm.Write(0, mem)
		}
		for name, v := range globals {
			m.ExportedGlobal(name).(api.MutableGlobal).Set(v)
		}
		h.global(m, StateExport).Set(StateRewinding)
		h.checks = 0
	}
}

// runPlain calls export of an untransformed module.
func runPlain(t *testing.T, bin []byte, export string, args []uint64) []uint64 {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer r.Close(ctx)
	m, err := r.Instantiate(ctx, bin)
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.ExportedFunction(export).Call(ctx, args...)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// wat2wasm assembles testdata/name.
func wat2wasm(t *testing.T, name string) []byte {
	t.Helper()
	wat, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return watString(t, string(wat))
}

// TestSuspendResume runs the programs of testdata/programs.wat without
// suspension, then suspending at every Nth check for N = 1, 2, ... until
// no suspension happens, and compares the results with the original
// module's.
func TestSuspendResume(t *testing.T) {
	orig := wat2wasm(t, "programs.wat")
	bin, err := TransformBinary(orig)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		export string
		arg    uint64
	}{{"rec", 50}, {"loops", 4}, {"multi", 5}, {"branches", 7}, {"indirect", 6}, {"exits", 20}, {"exits", 50}, {"returns", 5}} {
		t.Run(c.export, func(t *testing.T) {
			args := []uint64{c.arg}
			want := runPlain(t, orig, c.export, args)
			if got, n := runSuspending(t, bin, c.export, args, 0); !slices.Equal(got, want) || n != 0 {
				t.Fatalf("without suspension: got %v (%d suspensions), want %v", got, n, want)
			}
			runs := 0
			for every := 1; ; every++ {
				got, n := runSuspending(t, bin, c.export, args, every)
				if !slices.Equal(got, want) {
					t.Fatalf("suspending every %d checks (%d suspensions): got %v, want %v", every, n, got, want)
				}
				// With more fuel, check sites between checks take
				// the fast path, also right after a resume.
				h := &testHost{t: t, suspendAt: every, fuel: 3}
				if got, n := runHost(t, bin, c.export, args, h); !slices.Equal(got, want) {
					t.Fatalf("fuel 3, suspending every %d checks (%d suspensions): got %v, want %v", every, n, got, want)
				}
				runs++
				if n == 0 || every > 400 {
					break
				}
			}
			t.Logf("%s(%d) = %v, %d runs", c.export, c.arg, want, runs)
		})
	}
}

// TestBlockingImport suspends at a blocking import, which the host makes
// return at once without effect; on resume the call is issued again.
func TestBlockingImport(t *testing.T) {
	bin, err := TransformBinary(wat2wasm(t, "yield.wat"))
	if err != nil {
		t.Fatal(err)
	}
	args := []uint64{9}
	want, _ := runHost(t, bin, "run", args, &testHost{t: t})
	for every := 2; every <= 9; every++ { // every 1st: no call would ever run
		for _, checks := range []int{0, 3} {
			h := &testHost{t: t, yieldSuspendAt: every, suspendAt: checks}
			got, n := runHost(t, bin, "run", args, h)
			if !slices.Equal(got, want) || n == 0 {
				t.Fatalf("suspending every %d yields and %d checks: got %v after %d suspensions, want %v", every, checks, got, n, want)
			}
		}
	}
	t.Logf("run(9) = %v", want)
}

// TestFuel checks the fast path of check sites: with the host giving F
// fuel at each check, check runs at the first check site and then at every
// F-th, so over S check sites it runs 1 + (S-1)/F times.
func TestFuel(t *testing.T) {
	orig := wat2wasm(t, "programs.wat")
	bin, err := TransformBinary(orig)
	if err != nil {
		t.Fatal(err)
	}
	for _, export := range []string{"loops", "rec", "branches", "exits", "returns"} {
		args := []uint64{9}
		want := runPlain(t, orig, export, args)
		h := &testHost{t: t, fuel: 1}
		if got, _ := runHost(t, bin, export, args, h); !slices.Equal(got, want) {
			t.Fatalf("%s: got %v, want %v", export, got, want)
		}
		sites := h.checks
		if sites < 10 {
			t.Fatalf("%s: only %d check sites passed", export, sites)
		}
		for _, fuel := range []int{2, 3, 7, sites - 1, sites, sites + 1} {
			h := &testHost{t: t, fuel: fuel}
			if got, _ := runHost(t, bin, export, args, h); !slices.Equal(got, want) {
				t.Fatalf("%s, fuel %d: got %v, want %v", export, fuel, got, want)
			}
			if want := 1 + (sites-1)/fuel; h.checks != want {
				t.Errorf("%s: %d check sites, fuel %d: %d checks, want %d", export, sites, fuel, h.checks, want)
			}
		}
	}
}

// TestReferences suspends functions with references live at their
// suspension points: null ones come back null; a frame with one that is
// not null is refused, with an error that says so.
func TestReferences(t *testing.T) {
	orig := wat2wasm(t, "refs.wat")
	bin, err := TransformBinary(orig)
	if err != nil {
		t.Fatal(err)
	}
	args := []uint64{7}
	want := runPlain(t, orig, "nulls", args)
	for every := 1; every <= 6; every++ { // nulls(7) passes 7 check sites
		h := &testHost{t: t, suspendAt: every}
		got, n := runHost(t, bin, "nulls", args, h)
		if h.refused != nil || !slices.Equal(got, want) || n == 0 {
			t.Fatalf("nulls, suspending every %d checks: got %v after %d suspensions (refused: %v), want %v", every, got, n, h.refused, want)
		}
	}

	// The slots of the loop in nulls: its parameter, saved first, and
	// the two reference locals, saved among the locals (params first).
	m, err := wasm.Decode(bin)
	if err != nil {
		t.Fatal(err)
	}
	refs, err := ReadRefs(m)
	if err != nil {
		t.Fatal(err)
	}
	nulls := uint32(m.NumImports(wasm.ExternFunc)) + 1
	// Frame: the loop's funcref; locals $n, $r, $s, $e and those the
	// transform added that are saved (none here).
	if got := refs.Slots(nulls, 1, 5); !slices.Equal(got, []int{0, 2, 4}) {
		t.Errorf("Slots of nulls at its loop: %v, want [0 2 4]", got)
	}
	// A frame too short for the module (which restoring it refuses):
	// only indices within it.
	for _, n := range []int{0, 1, 2} {
		for _, i := range refs.Slots(nulls, 1, n) {
			if i < 0 || i >= n {
				t.Errorf("Slots of a frame of %d values: %d", n, i)
			}
		}
	}
	if got := refs.Slots(nulls+1, 1, 2); !slices.Equal(got, []int{1}) {
		t.Errorf("Slots of nonnull at its loop: %v, want [1] ($r of the locals $n $r)", got)
	}
	if got := refs.Slots(nulls-1, 1, 2); got != nil {
		t.Errorf("Slots of a function without references: %v", got)
	}

	h := &testHost{t: t, suspendAt: 3}
	if _, n := runHost(t, bin, "nonnull", args, h); h.refused == nil {
		t.Fatalf("nonnull: %d suspensions, none refused", n)
	} else if !strings.Contains(h.refused.Error(), "reference that is not null") {
		t.Errorf("nonnull refused with %q", h.refused)
	}
	t.Logf("refused: %v", h.refused)
}

// TestReadRefsBad checks that a refs section that does not decode is an
// error, never a panic.
func TestReadRefsBad(t *testing.T) {
	good := (&refsWriter{}).section().Data
	for _, data := range [][]byte{
		nil,
		{2, 0},                                  // other version
		{1},                                     // no count
		{1, 1},                                  // a function missing
		{1, 0, 0},                               // bytes after the end
		{1, 0xff, 0xff, 0xff, 0xff, 0x7f},       // count past the end
		{1, 2, 0, 0, 0, 0, 0, 0},                // function 0 twice
		{1, 1, 0, 1, 0x80},                      // truncated number
		{1, 1, 0, 0, 1, 5, 0xff, 0xff, 0xff, 0}, // a list past the end
	} {
		m := &wasm.Module{Customs: []wasm.Custom{{Name: RefsSection, Data: data}}}
		if _, err := ReadRefs(m); err == nil {
			t.Errorf("ReadRefs(% x) succeeds", data)
		}
	}
	m := &wasm.Module{Customs: []wasm.Custom{{Name: RefsSection, Data: good}}}
	if _, err := ReadRefs(m); err != nil {
		t.Errorf("ReadRefs of an empty section: %v", err)
	}
	m.Customs = append(m.Customs, m.Customs[0])
	if _, err := ReadRefs(m); err == nil {
		t.Error("ReadRefs of two sections succeeds")
	}
	if _, err := ReadRefs(&wasm.Module{}); !errors.Is(err, ErrNoRefs) {
		t.Errorf("ReadRefs without a section: %v, want ErrNoRefs", err)
	}
}

// TestChangesTables checks ChangesTables on modules with and without
// instructions that change tables.
func TestChangesTables(t *testing.T) {
	for _, c := range []struct {
		wat  string
		want bool
	}{
		{`(module (table 1 funcref) (func (result i32) i32.const 0 table.get 0 ref.is_null))`, false},
		{`(module (table 1 funcref) (func i32.const 0 ref.null func table.set 0))`, true},
		{`(module (table 1 funcref) (func (result i32) ref.null func i32.const 1 table.grow 0))`, true},
		{`(module (table 1 funcref) (func i32.const 0 ref.null func i32.const 1 table.fill 0))`, true},
		{`(module (table 1 funcref) (func i32.const 0 i32.const 0 i32.const 0 table.copy 0 0))`, true},
		{`(module (table 1 funcref) (elem $e func) (func i32.const 0 i32.const 0 i32.const 0 table.init $e))`, true},
		{`(module (elem $e func) (func elem.drop $e))`, true},
		{`(module (table 1 funcref) (func (result i32) table.size 0))`, false},
	} {
		m, err := wasm.Decode(watString(t, c.wat))
		if err != nil {
			t.Fatal(err)
		}
		got, err := ChangesTables(m)
		if err != nil || got != c.want {
			t.Errorf("ChangesTables(%s) = %v, %v; want %v", c.wat, got, err, c.want)
		}
		// The transform adds no such instruction.
		out, err := Transform(m)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := ChangesTables(out); err != nil || got != c.want {
			t.Errorf("ChangesTables of the transformed %s = %v, %v; want %v", c.wat, got, err, c.want)
		}
	}
	bad := &wasm.Module{Code: []wasm.Code{{Body: []byte{0x41}}}}
	if _, err := ChangesTables(bad); err == nil {
		t.Error("ChangesTables of a body that does not decode succeeds")
	}
}

// watString assembles a module given as text with wat2wasm.
func watString(t *testing.T, wat string) []byte {
	t.Helper()
	tool, err := exec.LookPath("wat2wasm")
	if err != nil {
		t.Skip("wat2wasm (wabt) not installed")
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "m.wat"), filepath.Join(dir, "m.wasm")
	if err := os.WriteFile(in, []byte(wat), 0o644); err != nil {
		t.Fatal(err)
	}
	if o, err := exec.Command(tool, in, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm: %v\n%s", err, o)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

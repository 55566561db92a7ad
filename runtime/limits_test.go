package runtime_test

import (
	"context"
	"errors"
	"os"
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/gate-wasm/gate/internal/hostile"
	"github.com/gate-wasm/gate/internal/testprog"
	"github.com/gate-wasm/gate/runtime"
	"github.com/gate-wasm/gate/wasm"
)

// TestCompileLimits checks that modules over the default limits are
// refused by Compile and CompileSuspendable with one line naming the
// limit, and that a module importing what Gate does not provide is
// refused for that before its code is read.
func TestCompileLimits(t *testing.T) {
	rt := newRuntime(t, runtime.Config{})
	ctx := context.Background()
	nope, err := wasm.Decode(hostile.LocalsCalls(0, 10))
	if err != nil {
		t.Fatal(err)
	}
	nope.Imports = []wasm.Import{{Module: "env", Name: "nope", Kind: wasm.ExternFunc}}
	nopeBin := wasm.Encode(nope)
	nopeBin[len(nopeBin)-1] = 0xff // a malformed body, never read
	for _, c := range []struct {
		name, want string
		bin        []byte
	}{
		{"br_table of 1,000,000 targets", "br_table targets", hostile.BrTable(1_000_000)},
		{"100,000 nested blocks", "blocks nested", hostile.NestedBlocks(100_000, false)},
		{"100,000 nested loops", "loops nested", hostile.NestedLoops(100_000, true, 0)},
		{"50,001 locals", "locals", hostile.LocalsLoops(50_001, 1)},
		{"env.nope before malformed code", "module imports function env.nope, which Gate does not provide", nopeBin},
	} {
		for _, suspendable := range []bool{false, true} {
			compile := rt.Compile
			if suspendable {
				compile = rt.CompileSuspendable
			}
			_, err := compile(ctx, c.bin, 0)
			var me *runtime.ModuleError
			if !errors.As(err, &me) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s (suspendable %v): %v; want one line naming %q", c.name, suspendable, err, c.want)
			}
		}
	}
}

// TestTableGrowCapped grows a table by more than any cap, once and in a
// loop: table.grow returns -1 (the program traps if it does not), and
// the process does not allocate the table.
func TestTableGrowCapped(t *testing.T) {
	rt := newRuntime(t, runtime.Config{})
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		delta uint32
		loop  bool
	}{
		{"10^8 once", 100_000_000, false},
		{"2^32-2 once", 0xfffffffe, false},
		{"10^8 in a loop", 100_000_000, true},
		{"2^32-2 in a loop", 0xfffffffe, true},
		{"10^6 in a loop", 1_000_000, true},
	} {
		var before, after goruntime.MemStats
		goruntime.GC()
		goruntime.ReadMemStats(&before)
		m, err := rt.Compile(ctx, hostile.TableGrow(c.delta, c.loop), 16<<20)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		out := run(t, ctx, rt, m, 0, runtime.Options{})
		if out.err != nil || out.code != 0 {
			t.Errorf("%s: status %d, %v; want table.grow to fail and the program to return", c.name, out.code, out.err)
		}
		goruntime.ReadMemStats(&after)
		// 16 MiB of memory cap: 2 Mi elements of 8 bytes at most.
		if grown := after.TotalAlloc - before.TotalAlloc; grown > 64<<20 {
			t.Errorf("%s: %d MiB allocated", c.name, grown>>20)
		}
		m.Close(ctx)
	}
}

// TestTableCapRefuses checks that a module whose tables start larger
// than the cap is refused, naming it.
func TestTableCapRefuses(t *testing.T) {
	rt := newRuntime(t, runtime.Config{})
	m, err := wasm.Decode(hostile.TableGrow(1, false))
	if err != nil {
		t.Fatal(err)
	}
	m.Tables[0].Limits.Min = 3 << 20 // over 2 Mi, the cap for 16 MiB
	_, err = rt.Compile(context.Background(), wasm.Encode(m), 16<<20)
	if err == nil || !strings.Contains(err.Error(), "more than the cap of 2097152") {
		t.Errorf("Compile: %v", err)
	}
}

// TestSuspendableLimits checks that CompileSuspendable refuses, naming
// the limit, the functions whose transformed code wazero would take
// minutes and gigabytes to compile, and that the module of a snapshot
// of any program it accepts is within the limits Resume applies.
func TestSuspendableLimits(t *testing.T) {
	rt := newRuntime(t, runtime.Config{})
	ctx := context.Background()
	for _, c := range []struct {
		name, want string
		bin        []byte
	}{
		{"50,000 locals × 5,000 loops", "5000 suspension points, more than the limit of 4096", hostile.LocalsLoops(50_000, 5_000)},
		{"50,000 locals × 5,000 calls", "5001 suspension points, more than the limit of 4096", hostile.LocalsCalls(50_000, 5_000)},
		{"50,000 locals × 50 calls", "50000 locals, more than the limit of 4096", hostile.LocalsCalls(50_000, 50)},
		{"256 nested loops × 50,000 locals", "locals, more than the limit of 4096", hostile.NestedLoops(256, true, 50_000)},
		{"4,097 calls", "4098 suspension points, more than the limit of 4096", hostile.LocalsCalls(0, 4_097)},
		{"1,000 locals × 1,000 calls", "locals × suspension points, more than the limit of 262144", hostile.LocalsCalls(1_000, 1_000)},
		{"300 functions × 4,000 calls", "more than 1048576 suspension points in all functions together", hostile.CallsInFunctions(300, 4_000)},
	} {
		_, err := rt.CompileSuspendable(ctx, c.bin, 0)
		var me *runtime.ModuleError
		if !errors.As(err, &me) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "function 1") && !strings.Contains(c.name, "functions") {
			t.Errorf("%s: %v; want a refusal naming %q in function 1", c.name, err, c.want)
		}
		// Untransformed, they compile.
		if _, err := rt.Compile(ctx, c.bin, 0); err != nil {
			t.Errorf("%s, plain: %v", c.name, err)
		}
	}
	for _, c := range []struct {
		name string
		bin  []byte
	}{
		{"4,000 locals × 60 loops", hostile.LocalsLoops(4_000, 60)},
		{"60 locals × 4,000 calls", hostile.LocalsCalls(60, 4_000)},
		{"100,000 functions", hostile.Functions(100_000)},
	} {
		if err := runtime.CheckSuspendable(c.bin); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	for _, path := range []string{
		testprog.Go(t, "bench/programs/medium"), testprog.Go(t, "examples/go/hello"),
		testprog.C(t, "internal/testprog/src/c/sieve.c"), testprog.C(t, "bench/programs/cpu.c"),
	} {
		bin, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := runtime.CheckSuspendable(bin); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
}

// TestSnapshotLimits resumes forged snapshots whose code is over the
// limits: each is refused, naming the limit, before it is compiled.
func TestSnapshotLimits(t *testing.T) {
	rt := newRuntime(t, runtime.Config{})
	ctx := context.Background()
	repeat := func(n int, instrs ...wasm.Instr) []wasm.Instr {
		var body []wasm.Instr
		for range n {
			body = append(body, instrs...)
		}
		return body
	}
	loop := wasm.BlockInstr(wasm.OpLoop, wasm.BlockEmpty)
	block := wasm.BlockInstr(wasm.OpBlock, wasm.BlockEmpty)
	end := wasm.Instr{Op: wasm.OpEnd}
	for _, c := range []struct {
		name, want string
		body       []wasm.Instr
	}{
		{"4,097 loops", "snapshot: suspendable module over a limit: function 0: 4097 suspension points, more than the limit of 4096", repeat(4_097, loop, end)},
		{"300 nested loops", "loops nested, more than the limit of 256", append(repeat(300, loop), repeat(300, end)...)},
		{"100,000 nested blocks", "blocks nested, more than the limit of", append(append([]wasm.Instr{loop}, repeat(100_000, block)...), repeat(100_001, end)...)},
		{"br_table of 1,000,000 targets", "br_table targets, more than the limit of 16384",
			[]wasm.Instr{loop, block, {Op: wasm.OpI32Const}, {Op: wasm.OpBrTable, Labels: make([]uint32, 1_000_000)}, end, end}},
	} {
		snap := forgedSnapshot(t, forgedModule(nil, c.body))
		_, err := rt.Resume(ctx, snap, 0, runtime.Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v; want one line containing %q", c.name, err, c.want)
		}
	}
	// Imports of the transform's module that the transform never
	// writes, found by FuzzResume: the engine refused them only as it
	// instantiated, with an internal error.
	for name, want := range map[string]string{
		"save_f33":    "snapshot: module imports function gate_suspend.save_f33, which Gate does not provide",
		"sav\x01_f32": `snapshot: module imports function gate_suspend."sav\x01_f32", which Gate does not provide`,
	} {
		snap := forgedSnapshot(t, forgedModule([]string{name}, []wasm.Instr{loop, end}))
		if _, err := rt.Resume(ctx, snap, 0, runtime.Options{}); err == nil || err.Error() != want {
			t.Errorf("import %q: %v; want %q", name, err, want)
		}
	}
}

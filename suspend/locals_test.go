package suspend

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gate-wasm/gate/wasm"
	"github.com/tetratelabs/wazero"
)

// localsAt is what analyzeLocals found at one loop header or call site.
type localsAt struct {
	pc     int
	op     wasm.Opcode
	live   []uint32
	writes []uint32 // loops only
}

// members lists the indices of s.
func (s localSet) members() []uint32 {
	l := []uint32{}
	s.each(func(i uint32) { l = append(l, i) })
	return l
}

// analyzed instruments function i (of the input's code section) of the
// module tr has transformed, as run does, with a worker of its own, and
// returns its body without dead code and what analyzeLocals found at its
// loops and call sites (a call that is no suspension point has live nil),
// in the order of the code. tr.run must have run.
func analyzed(tr *transformer, i int) ([]wasm.Instr, []localsAt, error) {
	m := tr.in
	fidx := tr.numImpFuncs + uint32(i)
	w := tr.worker()
	w.resetChunk()
	instrs, err := w.decode(i)
	if err != nil {
		return nil, nil, err
	}
	instrs, w.spans = removeDeadCode(instrs, w.starts, len(m.Code[i].Body), w.spans[:0])
	if _, err := w.instrument(fidx, instrs, m.Code[i].Locals, m.Code[i].Body); err != nil {
		return nil, nil, err
	}
	var sites []localsAt
	for pc, in := range instrs {
		p := w.pcs[pc]
		switch in.Op {
		case wasm.OpLoop:
			sites = append(sites, localsAt{pc, in.Op, w.sets.set(p.live).members(), w.sets.set(p.writes).members()})
		case wasm.OpCall, wasm.OpCallIndirect:
			s := localsAt{pc: pc, op: in.Op}
			if p.live >= 0 {
				s.live = w.sets.set(p.live).members()
			}
			sites = append(sites, s)
		}
	}
	return instrs, sites, nil
}

// transformed decodes bin and transforms it, keeping the transformer.
func transformed(t *testing.T, bin []byte) *transformer {
	t.Helper()
	tr, _ := transformedWith(t, bin, 0, 0)
	return tr
}

// transformedWith decodes and validates bin and transforms it with the
// given number of workers and chunk size (0: the defaults), and returns
// the transformer and the output.
func transformedWith(t *testing.T, bin []byte, workers, chunkBytes int) (*transformer, *wasm.Module) {
	t.Helper()
	m, err := wasm.Decode(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := wasm.Validate(m); err != nil {
		t.Fatal(err)
	}
	tr := &transformer{in: m, workers: workers, chunkBytes: chunkBytes}
	out, err := tr.run()
	if err != nil {
		t.Fatal(err)
	}
	return tr, out
}

// exportedCode returns the index in the code section of the function
// that m exports as name.
func exportedCode(t *testing.T, m *wasm.Module, name string) int {
	t.Helper()
	for _, ex := range m.Exports {
		if ex.Name == name && ex.Kind == wasm.ExternFunc {
			return int(ex.Index) - m.NumImports(wasm.ExternFunc)
		}
	}
	t.Fatalf("no function exported as %q", name)
	return 0
}

// TestAnalyzeLocals checks the sets of analyzeLocals on the functions of
// testdata/locals.wat, whose comments explain them.
func TestAnalyzeLocals(t *testing.T) {
	tr := transformed(t, wat2wasm(t, "locals.wat"))
	type site struct {
		op           wasm.Opcode
		live, writes []uint32
	}
	loop := func(live, writes []uint32) site { return site{wasm.OpLoop, live, writes} }
	call := func(live []uint32) site { return site{wasm.OpCall, live, nil} }
	u := func(l ...uint32) []uint32 { return append([]uint32{}, l...) }
	for _, c := range []struct {
		name  string
		sites []site
	}{
		{"after", []site{loop(u(0, 1, 2), u(2))}},
		{"temp", []site{loop(u(0, 2), u(0, 1, 2))}},
		{"carried", []site{loop(u(0, 1, 3), u(0, 1, 2))}},
		{"arms", []site{loop(u(0, 1, 3, 5, 6, 7), u(0, 2, 4, 5, 6, 7))}},
		{"exits", []site{loop(u(0, 1, 2, 4, 5), u(5))}},
		{"returns", []site{loop(u(0, 1, 2), u(0, 2, 4, 5))}},
		{"nested", []site{
			loop(u(0, 1, 2, 4, 5), u(3, 4, 5, 6)),
			loop(u(0, 1, 2, 4, 5), u(3, 4, 5)),
			loop(u(0, 1, 2, 3, 4, 5), u(3, 5)),
		}},
		{"calls", []site{
			call(u(0, 1, 2, 4)),
			loop(u(0, 1, 2, 4), u(1, 2, 3, 4)),
			call(nil), // the import: no call site
			call(u(0, 1, 2, 3, 4)),
			{wasm.OpCallIndirect, u(2), nil},
		}},
		{"wide", []site{loop(u(0, 65, 130), u(70, 130))}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, sites, err := analyzed(tr, exportedCode(t, tr.in, c.name))
			if err != nil {
				t.Fatal(err)
			}
			if len(sites) != len(c.sites) {
				t.Fatalf("%d loops and calls, want %d: %+v", len(sites), len(c.sites), sites)
			}
			for k, want := range c.sites {
				got := sites[k]
				if got.op != want.op {
					t.Fatalf("site %d (pc %d) is %v, want %v", k, got.pc, got.op, want.op)
				}
				if !slices.Equal(got.live, want.live) || (want.live == nil) != (got.live == nil) {
					t.Errorf("%v at pc %d: live %v, want %v", got.op, got.pc, got.live, want.live)
				}
				if !slices.Equal(got.writes, want.writes) {
					t.Errorf("%v at pc %d: writes %v, want %v", got.op, got.pc, got.writes, want.writes)
				}
			}
		})
	}
}

// refLiveness is a reference for analyzeLocals: the textbook liveness of
// the locals below nDecl over the control flow graph of instrs, one node
// per instruction, iterated to a fixpoint. It returns the set live before
// each instruction, and for each block, loop or if the locals written in
// it.
func refLiveness(instrs []wasm.Instr, nDecl int) (liveIn, writes []localSet) {
	n := len(instrs)
	words := (nDecl + 63) / 64
	newSet := func() localSet { return make(localSet, words) }
	end := make([]int, n)
	els := make([]int, n)
	var stack []int
	for pc, in := range instrs {
		els[pc] = -1
		switch in.Op {
		case wasm.OpBlock, wasm.OpLoop, wasm.OpIf:
			stack = append(stack, pc)
		case wasm.OpElse:
			els[stack[len(stack)-1]] = pc
		case wasm.OpEnd:
			if len(stack) > 0 {
				end[stack[len(stack)-1]] = pc
				stack = stack[:len(stack)-1]
			}
		}
	}
	// Successors: a branch to a loop goes to the loop instruction, to a
	// block or if to its end, to the function's label nowhere.
	succ := make([][]int, n)
	target := func(depth uint32) []int {
		if int(depth) >= len(stack) {
			return nil
		}
		o := stack[len(stack)-1-int(depth)]
		if instrs[o].Op == wasm.OpLoop {
			return []int{o}
		}
		return []int{end[o]}
	}
	stack = stack[:0]
	for pc, in := range instrs {
		switch in.Op {
		case wasm.OpBlock, wasm.OpLoop:
			succ[pc] = []int{pc + 1}
			stack = append(stack, pc)
		case wasm.OpIf:
			if e := els[pc]; e >= 0 {
				succ[pc] = []int{pc + 1, e + 1}
			} else {
				succ[pc] = []int{pc + 1, end[pc]}
			}
			stack = append(stack, pc)
		case wasm.OpElse:
			succ[pc] = []int{end[stack[len(stack)-1]]}
		case wasm.OpEnd:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			if pc < n-1 {
				succ[pc] = []int{pc + 1}
			}
		case wasm.OpBr:
			succ[pc] = target(in.X)
		case wasm.OpBrIf:
			succ[pc] = append([]int{pc + 1}, target(in.X)...)
		case wasm.OpBrTable:
			succ[pc] = target(in.X)
			for _, l := range in.Labels {
				succ[pc] = append(succ[pc], target(l)...)
			}
		case wasm.OpReturn, wasm.OpUnreachable:
		default:
			succ[pc] = []int{pc + 1}
		}
	}
	liveIn = make([]localSet, n)
	for pc := range liveIn {
		liveIn[pc] = newSet()
	}
	out := newSet()
	for changed := true; changed; {
		changed = false
		for pc := n - 1; pc >= 0; pc-- {
			clear(out)
			for _, s := range succ[pc] {
				out.union(liveIn[s])
			}
			in := instrs[pc]
			if int(in.X) < nDecl {
				switch in.Op {
				case wasm.OpLocalGet:
					out.add(in.X)
				case wasm.OpLocalSet, wasm.OpLocalTee:
					out.remove(in.X)
				}
			}
			if liveIn[pc].unionChanged(out) {
				changed = true
			}
		}
	}
	writes = make([]localSet, n)
	for pc, in := range instrs {
		switch in.Op {
		case wasm.OpBlock, wasm.OpLoop, wasm.OpIf:
			w := newSet()
			for _, x := range instrs[pc+1 : end[pc]] {
				if (x.Op == wasm.OpLocalSet || x.Op == wasm.OpLocalTee) && int(x.X) < nDecl {
					w.add(x.X)
				}
			}
			writes[pc] = w
		}
	}
	return liveIn, writes
}

// compareLiveness checks analyzeLocals against refLiveness on every
// instrumented function of the module tr has transformed, and returns
// the number of loops and call sites compared.
func compareLiveness(t *testing.T, name string, tr *transformer) int {
	t.Helper()
	compared := 0
	for i := range tr.in.Code {
		fidx := tr.numImpFuncs + uint32(i)
		if !tr.instrumented[fidx] {
			continue
		}
		instrs, sites, err := analyzed(tr, i)
		if err != nil {
			continue // as Transform, which refused it already
		}
		ft, _ := tr.in.FuncType(fidx)
		nDecl := len(ft.Params)
		for _, d := range tr.in.Code[i].Locals {
			nDecl += int(d.Count)
		}
		if len(instrs)*((nDecl+63)/64) > 1<<22 {
			continue // too big for the reference
		}
		liveIn, writes := refLiveness(instrs, nDecl)
		for _, s := range sites {
			if s.live == nil {
				if instrs[s.pc].Op == wasm.OpCallIndirect || tr.maySuspend(instrs[s.pc].X) {
					t.Errorf("%s: function %d: call site at pc %d without a live set", name, fidx, s.pc)
				}
				continue
			}
			if want := liveIn[s.pc].members(); !slices.Equal(s.live, want) {
				t.Errorf("%s: function %d: %v at pc %d: live %v, want %v", name, fidx, s.op, s.pc, s.live, want)
			}
			if s.op == wasm.OpLoop {
				if want := writes[s.pc].members(); !slices.Equal(s.writes, want) {
					t.Errorf("%s: function %d: loop at pc %d: writes %v, want %v", name, fidx, s.pc, s.writes, want)
				}
			}
			compared++
		}
	}
	return compared
}

// TestAnalyzeLocalsReference compares analyzeLocals with refLiveness on
// the test programs and on the modules of the spec suite (if present).
func TestAnalyzeLocalsReference(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.wat"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		n += compareLiveness(t, f, transformed(t, wat2wasm(t, filepath.Base(f))))
	}
	if n < 20 {
		t.Fatalf("only %d loops and call sites in the test programs", n)
	}
	mods, err := validSpecModules()
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) == 0 {
		t.Logf("%d loops and call sites compared; spec suite not found in %s", n, specDir())
		return
	}
	specN := 0
	for _, sm := range mods {
		m, err := wasm.Decode(sm.binary)
		if err != nil {
			t.Fatal(err)
		}
		tr := &transformer{in: m}
		if _, err := tr.run(); err != nil {
			continue // TestSpec reports it
		}
		specN += compareLiveness(t, sm.name, tr)
	}
	if specN == 0 {
		t.Fatal("no loop or call site in the spec suite")
	}
	t.Logf("%d loops and call sites compared in the test programs, %d in %d spec modules", n, specN, len(mods))
}

// firstSuspension runs export of the transformed module bin with host h
// until it returns, which must be in state unwinding, and returns the
// frames saved, innermost first.
func firstSuspension(t *testing.T, bin []byte, export string, args []uint64, h *testHost) []testFrame {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer r.Close(ctx)
	if err := h.instantiate(ctx, r); err != nil {
		t.Fatal(err)
	}
	m, err := r.Instantiate(ctx, bin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.ExportedFunction(export).Call(ctx, args...); err != nil {
		t.Fatal(err)
	}
	if state := h.global(m, StateExport).Get(); state != StateUnwinding {
		t.Fatalf("%s%v returned in state %d, not unwinding (%d checks)", export, args, state, h.checks)
	}
	return slices.Clone(h.frames)
}

// exportedFunc returns the index of the function that the encoded module
// bin exports as name.
func exportedFunc(t *testing.T, bin []byte, name string) uint32 {
	t.Helper()
	m, err := wasm.Decode(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range m.Exports {
		if ex.Name == name && ex.Kind == wasm.ExternFunc {
			return ex.Index
		}
	}
	t.Fatalf("no function exported as %q", name)
	return 0
}

// TestDeadLocalsSaved suspends functions of testdata/dead.wat where locals
// that hold non-zero values are dead: at a loop header and at a call site.
// The frames hold 0 for those, and what the live ones hold; resuming from
// those frames gives what the original module computes.
func TestDeadLocalsSaved(t *testing.T) {
	orig := wat2wasm(t, "dead.wat")
	bin, err := TransformBinary(orig)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("loop", func(t *testing.T) {
		const n = 6
		fn := exportedFunc(t, bin, "dead")
		// Every check site calls check (fuel 1); the only one is the
		// loop's header, whose j-th check comes after j-1 iterations.
		for j := 2; j <= n; j++ {
			frames := firstSuspension(t, bin, "dead", []uint64{n}, &testHost{t: t, suspendAt: j})
			if len(frames) != 1 || frames[0].fn != fn || frames[0].point != 1 {
				t.Fatalf("check %d: frames %+v, want one of function %d at point 1", j, frames, fn)
			}
			i := uint64(j - 1)
			acc := 0.0
			for m := range i {
				acc += 2 * float64(7*m+3)
			}
			// $n $i, then the dead $t $d $v (v128: two values), then
			// $acc $k.
			want := []uint64{n, i, 0, 0, 0, 0, math.Float64bits(acc), 1000}
			if got := frames[0].values; !slices.Equal(got, want) {
				t.Errorf("check %d: frame %v, want %v (t, d, v of the last iteration: %d)", j, got, want, 7*(i-1)+3)
			}
		}
		want := runPlain(t, orig, "dead", []uint64{n})
		for every := 1; every <= n+1; every++ {
			got, s := runSuspending(t, bin, "dead", []uint64{n}, every)
			if !slices.Equal(got, want) || (every <= n && s == 0) {
				t.Errorf("suspending every %d checks: %v after %d suspensions, want %v", every, got, s, want)
			}
		}
	})

	t.Run("call", func(t *testing.T) {
		const n = 3
		fn := exportedFunc(t, bin, "caller")
		// Checks: 1 the entry, 2 the header with i = 0, 3-7 spin(5), 8
		// the header with i = 1, 9 spin(7)'s first.
		frames := firstSuspension(t, bin, "caller", []uint64{n}, &testHost{t: t, suspendAt: 9})
		if len(frames) != 2 {
			t.Fatalf("frames %+v, want spin's and caller's", frames)
		}
		if spin := frames[0]; spin.fn != fn-1 || spin.point != 1 || !slices.Equal(spin.values, []uint64{7, 0}) {
			t.Errorf("spin's frame %+v, want function %d at point 1 with values [7 0]", spin, fn-1)
		}
		// $n, the dead $t (7), $s = spin(5), $i.
		if c := frames[1]; c.fn != fn || c.point != 3 || !slices.Equal(c.values, []uint64{n, 0, 5, 1}) {
			t.Errorf("caller's frame %+v, want function %d at point 3 with values [%d 0 5 1]", c, fn, n)
		}
		// At the header with i = 1: $t holds 5, dead too.
		frames = firstSuspension(t, bin, "caller", []uint64{n}, &testHost{t: t, suspendAt: 8})
		if len(frames) != 1 || frames[0].fn != fn || frames[0].point != 2 || !slices.Equal(frames[0].values, []uint64{n, 0, 5, 1}) {
			t.Errorf("frames %+v, want one of function %d at point 2 with values [%d 0 5 1]", frames, fn, n)
		}
		want := runPlain(t, orig, "caller", []uint64{n})
		for every := 1; every <= 25; every++ { // caller(3) passes 1+3+5+7+9 check sites
			if got, s := runSuspending(t, bin, "caller", []uint64{n}, every); !slices.Equal(got, want) || s == 0 {
				t.Errorf("suspending every %d checks: %v after %d suspensions, want %v", every, got, s, want)
			}
		}
	})
}

// scratchGlobals transforms the module of text wat and checks what
// Transform promises of the globals it adds: state and fuel after the
// module's own, then the scratch globals, mutable, zero, not exported. It
// returns the types of the scratch globals, and the input and output
// binaries.
func scratchGlobals(t *testing.T, wat string) (types []wasm.ValType, orig, bin []byte) {
	t.Helper()
	orig = watString(t, wat)
	in, err := wasm.Decode(orig)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Transform(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := wasm.Validate(out); err != nil {
		t.Fatal(err)
	}
	imported := uint32(out.NumImports(wasm.ExternGlobal))
	own := imported + uint32(len(in.Globals))
	exported := map[uint32]string{}
	var state, fuel uint32 = math.MaxUint32, math.MaxUint32
	for _, ex := range out.Exports {
		if ex.Kind != wasm.ExternGlobal {
			continue
		}
		exported[ex.Index] = ex.Name
		switch ex.Name {
		case StateExport:
			state = ex.Index
		case FuelExport:
			fuel = ex.Index
		}
	}
	if state != own || fuel != own+1 {
		t.Fatalf("state global %d, fuel %d; want %d and %d, after the module's own", state, fuel, own, own+1)
	}
	total := imported + uint32(len(out.Globals))
	for g := fuel + 1; g < total; g++ {
		gl := out.Globals[g-imported]
		if !gl.Type.Mutable {
			t.Errorf("scratch global %d (%v) is not mutable", g, gl.Type.Type)
		}
		if name, ok := exported[g]; ok {
			t.Errorf("scratch global %d is exported as %q", g, name)
		}
		init, err := wasm.DecodeBody(gl.Init)
		if err != nil {
			t.Fatal(err)
		}
		zero := map[wasm.ValType]wasm.Opcode{wasm.I32: wasm.OpI32Const, wasm.I64: wasm.OpI64Const,
			wasm.F32: wasm.OpF32Const, wasm.F64: wasm.OpF64Const, wasm.V128: wasm.OpV128Const}
		if op, ok := zero[gl.Type.Type]; ok {
			if len(init) != 2 || init[0].Op != op || init[0].Imm != 0 || init[0].Imm2 != 0 || init[1].Op != wasm.OpEnd {
				t.Errorf("scratch global %d (%v) initialized with %v, not zero", g, gl.Type.Type, init)
			}
		} else if len(init) != 2 || init[0].Op != wasm.OpRefNull || init[0].X != uint32(gl.Type.Type) {
			t.Errorf("scratch global %d (%v) initialized with %v, not ref.null", g, gl.Type.Type, init)
		}
		types = append(types, gl.Type.Type)
	}
	return types, orig, wasm.Encode(out)
}

// countTypes counts the types of ts.
func countTypes(ts []wasm.ValType) map[wasm.ValType]int {
	c := map[wasm.ValType]int{}
	for _, vt := range ts {
		c[vt]++
	}
	return c
}

// TestScratchGlobals checks the globals that loops' check sites stash
// locals in: one per type for each local live at a header and written in
// its loop, shared by the loops (so as many of a type as one loop needs
// at most), after the fuel global; none for loops that write no live
// local.
func TestScratchGlobals(t *testing.T) {
	// f: $n (i32), $v (v128) and $x (f64) are live and written; $tmp
	// (i64) is written but dead; $c (f32) is live and not written.
	// g: $n and $s (i32) live and written, $y (f64) written but dead.
	wat := `(module
  (memory 1) ;; runHost needs one
  (global $own (mut i32) (i32.const 5))
  (func (export "f") (param $n i32) (result f64) (local $v v128) (local $x f64) (local $tmp i64) (local $c f32)
    (local.set $c (f32.const 0.5))
    (loop $l
      (local.set $tmp (i64.extend_i32_u (local.get $n)))
      (local.set $v (i32x4.add (local.get $v) (i32x4.splat (local.get $n))))
      (local.set $x (f64.add (local.get $x) (f64.convert_i64_u (local.get $tmp))))
      (local.set $x (f64.add (local.get $x) (f64.promote_f32 (local.get $c))))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (f64.add (local.get $x) (f64.convert_i32_s (i32x4.extract_lane 3 (local.get $v)))))
  (func (export "g") (param $n i32) (result i32) (local $s i32) (local $y f64)
    (loop $l
      (local.set $y (f64.convert_i32_u (local.get $n)))
      (local.set $s (i32.add (local.get $s) (i32.trunc_f64_u (local.get $y))))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $s)))`
	want := map[wasm.ValType]int{wasm.I32: 2, wasm.F64: 1, wasm.V128: 1}
	// With an imported global too, which comes first in the index space.
	types, _, _ := scratchGlobals(t, strings.Replace(wat, "(module", `(module (import "env" "g" (global i32))`, 1))
	if got := countTypes(types); !maps.Equal(got, want) {
		t.Errorf("with an imported global: scratch globals %v, want by type %v", types, want)
	}
	types, orig, bin := scratchGlobals(t, wat)
	if got := countTypes(types); !maps.Equal(got, want) {
		t.Errorf("scratch globals %v, want by type %v", types, want)
	}
	// The stashed values come back, v128 included, and a snapshot needs
	// none of the scratch globals (runHost keeps only the exported ones).
	for _, export := range []string{"f", "g"} {
		args := []uint64{5}
		want := runPlain(t, orig, export, args)
		for every := 1; every <= 7; every++ {
			if got, n := runSuspending(t, bin, export, args, every); !slices.Equal(got, want) || (every <= 5 && n == 0) {
				t.Errorf("%s, suspending every %d checks: %v after %d suspensions, want %v", export, every, got, n, want)
			}
		}
	}

	// Loops that write no live local: a dead temp, a global, a local
	// read and not written; and a loop without a back edge.
	types, _, _ = scratchGlobals(t, `(module
  (import "env" "g" (global $imp i32))
  (global $c (mut i32) (i32.const 10))
  (func (export "f") (param $n i32) (result i32) (local $t i32) (local $d f64)
    (loop $l
      (local.set $t (i32.mul (local.get $n) (i32.const 2)))
      (local.set $d (f64.convert_i32_u (local.get $t)))
      (global.set $c (i32.sub (global.get $c) (i32.trunc_f64_u (local.get $d))))
      (br_if $l (i32.gt_s (global.get $c) (i32.const 0))))
    (loop $once (global.set $c (i32.add (local.get $n) (global.get $imp))))
    (local.get $n)))`)
	if len(types) != 0 {
		t.Errorf("scratch globals %v, want none", types)
	}
}

// randomBody appends to out a random body of a function whose locals
// (params included) are nLocals i32s: blocks, loops and ifs nested up to
// a few levels, local.get, local.set and local.tee, branches of every
// kind to any label (the function's too), returns, traps, and calls of
// function 1 (a call site) and 0 (an import that is none). It ends with
// the function's end.
func randomBody(r *rand.Rand, nLocals int, out []wasm.Instr) []wasm.Instr {
	labels := 0 // open, the function's own excluded
	budget := 40 + r.IntN(80)
	loc := func() uint32 { return uint32(r.IntN(nLocals)) }
	get := func() wasm.Instr { return local(wasm.OpLocalGet, loc()) }
	label := func() uint32 { return uint32(r.IntN(labels + 1)) }
	var stmts func(depth int)
	stmt := func(depth int) {
		k := r.IntN(100)
		if depth >= 5 && k < 30 {
			k += 30 // no deeper
		}
		switch {
		case k < 22:
			kind := wasm.OpBlock
			if k >= 10 {
				kind = wasm.OpLoop
			}
			out = append(out, wasm.BlockInstr(kind, wasm.BlockEmpty))
			labels++
			stmts(depth + 1)
			labels--
			out = append(out, op(wasm.OpEnd))
		case k < 30:
			out = append(out, get(), wasm.BlockInstr(wasm.OpIf, wasm.BlockEmpty))
			labels++
			stmts(depth + 1)
			if r.IntN(2) == 0 {
				out = append(out, op(wasm.OpElse))
				stmts(depth + 1)
			}
			labels--
			out = append(out, op(wasm.OpEnd))
		case k < 45:
			out = append(out, get(), local(wasm.OpLocalSet, loc()))
		case k < 52:
			out = append(out, i32c(int32(k)), local(wasm.OpLocalSet, loc()))
		case k < 58:
			out = append(out, get(), local(wasm.OpLocalTee, loc()), op(wasm.OpDrop))
		case k < 64:
			out = append(out, get(), op(wasm.OpDrop))
		case k < 76:
			out = append(out, get(), wasm.Instr{Op: wasm.OpBrIf, X: label()})
		case k < 80:
			in := wasm.Instr{Op: wasm.OpBrTable, X: label()}
			for range r.IntN(4) {
				in.Labels = append(in.Labels, label())
			}
			out = append(out, get(), in)
		case k < 83:
			out = append(out, wasm.Instr{Op: wasm.OpBr, X: label()})
		case k < 85:
			out = append(out, op(wasm.OpReturn))
		case k < 86:
			out = append(out, op(wasm.OpUnreachable))
		case k < 95:
			out = append(out, wasm.Instr{Op: wasm.OpCall, X: 1})
		default:
			out = append(out, wasm.Instr{Op: wasm.OpCall, X: 0})
		}
	}
	stmts = func(depth int) {
		for n := r.IntN(6); n > 0 && budget > 0; n-- {
			budget--
			stmt(depth)
		}
	}
	for budget > 0 {
		budget--
		stmt(0)
	}
	return append(out, op(wasm.OpEnd))
}

// TestAnalyzeLocalsRandom compares analyzeLocals with refLiveness on
// random functions.
func TestAnalyzeLocalsRandom(t *testing.T) {
	n := 1500
	if testing.Short() {
		n = 300
	}
	compared := 0
	for seed := range uint64(n) {
		compared += checkRandomLiveness(t, seed)
		if t.Failed() {
			t.Fatalf("seed %d", seed)
		}
	}
	t.Logf("%d loops and call sites compared in %d functions", compared, n)
}

// FuzzAnalyzeLocals compares analyzeLocals with refLiveness on the random
// function of each seed.
func FuzzAnalyzeLocals(f *testing.F) {
	f.Add(uint64(0))
	f.Fuzz(func(t *testing.T, seed uint64) { checkRandomLiveness(t, seed) })
}

func checkRandomLiveness(t *testing.T, seed uint64) int {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 0x10ca15))
	declared := r.IntN(8)
	if r.IntN(8) == 0 {
		declared = 60 + r.IntN(80) // sets of more than one word
	}
	nLocals := 2 + declared
	m := &wasm.Module{
		Types:   []wasm.FuncType{{Params: []wasm.ValType{wasm.I32, wasm.I32}}, {}},
		Imports: []wasm.Import{{Module: "env", Name: "plain", Kind: wasm.ExternFunc, Type: 1}},
		Funcs:   []uint32{1, 0},
		Code: []wasm.Code{
			{Body: wasm.EncodeBody([]wasm.Instr{wasm.BlockInstr(wasm.OpLoop, wasm.BlockEmpty), op(wasm.OpEnd), op(wasm.OpEnd)})},
			{Locals: []wasm.LocalDecl{{Count: uint32(declared), Type: wasm.I32}}, Body: wasm.EncodeBody(randomBody(r, nLocals, nil))},
		},
	}
	if err := wasm.Validate(m); err != nil {
		t.Fatalf("seed %d: random module invalid: %v", seed, err)
	}
	tr := &transformer{in: m}
	out, err := tr.run()
	if err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	if err := wasm.Validate(out); err != nil {
		t.Fatalf("seed %d: transformed module invalid: %v", seed, err)
	}
	return compareLiveness(t, fmt.Sprint("seed ", seed), tr)
}

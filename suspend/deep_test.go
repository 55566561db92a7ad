package suspend

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gate-wasm/gate/wasm"
)

// deepWat is a module whose function "f" keeps more than maxLive values
// of several types on the operand stack across call sites, blocks and
// ifs that contain points, a loop with a call and a branch out of a
// block with values stored by spillDeep, and consumes them with
// instructions of every stack effect that spillDeep tells apart.
func deepWat(depth int) string {
	var b strings.Builder
	b.WriteString(`(module
  (memory 1)
  (func $spin (param $k i32) (result i32)
    (loop $l (br_if $l (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))
    (i32.const 3))
  (func $tick (loop $l))
  (func (export "f") (param $n i32) (result i64) (local $i i32) (local $x i64)
`)
	push := func(k int) {
		switch k % 3 {
		case 0:
			fmt.Fprintf(&b, "    (i32.add (local.get $n) (i32.const %d))\n", k)
		case 1:
			fmt.Fprintf(&b, "    (i64.extend_i32_u (i32.mul (local.get $n) (i32.const %d)))\n", k)
		case 2:
			fmt.Fprintf(&b, "    (f64.convert_i32_u (i32.add (local.get $n) (i32.const %d)))\n", k)
		}
	}
	// fold consumes the values pushed by push(0..depth-1), top first,
	// into $x.
	fold := func() {
		for k := depth - 1; k >= 0; k-- {
			switch k % 3 {
			case 0:
				b.WriteString("    i64.extend_i32_u\n")
			case 2:
				b.WriteString("    i64.trunc_f64_u\n")
			}
			fmt.Fprintf(&b, "    (i64.mul (local.get $x) (i64.const 31)) i64.add local.set $x\n")
		}
	}
	for k := range depth {
		push(k)
	}
	b.WriteString(`    call $tick
    (i32.const 8) (call $spin (i32.const 3))
    (block (param i32) (result i32) (call $tick) (i32.add (call $spin (i32.const 2))))
    i32.store
    (if (local.get $n) (then (call $tick)) (else (call $tick)))
    (loop $l
      (call $tick)
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 3))))
    (block $b (br_if $b (local.get $n)) (call $tick))
`)
	for k := range depth {
		push(k)
	}
	b.WriteString("    call $tick\n")
	fold()
	b.WriteString("    call $tick\n")
	// A select and a drop under deep values, then the first ones.
	b.WriteString("    (select (i32.const 1) (i32.const 2) (local.get $n)) drop\n")
	fold()
	b.WriteString("    (i64.add (local.get $x) (i64.load (i32.const 8))))\n)\n")
	return b.String()
}

// TestDeepStack runs a function with deep operand stacks across its
// points, suspended at every check in turn, and checks that spillDeep
// rewrote it and that it computes what the original does.
func TestDeepStack(t *testing.T) {
	for _, depth := range []int{maxLive - 2, 2*maxLive + 5} {
		orig := watString(t, deepWat(depth))
		bin, err := TransformBinary(orig)
		if err != nil {
			t.Fatal(err)
		}
		m, err := wasm.Decode(bin)
		if err != nil {
			t.Fatal(err)
		}
		// The chunk wrappers' types hold the values under the points:
		// all of them unless spillDeep moved them to locals.
		arity := 0
		for _, ft := range m.Types {
			arity = max(arity, len(ft.Params), len(ft.Results))
		}
		if spilled := arity < depth; spilled != (depth > maxLive) {
			t.Errorf("depth %d: block types of up to %d values", depth, arity)
		}
		for _, n := range []uint64{0, 4} {
			want := runPlain(t, orig, "f", []uint64{n})
			for every := 1; ; every++ {
				got, s := runSuspending(t, bin, "f", []uint64{n}, every)
				if !slices.Equal(got, want) || (every == 1 && s < 10) {
					t.Fatalf("depth %d, f(%d), suspending every %d checks: %v after %d suspensions, want %v", depth, n, every, got, s, want)
				}
				if s == 0 {
					break
				}
			}
		}
	}
}

// TestWideCall transforms a call of 990 arguments under 20 values: the
// chunk wrappers' types would take 1010, more than a type may.
func TestWideCall(t *testing.T) {
	params := make([]wasm.ValType, 990)
	for i := range params {
		params[i] = wasm.I32
	}
	var body []wasm.Instr
	for range 20 + len(params) {
		body = append(body, i32c(1))
	}
	body = append(body, wasm.Instr{Op: wasm.OpCall, X: 0})
	for range 20 {
		body = append(body, op(wasm.OpDrop))
	}
	m := &wasm.Module{
		Types: []wasm.FuncType{{Params: params}, {}},
		Funcs: []uint32{0, 1},
		Code: []wasm.Code{
			{Body: wasm.EncodeBody([]wasm.Instr{hostileLoop, hostileEnd, hostileEnd})},
			{Body: wasm.EncodeBody(append(body, op(wasm.OpEnd)))},
		},
	}
	if err := wasm.Validate(m); err != nil {
		t.Fatal(err)
	}
	out, err := Transform(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := wasm.Validate(out); err != nil {
		t.Fatalf("output invalid: %v", err)
	}
}

// spillEverywhere sets maxLive to 0 until the end of the test, so that
// spillDeep moves every value under a point's inputs to locals.
func spillEverywhere(t *testing.T) {
	saved := maxLive
	maxLive = 0
	t.Cleanup(func() { maxLive = saved })
}

// TestSpillEverywhere runs spillDeep on every function that has a value
// under a point's inputs: the spec suite's modules must transform into
// valid ones, and the test programs must compute what they do without
// it, suspended at every check in turn.
func TestSpillEverywhere(t *testing.T) {
	mods, err := validSpecModules()
	if err != nil {
		t.Fatal(err)
	}
	plain := make([][]byte, len(mods))
	for i, sm := range mods {
		plain[i], _ = TransformBinary(sm.binary)
	}
	spillEverywhere(t)
	spilled := 0
	for i, sm := range mods {
		m, err := wasm.Decode(sm.binary)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Transform(m)
		if err != nil {
			t.Errorf("%s: %v", sm.name, err)
			continue
		}
		if err := wasm.Validate(out); err != nil {
			t.Errorf("%s: transformed module invalid: %v", sm.name, err)
		}
		if !bytes.Equal(wasm.Encode(out), plain[i]) {
			spilled++
		}
	}
	if len(mods) > 0 && spilled == 0 {
		t.Error("spillDeep changed no module of the spec suite")
	}
	t.Logf("spillDeep changed %d of %d spec modules", spilled, len(mods))
	t.Run("programs", TestSuspendResume)
	t.Run("deep", TestDeepStack)
}

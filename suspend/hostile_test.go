package suspend

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gate-wasm/gate/wasm"
)

// A hostile shape is a module of one function whose cost to the transform
// would be the product of two of its sizes (locals, suspension points,
// nesting, operand stack depth) if the transform spent something per
// point proportional to another of them. Function 0 is a callee with a
// loop (so that calls of it are call sites), function 1 returns an i32
// and calls nothing (no call site), function 2 is the shape.
type hostileShape struct {
	name string
	// body returns the body of function 2 for sizes a (locals, stack
	// depth or nesting) and b (points), and the locals it declares.
	body func(a, b int) ([]wasm.Instr, []wasm.LocalDecl)
}

var (
	hostileLoop   = wasm.BlockInstr(wasm.OpLoop, wasm.BlockEmpty)
	hostileBlock  = wasm.BlockInstr(wasm.OpBlock, wasm.BlockEmpty)
	hostileEnd    = op(wasm.OpEnd)
	hostileCall   = wasm.Instr{Op: wasm.OpCall, X: 0}
	hostileCallI  = wasm.Instr{Op: wasm.OpCall, X: 1}
	hostileDrop   = op(wasm.OpDrop)
	hostileI32c   = i32c(7)
	hostileI64One = wasm.Instr{Op: wasm.OpI64Const, Imm: 1}
)

func repeat(out []wasm.Instr, n int, ins ...wasm.Instr) []wasm.Instr {
	for range n {
		out = append(out, ins...)
	}
	return out
}

func i64Locals(n int) []wasm.LocalDecl {
	return []wasm.LocalDecl{{Count: uint32(n), Type: wasm.I64}}
}

var hostileShapes = []hostileShape{
	// Dead locals at every loop's check site.
	{"locals×loops", func(a, b int) ([]wasm.Instr, []wasm.LocalDecl) {
		return append(repeat(nil, b, hostileLoop, hostileEnd), hostileEnd), i64Locals(a)
	}},
	// Dead locals at every call site.
	{"locals×calls", func(a, b int) ([]wasm.Instr, []wasm.LocalDecl) {
		return append(repeat(nil, b, hostileCall), hostileEnd), i64Locals(a)
	}},
	// Dead locals at every call site, each in a loop nested in the
	// previous one.
	{"locals×nested", func(a, b int) ([]wasm.Instr, []wasm.LocalDecl) {
		body := repeat(nil, b, hostileLoop, hostileCall)
		return append(repeat(body, b, hostileEnd), hostileEnd), i64Locals(a)
	}},
	// Locals live at every header of nested loops and written in the
	// innermost: each loop's check site would stash them all.
	{"stashed×nested", func(a, b int) ([]wasm.Instr, []wasm.LocalDecl) {
		body := repeat(nil, b, hostileLoop)
		for i := range a {
			body = append(body, local(wasm.OpLocalGet, uint32(i)), hostileI64One, op(wasm.OpI64Add), local(wasm.OpLocalSet, uint32(i)))
		}
		return append(repeat(body, b, hostileEnd), hostileEnd), i64Locals(a)
	}},
	// A deep operand stack under every call site.
	{"stack×calls", func(a, b int) ([]wasm.Instr, []wasm.LocalDecl) {
		body := repeat(nil, a, hostileI32c)
		body = repeat(body, b, hostileCall)
		return append(repeat(body, a, hostileDrop), hostileEnd), nil
	}},
	// A deep operand stack that every call site makes deeper: each
	// frame's stack has types of its own.
	{"stack×results", func(a, b int) ([]wasm.Instr, []wasm.LocalDecl) {
		body := repeat(nil, a, hostileI32c)
		body = repeat(body, b, hostileCall, hostileCallI)
		return append(repeat(body, a+b, hostileDrop), hostileEnd), nil
	}},
	// A deep operand stack under every block that contains a point.
	{"stack×blocks", func(a, b int) ([]wasm.Instr, []wasm.LocalDecl) {
		body := repeat(nil, a, hostileI32c)
		body = repeat(body, b, hostileBlock, hostileCall, hostileEnd)
		return append(repeat(body, a, hostileDrop), hostileEnd), nil
	}},
	// Nested loops, each with a call, under a deep operand stack.
	{"stack×nested", func(a, b int) ([]wasm.Instr, []wasm.LocalDecl) {
		body := repeat(nil, a, hostileI32c)
		body = repeat(body, b, hostileLoop, hostileCall)
		body = repeat(body, b, hostileEnd)
		return append(repeat(body, a, hostileDrop), hostileEnd), nil
	}},
}

// hostileModule returns the module of shape s with sizes a and b.
func hostileModule(s hostileShape, a, b int) *wasm.Module {
	body, locals := s.body(a, b)
	return &wasm.Module{
		Types: []wasm.FuncType{{}, {Results: []wasm.ValType{wasm.I32}}},
		Funcs: []uint32{0, 1, 0},
		Code: []wasm.Code{
			{Body: wasm.EncodeBody([]wasm.Instr{hostileLoop, hostileEnd, hostileEnd})},
			{Body: wasm.EncodeBody([]wasm.Instr{hostileI32c, hostileEnd})},
			{Locals: locals, Body: wasm.EncodeBody(body)},
		},
		Exports: []wasm.Export{{Name: "f", Kind: wasm.ExternFunc, Index: 2}},
	}
}

// transformCost transforms m and returns the size of the encoded output
// and the bytes allocated by Transform.
func transformCost(t testing.TB, m *wasm.Module) (size int, alloc uint64, d time.Duration) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	out, err := Transform(m)
	d = time.Since(start)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if err := wasm.Validate(out); err != nil {
		t.Fatalf("output invalid: %v", err)
	}
	return len(wasm.Encode(out)), after.TotalAlloc - before.TotalAlloc, d
}

// hostileBase returns the smallest sizes of shape s that
// TestTransformLinear compares: its locals (or stack depth, or
// nesting), and its points.
func hostileBase(s hostileShape) (a, b int) {
	if strings.HasPrefix(s.name, "stack") {
		return 500, 250
	}
	return 2000, 250
}

// TestTransformLinear checks that the transform's output and the memory it
// allocates grow at most about linearly with each of two sizes of the
// hostile shapes: doubling one or both of them at most about doubles
// either, where a cost per point in proportion to the locals, the
// stack's depth or the nesting would quadruple it. Time is measured by
// BenchmarkTransformHostile: unit tests run on shared machines.
func TestTransformLinear(t *testing.T) {
	const limit = 2.3
	scale := 1
	if testing.Short() {
		scale = 2 // halves the sizes
	}
	for _, s := range hostileShapes {
		t.Run(s.name, func(t *testing.T) {
			a, b := hostileBase(s)
			a, b = a/scale, b/scale
			type cost struct{ size, alloc int }
			measure := func(x, y int) cost {
				size, alloc, _ := transformCost(t, hostileModule(s, x*a, y*b))
				return cost{size, int(alloc)}
			}
			check := func(what string, base, c cost) {
				t.Helper()
				t.Logf("%s: output %.2f, alloc %.2f", what, float64(c.size)/float64(base.size), float64(c.alloc)/float64(base.alloc))
				if r := float64(c.size) / float64(base.size); r > limit {
					t.Errorf("%s: output %d bytes, %.2f times %d", what, c.size, r, base.size)
				}
				if r := float64(c.alloc) / float64(base.alloc); r > limit {
					t.Errorf("%s: %d bytes allocated, %.2f times %d", what, c.alloc, r, base.alloc)
				}
			}
			c11, c22 := measure(1, 1), measure(2, 2)
			check("twice the first size", c11, measure(2, 1))
			check("twice the points", c11, measure(1, 2))
			check("twice both sizes", c11, c22)
			check("four times both sizes", c22, measure(4, 4))
		})
	}
	if testing.Short() {
		return
	}
	// The shapes as measured before the transform was linear: 50,000
	// locals with 5,000 loops or calls, 10,000 nested loops with a call
	// in each, and as deep a stack under 10,000 calls.
	for _, c := range []struct {
		shape int
		a, b  int
	}{{0, 50000, 5000}, {1, 50000, 5000}, {2, 50000, 10000}, {4, 10000, 10000}, {7, 10000, 10000}} {
		s := hostileShapes[c.shape]
		half, _, _ := transformCost(t, hostileModule(s, c.a/2, c.b/2))
		full, alloc, _ := transformCost(t, hostileModule(s, c.a, c.b))
		if r := float64(full) / float64(half); r > limit {
			t.Errorf("%s, %d × %d: output %d bytes, %.2f times as much as for half the sizes", s.name, c.a, c.b, full, r)
		}
		// A few hundred bytes per point, some per local (the prologue
		// loads each, the unwind tail saves each), and no more than
		// some tens of bytes allocated per byte of output.
		if full > 300*c.b+20*c.a || alloc > uint64(100*full) {
			t.Errorf("%s, %d × %d: output %d bytes, %d allocated", s.name, c.a, c.b, full, alloc)
		}
	}
}

// BenchmarkTransformHostile measures Transform on the hostile shapes at
// the sizes of TestTransformLinear's largest; out-B/op is the size of
// the encoded output.
func BenchmarkTransformHostile(b *testing.B) {
	for _, c := range []struct {
		shape int
		a, b  int
	}{{0, 50000, 5000}, {1, 50000, 5000}, {2, 50000, 10000}, {3, 2000, 10000}, {4, 10000, 10000}, {5, 10000, 10000}, {6, 10000, 10000}, {7, 10000, 10000}} {
		s := hostileShapes[c.shape]
		b.Run(fmt.Sprintf("%s/%d×%d", s.name, c.a, c.b), func(b *testing.B) {
			m := hostileModule(s, c.a, c.b)
			b.ReportAllocs()
			size := 0
			for b.Loop() {
				out, err := Transform(m)
				if err != nil {
					b.Fatal(err)
				}
				size = len(wasm.Encode(out))
			}
			b.ReportMetric(float64(size), "out-B/op")
		})
	}
}

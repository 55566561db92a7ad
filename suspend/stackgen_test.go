package suspend

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gate-wasm/gate/wasm"
)

// stackGen writes random functions of i32 values that keep many of them
// on the operand stack across points: calls (direct, to an import-like
// leaf that is no point, and indirect), blocks, loops and ifs with
// parameters and results, branches that carry values out of blocks,
// returns, selects, stores and loads, and now and then dozens of values
// pushed at once, more than maxLive. Loops run at most twice per entry,
// so every function ends; nothing traps.
type stackGen struct {
	r      *rand.Rand
	out    []wasm.Instr
	frames []genFrame
	budget int
}

type genFrame struct {
	loop    bool
	label   int // values a branch to it takes
	results int
	h       int // values of the frame on the stack
}

// The module of stackGenModule: functions 0 $tick () -> () and 1 $spin
// (i32) -> i32 have a loop each (so calls of them are points), 2 $leaf
// (i32) -> i32 none; 3 is the random one, (i32) -> i32 with 8 i32 locals
// (local 1 + depth counts a loop's iterations, local 7 is scratch).
const (
	genTick, genSpin, genLeaf = 0, 1, 2
	genScratch                = 7
	genMaxDepth               = 5
)

// genBlockType returns the type index of the block type (i32^p) ->
// (i32^r), p and r below 3 (types 3 on, see stackGenModule).
func genBlockType(p, r int) wasm.BlockType { return wasm.BlockType(3 + p*3 + r) }

func stackGenModule(seed uint64) *wasm.Module {
	g := &stackGen{r: rand.New(rand.NewPCG(seed, 0x57ac)), budget: 150 + int(seed%5)*60}
	g.frames = []genFrame{{label: 1, results: 1}}
	g.body(0)
	g.finish(&g.frames[0])
	g.out = append(g.out, op(wasm.OpEnd))

	i32 := []wasm.ValType{wasm.I32}
	types := []wasm.FuncType{{}, {Params: i32, Results: i32}, {Params: i32, Results: i32}}
	for p := range 3 {
		for r := range 3 {
			types = append(types, wasm.FuncType{Params: slices.Repeat(i32, p), Results: slices.Repeat(i32, r)})
		}
	}
	loop := wasm.BlockInstr(wasm.OpLoop, wasm.BlockEmpty)
	return &wasm.Module{
		Types:    types,
		Funcs:    []uint32{0, 1, 1, 2},
		Tables:   []wasm.TableType{{Elem: wasm.FuncRef, Limits: wasm.Limits{Min: 1}}},
		Memories: []wasm.Limits{{Min: 1}},
		Elements: []wasm.Element{{Mode: wasm.Active, Type: wasm.FuncRef, Offset: constI32(0), Funcs: []uint32{genSpin}}},
		Code: []wasm.Code{
			{Body: wasm.EncodeBody([]wasm.Instr{loop, op(wasm.OpEnd), op(wasm.OpEnd)})},
			{Body: wasm.EncodeBody([]wasm.Instr{loop, op(wasm.OpEnd), local(wasm.OpLocalGet, 0), i32c(3), op(wasm.OpI32Mul), op(wasm.OpEnd)})},
			{Body: wasm.EncodeBody([]wasm.Instr{local(wasm.OpLocalGet, 0), i32c(5), op(wasm.OpI32Xor), op(wasm.OpEnd)})},
			{Locals: []wasm.LocalDecl{{Count: 7, Type: wasm.I32}}, Body: wasm.EncodeBody(g.out)},
		},
		Exports: []wasm.Export{{Name: "f", Kind: wasm.ExternFunc, Index: 3}},
	}
}

func (g *stackGen) emit(ins ...wasm.Instr) { g.out = append(g.out, ins...) }

func (g *stackGen) push() {
	if g.r.IntN(2) == 0 {
		g.emit(i32c(int32(g.r.IntN(1000))))
	} else {
		g.emit(local(wasm.OpLocalGet, uint32(g.r.IntN(8))))
	}
}

// finish makes the frame's values its results: it folds the extra ones
// into the others, so that the result depends on them.
func (g *stackGen) finish(fr *genFrame) {
	for fr.h > fr.results {
		if fr.h >= 2 {
			g.emit(op(wasm.OpI32Add))
		} else {
			g.emit(op(wasm.OpDrop))
		}
		fr.h--
	}
	for ; fr.h < fr.results; fr.h++ {
		g.push()
	}
}

// body emits instructions into the innermost frame until the budget runs
// out or it branches away; it reports whether the code after is dead.
func (g *stackGen) body(depth int) (dead bool) {
	fr := &g.frames[len(g.frames)-1]
	for n := 3 + g.r.IntN(12); n > 0 && g.budget > 0; n-- {
		g.budget--
		fr = &g.frames[len(g.frames)-1]
		switch k := g.r.IntN(100); {
		case k < 14:
			g.push()
			fr.h++
		case k < 17:
			for range maxLive + g.r.IntN(40) {
				g.push()
				fr.h++
			}
		case k < 27 && fr.h >= 2:
			g.emit(op([]wasm.Opcode{wasm.OpI32Add, wasm.OpI32Sub, wasm.OpI32Xor, wasm.OpI32Mul}[g.r.IntN(4)]))
			fr.h--
		case k < 30 && fr.h >= 1:
			g.emit(op(wasm.OpDrop))
			fr.h--
		case k < 38:
			g.emit(wasm.Instr{Op: wasm.OpCall, X: genTick})
		case k < 43 && fr.h >= 1:
			g.emit(wasm.Instr{Op: wasm.OpCall, X: genSpin})
		case k < 46 && fr.h >= 1:
			g.emit(wasm.Instr{Op: wasm.OpCall, X: genLeaf})
		case k < 49 && fr.h >= 1:
			g.emit(i32c(0), wasm.Instr{Op: wasm.OpCallIndirect, X: 1})
		case k < 52 && fr.h >= 3:
			g.emit(op(wasm.OpSelect))
			fr.h -= 2
		case k < 55 && fr.h >= 1:
			g.emit(local(wasm.OpLocalTee, genScratch))
		case k < 57 && fr.h >= 1:
			g.emit(local(wasm.OpLocalSet, genScratch))
			fr.h--
		case k < 60 && fr.h >= 2:
			// Stores the top value at the address under it, masked.
			g.emit(local(wasm.OpLocalSet, genScratch), i32c(252), op(wasm.OpI32And),
				local(wasm.OpLocalGet, genScratch), wasm.Instr{Op: wasm.OpI32Store, X: 2})
			fr.h -= 2
		case k < 62 && fr.h >= 1:
			g.emit(i32c(252), op(wasm.OpI32And), wasm.Instr{Op: wasm.OpI32Load, X: 2})
		case k < 80 && depth < genMaxDepth:
			g.block(depth)
		case k < 86:
			// br_if to a block, an if or the function, with its values.
			l := g.r.IntN(len(g.frames))
			target := g.frames[len(g.frames)-1-l]
			if target.loop || fr.h < target.label {
				continue
			}
			g.emit(local(wasm.OpLocalGet, 0), i32c(int32(g.r.IntN(8))), op(wasm.OpI32LtU), wasm.Instr{Op: wasm.OpBrIf, X: uint32(l)})
		case k < 88:
			l := g.r.IntN(len(g.frames))
			target := g.frames[len(g.frames)-1-l]
			if target.loop || fr.h < target.label {
				continue
			}
			g.emit(wasm.Instr{Op: wasm.OpBr, X: uint32(l)})
			return true
		case k < 89 && fr.h >= 1:
			g.emit(op(wasm.OpReturn))
			return true
		}
	}
	return false
}

// block emits a block, loop or if with random parameters and results.
func (g *stackGen) block(depth int) {
	fr := &g.frames[len(g.frames)-1]
	p, r := g.r.IntN(min(fr.h, 2)+1), g.r.IntN(3)
	kind := []wasm.Opcode{wasm.OpBlock, wasm.OpLoop, wasm.OpIf}[g.r.IntN(3)]
	counter := uint32(1 + depth)
	if kind == wasm.OpLoop {
		// The counter goes under the parameters: set it first.
		g.emit(i32c(2), local(wasm.OpLocalSet, counter))
	}
	if kind == wasm.OpIf {
		g.emit(local(wasm.OpLocalGet, 0), i32c(int32(g.r.IntN(8))), op(wasm.OpI32GtU))
	}
	g.emit(wasm.BlockInstr(kind, genBlockType(p, r)))
	fr.h -= p
	label := r
	if kind == wasm.OpLoop {
		label = p
	}
	arm := func() {
		g.frames = append(g.frames, genFrame{loop: kind == wasm.OpLoop, label: label, results: r, h: p})
		dead := g.body(depth + 1)
		inner := &g.frames[len(g.frames)-1]
		if !dead {
			if kind == wasm.OpLoop {
				for ; inner.h < p; inner.h++ {
					g.push()
				}
				g.emit(local(wasm.OpLocalGet, counter), i32c(1), op(wasm.OpI32Sub), local(wasm.OpLocalTee, counter),
					wasm.Instr{Op: wasm.OpBrIf, X: 0})
			}
			g.finish(inner)
		}
		g.frames = g.frames[:len(g.frames)-1]
	}
	arm()
	if kind == wasm.OpIf && g.r.IntN(2) == 0 {
		g.emit(op(wasm.OpElse))
		arm()
	} else if kind == wasm.OpIf && p != r {
		// Without an else, an if passes its parameters on as its
		// results.
		g.emit(op(wasm.OpElse))
		g.frames = append(g.frames, genFrame{label: r, results: r, h: p})
		g.finish(&g.frames[len(g.frames)-1])
		g.frames = g.frames[:len(g.frames)-1]
	}
	g.emit(op(wasm.OpEnd))
	g.frames[len(g.frames)-1].h += r
}

// TestRandomStacks runs random functions of stackGen, transformed with
// spillDeep where the stack is deep and with it wherever a point has a
// value under its inputs, suspended at every Nth check for several N, and
// compares their results with the original's.
func TestRandomStacks(t *testing.T) {
	seeds := 60
	if testing.Short() {
		seeds = 15
	}
	transform := func(orig []byte, ml int) []byte {
		saved := maxLive
		maxLive = ml
		defer func() { maxLive = saved }()
		bin, err := TransformBinary(orig)
		if err != nil {
			t.Fatalf("maxLive %d: %v", ml, err)
		}
		return bin
	}
	deep, suspensions := 0, 0
	for seed := range uint64(seeds) {
		m := stackGenModule(seed)
		if err := wasm.Validate(m); err != nil {
			t.Fatalf("seed %d: random module invalid: %v", seed, err)
		}
		orig := wasm.Encode(m)
		if !bytes.Equal(transform(orig, 32), transform(orig, 1<<30)) {
			deep++
		}
		for _, ml := range []int{32, 0} {
			bin := transform(orig, ml)
			for _, n := range []uint64{1, 6} {
				args := []uint64{n}
				want := runPlain(t, orig, "f", args)
				for _, every := range []int{1, 2, 3, 5, 8, 13, 21, 34, 55} {
					got, s := runSuspending(t, bin, "f", args, every)
					if !slices.Equal(got, want) {
						t.Fatalf("seed %d, maxLive %d, f(%d), suspending every %d checks (%d suspensions): %v, want %v", seed, ml, n, every, s, got, want)
					}
					suspensions += s
					if s == 0 {
						break
					}
				}
			}
		}
	}
	if deep < seeds/3 {
		t.Errorf("spillDeep rewrote %d of %d random functions", deep, seeds)
	}
	t.Logf("spillDeep rewrote %d of %d random functions; %d suspensions", deep, seeds, suspensions)
}

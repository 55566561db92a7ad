package suspend

import (
	"github.com/gate-wasm/gate/wasm"
)

// maxLive bounds the operand values of a block that lie under the inputs
// of a suspension point (a call's arguments, a block's parameters) in
// that block. Every point saves its live values on its unwind path and
// pushes them again on its rewinding path, the chunk wrappers around it
// take them as parameters and results, and a block that contains a point
// moves the values under it to locals and back: each costs the depth of
// the stack, at every point. Compilers leave a few values there (C and Go
// programs at most 8, arguments included); a function with more gets them
// moved to locals first (spillDeep), so that no point pays for the depth.
// A variable for tests only, which set it to 0 to run spillDeep on every
// function where a point has a value under its inputs.
var maxLive = 32

// maxFrame bounds the values of a block at a point, its inputs included,
// below the most a block type may take (1000, as wasm.Validate and
// engines allow): a chunk wrapper's type holds them all.
const maxFrame = 1000 - 8

// tooDeep reports whether a point with below values of its block under
// its inputs needs spillDeep.
func tooDeep(below, inputs int) bool {
	return below > maxLive || below > 0 && below+inputs > maxFrame
}

// spillStack is the operand stack, t.types[stack:stack+nstack], at the
// instruction pc of spillDeep's output.
type spillStack struct {
	pc            int
	stack, nstack int32
}

// spillFrame is a block of the input as spillDeep walks it: its values
// are the operand stack from base up, those under w in locals.
type spillFrame struct {
	base, w int
	label   int // the values a branch to it takes
	results int
}

// spillDeep rewrites f.instrs (and t.spans) so that no point has more
// than maxLive values of its block under its inputs: before such a point,
// the block's values under its inputs that are still on the stack are
// stored into locals (one per height of the stack and type, so that no
// more are needed than the stack is deep), and each is pushed back just
// before the instruction that pops it. So each value is stored and
// loaded at most once, and the instructions added are as many as the
// input's at most, whatever the number of points. The locals are the
// frame's like any other: saved, and restored when rewinding.
//
// Pushing a value back under the values above it takes those into
// scratch locals and back: only those the instruction pops, since the
// instruction that pops a stored value pops everything above it. How
// many an instruction pops is known from the stacks before and after it
// for all but a few, which push one value at most: it is taken to push
// one, and at worst one value more than needed is pushed back.
func (f *function) spillDeep() error {
	t := f.t
	in := f.instrs
	out := t.spillInstrs[:0]
	spans := t.spillSpans[:0]
	for i := range t.spillLocals {
		t.spillLocals[i] = t.spillLocals[i][:0]
	}
	mirror := t.mirror[:0] // the stack before the instruction processed
	frames := append(t.spillFrames[:0], spillFrame{label: len(f.typ.Results), results: len(f.typ.Results)})

	t.types = t.types[:0]
	stacks := t.spillStacks[:0]
	// record keeps the stack of the frame before point or block pc, to
	// be the instruction added next.
	record := func(fr *spillFrame, pc int) {
		h := len(mirror)
		stacks = append(stacks, spillStack{pc: len(out), stack: int32(len(t.types)), nstack: int32(h - fr.w)})
		t.types = append(t.types, mirror[fr.w:h]...)
	}
	insert := func(ins wasm.Instr) {
		out = append(out, ins)
		spans = append(spans, span{-1, -1})
	}
	spillLocal := func(vt wasm.ValType, h int) uint32 {
		s := &t.spillLocals[typeSlot(vt)]
		for len(*s) <= h {
			*s = append(*s, -1)
		}
		if (*s)[h] < 0 {
			(*s)[h] = int32(f.newLocal(vt))
		}
		return uint32((*s)[h])
	}
	// reload pushes back the stored values among the top m of the
	// frame's, which is h values high.
	reload := func(fr *spillFrame, h, m int) {
		lo := max(fr.base, h-m)
		if lo >= fr.w {
			return
		}
		above := f.tempsFor(mirror[fr.w:h])
		for i := h - 1; i >= fr.w; i-- {
			insert(local(wasm.OpLocalSet, above[i-fr.w]))
		}
		for j := lo; j < fr.w; j++ {
			insert(local(wasm.OpLocalGet, spillLocal(mirror[j], j)))
		}
		for _, l := range above {
			insert(local(wasm.OpLocalGet, l))
		}
		fr.w = lo
	}
	// spill stores the values of the frame under the top inputs ones,
	// which is h values high, if they are too many.
	spill := func(fr *spillFrame, h, inputs int) {
		top := h - inputs
		if !tooDeep(top-fr.w, inputs) {
			return
		}
		tmp := f.tempsFor(mirror[top:h])
		for i := h - 1; i >= top; i-- {
			insert(local(wasm.OpLocalSet, tmp[i-top]))
		}
		for j := top - 1; j >= fr.w; j-- {
			insert(local(wasm.OpLocalSet, spillLocal(mirror[j], j)))
		}
		for _, l := range tmp {
			insert(local(wasm.OpLocalGet, l))
		}
		fr.w = top
	}
	labelArity := func(l uint32) int {
		if int(l) >= len(frames) {
			return 0
		}
		return frames[len(frames)-1-int(l)].label
	}

	// process handles instruction pc, before which the stack is mirror,
	// given the height of the stack after it, and returns from which
	// height the stack after it differs from the one before.
	process := func(pc, after int) int {
		ins := in[pc]
		p := &f.pcs[pc]
		h := len(mirror)
		fr := &frames[len(frames)-1]
		fr.w = min(fr.w, h) // a branch left the block's values
		switch ins.Op {
		case wasm.OpBlock, wasm.OpLoop, wasm.OpIf:
			params, results := t.blockSig(ins.BlockType())
			m := len(params)
			if ins.Op == wasm.OpIf {
				m++
			}
			reload(fr, h, m)
			if p.contains {
				spill(fr, h, m)
				record(fr, pc)
			}
			out = append(out, ins)
			spans = append(spans, t.spans[pc])
			base := h - m
			label := len(results)
			if ins.Op == wasm.OpLoop {
				label = len(params)
			}
			frames = append(frames, spillFrame{base: base, w: base, label: label, results: len(results)})
			return base
		case wasm.OpElse, wasm.OpEnd:
			reload(fr, h, h-fr.base)
			out = append(out, ins)
			spans = append(spans, t.spans[pc])
			base := fr.base
			if ins.Op == wasm.OpEnd {
				if len(frames) > 1 {
					frames = frames[:len(frames)-1]
				}
			} else {
				fr.w = base
			}
			return base
		}
		m := h - after + 1 // at most one value pushed, but for these:
		switch ins.Op {
		case wasm.OpDrop, wasm.OpLocalSet, wasm.OpGlobalSet:
			m = 1
		case wasm.OpCall, wasm.OpCallIndirect:
			m = f.callArity(ins)
		case wasm.OpBr:
			m = labelArity(ins.X)
		case wasm.OpBrIf, wasm.OpBrTable:
			m = labelArity(ins.X) + 1
		case wasm.OpReturn:
			m = len(f.typ.Results)
		case wasm.OpUnreachable:
			m = 0
		}
		m = max(m, 0)
		reload(fr, h, m)
		if p.point != 0 && (ins.Op == wasm.OpCall || ins.Op == wasm.OpCallIndirect) {
			spill(fr, h, m)
			record(fr, pc)
		}
		out = append(out, ins)
		spans = append(spans, t.spans[pc])
		return min(h-m, after)
	}

	prev := -1
	err := t.typer.FuncStack(f.fidxIn, in, func(pc int, _ wasm.Instr, stack []wasm.ValType, _ bool) {
		if prev >= 0 {
			from := max(0, min(process(prev, len(stack)), len(mirror), len(stack)))
			mirror = append(mirror[:from], stack[from:]...)
		} else {
			mirror = append(mirror[:0], stack...)
		}
		prev = pc
	})
	if err != nil {
		return err
	}
	if prev >= 0 {
		process(prev, len(f.typ.Results))
	}
	t.mirror, t.spillFrames, t.spillStacks = mirror[:0], frames[:0], stacks
	// The function's code is now in spillDeep's buffers; t.spans goes
	// back to its own at the end of the function (see instrument), whose
	// caller fills it for the next one.
	t.spillInstrs, t.spillSpans = out[:0], spans[:0]
	f.instrs, t.spans = out, spans
	return nil
}

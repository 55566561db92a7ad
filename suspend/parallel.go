package suspend

import (
	"fmt"
	"runtime"

	"github.com/gate-wasm/gate/internal/inorder"
	"github.com/gate-wasm/gate/wasm"
)

// The functions of a module are instrumented in chunks of consecutive
// functions, each by one worker, a goroutine with a copy of the
// transformer and its own buffers, while as many run as there are
// processors; the chunks are then merged in order. A function's
// instrumentation needs only the input and what was decided for all
// functions before (which functions are instrumented), except for two
// tables that the output's code refers to by index: the function types
// the transform adds for its blocks, and the scratch globals. A chunk
// numbers the ones it adds as if it came first; the merge gives them their
// indices in the output in the order in which a transform of one function
// after the other would have added them, and rewrites the instructions
// that refer to them where the two differ (fixups). So the output does not
// depend on the number of workers: it is the same, byte for byte, as with
// one.

// defaultChunkBytes is the size of the code, in bytes of the input's
// bodies, of the chunks the workers take in turn: small enough that the
// work is shared evenly at the end, large enough that each chunk's own
// tables and the merge cost little. A module with less code than one
// chunk is instrumented on the calling goroutine.
const defaultChunkBytes = 128 << 10

// chunk is a run of the input's functions, [lo, hi) in its code section,
// and what instrumenting them added.
type chunk struct {
	lo, hi int

	newTypes     []wasm.FuncType // in the order of first use, from nBaseTypes on
	scratchTypes []wasm.ValType  // the scratch globals, from fuelGlobal+1 on
	fixups       []fixup
	refs         refsWriter
}

// fixup is an instruction of an output body that refers to a type or a
// scratch global that its chunk added, at body[start:end]: a block, loop
// or if whose block type is type x, or a global.get or global.set of
// global x.
type fixup struct {
	code       int32 // the function's index in the code section
	start, end int32
	op         wasm.Opcode
	x          uint32
}

// fixupOf returns the fixup of in, at body[start:end] of function code,
// and whether it needs one: whether it refers to a type or scratch global
// the chunk added.
func (t *transformer) fixupOf(in *wasm.Instr, code, start, end int) (fixup, bool) {
	fx := fixup{code: int32(code), start: int32(start), end: int32(end), op: in.Op}
	switch in.Op {
	case wasm.OpBlock, wasm.OpLoop, wasm.OpIf:
		x, ok := in.BlockType().TypeIndex()
		fx.x = x
		return fx, ok && int(x) >= t.nBaseTypes
	case wasm.OpGlobalGet, wasm.OpGlobalSet:
		fx.x = in.X
		return fx, in.X > t.fuelGlobal
	}
	return fx, false
}

// chunks splits the code section into chunks of about size bytes.
func chunks(code []wasm.Code, size int) []chunk {
	var cs []chunk
	lo, bytes := 0, 0
	for i := range code {
		bytes += len(code[i].Body)
		if bytes >= size {
			cs = append(cs, chunk{lo: lo, hi: i + 1})
			lo, bytes = i+1, 0
		}
	}
	if lo < len(code) || len(cs) == 0 {
		cs = append(cs, chunk{lo: lo, hi: len(code)})
	}
	return cs
}

// code writes the output's code section into out, and the scratch globals
// and refs section into t.
func (t *transformer) code(out []wasm.Code) error {
	size := t.chunkBytes
	if size <= 0 {
		size = defaultChunkBytes
	}
	cs := chunks(t.in.Code, size)
	workers := t.workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(cs))

	// Which functions are instrumented: those with a loop or a call in
	// live code. Every function's instrumentation needs to know it of
	// the functions it calls, so this is done for all before any is
	// instrumented. Bodies are decoded again below rather than kept:
	// all of them at once would take about 25 times the module's size.
	t.instrumented = make([]bool, int(t.numImpFuncs)+len(t.in.Code))
	renumbered := make([]bool, len(t.in.Code)) // has function indices
	if err := parallel(cs, workers, func(_ int, c *chunk) error { return t.scan(c, renumbered) }); err != nil {
		return err
	}

	ws := make([]*transformer, workers)
	for i := range ws {
		ws[i] = t.worker()
	}
	err := parallel(cs, workers, func(w int, c *chunk) error { return ws[w].instrumentChunk(c, renumbered, out) })
	if err != nil {
		return err
	}
	t.merge(cs, out)
	return nil
}

// parallel calls do for each chunk, on workers goroutines numbered from 0
// (see inorder.Do), and returns the error of the first chunk whose call
// failed. A chunk after a failed one may be skipped.
func parallel(cs []chunk, workers int, do func(worker int, c *chunk) error) error {
	return inorder.Do(len(cs), workers, func(w, k int) error { return do(w, &cs[k]) })
}

// scan finds which functions of c are instrumented, and which refer to
// functions (whose indices change).
func (t *transformer) scan(c *chunk, renumbered []bool) error {
	for i := c.lo; i < c.hi; i++ {
		var live liveness
		instrumented, refers := false, false
		err := t.in.Code[i].Opcodes(func(op wasm.Opcode) {
			refers = refers || op == wasm.OpCall || op == wasm.OpRefFunc
			if live.next(op) && (op == wasm.OpLoop || op == wasm.OpCall || op == wasm.OpCallIndirect) {
				instrumented = true
			}
		})
		if err != nil {
			return fmt.Errorf("function %d: %w", t.numImpFuncs+uint32(i), err)
		}
		t.instrumented[int(t.numImpFuncs)+i] = instrumented
		renumbered[i] = refers
	}
	return nil
}

// worker returns a copy of t for a worker: what all workers share, which
// they only read, and buffers of its own.
func (t *transformer) worker() *transformer {
	return &transformer{
		in: t.in, out: t.out,
		numImpFuncs: t.numImpFuncs, firstImport: t.firstImport,
		stateGlobal: t.stateGlobal, fuelGlobal: t.fuelGlobal,
		instrumented: t.instrumented, blocking: t.blocking,
		typeIndex: t.typeIndex, nBaseTypes: t.nBaseTypes,
		typer: wasm.NewTyper(t.in),
	}
}

// resetChunk empties what t keeps per chunk.
func (t *transformer) resetChunk() {
	t.newTypes, t.newTypeIndex = nil, make(map[string]uint32)
	t.scratch, t.scratchTypes = [numTypeSlots][]uint32{}, nil
	t.refs, t.fixups = refsWriter{}, nil
}

// instrumentChunk writes the output's code of the functions of c into
// out, and what they add into c.
func (t *transformer) instrumentChunk(c *chunk, renumbered []bool, out []wasm.Code) error {
	t.resetChunk()
	in := t.in
	for i := c.lo; i < c.hi; i++ {
		fidx := t.numImpFuncs + uint32(i)
		if !t.instrumented[fidx] && !renumbered[i] {
			// Nothing to change: the body is kept, dead code and
			// all (it refers to no function).
			out[i] = wasm.Code{Locals: in.Code[i].Locals, Body: in.Code[i].Body}
			continue
		}
		instrs, err := t.decode(i)
		if err != nil {
			return err
		}
		instrs, t.spans = removeDeadCode(instrs, t.starts, len(in.Code[i].Body), t.spans[:0])
		var code wasm.Code
		if t.instrumented[fidx] {
			code, err = t.instrument(fidx, instrs, in.Code[i].Locals, in.Code[i].Body)
		} else {
			code = wasm.Code{Locals: in.Code[i].Locals, Body: t.encode(t.renumber(instrs))}
		}
		if err != nil {
			return fmt.Errorf("function %d: %w", fidx, err)
		}
		out[i] = code
	}
	c.newTypes, c.scratchTypes, c.fixups, c.refs = t.newTypes, t.scratchTypes, t.fixups, t.refs
	return nil
}

// merge gives the types and scratch globals that the chunks added their
// indices in the output, chunk after chunk, rewrites the instructions
// that refer to them where a chunk numbered them otherwise, and
// concatenates the chunks' refs sections.
func (t *transformer) merge(cs []chunk, out []wasm.Code) {
	t.scratch, t.scratchTypes = [numTypeSlots][]uint32{}, nil
	for i := range cs {
		c := &cs[i]
		same := true
		types := make([]uint32, len(c.newTypes))
		for j, ft := range c.newTypes {
			types[j] = t.baseType(ft.Params, ft.Results)
			same = same && int(types[j]) == t.nBaseTypes+j
		}
		var used [numTypeSlots]uint32
		globals := make([]uint32, len(c.scratchTypes))
		for j, vt := range c.scratchTypes {
			slot := typeSlot(vt)
			globals[j] = t.scratchGlobal(vt, used[slot])
			used[slot]++
			same = same && globals[j] == t.fuelGlobal+1+uint32(j)
		}
		if !same {
			t.rewritten += t.applyFixups(c.fixups, out, types, globals)
		}
		t.refs.funcs += c.refs.funcs
		t.refs.body = append(t.refs.body, c.refs.body...)
	}
	// Every type is now in typeIndex: a worker made after (as tests
	// make) numbers the types it adds after them.
	t.nBaseTypes = len(t.out.Types)
}

// applyFixups rewrites the instructions of fixups (in the order of the
// code) in out with the indices of the output: types[j] for the chunk's
// j-th type, globals[j] for its j-th scratch global. A body whose
// instructions all keep their indices is left as it is. It returns the
// number of bodies rewritten.
func (t *transformer) applyFixups(fixups []fixup, out []wasm.Code, types, globals []uint32) int {
	bodies := 0
	for len(fixups) > 0 {
		n := 1
		for n < len(fixups) && fixups[n].code == fixups[0].code {
			n++
		}
		fxs := fixups[:n]
		fixups = fixups[n:]
		changes := false
		for i := range fxs {
			x := t.remap(&fxs[i], types, globals)
			changes = changes || x != fxs[i].x
			fxs[i].x = x
		}
		if !changes {
			continue
		}
		bodies++
		code := &out[fxs[0].code]
		old := code.Body
		body := make([]byte, 0, len(old)+4*n)
		prev := int32(0)
		for _, fx := range fxs {
			body = append(body, old[prev:fx.start]...)
			in := wasm.Instr{Op: fx.op, X: fx.x}
			if fx.op == wasm.OpBlock || fx.op == wasm.OpLoop || fx.op == wasm.OpIf {
				in = wasm.BlockInstr(fx.op, wasm.BlockType(fx.x))
			}
			body = wasm.AppendInstr(body, &in)
			prev = fx.end
		}
		code.Body = append(body, old[prev:]...)
	}
	return bodies
}

// remap returns the index in the output of the type or global fx refers
// to.
func (t *transformer) remap(fx *fixup, types, globals []uint32) uint32 {
	if fx.op == wasm.OpGlobalGet || fx.op == wasm.OpGlobalSet {
		return globals[fx.x-t.fuelGlobal-1]
	}
	return types[int(fx.x)-t.nBaseTypes]
}

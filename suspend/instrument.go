package suspend

import (
	"fmt"
	"math/bits"
	"slices"

	"github.com/gate-wasm/gate/wasm"
)

// maxLocals bounds the locals of an instrumented function: every local is
// saved and loaded by code of its own at a suspension.
const maxLocals = 1 << 16

// function is the state of the instrumentation of one function. Its
// slices are the transformer's scratch buffers, reused from function to
// function.
type function struct {
	t      *transformer
	fidx   uint32 // index in the output
	fidxIn uint32 // index in the input
	typ    wasm.FuncType
	locals []wasm.ValType // params, then declared, then added
	nDecl  int            // params + declared locals

	instrs  []wasm.Instr
	encoded []byte   // the body as it was, instrs being at t.spans
	pcs     []pcInfo // per instruction

	entryPoint uint32 // 0 if the function has no entry check site

	// Locals the transform adds for itself, which are not saved.
	pointLocal uint32
	fuelTemp   uint32 // the fuel just decremented (see checkSite)
	tv, t64    int64  // scratch locals for v128 values, or -1

	out   []byte // the encoded code emitted so far
	depth int    // open labels in out, the function's own excluded

	codeIndex  int // index in the input's code section
	fixupsFrom int // the function's fixups are t.fixups[fixupsFrom:]

	refPoints []pointRefs // points whose live values include references

	// liveKnown tells whether analyzeLocals ran (see its bounds); extra is
	// what remains of the instructions that zeroDead and stash may add,
	// a budget in proportion to the function's size.
	liveKnown bool
	extra     int

	// shadowOf is, for each of the input's locals, the local added to
	// hold the value it was restored with, or -1 (see restoreWritten);
	// shadow tells, for each local the transform added (from nDecl on),
	// whether it is one of those.
	shadowOf []int32
	shadow   []bool
}

// pcInfo is what the instrumentation knows of one instruction.
type pcInfo struct {
	// block, loop, if and call sites: the operand stack before it is
	// t.types[stack : stack+nstack].
	stack, nstack int32
	end           int32  // block, loop, if: the pc of its end
	els           int32  // if: the pc of its else, or -1
	point         uint32 // call sites and loops: their suspension point
	thenLo        uint32 // if: the first point of the then arm
	thenHi        uint32 // if: the last point of the then arm
	contains      bool   // block, loop, if: contains a suspension point
	only          bool   // loop: its header is its only suspension point
	// loops: the locals live at the header and those written in the
	// loop; call sites: the locals live at the call (sets of t.sets, or
	// -1; see analyzeLocals).
	live, writes int32
}

// stackAt returns the operand stack before instruction pc (a point or a
// block that contains one) from where the values of the block around it
// start (see structure).
func (f *function) stackAt(pc int) []wasm.ValType {
	p := &f.pcs[pc]
	return f.t.types[p.stack : p.stack+p.nstack : p.stack+p.nstack]
}

// own reports whether local i is one the transform added for itself.
func (f *function) own(i uint32) bool {
	return i == f.pointLocal || i == f.fuelTemp || int64(i) == f.tv || int64(i) == f.t64 || f.isShadow(i)
}

// instrument returns the instrumented code of function fidx (of the
// input), whose body without dead code is instrs, those instructions
// being at t.spans of its encoded body.
func (t *transformer) instrument(fidx uint32, instrs []wasm.Instr, decls []wasm.LocalDecl, encoded []byte) (wasm.Code, error) {
	ft, ok := t.in.FuncType(fidx)
	if !ok {
		return wasm.Code{}, fmt.Errorf("no type")
	}
	t.types, t.u32s = t.types[:0], t.u32s[:0]
	for i := range t.temps {
		t.temps[i] = t.temps[i][:0]
	}
	f := &function{t: t, fidx: t.fn(fidx), fidxIn: fidx, typ: ft, instrs: instrs, encoded: encoded, tv: -1, t64: -1,
		locals: t.locals[:0], out: t.body[:0], shadow: t.shadow[:0],
		codeIndex: int(fidx - t.numImpFuncs), fixupsFrom: len(t.fixups)}
	defer func() { t.locals, t.body, t.shadow = f.locals[:0], f.out[:0], f.shadow[:0] }()
	f.locals = append(f.locals, ft.Params...)
	for _, d := range decls {
		if uint64(len(f.locals))+uint64(d.Count) > maxLocals {
			return wasm.Code{}, fmt.Errorf("more than %d locals", maxLocals)
		}
		for range d.Count {
			f.locals = append(f.locals, d.Type)
		}
	}
	f.nDecl = len(f.locals)
	f.shadowOf = slices.Grow(t.shadowOf[:0], f.nDecl)[:f.nDecl]
	for i := range f.shadowOf {
		f.shadowOf[i] = -1
	}
	t.shadowOf = f.shadowOf
	t.restored = slices.Grow(t.restored[:0], f.nDecl)[:f.nDecl]
	clear(t.restored)
	t.chunkMark = 0
	f.pointLocal = f.newLocal(wasm.I32)
	f.fuelTemp = f.newLocal(wasm.I32)

	deep, err := f.structure(true)
	if err != nil {
		return wasm.Code{}, err
	}
	if deep {
		// Rewritten once: after it, no point has more than maxLive
		// values under its inputs (see spillDeep).
		spans := t.spans
		defer func() { t.spans = spans }()
		if err := f.spillDeep(); err != nil {
			return wasm.Code{}, err
		}
		// The stacks are spillDeep's: a validator would not know the
		// locals it added.
		if _, err := f.structure(false); err != nil {
			return wasm.Code{}, err
		}
		for _, r := range t.spillStacks {
			p := &f.pcs[r.pc]
			p.stack, p.nstack = r.stack, r.nstack
		}
	}
	n := len(f.instrs)
	f.analyzeLocals()
	f.extra = extraCodePerInstr*n + extraCodeBase

	// Body: block $U <entry check> <body> return end <unwind tail>.
	f.emit(wasm.BlockInstr(wasm.OpBlock, wasm.BlockEmpty))
	if f.entryPoint != 0 {
		f.checkSite(f.entryPoint, nil, -1, false)
	}
	f.body(0, n-1, 0, nil, ft.Results)
	f.emit(wasm.Instr{Op: wasm.OpReturn}, wasm.Instr{Op: wasm.OpEnd})
	var refLocals []uint32 // counted from the end of the frame
	saved := 0
	for i := len(f.locals) - 1; i >= 0; i-- {
		if !f.own(uint32(i)) {
			if f.locals[i].IsRef() {
				refLocals = append(refLocals, uint32(saved))
			}
			saved++
		}
	}
	for i := range uint32(len(f.locals)) {
		if f.own(i) {
			continue
		}
		f.emit(local(wasm.OpLocalGet, i))
		f.save(f.locals[i])
	}
	t.refs.add(f.fidx, refLocals, f.refPoints)
	f.emit(i32c(int32(f.fidx)), local(wasm.OpLocalGet, f.pointLocal), f.call(impSaveFrame))
	f.zeros(ft.Results)
	f.emit(wasm.Instr{Op: wasm.OpEnd})
	body := f.out
	bodyFixups := len(t.fixups)

	// Prologue: rewind the frame's locals. The state is never unwinding
	// at a function's entry (the host sets it to unwinding only in check
	// and in blocking imports, and every suspension point that calls them
	// unwinds at once), so "state != 0" means rewinding.
	f.out = t.prologue[:0]
	f.emit(wasm.Instr{Op: wasm.OpGlobalGet, X: f.t.stateGlobal}, op(wasm.OpI32Eqz))
	f.emit(wasm.BlockInstr(wasm.OpIf, wasm.BlockEmpty), op(wasm.OpElse))
	// Fuel is at most 0 throughout a rewind, so that every check site
	// passed takes its slow path, which looks at the state. Every frame
	// rewound runs this before any check site of its own.
	f.emit(i32c(0), wasm.Instr{Op: wasm.OpGlobalSet, X: f.t.fuelGlobal})
	f.emit(i32c(int32(f.fidx)), f.call(impRestoreFrame), local(wasm.OpLocalSet, f.pointLocal))
	for i := len(f.locals) - 1; i >= 0; i-- {
		if f.own(uint32(i)) {
			continue
		}
		f.load(f.locals[i])
		f.emit(local(wasm.OpLocalSet, uint32(i)))
	}
	for x, sh := range f.shadowOf {
		if sh >= 0 {
			f.emit(local(wasm.OpLocalGet, uint32(x)), local(wasm.OpLocalSet, uint32(sh)))
		}
	}
	f.emit(wasm.Instr{Op: wasm.OpEnd})
	prologue := f.out
	f.out = body // for the deferred reuse
	t.prologue = prologue[:0]
	if len(t.fixups) != bodyFixups {
		// The prologue refers to no type or global a chunk adds:
		// its fixups would come before the body's.
		return wasm.Code{}, fmt.Errorf("internal error: the prologue refers to a type or global the transform adds")
	}
	for i := f.fixupsFrom; i < len(t.fixups); i++ {
		t.fixups[i].start += int32(len(prologue))
		t.fixups[i].end += int32(len(prologue))
	}

	code := wasm.Code{Locals: append([]wasm.LocalDecl(nil), decls...), Body: t.alloc(len(prologue) + len(body))}
	copy(code.Body[copy(code.Body, prologue):], body)
	for _, lt := range f.locals[f.nDecl:] {
		if k := len(code.Locals) - 1; k >= len(decls) && code.Locals[k].Type == lt {
			code.Locals[k].Count++
		} else {
			code.Locals = append(code.Locals, wasm.LocalDecl{Count: 1, Type: lt})
		}
	}
	return code, nil
}

// structure finds the function's blocks and points and, if stacks, the
// operand stacks at them, and reports whether a point has more than
// maxLive values of its block under its inputs.
func (f *function) structure(stacks bool) (deep bool, err error) {
	t := f.t
	instrs := f.instrs
	n := len(instrs)
	if cap(t.pcs) < n {
		t.pcs = make([]pcInfo, n+n/4)
	}
	f.pcs = t.pcs[:n]
	clear(f.pcs)
	f.entryPoint = 0

	next := uint32(1)
	for _, in := range instrs {
		if in.Op == wasm.OpCall || in.Op == wasm.OpCallIndirect {
			f.entryPoint = next
			next++
			break
		}
	}
	opens := t.opens[:0]
	for pc := range instrs {
		in := &instrs[pc]
		p := &f.pcs[pc]
		switch in.Op {
		case wasm.OpBlock, wasm.OpLoop, wasm.OpIf:
			p.els = -1
			opens = append(opens, open{pc, next})
			if in.Op == wasm.OpLoop {
				p.point = next
				next++
			}
		case wasm.OpElse:
			if len(opens) > 0 {
				o := opens[len(opens)-1]
				q := &f.pcs[o.pc]
				q.els = int32(pc)
				q.thenLo, q.thenHi = o.first, next-1
			}
		case wasm.OpEnd:
			if len(opens) > 0 {
				o := opens[len(opens)-1]
				opens = opens[:len(opens)-1]
				q := &f.pcs[o.pc]
				q.end = int32(pc)
				q.contains = next > o.first
				q.only = instrs[o.pc].Op == wasm.OpLoop && next == o.first+1
				if instrs[o.pc].Op == wasm.OpIf && q.els < 0 {
					q.thenLo, q.thenHi = o.first, next-1
				}
			}
		case wasm.OpCall:
			if t.maySuspend(in.X) {
				p.point = next
				next++
			}
		case wasm.OpCallIndirect:
			p.point = next
			next++
		}
	}
	t.opens = opens
	if !stacks {
		return false, nil
	}

	// Operand stacks, into t.types: at a point or a block that contains
	// some, the values of the innermost block around it (every block
	// around a point contains it), where the block's own values start
	// (see body). Only those: the whole stack at each point would be a
	// product of the points and the depth of the blocks.
	t.types = t.types[:0]
	unknown := -1
	bases := t.bases[:0]
	base := 0
	err = t.typer.FuncStack(f.fidxIn, instrs, func(pc int, in wasm.Instr, stack []wasm.ValType, unreachable bool) {
		p := &f.pcs[pc]
		switch in.Op {
		case wasm.OpBlock, wasm.OpLoop, wasm.OpIf, wasm.OpCall, wasm.OpCallIndirect:
			inputs := 0
			if in.Op == wasm.OpCall || in.Op == wasm.OpCallIndirect {
				if p.point == 0 {
					return
				}
				inputs = f.callArity(in)
			} else {
				params, _ := t.blockSig(in.BlockType())
				inputs = len(params)
				if in.Op == wasm.OpIf {
					inputs++
				}
				bases = append(bases, base)
				defer func() { base = len(stack) - inputs }()
				if !p.contains {
					return
				}
			}
			own := stack[min(base, len(stack)):]
			if deep = deep || tooDeep(len(own)-inputs, inputs); deep {
				return // spillDeep will record the stacks
			}
			p.stack, p.nstack = int32(len(t.types)), int32(len(own))
			t.types = append(t.types, own...)
			if unknown < 0 && slices.Contains(own, wasm.Unknown) {
				unknown = pc
			}
		case wasm.OpEnd:
			if len(bases) > 0 {
				base = bases[len(bases)-1]
				bases = bases[:len(bases)-1]
			}
		}
	})
	t.bases = bases[:0]
	if err != nil {
		return false, err
	}
	if unknown >= 0 {
		return false, fmt.Errorf("instruction %d: unknown operand type in reachable code", unknown)
	}
	return deep, nil
}

// callArity returns the number of values a call or call_indirect pops.
func (f *function) callArity(in wasm.Instr) int {
	t := f.t
	if in.Op == wasm.OpCall {
		ft, _ := t.in.FuncType(in.X)
		return len(ft.Params)
	}
	if int(in.X) < len(t.in.Types) {
		return len(t.in.Types[in.X].Params) + 1
	}
	return 1
}

// maySuspend reports whether a call to function i (of the input) is a call
// site.
func (t *transformer) maySuspend(i uint32) bool {
	if i < t.numImpFuncs {
		return t.blocking[i]
	}
	return int(i) < len(t.instrumented) && t.instrumented[i]
}

func (f *function) newLocal(vt wasm.ValType) uint32 {
	f.shadow = append(f.shadow, false)
	f.locals = append(f.locals, vt)
	return uint32(len(f.locals) - 1)
}

// tempsFor returns scratch locals for values of types ts, distinct from
// each other (but shared with other sites).
func (f *function) tempsFor(ts []wasm.ValType) []uint32 {
	var used [numTypeSlots]int
	out := f.u32s(len(ts))
	for i, vt := range ts {
		slot := typeSlot(vt)
		k := used[slot]
		used[slot]++
		temps := &f.t.temps[slot]
		for len(*temps) <= k {
			*temps = append(*temps, f.newLocal(vt))
		}
		out[i] = (*temps)[k]
	}
	return out
}

// numTypeSlots is the number of value types that typeSlot tells apart.
const numTypeSlots = 8

// typeSlot numbers the value types from 0.
func typeSlot(vt wasm.ValType) int {
	switch vt {
	case wasm.I32:
		return 0
	case wasm.I64:
		return 1
	case wasm.F32:
		return 2
	case wasm.F64:
		return 3
	case wasm.V128:
		return 4
	case wasm.FuncRef:
		return 5
	case wasm.ExternRef:
		return 6
	}
	return 7
}

// u32s returns n fresh uint32s from the function's arena, valid until the
// next function.
func (f *function) u32s(n int) []uint32 {
	t := f.t
	start := len(t.u32s)
	t.u32s = slices.Grow(t.u32s, n)[:start+n]
	return t.u32s[start : start+n : start+n]
}

// typeList returns the concatenation of lists of types from the
// function's arena, valid until the next function.
func (f *function) typeList(lists ...[]wasm.ValType) []wasm.ValType {
	t := f.t
	start := len(t.types)
	for _, l := range lists {
		t.types = append(t.types, l...)
	}
	return t.types[start:len(t.types):len(t.types)]
}

func (f *function) scratchV128() uint32 {
	if f.tv < 0 {
		f.tv = int64(f.newLocal(wasm.V128))
	}
	return uint32(f.tv)
}

func (f *function) scratchI64() uint32 {
	if f.t64 < 0 {
		f.t64 = int64(f.newLocal(wasm.I64))
	}
	return uint32(f.t64)
}

// emit encodes instructions at the end of the code.
func (f *function) emit(ins ...wasm.Instr) {
	for i := range ins {
		switch ins[i].Op {
		case wasm.OpBlock, wasm.OpLoop, wasm.OpIf:
			f.depth++
		case wasm.OpEnd:
			f.depth--
		}
		start := len(f.out)
		f.out = wasm.AppendInstr(f.out, &ins[i])
		if fx, ok := f.t.fixupOf(&ins[i], f.codeIndex, start, len(f.out)); ok {
			f.t.fixups = append(f.t.fixups, fx)
		}
	}
}

// truncate drops the code emitted from n on.
func (f *function) truncate(n int) {
	f.out = f.out[:n]
	fx := f.t.fixups
	for len(fx) > f.fixupsFrom && fx[len(fx)-1].start >= int32(n) {
		fx = fx[:len(fx)-1]
	}
	f.t.fixups = fx
}

func local(op wasm.Opcode, i uint32) wasm.Instr { return wasm.Instr{Op: op, X: i} }
func i32c(v int32) wasm.Instr                   { return wasm.Instr{Op: wasm.OpI32Const, Imm: uint64(uint32(v))} }
func op(o wasm.Opcode) wasm.Instr               { return wasm.Instr{Op: o} }

func (f *function) call(imp int) wasm.Instr {
	return wasm.Instr{Op: wasm.OpCall, X: f.t.firstImport + uint32(imp)}
}

// isRewinding pushes a value that is non-zero while this frame is being
// rewound: from its entry in state rewinding until it reaches its point,
// where the state becomes normal (at a check site or before an import) or
// the callee is called to rewind further (and returns in state normal or
// unwinding). That is the state itself whenever the frame's own code runs
// outside an unwind path: a load, but no local that every loop would
// carry from one iteration to the next, which costs more in wazero's
// compiled code (see stash).
func (f *function) isRewinding() {
	f.emit(wasm.Instr{Op: wasm.OpGlobalGet, X: f.t.stateGlobal})
}

// notRewinding pushes whether this frame is not being rewound (see
// isRewinding).
func (f *function) notRewinding() {
	f.isRewinding()
	f.emit(op(wasm.OpI32Eqz))
}

// pointIs pushes whether the frame's point is k.
func (f *function) pointIs(k uint32) {
	f.emit(local(wasm.OpLocalGet, f.pointLocal), i32c(int32(k)), op(wasm.OpI32Eq))
}

func (f *function) setState(s int32) {
	f.emit(i32c(s), wasm.Instr{Op: wasm.OpGlobalSet, X: f.t.stateGlobal})
}

// brU branches to the unwind tail, with point k.
func (f *function) brU(k uint32) {
	f.emit(i32c(int32(k)), local(wasm.OpLocalSet, f.pointLocal), wasm.Instr{Op: wasm.OpBr, X: uint32(f.depth - 1)})
}

func (f *function) ifType(params, results []wasm.ValType) wasm.Instr {
	return wasm.BlockInstr(wasm.OpIf, f.t.blockType(params, results))
}

func (f *function) zeros(ts []wasm.ValType) {
	for _, vt := range ts {
		switch vt {
		case wasm.I32:
			f.emit(op(wasm.OpI32Const))
		case wasm.I64:
			f.emit(op(wasm.OpI64Const))
		case wasm.F32:
			f.emit(op(wasm.OpF32Const))
		case wasm.F64:
			f.emit(op(wasm.OpF64Const))
		case wasm.V128:
			f.emit(op(wasm.OpV128Const))
		default:
			f.emit(wasm.Instr{Op: wasm.OpRefNull, X: uint32(vt)})
		}
	}
}

func (f *function) drops(n int) {
	for range n {
		f.emit(op(wasm.OpDrop))
	}
}

// save saves the value of type vt on top of the stack.
func (f *function) save(vt wasm.ValType) {
	switch vt {
	case wasm.I32:
		f.emit(f.call(impSaveI32))
	case wasm.I64:
		f.emit(f.call(impSaveI64))
	case wasm.F32:
		f.emit(f.call(impSaveF32))
	case wasm.F64:
		f.emit(f.call(impSaveF64))
	case wasm.V128:
		tv := f.scratchV128()
		f.emit(local(wasm.OpLocalSet, tv),
			local(wasm.OpLocalGet, tv), wasm.Instr{Op: wasm.OpI64x2ExtractLane, Y: 0}, f.call(impSaveI64),
			local(wasm.OpLocalGet, tv), wasm.Instr{Op: wasm.OpI64x2ExtractLane, Y: 1}, f.call(impSaveI64))
	default:
		// A reference cannot be saved: whether it is null is, and the
		// host refuses to snapshot a frame where it is not (refs.go).
		f.emit(op(wasm.OpRefIsNull), f.call(impSaveI32))
	}
}

// saveTop saves values of types ts from the top of the stack, top first,
// at point k: the first values of the frame.
func (f *function) saveTop(k uint32, ts []wasm.ValType) {
	var slots []uint32
	for i := len(ts) - 1; i >= 0; i-- {
		if ts[i].IsRef() {
			slots = append(slots, uint32(len(ts)-1-i))
		}
	}
	if slots != nil {
		f.refPoints = append(f.refPoints, pointRefs{k, slots})
	}
	for i := len(ts) - 1; i >= 0; i-- {
		f.save(ts[i])
	}
}

// load pushes the next saved value, of type vt.
func (f *function) load(vt wasm.ValType) {
	switch vt {
	case wasm.I32:
		f.emit(f.call(impLoadI32))
	case wasm.I64:
		f.emit(f.call(impLoadI64))
	case wasm.F32:
		f.emit(f.call(impLoadF32))
	case wasm.F64:
		f.emit(f.call(impLoadF64))
	case wasm.V128:
		t64 := f.scratchI64()
		f.emit(f.call(impLoadI64), local(wasm.OpLocalSet, t64), f.call(impLoadI64), op(wasm.OpI64x2Splat),
			local(wasm.OpLocalGet, t64), wasm.Instr{Op: wasm.OpI64x2ReplaceLane, Y: 1})
	default:
		// What was saved is whether the reference was null; the host
		// snapshots only frames where it was.
		f.emit(f.call(impLoadI32), op(wasm.OpDrop), wasm.Instr{Op: wasm.OpRefNull, X: uint32(vt)})
	}
}

// loads pushes saved values of types ts, bottom first.
func (f *function) loads(ts []wasm.ValType) {
	for _, vt := range ts {
		f.load(vt)
	}
}

// checkSite emits check site k where the stack is params; loop is the pc
// of the loop whose header it is, or -1 at a function's entry; only says
// that the loop is one of onlyLoop's. The path
// taken at every loop iteration and every call of the function is a
// decrement of the fuel global and a branch that falls through into the
// body; only when the fuel falls below 1 is the state looked at. That is
// enough because fuel is at most 0 whenever the state is rewinding (the
// prologue's rewinding arm zeroes it), so a check site passed while
// rewinding always takes the rare path. At a loop's header:
//
//	global.get $fuel  i32.const 1  i32.sub  local.tee $t  global.set $fuel
//	local.get $t  i32.const 1  i32.ge_s
//	if (param P...) (result P...)                ;; the body follows
//	else
//	  global.get $state
//	  if (param P...) (result P...)              ;; rewinding
//	    local.get $point  i32.const k  i32.eq
//	    if (param P...) (result P...)            ;; back where it stopped
//	      i32.const 0  global.set $state
//	      i32.const 2  global.set $fuel  br $loop
//	    end
//	  else
//	    stash to the scratch globals
//	    call $check
//	    stash back
//	    global.get $state
//	    if (param P...) (result P...)  zero the dead locals, unwind  end
//	    fuel += 1  br $loop
//	  end
//	end
//
// The layout is for wazero's optimizing compiler, which lays blocks out in
// reverse postorder and starts the register state of a block where paths
// join from its first predecessor: the hot path is the then arm, and the
// rare paths branch back to the header instead of joining the body, so
// the body comes right after the header and finds its values where the
// hot path left them. The fuel is in a global, not a local, so that no
// loop carries one more variable (one more register, or a spilled one).
//
// At a check site the state is never unwinding (every suspension point
// unwinds at once), so "state != 0" means rewinding. A function's entry
// site has no loop to go back to: its rare paths fall through.
func (f *function) checkSite(k uint32, params []wasm.ValType, loop int, only bool) {
	t := f.t
	loopDepth := f.depth // the loop's label, if loop >= 0: the site is its header
	// back branches to the loop's header, at the end of a rare path: then
	// the path does not join the loop's body, which wazero's compiler
	// would then place after it, so that every iteration jumps over it.
	back := func() {
		if loop >= 0 {
			f.emit(wasm.Instr{Op: wasm.OpBr, X: uint32(f.depth - loopDepth)})
		}
	}
	f.emit(wasm.Instr{Op: wasm.OpGlobalGet, X: t.fuelGlobal}, i32c(1), op(wasm.OpI32Sub), local(wasm.OpLocalTee, f.fuelTemp),
		wasm.Instr{Op: wasm.OpGlobalSet, X: t.fuelGlobal}, local(wasm.OpLocalGet, f.fuelTemp),
		i32c(1), op(wasm.OpI32GeS), f.ifType(params, params), op(wasm.OpElse))
	f.isRewinding()
	f.emit(f.ifType(params, params))
	f.pointIs(k)
	f.emit(f.ifType(params, params))
	f.setState(StateNormal)
	if loop >= 0 {
		// Back to the header, so that the rare paths do not join the
		// loop's body (see back), with the fuel for one check site: the
		// one at the header passes, rather than call check before the
		// frame has done anything (a host that suspends at every check
		// would never see progress).
		f.emit(i32c(2), wasm.Instr{Op: wasm.OpGlobalSet, X: t.fuelGlobal})
		back()
	}
	if only {
		// Rewinding to another point, the loop is not entered (see
		// onlyLoop); said so, the path does not join the body either.
		f.emit(op(wasm.OpElse), op(wasm.OpUnreachable))
	}
	f.emit(op(wasm.OpEnd), op(wasm.OpElse))
	var live, stashed localSet
	if loop >= 0 && f.liveKnown {
		p := f.pcs[loop]
		live = t.sets.set(p.live)
		stashed = t.scratchSet(live, t.sets.set(p.writes))
		if c := 2 * stashed.count(); c <= f.extra {
			f.extra -= c
		} else {
			stashed = nil
		}
		f.stash(stashed, wasm.OpGlobalSet)
	}
	f.emit(f.call(impCheck))
	if stashed != nil {
		f.stash(stashed, wasm.OpGlobalGet)
	}
	f.emit(wasm.Instr{Op: wasm.OpGlobalGet, X: t.stateGlobal}, f.ifType(params, params))
	if live != nil {
		f.zeroDead(live)
	}
	f.saveTop(k, params)
	f.brU(k)
	f.emit(op(wasm.OpEnd))
	if loop >= 0 {
		// The header, which back returns to, takes one more: the host's
		// fuel counts the check sites after this one, as if the path
		// went on into the body.
		f.emit(wasm.Instr{Op: wasm.OpGlobalGet, X: t.fuelGlobal}, i32c(1), op(wasm.OpI32Add), wasm.Instr{Op: wasm.OpGlobalSet, X: t.fuelGlobal})
		back()
	}
	f.emit(op(wasm.OpEnd), op(wasm.OpEnd))
}

// restoreWritten sets, on a chunk's rewinding arm, the input's locals that
// the chunk [lo, hi) writes to the values they were restored with, kept
// by the prologue in shadow locals. That is the value they have anyway
// (rewinding runs no code of the input's), but without a definition here
// the compiled code would carry the value the local had before the chunk,
// which in a loop is the value of the previous iteration: every local a
// chunk of a loop writes, dead at the header or not, would be a variable
// of the loop. A shadow is written once, by the prologue.
func (f *function) restoreWritten(lo, hi int) {
	t := f.t
	t.chunkMark++ // marks the locals set so far in this chunk
	for pc := lo; pc < hi; pc++ {
		in := &f.instrs[pc]
		if (in.Op != wasm.OpLocalSet && in.Op != wasm.OpLocalTee) || int(in.X) >= f.nDecl || t.restored[in.X] == t.chunkMark {
			continue
		}
		t.restored[in.X] = t.chunkMark
		sh := f.shadowOf[in.X]
		if sh < 0 {
			sh = int32(f.newLocal(f.locals[in.X]))
			f.shadowOf[in.X] = sh
			f.shadow[int(sh)-f.nDecl] = true
		}
		f.emit(local(wasm.OpLocalGet, uint32(sh)), local(wasm.OpLocalSet, in.X))
	}
}

// isShadow reports whether local i is a shadow (see restoreWritten).
func (f *function) isShadow(i uint32) bool {
	return int(i) >= f.nDecl && f.shadow[int(i)-f.nDecl]
}

// stash copies the locals of set s into the scratch globals (op
// global.set), or back (op global.get), around the call of check at a
// loop's check site. The call is on the path taken when the fuel runs
// out, every N iterations; a local whose value lived across it would be
// spilled by an optimizing compiler, and wazero's stores a spilled loop
// variable at each of its definitions: every iteration would pay for the
// rare call. Through the globals, the value before the call dies at it and
// the one after is new. Only the locals that are live at the header and
// written in the loop go through: one that is not written there keeps
// the value it had before the loop, which the compiler spills there,
// once; one that is not live is not kept at all (zeroDead).
func (f *function) stash(s localSet, op wasm.Opcode) {
	var used [numTypeSlots]uint32
	s.each(func(i uint32) {
		vt := f.locals[i]
		slot := typeSlot(vt)
		g := f.t.scratchGlobal(vt, used[slot])
		used[slot]++
		if op == wasm.OpGlobalSet {
			f.emit(local(wasm.OpLocalGet, i), wasm.Instr{Op: op, X: g})
		} else {
			f.emit(wasm.Instr{Op: op, X: g}, local(wasm.OpLocalSet, i))
		}
	})
}

// zeroDead sets to zero, on an unwind path, the input's locals that are
// not in live: the frame saves zeros for them, and they do not live on
// up to the suspension point because the unwind path reads them.
//
// That is a set per dead local and point: a function with many locals
// and many points would get their product. So the zeroing comes out of
// the function's budget of extra code (f.extra), a point at a time; a
// point past it zeroes nothing and saves its dead locals as they are,
// which is as correct (a dead local is written before it is read on
// every path from the point, so its value in a frame is never used) but
// makes the compiled code keep them alive up to the point.
func (f *function) zeroDead(live localSet) {
	dead := f.nDecl - live.count()
	if dead > f.extra {
		return
	}
	f.extra -= dead
	for k, w := range live {
		for w = ^w; w != 0; w &= w - 1 {
			i := uint32(k*64 + bits.TrailingZeros64(w))
			if int(i) >= f.nDecl {
				break
			}
			f.zeros(f.locals[i : i+1])
			f.emit(local(wasm.OpLocalSet, i))
		}
	}
}

// body emits the instructions [lo, hi) of a block body (or the function
// body) that contains suspension points. level is the number of blocks of
// the original code around the body, in and out the types of the body.
func (f *function) body(lo, hi, level int, in, out []wasm.ValType) {
	cur := in
	var epilogue []wasm.Instr
	segStart := lo
	for pc := lo; pc < hi; {
		ins := f.instrs[pc]
		isCall := (ins.Op == wasm.OpCall || ins.Op == wasm.OpCallIndirect) && f.pcs[pc].point != 0
		isBlock := (ins.Op == wasm.OpBlock || ins.Op == wasm.OpLoop || ins.Op == wasm.OpIf) && f.pcs[pc].contains
		if !isCall && !isBlock {
			switch ins.Op {
			case wasm.OpBlock, wasm.OpLoop, wasm.OpIf:
				pc = int(f.pcs[pc].end) + 1
			default:
				pc++
			}
			continue
		}
		fr := f.stackAt(pc)
		if isCall {
			cur = f.callSite(pc, fr, cur, epilogue, segStart, level)
			epilogue = nil
		} else {
			cur, epilogue = f.block(pc, fr, cur, epilogue, segStart, level)
		}
		if ins.Op == wasm.OpCall || ins.Op == wasm.OpCallIndirect {
			pc++
		} else {
			pc = int(f.pcs[pc].end) + 1
		}
		segStart = pc
	}
	if segStart < hi || len(epilogue) > 0 {
		f.wrapper(cur, out, epilogue, segStart, hi, level, nil, func() { f.zeros(out) })
	}
}

// wrapper emits the chunk [lo, hi), after epilogue and before what prelude
// emits (if not nil), as the then arm (the hot one: see checkSite) of an
// if on state == normal, whose else arm drops the chunk's inputs, restores
// the locals the chunk writes (restoreWritten) and runs rewind.
func (f *function) wrapper(in, out []wasm.ValType, epilogue []wasm.Instr, lo, hi, level int, prelude, rewind func()) {
	start := len(f.out)
	f.notRewinding()
	f.emit(f.ifType(in, out))
	f.emit(epilogue...)
	f.code(lo, hi, level, 0)
	if prelude != nil {
		prelude()
	}
	f.emit(op(wasm.OpElse))
	arm := len(f.out)
	f.drops(len(in))
	f.restoreWritten(lo, hi)
	rewind()
	if len(f.out) == arm && lo == hi && len(epilogue) == 0 && prelude == nil {
		// Both arms empty (a chunk of no code between two blocks):
		// no wrapper, which would cost a test at run time.
		f.truncate(start)
		f.depth--
		return
	}
	f.emit(op(wasm.OpEnd))
}

// code emits the instructions [lo, hi) of the input, which contain no
// suspension point, with function indices shifted and branches
// relabelled for one block added around them (a chunk's wrapper, or a
// loop's block $skip), in a body that level blocks of the input enclose.
// Branches to the first own labels of the body (the innermost own, say
// the loop around it) keep their labels.
func (f *function) code(lo, hi, level, own int) {
	// Instructions that do not change are copied as they were encoded:
	// most are, and copying runs of bytes is cheaper than encoding.
	// Their blocks are balanced, so f.depth does not change.
	spans := f.t.spans
	run, runEnd := int32(-1), int32(-1)
	flush := func() {
		if run >= 0 {
			f.out = append(f.out, f.encoded[run:runEnd]...)
			run = -1
		}
	}
	d := 0
	for pc := lo; pc < hi; pc++ {
		switch op := f.instrs[pc].Op; op {
		case wasm.OpCall, wasm.OpRefFunc, wasm.OpBr, wasm.OpBrIf, wasm.OpBrTable:
		default:
			switch op {
			case wasm.OpBlock, wasm.OpLoop, wasm.OpIf:
				d++
			case wasm.OpEnd:
				d--
			}
			if sp := spans[pc]; sp.start < 0 {
				// Added by spillDeep: not in the encoded body.
				flush()
				f.emit(f.instrs[pc])
			} else if run >= 0 && sp.start == runEnd {
				runEnd = sp.end
			} else {
				flush()
				run, runEnd = sp.start, sp.end
			}
			continue
		}
		flush()
		in := f.instrs[pc]
		switch in.Op {
		case wasm.OpCall, wasm.OpRefFunc:
			in.X = f.t.fn(in.X)
		case wasm.OpBr, wasm.OpBrIf:
			in.X = f.relabel(in.X, d+own, level)
		case wasm.OpBrTable:
			labels := f.t.labels[:0]
			for _, l := range in.Labels {
				labels = append(labels, f.relabel(l, d+own, level))
			}
			f.t.labels = labels
			in.Labels = labels // in is a copy: the input keeps its labels
			in.X = f.relabel(in.X, d+own, level)
		}
		f.emit(in)
	}
	flush()
}

// relabel returns the label of a branch of a chunk, at depth d in the
// chunk, in a body that level blocks enclose, once one block has been
// added around the chunk.
func (f *function) relabel(l uint32, d, level int) uint32 {
	if int(l) < d {
		return l
	}
	l++ // the chunk's wrapper
	if int(l)-1-d == level {
		l++ // the function's label, now outside block $U
	}
	return l
}

// onlyLoop emits the loop at pc, whose header is its only suspension
// point (an inner loop without calls: the hot code of most programs), as
//
//	block $skip (type of the loop)
//	  global.get $state  i32.eqz
//	  if (param P...) (result P...)
//	  else                                         ;; rewinding
//	    local.get $point  i32.const k  i32.ne
//	    if (param P...) (result P...)              ;; to another point
//	      drop P, push zeros of the loop's results  br $skip
//	    end
//	  end
//	  loop (type of the loop)
//	    check site
//	    the loop's body, as it was
//	  end
//	end
//
// The body needs no wrapper: it never runs while rewinding. So a loop
// iteration costs only the check site's fast path. The loop is skipped
// before it is entered, not from its header: a branch out of the header
// would carry every local that the code after the loop may read (while
// rewinding, the values restored), and make it a variable of the loop in
// the compiled code, dead at the header or not. level is the number of
// blocks of the input around the loop.
func (f *function) onlyLoop(pc, level int, results []wasm.ValType) {
	ins := f.instrs[pc]
	params, _ := f.t.blockSig(ins.BlockType())
	f.emit(wasm.BlockInstr(wasm.OpBlock, ins.BlockType()))
	skipDepth := f.depth
	f.notRewinding()
	f.emit(f.ifType(params, params), op(wasm.OpElse)) // the hot path first (see checkSite)
	f.pointIs(f.pcs[pc].point)
	f.emit(op(wasm.OpI32Eqz), f.ifType(params, params))
	f.drops(len(params))
	f.zeros(results)
	f.emit(wasm.Instr{Op: wasm.OpBr, X: uint32(f.depth - skipDepth)})
	f.emit(op(wasm.OpEnd), op(wasm.OpEnd))
	f.emit(ins)
	f.checkSite(f.pcs[pc].point, params, pc, true)
	// The loop counts as the body's own block: it keeps its label, and
	// the labels beyond it gain $skip.
	f.code(pc+1, int(f.pcs[pc].end), level, 1)
	f.emit(op(wasm.OpEnd), op(wasm.OpEnd))
}

// callSite emits the chunk before call site pc and the call, and returns
// the stack after it. fr is the frame's stack before the call.
func (f *function) callSite(pc int, fr, cur []wasm.ValType, epilogue []wasm.Instr, segStart, level int) []wasm.ValType {
	t := f.t
	ins := f.instrs[pc]
	k := f.pcs[pc].point
	var ft wasm.FuncType
	if ins.Op == wasm.OpCall {
		ft, _ = t.in.FuncType(ins.X)
	} else if int(ins.X) < len(t.in.Types) {
		ft = t.in.Types[ins.X]
	}
	args := ft.Params
	if ins.Op == wasm.OpCallIndirect {
		args = f.typeList(ft.Params, singleType[wasm.I32])
	}
	live := fr[:max(0, len(fr)-len(args))]
	direct := ins.Op == wasm.OpCall && ins.X >= t.numImpFuncs
	var argLocals []uint32
	var prelude func()
	out := fr
	if !direct {
		argLocals = f.tempsFor(args)
		prelude = func() {
			for i := len(args) - 1; i >= 0; i-- {
				f.emit(local(wasm.OpLocalSet, argLocals[i]))
			}
		}
		out = live
	}
	f.wrapper(cur, out, epilogue, segStart, pc, level, prelude, func() {
		if len(out) == 0 && (direct || ins.Op == wasm.OpCallIndirect) {
			return // nothing to push, nor a state to set
		}
		f.pointIs(k)
		f.emit(f.ifType(nil, out))
		f.loads(live)
		if direct {
			f.zeros(args)
		} else if ins.Op == wasm.OpCall {
			f.setState(StateNormal) // an import: this frame is the innermost
		}
		f.emit(op(wasm.OpElse))
		f.zeros(out)
		f.emit(op(wasm.OpEnd))
	})
	for _, l := range argLocals {
		f.emit(local(wasm.OpLocalGet, l))
	}
	callIns := ins
	if callIns.Op == wasm.OpCall {
		callIns.X = t.fn(callIns.X)
	}
	// Guarded call: skipped while rewinding to another point.
	f.notRewinding()
	f.emit(f.ifType(args, ft.Results), callIns, op(wasm.OpElse))
	f.pointIs(k)
	f.emit(f.ifType(args, ft.Results))
	f.emit(callIns, op(wasm.OpElse)) // the callee rewinds further
	f.drops(len(args))
	f.zeros(ft.Results)
	f.emit(op(wasm.OpEnd), op(wasm.OpEnd))
	// Unwind path.
	after := f.typeList(live, ft.Results)
	// (state is 2 here after a call skipped while rewinding)
	f.emit(wasm.Instr{Op: wasm.OpGlobalGet, X: t.stateGlobal}, i32c(StateUnwinding), op(wasm.OpI32Ne), f.ifType(after, after), op(wasm.OpElse))
	f.drops(len(ft.Results))
	if f.liveKnown {
		f.zeroDead(t.sets.set(f.pcs[pc].live))
	}
	f.saveTop(k, live)
	f.brU(k)
	f.emit(op(wasm.OpEnd))
	return after
}

// block emits the chunk before the block, loop or if at pc, which contains
// suspension points, and the block. It returns the stack after the block
// and the epilogue that the next chunk must start with.
func (f *function) block(pc int, fr, cur []wasm.ValType, epilogue []wasm.Instr, segStart, level int) ([]wasm.ValType, []wasm.Instr) {
	ins := f.instrs[pc]
	params, results := f.t.blockSig(ins.BlockType())
	c := 0
	if ins.Op == wasm.OpIf {
		c = 1
	}
	nb := max(0, len(fr)-len(params)-c)
	below := fr[:nb]
	top := fr[nb:] // params and condition
	var next []wasm.Instr
	var prelude func()
	if len(below) > 0 {
		tmp := f.tempsFor(top)
		spill := f.u32s(len(below))
		for i, vt := range below {
			spill[i] = f.newLocal(vt)
		}
		prelude = func() {
			for i := len(top) - 1; i >= 0; i-- {
				f.emit(local(wasm.OpLocalSet, tmp[i]))
			}
			for i := len(below) - 1; i >= 0; i-- {
				f.emit(local(wasm.OpLocalSet, spill[i]))
			}
			for _, l := range tmp {
				f.emit(local(wasm.OpLocalGet, l))
			}
		}
		rtmp := f.tempsFor(results)
		for i := len(results) - 1; i >= 0; i-- {
			next = append(next, local(wasm.OpLocalSet, rtmp[i]))
		}
		for _, l := range spill {
			next = append(next, local(wasm.OpLocalGet, l))
		}
		for _, l := range rtmp {
			next = append(next, local(wasm.OpLocalGet, l))
		}
	}
	f.wrapper(cur, top, epilogue, segStart, pc, level, prelude, func() {
		switch ins.Op {
		case wasm.OpLoop:
			if len(params) > 0 {
				f.pointIs(f.pcs[pc].point)
				f.emit(f.ifType(nil, params))
				f.loads(params)
				f.emit(op(wasm.OpElse))
				f.zeros(params)
				f.emit(op(wasm.OpEnd))
			}
		case wasm.OpBlock:
			f.zeros(params)
		case wasm.OpIf:
			f.zeros(params)
			lo, hi := f.pcs[pc].thenLo, f.pcs[pc].thenHi
			if hi < lo {
				f.emit(i32c(0))
			} else {
				f.emit(local(wasm.OpLocalGet, f.pointLocal), i32c(int32(lo)), op(wasm.OpI32GeU),
					local(wasm.OpLocalGet, f.pointLocal), i32c(int32(hi)), op(wasm.OpI32LeU), op(wasm.OpI32And))
			}
		}
	})
	end := int(f.pcs[pc].end)
	if f.pcs[pc].only {
		f.onlyLoop(pc, level, results)
		return results, next
	}
	f.emit(ins)
	if ins.Op == wasm.OpLoop {
		f.checkSite(f.pcs[pc].point, params, pc, false)
	}
	if e := int(f.pcs[pc].els); ins.Op == wasm.OpIf && e >= 0 {
		f.body(pc+1, e, level+1, params, results)
		f.emit(op(wasm.OpElse))
		f.body(e+1, end, level+1, params, results)
	} else {
		f.body(pc+1, end, level+1, params, results)
	}
	f.emit(op(wasm.OpEnd))
	return results, next
}

package wasm

import (
	"errors"
	"fmt"
	"sort"
)

// funcValidator type-checks function bodies with the validation
// algorithm of the specification's appendix: an operand stack of value
// types (Unknown where the stack is polymorphic) and a stack of control
// frames. It is reused for every function of a module.
type funcValidator struct {
	ctx *context

	params  []ValType
	locals  []LocalDecl
	ends    []uint64 // ends[i]: index after the last local of locals[i]
	results []ValType

	vals    []ValType
	ctrls   []ctrlFrame
	scratch []ValType
	err     error

	// Reused from function to function.
	r  reader
	d  instrReader
	in Instr
}

type ctrlFrame struct {
	op          Opcode // OpBlock, OpLoop, OpIf, OpElse; OpBlock for the function
	start, end  []ValType
	height      int
	unreachable bool
}

// single holds a one-type result list for each value type, so that block
// types need no allocation.
var single = func() map[ValType][]ValType {
	m := make(map[ValType][]ValType)
	for _, t := range []ValType{I32, I64, F32, F64, V128, FuncRef, ExternRef} {
		m[t] = []ValType{t}
	}
	return m
}()

func (v *funcValidator) validate(funcIndex uint32, visit StackVisitor) error {
	c := v.ctx
	code := &c.m.Code[int(funcIndex)-c.numFuncImports]
	ft, err := c.funcType(funcIndex)
	if err != nil {
		return invalid("function %d: %v", funcIndex, err)
	}
	v.setLocals(ft, code)
	v.vals, v.ctrls, v.err = v.vals[:0], v.ctrls[:0], nil
	v.pushCtrl(OpBlock, nil, ft.Results)

	v.r = reader{b: code.Body, base: code.Offset}
	r, d, in := &v.r, &v.d, &v.in
	*d = instrReader{r: r, blocks: d.blocks[:0], reuse: true, labels: d.labels, types: d.types}
	for pc := 0; ; pc++ {
		off := r.base + r.off
		if !d.next(in) {
			break
		}
		if visit != nil {
			visit(pc, *in, v.vals, v.ctrls[len(v.ctrls)-1].unreachable)
		}
		v.instr(in)
		if v.err != nil {
			return &ValidationError{Offset: off, Err: fmt.Errorf("function %d: %v: %w", funcIndex, in.Op, v.err)}
		}
	}
	if r.err == nil && !d.done {
		r.fail(fmt.Errorf("function %d: body without end: %w", funcIndex, errTruncated))
	}
	if r.err == nil && r.off != len(r.b) {
		r.fail(fmt.Errorf("function %d: %d bytes after the final end", funcIndex, len(r.b)-r.off))
	}
	return r.err
}

func (v *funcValidator) setLocals(ft *FuncType, code *Code) {
	v.params, v.locals, v.results = ft.Params, code.Locals, ft.Results
	v.ends = v.ends[:0]
	n := uint64(len(ft.Params))
	for _, l := range code.Locals {
		n += uint64(l.Count)
		v.ends = append(v.ends, n)
	}
}

func (v *funcValidator) local(x uint32) (ValType, error) {
	if uint64(x) < uint64(len(v.params)) {
		return v.params[x], nil
	}
	i := sort.Search(len(v.ends), func(i int) bool { return v.ends[i] > uint64(x) })
	if i == len(v.ends) {
		return 0, fmt.Errorf("unknown local %d", x)
	}
	return v.locals[i].Type, nil
}

func (v *funcValidator) fail(err error) {
	if v.err == nil {
		v.err = err
	}
}

func (v *funcValidator) failf(format string, args ...any) { v.fail(fmt.Errorf(format, args...)) }

func (v *funcValidator) push(t ValType) { v.vals = append(v.vals, t) }

func (v *funcValidator) pushVals(ts []ValType) { v.vals = append(v.vals, ts...) }

func (v *funcValidator) pop() ValType {
	f := &v.ctrls[len(v.ctrls)-1]
	if len(v.vals) == f.height {
		if !f.unreachable {
			v.fail(errors.New("type mismatch: operand stack is empty"))
		}
		return Unknown
	}
	t := v.vals[len(v.vals)-1]
	v.vals = v.vals[:len(v.vals)-1]
	return t
}

func (v *funcValidator) popExpect(want ValType) ValType {
	got := v.pop()
	if got != want && got != Unknown && want != Unknown {
		v.failf("type mismatch: expected %v, found %v", want, got)
	}
	return got
}

// popVals pops values of types ts and returns the types popped, which
// may be Unknown, in a buffer that the next call reuses.
func (v *funcValidator) popVals(ts []ValType) []ValType {
	if cap(v.scratch) < len(ts) {
		v.scratch = make([]ValType, len(ts))
	}
	popped := v.scratch[:len(ts)]
	for i := len(ts) - 1; i >= 0; i-- {
		popped[i] = v.popExpect(ts[i])
	}
	return popped
}

func (v *funcValidator) pushCtrl(op Opcode, start, end []ValType) {
	v.ctrls = append(v.ctrls, ctrlFrame{op: op, start: start, end: end, height: len(v.vals)})
	v.pushVals(start)
}

func (v *funcValidator) popCtrl() ctrlFrame {
	f := v.ctrls[len(v.ctrls)-1]
	v.popVals(f.end)
	if len(v.vals) != f.height {
		v.failf("type mismatch: %d values left on the stack at the end of the block", len(v.vals)-f.height)
	}
	v.ctrls = v.ctrls[:len(v.ctrls)-1]
	return f
}

func (f *ctrlFrame) labelTypes() []ValType {
	if f.op == OpLoop {
		return f.start
	}
	return f.end
}

func (v *funcValidator) setUnreachable() {
	f := &v.ctrls[len(v.ctrls)-1]
	v.vals = v.vals[:f.height]
	f.unreachable = true
}

// label returns the frame that label l targets.
func (v *funcValidator) label(l uint32) *ctrlFrame {
	if uint64(l) >= uint64(len(v.ctrls)) {
		v.failf("unknown label %d", l)
		return nil
	}
	return &v.ctrls[len(v.ctrls)-1-int(l)]
}

func (v *funcValidator) blockType(bt BlockType) (params, results []ValType) {
	if bt == BlockEmpty {
		return nil, nil
	}
	if t, ok := bt.Result(); ok {
		return nil, single[t]
	}
	x, ok := bt.TypeIndex()
	if !ok {
		v.failf("unknown type %d", int64(bt))
		return nil, nil
	}
	ft, err := v.ctx.typ(x)
	if err != nil {
		v.fail(err)
		return nil, nil
	}
	return ft.Params, ft.Results
}

// instr applies the typing rule of one instruction.
func (v *funcValidator) instr(in *Instr) {
	info := in.Op.lookup()
	switch {
	case in.Op>>8 == prefixSIMD:
		v.simd(in, info)
	case info.params != nil || info.results != nil:
		if info.imm == immMemArg || info.imm == immZero || in.Op == OpMemoryInit || in.Op == OpMemoryCopy {
			v.memory(in, info)
		}
		if in.Op == OpMemoryInit {
			v.fail(v.ctx.hasData(in.X))
		}
		v.popVals(info.params)
		v.pushVals(info.results)
	case in.Op <= OpSelectT:
		v.control(in)
	default:
		v.variable(in)
	}
}

// memory checks the memory and alignment of a memory instruction.
func (v *funcValidator) memory(in *Instr, info *opcodeInfo) {
	if err := v.ctx.hasMemory(0); err != nil {
		v.fail(err)
	}
	if (info.imm == immMemArg || info.imm == immMemArgLane) && in.X > info.align {
		v.failf("alignment must not be larger than natural: 2^%d > %d", in.X, 1<<info.align)
	}
}

func (v *funcValidator) control(in *Instr) {
	switch in.Op {
	case OpUnreachable:
		v.setUnreachable()
	case OpNop:
	case OpBlock, OpLoop:
		params, results := v.blockType(in.BlockType())
		v.popVals(params)
		v.pushCtrl(in.Op, params, results)
	case OpIf:
		params, results := v.blockType(in.BlockType())
		v.popExpect(I32)
		v.popVals(params)
		v.pushCtrl(in.Op, params, results)
	case OpElse:
		f := v.popCtrl()
		if f.op != OpIf {
			v.failf("else without if")
		}
		v.pushCtrl(OpElse, f.start, f.end)
	case OpEnd:
		f := v.popCtrl()
		if f.op == OpIf && !typesEqual(f.start, f.end) {
			// Without else, the missing branch passes the block's
			// parameters through as its results.
			v.failf("type mismatch: if without else of type [%s] -> [%s]", typeList(f.start), typeList(f.end))
		}
		v.pushVals(f.end)
	case OpBr:
		if f := v.label(in.X); f != nil {
			v.popVals(f.labelTypes())
		}
		v.setUnreachable()
	case OpBrIf:
		v.popExpect(I32)
		if f := v.label(in.X); f != nil {
			v.popVals(f.labelTypes())
			v.pushVals(f.labelTypes())
		}
	case OpBrTable:
		v.brTable(in)
	case OpReturn:
		v.popVals(v.results)
		v.setUnreachable()
	case OpCall:
		ft, err := v.ctx.funcType(in.X)
		if err != nil {
			v.fail(err)
			return
		}
		v.popVals(ft.Params)
		v.pushVals(ft.Results)
	case OpCallIndirect:
		v.callIndirect(in)
	case OpDrop:
		v.pop()
	case OpSelect:
		v.popExpect(I32)
		t1, t2 := v.pop(), v.pop()
		if !(isNumOrUnknown(t1) && isNumOrUnknown(t2) || isVecOrUnknown(t1) && isVecOrUnknown(t2)) {
			v.failf("type mismatch: select needs operands of a number or vector type, found %v and %v", t2, t1)
		} else if t1 != t2 && t1 != Unknown && t2 != Unknown {
			v.failf("type mismatch: select of %v and %v", t2, t1)
		}
		if t1 == Unknown {
			t1 = t2
		}
		v.push(t1)
	case OpSelectT:
		if len(in.Types) != 1 {
			v.failf("invalid result arity: select with %d types", len(in.Types))
			return
		}
		t := in.Types[0]
		v.popExpect(I32)
		v.popExpect(t)
		v.popExpect(t)
		v.push(t)
	}
}

func isNumOrUnknown(t ValType) bool { return t == Unknown || t.IsNum() }
func isVecOrUnknown(t ValType) bool { return t == Unknown || t == V128 }

func (v *funcValidator) brTable(in *Instr) {
	v.popExpect(I32)
	def := v.label(in.X)
	if def == nil {
		return
	}
	arity := len(def.labelTypes())
	for _, l := range in.Labels {
		f := v.label(l)
		if f == nil {
			return
		}
		if len(f.labelTypes()) != arity {
			v.failf("type mismatch: br_table targets of %d and %d values", len(f.labelTypes()), arity)
			return
		}
		v.pushVals(v.popVals(f.labelTypes()))
	}
	v.popVals(def.labelTypes())
	v.setUnreachable()
}

func (v *funcValidator) callIndirect(in *Instr) {
	t, err := v.ctx.table(in.Y)
	if err != nil {
		v.fail(err)
		return
	}
	if t.Elem != FuncRef {
		v.failf("type mismatch: call_indirect through table %d of %v", in.Y, t.Elem)
		return
	}
	ft, err := v.ctx.typ(in.X)
	if err != nil {
		v.fail(err)
		return
	}
	v.popExpect(I32)
	v.popVals(ft.Params)
	v.pushVals(ft.Results)
}

// variable types the instructions on locals, globals, tables and
// references, and the bulk instructions without a fixed signature.
func (v *funcValidator) variable(in *Instr) {
	c := v.ctx
	switch in.Op {
	case OpLocalGet, OpLocalSet, OpLocalTee:
		t, err := v.local(in.X)
		if err != nil {
			v.fail(err)
			return
		}
		if in.Op != OpLocalGet {
			v.popExpect(t)
		}
		if in.Op != OpLocalSet {
			v.push(t)
		}
	case OpGlobalGet, OpGlobalSet:
		g, err := c.global(in.X)
		if err != nil {
			v.fail(err)
			return
		}
		if in.Op == OpGlobalGet {
			v.push(g.Type)
		} else if !g.Mutable {
			v.failf("global is immutable: global %d", in.X)
		} else {
			v.popExpect(g.Type)
		}
	case OpRefNull:
		v.push(ValType(in.X))
	case OpRefIsNull:
		if t := v.pop(); t != Unknown && !t.IsRef() {
			v.failf("type mismatch: ref.is_null of %v", t)
		}
		v.push(I32)
	case OpRefFunc:
		if uint64(in.X) >= c.numFuncs() {
			v.failf("unknown function %d", in.X)
		} else if !c.declared(in.X) {
			v.failf("undeclared function reference %d", in.X)
		}
		v.push(FuncRef)
	case OpDataDrop:
		v.fail(c.hasData(in.X))
	case OpElemDrop:
		_, err := c.elemType(in.X)
		v.fail(err)
	default:
		v.table(in)
	}
}

func (v *funcValidator) table(in *Instr) {
	c := v.ctx
	t, err := c.table(in.X)
	if in.Op == OpTableInit {
		t, err = c.table(in.Y)
	}
	if err != nil {
		v.fail(err)
		return
	}
	switch in.Op {
	case OpTableGet:
		v.popExpect(I32)
		v.push(t.Elem)
	case OpTableSet:
		v.popExpect(t.Elem)
		v.popExpect(I32)
	case OpTableSize:
		v.push(I32)
	case OpTableGrow:
		v.popExpect(I32)
		v.popExpect(t.Elem)
		v.push(I32)
	case OpTableFill:
		v.popExpect(I32)
		v.popExpect(t.Elem)
		v.popExpect(I32)
	case OpTableCopy, OpTableInit:
		var src ValType
		if in.Op == OpTableCopy {
			s, err := c.table(in.Y)
			if err != nil {
				v.fail(err)
				return
			}
			src = s.Elem
		} else if src, err = c.elemType(in.X); err != nil {
			v.fail(err)
			return
		}
		if src != t.Elem {
			v.failf("type mismatch: copy of %v into a table of %v", src, t.Elem)
		}
		v.popVals(threeI32)
	default:
		v.failf("%w %v", errIllegalOpcode, in.Op)
	}
}

var threeI32 = []ValType{I32, I32, I32}

// simd types the SIMD instructions: all have a fixed signature, and some
// access memory or name lanes.
func (v *funcValidator) simd(in *Instr, info *opcodeInfo) {
	switch info.imm {
	case immMemArg, immMemArgLane:
		v.memory(in, info)
	}
	switch {
	case in.Op == OpI8x16Shuffle:
		for _, lane := range in.V128() {
			if uint32(lane) >= info.lanes {
				v.failf("invalid lane index %d", lane)
			}
		}
	case info.lanes > 0 && in.Y >= info.lanes:
		v.failf("invalid lane index %d: %v has %d lanes", in.Y, in.Op, info.lanes)
	}
	v.popVals(info.params)
	v.pushVals(info.results)
}

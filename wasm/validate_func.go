package wasm

import (
	"errors"
	"fmt"
	"math"
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

	vals      []ValType
	ctrls     []ctrlFrame
	brChecked map[*ValType]brCheck // label types br_table checked; see checkedBefore
	brTables  int                  // br_table instructions seen, to tell their checks apart; never reset
	err       error

	// Reused from function to function.
	r  reader
	d  instrReader
	in Instr
}

// ctrlFrame is a control frame, small because hostile code may nest
// blocks about as deep as it has bytes: its types are found from bt.
type ctrlFrame struct {
	bt          BlockType // funcBlock for the function's own frame
	height      uint32
	op          Opcode // OpBlock, OpLoop, OpIf, OpElse; OpBlock for the function
	unreachable bool
}

// funcBlock stands for the type of the function in its control frame.
const funcBlock BlockType = math.MinInt64

// Implementation limits, beyond which the validation algorithm would
// spend memory or time out of proportion with its input. Compilers stay
// far below them (Go and C programs nest blocks a few hundred deep, keep
// a dozen values on the stack and have types of at most ten parameters),
// and engines have similar ones.
const (
	maxNesting       = 1 << 20 // blocks open at once in a function
	maxOperandStack  = 1 << 20 // values on the operand stack of a function
	maxFuncTypeArity = 1000    // parameters, and results, of a function type
)

// single holds a one-type result list for each value type, so that block
// types need no allocation.
var single = func() (s [256][]ValType) {
	for _, t := range []ValType{I32, I64, F32, F64, V128, FuncRef, ExternRef} {
		s[t] = []ValType{t}
	}
	return s
}()

// begin sets the validator up for the body of function funcIndex and
// returns its code.
func (v *funcValidator) begin(funcIndex uint32) (*Code, error) {
	c := v.ctx
	code := &c.m.Code[int(funcIndex)-c.numFuncImports]
	ft, err := c.funcType(funcIndex)
	if err != nil {
		return nil, invalid("function %d: %v", funcIndex, err)
	}
	if err := v.setLocals(ft, code); err != nil {
		return nil, invalid("function %d: %v", funcIndex, err)
	}
	v.vals, v.ctrls, v.err = v.vals[:0], v.ctrls[:0], nil
	v.pushCtrl(OpBlock, funcBlock, nil)
	return code, nil
}

func (v *funcValidator) validate(funcIndex uint32, visit StackVisitor) error {
	code, err := v.begin(funcIndex)
	if err != nil {
		return err
	}
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

// validateInstrs is validate for a body already decoded.
func (v *funcValidator) validateInstrs(funcIndex uint32, instrs []Instr, visit StackVisitor) error {
	if _, err := v.begin(funcIndex); err != nil {
		return err
	}
	for pc := range instrs {
		in := &instrs[pc]
		if len(v.ctrls) == 0 {
			return invalid("function %d: instruction %d after the final end", funcIndex, pc)
		}
		if in.Op.lookup() == nil {
			return invalid("function %d: instruction %d: %w %v", funcIndex, pc, errIllegalOpcode, in.Op)
		}
		if visit != nil {
			visit(pc, *in, v.vals, v.ctrls[len(v.ctrls)-1].unreachable)
		}
		v.instr(in)
		if v.err != nil {
			return invalid("function %d: instruction %d: %v: %w", funcIndex, pc, in.Op, v.err)
		}
	}
	if len(v.ctrls) != 0 {
		return invalid("function %d: body without end", funcIndex)
	}
	return nil
}

func (v *funcValidator) setLocals(ft *FuncType, code *Code) error {
	v.params, v.locals, v.results = ft.Params, code.Locals, ft.Results
	v.ends = v.ends[:0]
	n := uint64(len(ft.Params))
	for _, l := range code.Locals {
		if !isValType(byte(l.Type)) {
			return fmt.Errorf("local type %v is not a value type", l.Type)
		}
		n += uint64(l.Count)
		v.ends = append(v.ends, n)
	}
	return nil
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

func (v *funcValidator) push(t ValType) {
	v.vals = append(v.vals, t)
	if len(v.vals) > maxOperandStack {
		v.tooDeep()
	}
}

func (v *funcValidator) pushVals(ts []ValType) {
	v.vals = append(v.vals, ts...)
	if len(v.vals) > maxOperandStack {
		v.tooDeep()
	}
}

func (v *funcValidator) tooDeep() {
	v.failf("operand stack deeper than %d values: implementation limit", maxOperandStack)
	v.vals = v.vals[:maxOperandStack]
}

func (v *funcValidator) pop() ValType {
	f := &v.ctrls[len(v.ctrls)-1]
	if len(v.vals) == int(f.height) {
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

// popVals pops values of types ts. Where the stack is polymorphic, the
// values missing are of any type: no need to pop them one by one.
func (v *funcValidator) popVals(ts []ValType) {
	f := &v.ctrls[len(v.ctrls)-1]
	for i := len(ts) - 1; i >= 0; i-- {
		if len(v.vals) == int(f.height) {
			if !f.unreachable {
				v.fail(errors.New("type mismatch: operand stack is empty"))
			}
			return
		}
		v.popExpect(ts[i])
	}
}

// checkVals checks that the top of the stack has values of types ts, as
// popping and pushing them back would, without changing the stack.
func (v *funcValidator) checkVals(ts []ValType) {
	f := &v.ctrls[len(v.ctrls)-1]
	for i := 1; i <= len(ts); i++ {
		if len(v.vals)-i < int(f.height) {
			if !f.unreachable {
				v.fail(errors.New("type mismatch: operand stack is empty"))
			}
			return
		}
		got, want := v.vals[len(v.vals)-i], ts[len(ts)-i]
		if got != want && got != Unknown && want != Unknown {
			v.failf("type mismatch: expected %v, found %v", want, got)
		}
	}
}

func (v *funcValidator) pushCtrl(op Opcode, bt BlockType, params []ValType) {
	if len(v.ctrls) == maxNesting {
		v.failf("blocks nested deeper than %d: implementation limit", maxNesting)
		return
	}
	v.ctrls = append(v.ctrls, ctrlFrame{op: op, bt: bt, height: uint32(len(v.vals))})
	v.pushVals(params)
}

func (v *funcValidator) popCtrl() ctrlFrame {
	f := v.ctrls[len(v.ctrls)-1]
	_, results := v.frameTypes(&f)
	v.popVals(results)
	if len(v.vals) != int(f.height) {
		v.failf("type mismatch: %d values left on the stack at the end of the block", len(v.vals)-int(f.height))
	}
	v.ctrls = v.ctrls[:len(v.ctrls)-1]
	return f
}

// frameTypes returns the parameter and result types of a frame.
func (v *funcValidator) frameTypes(f *ctrlFrame) (params, results []ValType) {
	if f.bt == funcBlock {
		return nil, v.results
	}
	return v.blockType(f.bt)
}

func (v *funcValidator) labelTypes(f *ctrlFrame) []ValType {
	params, results := v.frameTypes(f)
	if f.op == OpLoop {
		return params
	}
	return results
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
		if single[byte(t)] == nil {
			v.failf("malformed block type %d", int64(bt))
		}
		return nil, single[byte(t)]
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
			v.needDataCount()
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
	case OpBlock, OpLoop, OpIf:
		bt := in.BlockType()
		params, _ := v.blockType(bt)
		if v.err != nil {
			return
		}
		if in.Op == OpIf {
			v.popExpect(I32)
		}
		v.popVals(params)
		v.pushCtrl(in.Op, bt, params)
	case OpElse:
		f := v.popCtrl()
		if f.op != OpIf {
			v.failf("else without if")
		}
		params, _ := v.frameTypes(&f)
		v.pushCtrl(OpElse, f.bt, params)
	case OpEnd:
		f := v.popCtrl()
		params, results := v.frameTypes(&f)
		if f.op == OpIf && !typesEqual(params, results) {
			// Without else, the missing branch passes the block's
			// parameters through as its results.
			v.failf("type mismatch: if without else of type [%s] -> [%s]", typeList(params), typeList(results))
		}
		v.pushVals(results)
	case OpBr:
		if f := v.label(in.X); f != nil {
			v.popVals(v.labelTypes(f))
		}
		v.setUnreachable()
	case OpBrIf:
		v.popExpect(I32)
		if f := v.label(in.X); f != nil {
			// Popping and pushing back the label's types leaves the
			// stack as it is, but for values of unknown type, which
			// become the label's types.
			lt := v.labelTypes(f)
			v.popVals(lt)
			v.pushVals(lt)
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

// brTable checks br_table. Each label's types must be on the stack; the
// same types need checking once only, which keeps hostile tables of a
// million labels cheap.
func (v *funcValidator) brTable(in *Instr) {
	v.brTables++
	v.popExpect(I32)
	def := v.label(in.X)
	if def == nil {
		return
	}
	defTypes := v.labelTypes(def)
	var checked []ValType
	for _, l := range in.Labels {
		f := v.label(l)
		if f == nil {
			return
		}
		lt := v.labelTypes(f)
		if len(lt) != len(defTypes) {
			v.failf("type mismatch: br_table targets of %d and %d values", len(lt), len(defTypes))
			return
		}
		if len(lt) == 0 || sameSlice(lt, checked) || sameSlice(lt, defTypes) {
			continue
		}
		if !v.checkedBefore(lt) {
			v.checkVals(lt)
		}
		checked = lt
	}
	v.popVals(defTypes)
	v.setUnreachable()
}

// checkedBefore reports whether the current br_table already checked
// types ts, and notes them. Frames share type lists (those of the
// module's types and of single value types), so the set stays as small
// as the module's type section.
func (v *funcValidator) checkedBefore(ts []ValType) bool {
	if v.brChecked == nil {
		v.brChecked = make(map[*ValType]brCheck)
	}
	if c, ok := v.brChecked[&ts[0]]; ok && c.n == len(ts) && c.brTable == v.brTables {
		return true
	}
	v.brChecked[&ts[0]] = brCheck{v.brTables, len(ts)}
	return false
}

// brCheck notes that br_table number brTable of a function checked n
// types.
type brCheck struct{ brTable, n int }

func sameSlice(a, b []ValType) bool {
	return len(a) == len(b) && len(a) > 0 && &a[0] == &b[0]
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
		if t := ValType(in.X); !t.IsRef() {
			v.failf("%v is not a reference type", t)
		}
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
		v.needDataCount()
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

// needDataCount checks what the binary format requires of memory.init
// and data.drop, for a Module built rather than decoded: the data count
// section, where there are data segments (see crossCheck in Decode).
func (v *funcValidator) needDataCount() {
	if m := v.ctx.m; !m.HasDataCount && len(m.Data) > 0 {
		v.fail(errors.New("data count section required (Module.HasDataCount) where there are data segments"))
	}
}

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

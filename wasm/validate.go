package wasm

import (
	"errors"
	"fmt"
)

// ValidationError reports an invalid module: what is wrong and where.
type ValidationError struct {
	// Offset is the byte offset, in the decoded binary, of the
	// instruction that is wrong, or -1 where the error is not in code.
	// For code that was not decoded, it counts from the start of the
	// function's body.
	Offset int
	Err    error
}

func (e *ValidationError) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("invalid module: %v", e.Err)
	}
	return fmt.Sprintf("invalid module at byte %d: %v", e.Offset, e.Err)
}

func (e *ValidationError) Unwrap() error { return e.Err }

func invalid(format string, args ...any) error {
	return &ValidationError{Offset: -1, Err: fmt.Errorf(format, args...)}
}

// Validate checks that m is valid as the specification defines it: that
// every index refers to something, that limits are within bounds, that
// constant expressions are constant and of the right type, that export
// names are unique, that the start function takes and returns nothing,
// and that every function body is well-typed (by the specification's
// validation algorithm). Errors are *ValidationError, or *FormatError
// for code that does not decode.
//
// As engines do, Validate also refuses modules past limits that keep the
// cost of validation in proportion with the size of the module: function
// types of more than 1000 parameters or results, blocks nested more than
// 2^20 deep, operand stacks of more than 2^20 values.
func Validate(m *Module) error {
	return validate(m, 0)
}

// validate is Validate with the function bodies checked on workers
// goroutines; 0 leaves the choice to bodyWorkers, by the bodies' size.
func validate(m *Module, workers int) error {
	c := newContext(m)
	for _, check := range []func() error{c.checkTypes, c.checkImports, c.checkFuncs, c.checkTables, c.checkMemories,
		c.checkGlobals, c.checkElements, c.checkData, c.checkStart, c.checkExports} {
		if err := check(); err != nil {
			return err
		}
	}
	if len(m.Code) != len(m.Funcs) {
		return invalid("%d functions but %d bodies", len(m.Funcs), len(m.Code))
	}
	if workers == 0 {
		size := 0
		for i := range m.Code {
			size += len(m.Code[i].Body)
		}
		workers = bodyWorkers(size)
	}
	return lowestError(len(m.Code), workers, func(i int) int { return len(m.Code[i].Body) }, func() func(int) error {
		ctx := c
		if workers > 1 {
			ctx = c.own()
		}
		v := funcValidator{ctx: ctx}
		return func(i int) error { return v.validate(uint32(c.numFuncImports+i), nil) }
	})
}

// StackVisitor is called before each instruction of a function: pc is
// the instruction's index in the function's Instructions, in the
// instruction, and stack the types of the values on the operand stack,
// from the bottom. Where the code is unreachable (after br, return,
// unreachable... until the end of the block), the stack above the
// block's own values is polymorphic: unreachable is true and some types
// may be Unknown. Neither in's slices nor stack may be kept or changed
// after the call returns.
type StackVisitor func(pc int, in Instr, stack []ValType, unreachable bool)

// FuncStack validates function funcIndex (an index in the function index
// space, which starts with the imported functions) and calls visit with
// the operand stack before each of its instructions. It checks of the
// rest of the module only what it needs: validate the module first.
func FuncStack(m *Module, funcIndex uint32, visit StackVisitor) error {
	c := newContext(m)
	if funcIndex < uint32(c.numFuncImports) || uint64(funcIndex) >= uint64(c.numFuncImports+len(m.Code)) {
		return invalid("function %d has no body", funcIndex)
	}
	v := funcValidator{ctx: c}
	return v.validate(funcIndex, visit)
}

// A Typer gives the operand stack before each instruction of function
// bodies already decoded, as FuncStack does for encoded ones, without
// encoding them again; it reuses its memory from one function to the
// next. It is for programs that rewrite many functions of one module.
type Typer struct {
	v funcValidator
}

// NewTyper returns a Typer for the functions of m, which should be valid
// (Validate): a Typer checks of the rest of the module only what it needs.
// m must not change while the Typer is used.
func NewTyper(m *Module) *Typer {
	return &Typer{v: funcValidator{ctx: newContext(m)}}
}

// FuncStack validates instrs as the body of function funcIndex (an index
// in the function index space, which starts with the imported
// functions), with the function's type and locals, and calls visit with
// the operand stack before each instruction, as the function FuncStack
// does. instrs may differ from the module's body of the function (say,
// without its dead code); it must end with the end that closes the body,
// and nothing may follow it.
func (t *Typer) FuncStack(funcIndex uint32, instrs []Instr, visit StackVisitor) error {
	c := t.v.ctx
	if funcIndex < uint32(c.numFuncImports) || uint64(funcIndex) >= uint64(c.numFuncImports+len(c.m.Code)) {
		return invalid("function %d has no body", funcIndex)
	}
	return t.v.validateInstrs(funcIndex, instrs, visit)
}

// context is what validation knows of a module: the spec's C.
type context struct {
	m                   *Module
	funcImports         []uint32 // type indices of imported functions
	tableImports        []TableType
	memImports          []Limits
	globalImports       []GlobalType
	numFuncImports      int
	refs                map[uint32]bool // functions that ref.func may name; nil until needed
	dataCount           uint64
	importedGlobalCount int

	// Reused by checkConst.
	constReader reader
	constInstrs instrReader
	constInstr  Instr
	constStack  []ValType
}

func newContext(m *Module) *context {
	c := &context{m: m}
	for i := range m.Imports {
		imp := &m.Imports[i]
		switch imp.Kind {
		case ExternFunc:
			c.funcImports = append(c.funcImports, imp.Type)
		case ExternTable:
			c.tableImports = append(c.tableImports, imp.Table)
		case ExternMemory:
			c.memImports = append(c.memImports, imp.Memory)
		case ExternGlobal:
			c.globalImports = append(c.globalImports, imp.Global)
		}
	}
	c.numFuncImports = len(c.funcImports)
	c.importedGlobalCount = len(c.globalImports)
	c.dataCount = uint64(len(m.Data))
	if m.HasDataCount {
		c.dataCount = uint64(m.DataCount)
	}
	return c
}

// own returns a copy of c for one of the goroutines that check bodies:
// what c computes on demand (refs) and its buffers are then not shared,
// and the goroutines share only what they read. Computing refs once
// before they start would cost more than the copies: it decodes every
// constant expression (a Go program has tens of thousands, the offsets
// of its data segments) for ref.func, which compilers seldom emit, and
// the copies compute it only where a body needs it.
func (c *context) own() *context {
	cc := *c
	cc.refs = nil
	cc.constReader, cc.constInstrs, cc.constStack = reader{}, instrReader{}, nil
	return &cc
}

func (c *context) numFuncs() uint64 { return uint64(c.numFuncImports + len(c.m.Funcs)) }

func (c *context) funcType(x uint32) (*FuncType, error) {
	var t uint32
	switch {
	case uint64(x) < uint64(c.numFuncImports):
		t = c.funcImports[x]
	case uint64(x) < c.numFuncs():
		t = c.m.Funcs[int(x)-c.numFuncImports]
	default:
		return nil, fmt.Errorf("unknown function %d", x)
	}
	return c.typ(t)
}

func (c *context) typ(x uint32) (*FuncType, error) {
	if uint64(x) >= uint64(len(c.m.Types)) {
		return nil, fmt.Errorf("unknown type %d", x)
	}
	return &c.m.Types[x], nil
}

func (c *context) table(x uint32) (*TableType, error) {
	if uint64(x) < uint64(len(c.tableImports)) {
		return &c.tableImports[x], nil
	}
	if i := uint64(x) - uint64(len(c.tableImports)); i < uint64(len(c.m.Tables)) {
		return &c.m.Tables[i], nil
	}
	return nil, fmt.Errorf("unknown table %d", x)
}

func (c *context) hasMemory(x uint32) error {
	if uint64(x) >= uint64(len(c.memImports)+len(c.m.Memories)) {
		return fmt.Errorf("unknown memory %d", x)
	}
	return nil
}

func (c *context) global(x uint32) (*GlobalType, error) {
	if uint64(x) < uint64(len(c.globalImports)) {
		return &c.globalImports[x], nil
	}
	if i := uint64(x) - uint64(len(c.globalImports)); i < uint64(len(c.m.Globals)) {
		return &c.m.Globals[i].Type, nil
	}
	return nil, fmt.Errorf("unknown global %d", x)
}

func (c *context) elemType(x uint32) (ValType, error) {
	if uint64(x) >= uint64(len(c.m.Elements)) {
		return 0, fmt.Errorf("unknown elem segment %d", x)
	}
	return c.m.Elements[x].Type, nil
}

func (c *context) hasData(x uint32) error {
	if uint64(x) >= c.dataCount {
		return fmt.Errorf("unknown data segment %d", x)
	}
	return nil
}

// declared reports whether ref.func in a function body may name x: the
// specification's C.refs, the functions named outside function bodies
// and the start section (exports, element segments, constant
// expressions).
func (c *context) declared(x uint32) bool {
	if c.refs == nil {
		c.refs = make(map[uint32]bool)
		for _, e := range c.m.Exports {
			if e.Kind == ExternFunc {
				c.refs[e.Index] = true
			}
		}
		for i := range c.m.Elements {
			e := &c.m.Elements[i]
			for _, f := range e.Funcs {
				c.refs[f] = true
			}
			c.addRefs(e.Offset)
			for _, x := range e.Exprs {
				c.addRefs(x)
			}
		}
		for _, g := range c.m.Globals {
			c.addRefs(g.Init)
		}
		for _, d := range c.m.Data {
			c.addRefs(d.Offset)
		}
	}
	return c.refs[x]
}

// addRefs adds the functions that ref.func names in a constant
// expression; one that does not decode is reported by its own check.
func (c *context) addRefs(expr []byte) {
	instrs, _ := DecodeBody(expr)
	for _, in := range instrs {
		if in.Op == OpRefFunc {
			c.refs[in.X] = true
		}
	}
}

func (c *context) checkTypes() error {
	for i, t := range c.m.Types {
		if len(t.Params) > maxFuncTypeArity || len(t.Results) > maxFuncTypeArity {
			return invalid("type %d: %d parameters and %d results; at most %d of each (implementation limit)",
				i, len(t.Params), len(t.Results), maxFuncTypeArity)
		}
		if err := checkValTypes(t.Params); err != nil {
			return invalid("type %d: %v", i, err)
		}
		if err := checkValTypes(t.Results); err != nil {
			return invalid("type %d: %v", i, err)
		}
	}
	return nil
}

// checkValTypes checks value types, which only a Module built rather
// than decoded can get wrong.
func checkValTypes(ts []ValType) error {
	for _, t := range ts {
		if !isValType(byte(t)) {
			return fmt.Errorf("%v is not a value type", t)
		}
	}
	return nil
}

func (c *context) checkImports() error {
	for i := range c.m.Imports {
		imp := &c.m.Imports[i]
		var err error
		switch imp.Kind {
		case ExternFunc:
			_, err = c.typ(imp.Type)
		case ExternTable:
			err = checkLimitsOrder(imp.Table.Limits)
			if !imp.Table.Elem.IsRef() {
				err = fmt.Errorf("table element type %v is not a reference type", imp.Table.Elem)
			}
		case ExternMemory:
			err = checkMemory(imp.Memory)
		case ExternGlobal:
			err = checkValTypes([]ValType{imp.Global.Type})
		default:
			err = fmt.Errorf("unknown kind %v", imp.Kind)
		}
		if err != nil {
			return invalid("import %d (%q %q): %v", i, imp.Module, imp.Name, err)
		}
	}
	return nil
}

func checkMemory(l Limits) error {
	if err := checkLimitsOrder(l); err != nil {
		return err
	}
	return checkMemoryLimits(l)
}

func (c *context) checkFuncs() error {
	for i, t := range c.m.Funcs {
		if _, err := c.typ(t); err != nil {
			return invalid("function %d: %v", c.numFuncImports+i, err)
		}
	}
	return nil
}

func (c *context) checkTables() error {
	for i, t := range c.m.Tables {
		if err := checkLimitsOrder(t.Limits); err != nil {
			return invalid("table %d: %v", len(c.tableImports)+i, err)
		}
		if !t.Elem.IsRef() {
			return invalid("table %d: element type %v is not a reference type", len(c.tableImports)+i, t.Elem)
		}
	}
	return nil
}

func (c *context) checkMemories() error {
	if n := len(c.memImports) + len(c.m.Memories); n > 1 {
		return invalid("multiple memories: %d; WebAssembly 2.0 allows one", n)
	}
	for i, l := range c.m.Memories {
		if err := checkMemory(l); err != nil {
			return invalid("memory %d: %v", len(c.memImports)+i, err)
		}
	}
	return nil
}

func (c *context) checkGlobals() error {
	for i := range c.m.Globals {
		g := &c.m.Globals[i]
		err := checkValTypes([]ValType{g.Type.Type})
		if err == nil {
			err = c.checkConst(g.Init, g.Type.Type)
		}
		if err != nil {
			return invalid("global %d: %v", c.importedGlobalCount+i, err)
		}
	}
	return nil
}

func (c *context) checkElements() error {
	for i := range c.m.Elements {
		if err := c.checkElement(&c.m.Elements[i]); err != nil {
			return invalid("element segment %d: %v", i, err)
		}
	}
	return nil
}

func (c *context) checkElement(e *Element) error {
	if !e.Type.IsRef() {
		return fmt.Errorf("element type %v is not a reference type", e.Type)
	}
	if len(e.Funcs) > 0 && len(e.Exprs) > 0 {
		return errors.New("a segment lists function indices or expressions, not both")
	}
	if len(e.Funcs) > 0 && e.Type != FuncRef {
		return fmt.Errorf("type mismatch: function indices in a segment of %v", e.Type)
	}
	for _, f := range e.Funcs {
		if uint64(f) >= c.numFuncs() {
			return fmt.Errorf("unknown function %d", f)
		}
	}
	for _, x := range e.Exprs {
		if err := c.checkConst(x, e.Type); err != nil {
			return err
		}
	}
	switch e.Mode {
	case Active:
		t, err := c.table(e.Table)
		if err != nil {
			return err
		}
		if t.Elem != e.Type {
			return fmt.Errorf("type mismatch: segment of %v for table %d of %v", e.Type, e.Table, t.Elem)
		}
		return c.checkConst(e.Offset, I32)
	case Passive, Declarative:
		return nil
	}
	return fmt.Errorf("unknown %v", e.Mode)
}

func (c *context) checkData() error {
	m := c.m
	if m.HasDataCount && uint64(m.DataCount) != uint64(len(m.Data)) {
		return invalid("data count %d but %d data segments", m.DataCount, len(m.Data))
	}
	for i := range m.Data {
		d := &m.Data[i]
		var err error
		switch d.Mode {
		case Active:
			if err = c.hasMemory(d.Memory); err == nil {
				err = c.checkConst(d.Offset, I32)
			}
		case Passive:
		default:
			err = fmt.Errorf("unknown %v", d.Mode)
		}
		if err != nil {
			return invalid("data segment %d: %v", i, err)
		}
	}
	return nil
}

func (c *context) checkStart() error {
	if !c.m.HasStart {
		return nil
	}
	t, err := c.funcType(c.m.Start)
	if err == nil && (len(t.Params) != 0 || len(t.Results) != 0) {
		err = fmt.Errorf("start function must have type [] -> [], not %v", t)
	}
	if err != nil {
		return invalid("start function %d: %v", c.m.Start, err)
	}
	return nil
}

func (c *context) checkExports() error {
	names := make(map[string]bool, len(c.m.Exports))
	for i, e := range c.m.Exports {
		if names[e.Name] {
			return invalid("export %d: duplicate export name %q", i, e.Name)
		}
		names[e.Name] = true
		var err error
		switch e.Kind {
		case ExternFunc:
			if uint64(e.Index) >= c.numFuncs() {
				err = fmt.Errorf("unknown function %d", e.Index)
			}
		case ExternTable:
			_, err = c.table(e.Index)
		case ExternMemory:
			err = c.hasMemory(e.Index)
		case ExternGlobal:
			_, err = c.global(e.Index)
		default:
			err = fmt.Errorf("unknown kind %v", e.Kind)
		}
		if err != nil {
			return invalid("export %d (%q): %v", i, e.Name, err)
		}
	}
	return nil
}

var errNotConstant = errors.New("constant expression required")

// checkConst checks that expr is a constant expression of type want. As
// in WebAssembly 2.0, global.get may only read immutable imported
// globals.
func (c *context) checkConst(expr []byte, want ValType) error {
	c.constReader = reader{b: expr}
	r, d, in := &c.constReader, &c.constInstrs, &c.constInstr
	*d = instrReader{r: r, blocks: d.blocks[:0], reuse: true, labels: d.labels, types: d.types}
	stack := c.constStack[:0]
	defer func() { c.constStack = stack }()
	for d.next(in) {
		var t ValType
		switch in.Op {
		case OpI32Const:
			t = I32
		case OpI64Const:
			t = I64
		case OpF32Const:
			t = F32
		case OpF64Const:
			t = F64
		case OpV128Const:
			t = V128
		case OpRefNull:
			t = ValType(in.X)
		case OpRefFunc:
			if uint64(in.X) >= c.numFuncs() {
				return fmt.Errorf("unknown function %d", in.X)
			}
			t = FuncRef
		case OpGlobalGet:
			if uint64(in.X) >= uint64(len(c.globalImports)) {
				return fmt.Errorf("unknown global %d: constant expressions read imported globals only", in.X)
			}
			g := c.globalImports[in.X]
			if g.Mutable {
				return fmt.Errorf("%w: global %d is mutable", errNotConstant, in.X)
			}
			t = g.Type
		case OpEnd:
			continue
		default:
			return fmt.Errorf("%w: %v is not constant", errNotConstant, in.Op)
		}
		stack = append(stack, t)
	}
	if r.err == nil && (!d.done || r.off != len(expr)) {
		r.fail(errors.New("constant expression does not end with its end"))
	}
	if r.err != nil {
		return r.err
	}
	if len(stack) != 1 || stack[0] != want {
		return fmt.Errorf("type mismatch: constant expression of type [%s], want %v", typeList(stack), want)
	}
	return nil
}

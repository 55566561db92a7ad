package wasm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
)

// Instr is one instruction with its immediates. Which fields an
// instruction uses depends on its opcode:
//
//   - block, loop, if: Imm holds the BlockType (see BlockType).
//   - br, br_if, call, local.*, global.*, table.get, table.set,
//     table.size, table.grow, table.fill, ref.func, data.drop, elem.drop,
//     memory.init: X is the label or index.
//   - br_table: Labels are the targets, X the default.
//   - call_indirect: X is the type index, Y the table.
//   - table.init: X is the element segment, Y the table.
//   - table.copy: X is the destination table, Y the source.
//   - select with types: Types.
//   - ref.null: X is the reference type (a ValType).
//   - loads and stores: X is the alignment exponent, Imm the offset;
//     the SIMD lane loads and stores also have the lane in Y.
//   - extract_lane and replace_lane: Y is the lane.
//   - i32.const, i64.const: Imm holds the value's bits (an i32 zero
//     extended); f32.const and f64.const the bits of the float.
//   - v128.const and i8x16.shuffle: Imm holds bytes 0 to 7, little
//     endian, and Imm2 bytes 8 to 15.
//
// Instructions end with end, as in the binary format: the body of a
// function is a flat list whose last instruction is the end of the
// function, and block, loop, if and else open blocks that end closes.
type Instr struct {
	Op     Opcode
	X, Y   uint32
	Imm    uint64
	Imm2   uint64
	Labels []uint32
	Types  []ValType
}

// BlockType is the type of a block, loop or if, as the binary encodes
// it: a negative number for no type or a single result type (see
// BlockEmpty and BlockOf), or a type index.
type BlockType int64

// BlockEmpty is the type of a block without parameters or results.
const BlockEmpty BlockType = -0x40

// BlockOf returns the type of a block without parameters whose result
// has type t.
func BlockOf(t ValType) BlockType { return BlockType(int64(t) - 0x80) }

// Result returns the single result type of bt and true, if bt is given
// as a value type.
func (bt BlockType) Result() (ValType, bool) {
	if bt < 0 && bt != BlockEmpty {
		return ValType(bt + 0x80), true
	}
	return 0, false
}

// TypeIndex returns the type index of bt and true, if bt is one.
func (bt BlockType) TypeIndex() (uint32, bool) {
	if bt >= 0 && bt <= math.MaxUint32 {
		return uint32(bt), true
	}
	return 0, false
}

// BlockInstr returns a block, loop or if instruction of type bt.
func BlockInstr(op Opcode, bt BlockType) Instr { return Instr{Op: op, Imm: uint64(bt)} }

// BlockType returns the block type of a block, loop or if.
func (in *Instr) BlockType() BlockType { return BlockType(in.Imm) }

// MemArg returns the alignment exponent and offset of a memory access.
func (in *Instr) MemArg() (align, offset uint32) { return in.X, uint32(in.Imm) }

// V128 returns the 16 bytes of a v128.const or i8x16.shuffle.
func (in *Instr) V128() [16]byte {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], in.Imm)
	binary.LittleEndian.PutUint64(b[8:], in.Imm2)
	return b
}

func (in Instr) String() string {
	var b strings.Builder
	b.WriteString(in.Op.String())
	info := in.Op.lookup()
	if info == nil {
		return b.String()
	}
	switch info.imm {
	case immBlock:
		bt := in.BlockType()
		if t, ok := bt.Result(); ok {
			fmt.Fprintf(&b, " (result %v)", t)
		} else if x, ok := bt.TypeIndex(); ok {
			fmt.Fprintf(&b, " (type %d)", x)
		}
	case immIndex, immMemoryInit:
		fmt.Fprintf(&b, " %d", in.X)
	case immBrTable:
		for _, l := range in.Labels {
			fmt.Fprintf(&b, " %d", l)
		}
		fmt.Fprintf(&b, " %d", in.X)
	case immCallIndirect:
		fmt.Fprintf(&b, " %d (type %d)", in.Y, in.X)
	case immTableInit, immTableCopy:
		fmt.Fprintf(&b, " %d %d", in.X, in.Y)
	case immSelectT:
		fmt.Fprintf(&b, " (result %s)", typeList(in.Types))
	case immRefNull:
		fmt.Fprintf(&b, " %v", ValType(in.X))
	case immMemArg, immMemArgLane:
		fmt.Fprintf(&b, " offset=%d align=%d", uint32(in.Imm), uint64(1)<<min(in.X, 63))
		if info.imm == immMemArgLane {
			fmt.Fprintf(&b, " %d", in.Y)
		}
	case immLane:
		fmt.Fprintf(&b, " %d", in.Y)
	case immI32:
		fmt.Fprintf(&b, " %d", int32(in.Imm))
	case immI64:
		fmt.Fprintf(&b, " %d", int64(in.Imm))
	case immF32:
		fmt.Fprintf(&b, " %v", math.Float32frombits(uint32(in.Imm)))
	case immF64:
		fmt.Fprintf(&b, " %v", math.Float64frombits(in.Imm))
	case immV128:
		fmt.Fprintf(&b, " % x", in.V128())
	}
	return b.String()
}

var errIllegalOpcode = errors.New("illegal opcode")

// instrReader decodes the instructions of an expression and checks that
// blocks nest: else only inside if, and an end for every block and one
// for the expression itself.
type instrReader struct {
	r      *reader
	blocks []Opcode // the open blocks: OpBlock, OpLoop, OpIf or OpElse
	loops  int      // how many of them are loops
	done   bool     // the expression's final end has been read

	// usesData records an instruction that needs the data count
	// section; dataOff is its offset.
	usesData bool
	dataOff  int

	// reuse says that instructions need not outlive the next call to
	// next: the labels of br_table and the types of select then reuse
	// these buffers.
	reuse  bool
	labels []uint32
	types  []ValType

	lim *ModuleLimits // nil: none
}

// next decodes the next instruction into in. It returns false at the end
// of the expression or on error, which r.err then holds.
func (d *instrReader) next(in *Instr) bool {
	r := d.r
	if d.done || r.err != nil {
		return false
	}
	start := r.off
	if r.off >= len(r.b) {
		r.fail(fmt.Errorf("expression without end: %w", errTruncated))
		return false
	}
	var info *opcodeInfo
	if b := r.b[r.off]; b != prefixMisc && b != prefixSIMD {
		// A one-byte opcode, as most are: the fast path.
		r.off++
		in.Op, info = Opcode(b), opcodeIndex[0][b]
	} else {
		in.Op = d.opcode()
		if r.err != nil {
			return false
		}
		info = in.Op.lookup()
	}
	if info == nil {
		r.failAt(start, fmt.Errorf("%w %v", errIllegalOpcode, in.Op))
		return false
	}
	if info.imm == immNone {
		// Most instructions have no immediates.
		in.X, in.Y, in.Imm, in.Imm2, in.Labels, in.Types = 0, 0, 0, 0, nil, nil
	} else {
		d.immediates(in, info)
	}
	if r.err != nil {
		if fe, ok := r.err.(*FormatError); ok {
			fe.Err = fmt.Errorf("%v: %w", in.Op, fe.Err)
		}
		return false
	}
	switch in.Op {
	case OpBlock, OpLoop, OpIf:
		if d.lim != nil && over(len(d.blocks)+1, d.lim.BlockDepth) {
			r.overLimit(start, "blocks nested", d.lim.BlockDepth, uint64(len(d.blocks)+1))
			return false
		}
		if in.Op == OpLoop {
			if d.loops++; d.lim != nil && over(d.loops, d.lim.LoopDepth) {
				r.overLimit(start, "loops nested", d.lim.LoopDepth, uint64(d.loops))
				return false
			}
		}
		d.blocks = append(d.blocks, in.Op)
	case OpElse:
		if n := len(d.blocks); n == 0 || d.blocks[n-1] != OpIf {
			r.failAt(start, errors.New("else outside an if"))
			return false
		}
		d.blocks[len(d.blocks)-1] = OpElse
	case OpEnd:
		if len(d.blocks) == 0 {
			d.done = true
		} else {
			if d.blocks[len(d.blocks)-1] == OpLoop {
				d.loops--
			}
			d.blocks = d.blocks[:len(d.blocks)-1]
		}
	case OpMemoryInit, OpDataDrop:
		if !d.usesData {
			d.usesData, d.dataOff = true, r.base+start
		}
	}
	return true
}

// opcode reads a one-byte or prefixed opcode. A sub-opcode is a u32 in
// the binary format; those above 255 are illegal in WebAssembly 2.0.
func (d *instrReader) opcode() Opcode {
	r := d.r
	b := r.byte("opcode")
	if b != prefixMisc && b != prefixSIMD {
		return Opcode(b)
	}
	off := r.off - 1
	sub := r.u32("sub-opcode")
	if r.err == nil && sub > 0xff {
		r.failAt(off, fmt.Errorf("%w 0x%02x %d", errIllegalOpcode, b, sub))
	}
	return Opcode(b)<<8 | Opcode(sub&0xff)
}

func (d *instrReader) immediates(in *Instr, info *opcodeInfo) {
	r := d.r
	in.X, in.Y, in.Imm, in.Imm2 = 0, 0, 0, 0
	in.Labels, in.Types = nil, nil
	switch info.imm {
	case immBlock:
		in.Imm = uint64(d.blockType())
	case immIndex:
		in.X = r.u32("index")
	case immBrTable:
		countOff := r.off
		n, c := r.vec("br_table label count", 1)
		if d.lim != nil && over(n, d.lim.BrTableTargets) {
			r.overLimit(countOff, "br_table targets", d.lim.BrTableTargets, uint64(n))
			return
		}
		switch {
		case n == 0:
		case d.reuse && cap(d.labels) >= c:
			in.Labels = d.labels[:0]
		default:
			in.Labels = make([]uint32, 0, c)
		}
		for i := uint32(0); i < n && r.err == nil; i++ {
			in.Labels = append(in.Labels, r.u32("br_table label"))
		}
		in.X = r.u32("br_table default label")
		if d.reuse && in.Labels != nil {
			d.labels = in.Labels
		}
	case immCallIndirect, immTableInit, immTableCopy:
		in.X = r.u32("index")
		in.Y = r.u32("table index")
	case immSelectT:
		n, c := r.vec("select type count", 1)
		switch {
		case n == 0:
		case d.reuse && cap(d.types) >= c:
			in.Types = d.types[:0]
		default:
			in.Types = make([]ValType, 0, c)
		}
		for i := uint32(0); i < n && r.err == nil; i++ {
			in.Types = append(in.Types, r.valType("select type"))
		}
		if d.reuse && in.Types != nil {
			d.types = in.Types
		}
	case immMemArg:
		d.memArg(in)
	case immMemArgLane:
		d.memArg(in)
		in.Y = uint32(r.byte("lane index"))
	case immLane:
		in.Y = uint32(r.byte("lane index"))
	case immZero:
		d.zero()
	case immMemoryInit:
		in.X = r.u32("data index")
		d.zero()
	case immMemoryCopy:
		d.zero()
		d.zero()
	case immI32:
		in.Imm = uint64(uint32(r.s32("i32 constant")))
	case immI64:
		in.Imm = uint64(r.s64("i64 constant"))
	case immF32:
		in.Imm = uint64(r.u32le("f32 constant"))
	case immF64:
		in.Imm = r.u64le("f64 constant")
	case immV128:
		in.Imm = r.u64le("v128 immediate")
		in.Imm2 = r.u64le("v128 immediate")
	case immRefNull:
		off := r.off
		if t := ValType(r.byte("reference type")); r.err == nil && !t.IsRef() {
			r.failAt(off, fmt.Errorf("malformed reference type 0x%02x", byte(t)))
		} else {
			in.X = uint32(t)
		}
	}
}

// blockType reads a block type: 0x40, a value type, or a type index as
// a non-negative s33.
func (d *instrReader) blockType() BlockType {
	r := d.r
	if r.err != nil {
		return 0
	}
	if r.off < len(r.b) {
		if b := r.b[r.off]; b == 0x40 || isValType(b) {
			r.off++
			return BlockType(int64(b) - 0x80)
		}
	}
	off := r.off
	x := r.signed("block type", 33)
	if r.err == nil && x < 0 {
		r.failAt(off, fmt.Errorf("malformed block type %d", x))
	}
	return BlockType(x)
}

func (d *instrReader) memArg(in *Instr) {
	r := d.r
	off := r.off
	in.X = r.u32("alignment")
	if r.err == nil && in.X >= 32 {
		// Only 2^0 to 2^31 are alignments a 32-bit address can have.
		r.failAt(off, fmt.Errorf("malformed memop flags: alignment exponent %d", in.X))
	}
	in.Imm = uint64(r.u32("offset"))
}

// zero reads the reserved byte that stands for memory index 0.
func (d *instrReader) zero() {
	r := d.r
	if b := r.byte("memory index"); r.err == nil && b != 0 {
		r.failAt(r.off-1, fmt.Errorf("zero byte expected, found 0x%02x", b))
	}
}

// readExpr reads an expression, up to and including its final end, from
// r and returns its bytes; d receives what it used.
func readExpr(r *reader, d *instrReader) []byte {
	start := r.off
	*d = instrReader{r: r, blocks: d.blocks[:0], reuse: true, labels: d.labels, types: d.types, lim: d.lim}
	var in Instr
	for d.next(&in) {
	}
	if r.err != nil {
		return nil
	}
	return r.b[start:r.off:r.off]
}

// DecodeBody decodes a function body or constant expression: encoded
// instructions up to and including the end that closes it (as in
// Code.Body and the constant expressions of Global, Element and Data).
func DecodeBody(body []byte) ([]Instr, error) {
	return decodeInstrs(nil, body, 0)
}

// Instructions decodes the body of c.
func (c *Code) Instructions() ([]Instr, error) {
	return c.AppendInstructions(nil)
}

// AppendInstructions decodes the body of c and appends its instructions
// to dst. A program that goes through many functions can pass the same
// dst[:0] each time, to allocate only for the largest.
func (c *Code) AppendInstructions(dst []Instr) ([]Instr, error) {
	return decodeInstrs(dst, c.Body, c.Offset)
}

// Opcodes calls visit with the opcode of each instruction of the body of
// c, in order, up to and including its final end. It keeps no
// instruction, so it costs less than Instructions for a program that
// looks only for some opcodes. A body that does not decode gives the error
// Instructions would give, after visits of the instructions before the
// fault.
func (c *Code) Opcodes(visit func(op Opcode)) error {
	r := &reader{b: c.Body, base: c.Offset}
	d := instrReader{r: r, reuse: true}
	var in Instr
	for d.next(&in) {
		visit(in.Op)
	}
	return endExpr(r, &d)
}

// Each calls visit with each instruction of the body of c, in order, up
// to and including its final end. The instruction is reused: it, its
// Labels and its Types are valid only during the call. It allocates
// nothing per instruction, so it costs less than Instructions for a
// program that keeps little of them. A body that does not decode gives
// the error Instructions would give, after visits of the instructions
// before the fault.
func (c *Code) Each(visit func(in *Instr)) error {
	r := &reader{b: c.Body, base: c.Offset}
	d := instrReader{r: r, reuse: true}
	var in Instr
	for d.next(&in) {
		visit(&in)
	}
	return endExpr(r, &d)
}

// endExpr returns the error of an expression whose instructions d has
// read up to its end or a fault.
func endExpr(r *reader, d *instrReader) error {
	if r.err == nil && !d.done {
		r.fail(fmt.Errorf("expression without end: %w", errTruncated))
	}
	if r.err == nil && r.off != len(r.b) {
		r.fail(fmt.Errorf("%d bytes after the final end", len(r.b)-r.off))
	}
	return r.err
}

// AppendInstructionStarts is AppendInstructions that also appends to
// starts, for each instruction, the offset in c.Body of its first byte,
// so that a program that rewrites a body can copy the encoding of the
// instructions it keeps as they are.
func (c *Code) AppendInstructionStarts(dst []Instr, starts []int) ([]Instr, []int, error) {
	if starts == nil {
		starts = make([]int, 0, len(c.Body)/3+1)
	}
	instrs, starts, err := decodeInstrsStarts(dst, starts, c.Body, c.Offset)
	if err != nil {
		return nil, nil, err
	}
	return instrs, starts, nil
}

func decodeInstrs(instrs []Instr, body []byte, base int) ([]Instr, error) {
	instrs, _, err := decodeInstrsStarts(instrs, nil, body, base)
	return instrs, err
}

// decodeInstrsStarts decodes body; with starts not nil, it appends the
// offsets of the instructions to it.
func decodeInstrsStarts(instrs []Instr, starts []int, body []byte, base int) ([]Instr, []int, error) {
	r := &reader{b: body, base: base}
	d := instrReader{r: r}
	if instrs == nil {
		// Instructions of compiled code average about three bytes.
		instrs = make([]Instr, 0, len(body)/3+1)
	}
	record := starts != nil
	for {
		off := r.off
		instrs = append(instrs, Instr{})
		if !d.next(&instrs[len(instrs)-1]) {
			instrs = instrs[:len(instrs)-1]
			break
		}
		if record {
			starts = append(starts, off)
		}
	}
	if err := endExpr(r, &d); err != nil {
		return nil, nil, err
	}
	return instrs, starts, nil
}

// EncodeBody encodes instructions in their shortest form. It checks
// nothing: give it the instructions of a function body or constant
// expression, ending with end, and validate the module that holds them.
func EncodeBody(instrs []Instr) []byte {
	// Instructions of compiled code average about three bytes.
	b := make([]byte, 0, 3*len(instrs)+8)
	for i := range instrs {
		b = AppendInstr(b, &instrs[i])
	}
	return b
}

// AppendInstr appends the encoding of in to b. An opcode unknown to
// WebAssembly 2.0 is written without immediates.
func AppendInstr(b []byte, in *Instr) []byte {
	switch p := in.Op >> 8; p {
	case 0:
		b = append(b, byte(in.Op))
	default:
		b = appendU32(append(b, byte(p)), uint32(in.Op&0xff))
	}
	info := in.Op.lookup()
	if info == nil {
		return b
	}
	switch info.imm {
	case immBlock:
		// BlockEmpty and value types take one byte; anything else is an
		// s33, which decodes as the same number (and is refused where it
		// is negative).
		if bt := in.BlockType(); bt == BlockEmpty || bt >= -0x40 && bt < 0 && isValType(byte(bt+0x80)) {
			b = append(b, byte(bt+0x80))
		} else {
			b = appendSigned(b, int64(bt))
		}
	case immIndex:
		b = appendU32(b, in.X)
	case immBrTable:
		b = appendU32(b, uint32(len(in.Labels)))
		for _, l := range in.Labels {
			b = appendU32(b, l)
		}
		b = appendU32(b, in.X)
	case immCallIndirect, immTableInit, immTableCopy:
		b = appendU32(appendU32(b, in.X), in.Y)
	case immSelectT:
		b = appendU32(b, uint32(len(in.Types)))
		for _, t := range in.Types {
			b = append(b, byte(t))
		}
	case immMemArg:
		b = appendU32(appendU32(b, in.X), uint32(in.Imm))
	case immMemArgLane:
		b = append(appendU32(appendU32(b, in.X), uint32(in.Imm)), byte(in.Y))
	case immLane:
		b = append(b, byte(in.Y))
	case immZero:
		b = append(b, 0)
	case immMemoryInit:
		b = append(appendU32(b, in.X), 0)
	case immMemoryCopy:
		b = append(b, 0, 0)
	case immI32:
		b = appendSigned(b, int64(int32(in.Imm)))
	case immI64:
		b = appendSigned(b, int64(in.Imm))
	case immF32:
		b = binary.LittleEndian.AppendUint32(b, uint32(in.Imm))
	case immF64:
		b = binary.LittleEndian.AppendUint64(b, in.Imm)
	case immV128:
		b = binary.LittleEndian.AppendUint64(b, in.Imm)
		b = binary.LittleEndian.AppendUint64(b, in.Imm2)
	case immRefNull:
		b = append(b, byte(in.X))
	}
	return b
}

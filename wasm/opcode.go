package wasm

import "fmt"

// Opcode identifies an instruction. Most instructions have a one-byte
// opcode; the others have a prefix byte (0xFC for saturating conversions
// and bulk memory and table instructions, 0xFD for SIMD) followed by a
// sub-opcode, and their Opcode is prefix<<8 | sub-opcode.
type Opcode uint16

const (
	prefixMisc = 0xfc
	prefixSIMD = 0xfd
)

// immKind says which immediates follow an opcode in the binary format.
type immKind byte

const (
	immNone         immKind = iota
	immBlock                // block type
	immIndex                // one u32 index: function, local, global, table, label, segment
	immBrTable              // vec(label) label
	immCallIndirect         // type index, table index
	immSelectT              // vec(valtype)
	immMemArg               // align, offset
	immMemArgLane           // align, offset, lane
	immZero                 // one zero byte (memory index 0 of memory.size, grow, fill)
	immI32                  // s32
	immI64                  // s64
	immF32                  // 4 bytes
	immF64                  // 8 bytes
	immRefNull              // reference type
	immMemoryInit           // data index, zero byte
	immMemoryCopy           // two zero bytes
	immTableInit            // element index, table index
	immTableCopy            // destination and source table
	immV128                 // 16 bytes
	immLane                 // lane index byte
)

type opcodeInfo struct {
	op    Opcode
	name  string
	imm   immKind
	sig   string // "in:out", types as in parseSig; "" if typed by hand
	align uint32 // log2 of the natural alignment of memory instructions
	lanes uint32 // how many lanes a lane immediate may address

	params, results []ValType // sig, parsed
}

// opcodeIndex maps plain, 0xFC- and 0xFD-prefixed opcodes to their row
// of opcodeTable; nil marks an illegal opcode. Set once by init, read only
// after: every instruction decoded, validated or encoded looks here.
var opcodeIndex [3][256]*opcodeInfo

func init() {
	for i := range opcodeTable {
		info := &opcodeTable[i]
		p, sub := opcodePlane(info.op)
		opcodeIndex[p][sub] = info
		if info.sig != "" {
			info.params, info.results = parseSig(info.sig)
		}
	}
}

func opcodePlane(op Opcode) (int, byte) {
	switch op >> 8 {
	case prefixMisc:
		return 1, byte(op)
	case prefixSIMD:
		return 2, byte(op)
	}
	return 0, byte(op)
}

// parseSig parses a signature such as "ii:i", in which i, I, f, F and v
// stand for i32, i64, f32, f64 and v128.
func parseSig(sig string) (params, results []ValType) {
	types := map[byte]ValType{'i': I32, 'I': I64, 'f': F32, 'F': F64, 'v': V128}
	out := &params
	for i := 0; i < len(sig); i++ {
		if sig[i] == ':' {
			out = &results
			continue
		}
		t, ok := types[sig[i]]
		if !ok {
			panic("wasm: bad signature " + sig)
		}
		*out = append(*out, t)
	}
	return params, results
}

// lookup returns what the table says about op, or nil for an opcode
// that WebAssembly 2.0 does not have.
func (op Opcode) lookup() *opcodeInfo {
	switch op >> 8 {
	case 0:
		return opcodeIndex[0][byte(op)]
	case prefixMisc:
		return opcodeIndex[1][byte(op)]
	case prefixSIMD:
		return opcodeIndex[2][byte(op)]
	}
	return nil
}

// String returns the instruction's name in the text format.
func (op Opcode) String() string {
	if info := op.lookup(); info != nil {
		if op == OpSelectT {
			return "select"
		}
		return info.name
	}
	if op>>8 != 0 {
		return fmt.Sprintf("opcode 0x%02x 0x%02x", byte(op>>8), byte(op))
	}
	return fmt.Sprintf("opcode 0x%02x", byte(op))
}

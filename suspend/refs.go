package suspend

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gate-wasm/gate/wasm"
)

// A reference (funcref, externref) cannot be written into a portable
// snapshot: it names something of one instance. The transform therefore
// saves, for each reference live at a suspension point (a local, or a
// value on the operand stack), one i32: the result of ref.is_null, 1 for
// null. On rewinding it loads that i32, drops it and pushes ref.null. So
// a frame whose references are all null comes back exactly; one that
// held a non-null reference must not be snapshotted, and the host finds
// out where the references of a frame are with the module's Refs.

// RefsSection is the name of the custom section in which the transform
// records where the frames of a transformed module hold references (see
// Refs). It is in every transformed module; the transform drops a section
// of that name from its input.
const RefsSection = "gate_suspend.refs"

// refsVersion is the version of the encoding of the refs section.
const refsVersion = 1

// ErrNoRefs is wrapped by the error ReadRefs returns for a module without
// a refs section: not transformed, or by a transform that predates it.
var ErrNoRefs = errors.New("no " + RefsSection + " section")

// Refs tells, for a transformed module, which values of a frame that its
// functions save stand for references. The values of a frame are
// numbered in the order the frame saves them (docs/SUSPEND.md): the live
// operand values top first, then the locals.
type Refs struct {
	funcs map[uint32]funcRefs
}

// funcRefs are the reference slots of one function.
type funcRefs struct {
	// locals are the reference locals, as indices counted from the end
	// of the frame's values (0 is the last value saved): the locals are
	// saved last, the same at every point.
	locals []uint32
	// points maps a suspension point to the indices, from the start of
	// the frame's values, of its live values that are references.
	points map[uint32][]uint32
}

// Slots returns the indices, in a frame of n values saved by function fn
// (an index in the transformed module) at point, of the values that stand
// for references (each an i32 that is 1 if the reference was null, 0 if
// not), in increasing order. Indices that n does not reach are left out:
// the frame does not match the module, which restoring it will find.
func (r *Refs) Slots(fn, point uint32, n int) []int {
	fr, ok := r.funcs[fn]
	if !ok {
		return nil
	}
	var slots []int
	for _, i := range fr.points[point] {
		if int(i) < n {
			slots = append(slots, int(i))
		}
	}
	for j := len(fr.locals) - 1; j >= 0; j-- {
		if i := n - 1 - int(fr.locals[j]); i >= 0 {
			slots = append(slots, i)
		}
	}
	return slots
}

// Check returns an error if the frame of function fn at point, whose
// values (in the order saved) are values, held a reference that was not
// null: such a frame cannot go into a snapshot.
func (r *Refs) Check(fn, point uint32, values []uint64) error {
	for _, i := range r.Slots(fn, point, len(values)) {
		if uint32(values[i]) == 0 {
			return fmt.Errorf("the frame of function %d at suspension point %d holds a reference that is not null (its value %d): a snapshot cannot carry references", fn, point, i)
		}
	}
	return nil
}

// ReadRefs reads the refs section of m, a transformed module. Its content
// is not trusted: a section that does not decode is an error, and one
// that lies only makes the host accept or refuse frames of that module's
// own program wrongly.
func ReadRefs(m *wasm.Module) (*Refs, error) {
	var data []byte
	found := false
	for i := range m.Customs {
		if m.Customs[i].Name == RefsSection {
			if found {
				return nil, fmt.Errorf("two %s sections", RefsSection)
			}
			data, found = m.Customs[i].Data, true
		}
	}
	if !found {
		return nil, ErrNoRefs
	}
	r := refsReader{b: data}
	if v := r.u32(); r.err == nil && v != refsVersion {
		return nil, fmt.Errorf("%s: version %d, not %d", RefsSection, v, refsVersion)
	}
	refs := &Refs{funcs: make(map[uint32]funcRefs)}
	for n := r.count(); n > 0 && r.err == nil; n-- {
		fn := r.u32()
		fr := funcRefs{locals: r.list(), points: make(map[uint32][]uint32)}
		for np := r.count(); np > 0 && r.err == nil; np-- {
			k := r.u32()
			fr.points[k] = r.list()
		}
		if _, dup := refs.funcs[fn]; dup && r.err == nil {
			r.err = fmt.Errorf("function %d twice", fn)
		}
		refs.funcs[fn] = fr
	}
	if r.err == nil && r.off != len(r.b) {
		r.err = fmt.Errorf("%d bytes after the end", len(r.b)-r.off)
	}
	if r.err != nil {
		return nil, fmt.Errorf("%s: %w", RefsSection, r.err)
	}
	return refs, nil
}

// refsReader decodes the refs section: unsigned LEB128 numbers.
type refsReader struct {
	b   []byte
	off int
	err error
}

func (r *refsReader) u32() uint32 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 || v > 1<<32-1 {
		r.err = fmt.Errorf("bad number at offset %d", r.off)
		return 0
	}
	r.off += n
	return uint32(v)
}

// count reads a number of items, each at least one byte long.
func (r *refsReader) count() int {
	n := r.u32()
	if r.err == nil && int(n) > len(r.b)-r.off {
		r.err = fmt.Errorf("count %d at offset %d past the end", n, r.off)
		return 0
	}
	return int(n)
}

func (r *refsReader) list() []uint32 {
	n := r.count()
	if n == 0 {
		return nil
	}
	l := make([]uint32, 0, n)
	for range n {
		l = append(l, r.u32())
	}
	return l
}

// refsWriter accumulates the refs section as functions are instrumented.
type refsWriter struct {
	funcs int
	body  []byte
}

// add records the reference slots of function fn: its reference locals
// counted from the end of a frame, and for each point with reference
// values, the point followed by their indices.
func (w *refsWriter) add(fn uint32, locals []uint32, points []pointRefs) {
	if len(locals) == 0 && len(points) == 0 {
		return
	}
	w.funcs++
	b := binary.AppendUvarint(w.body, uint64(fn))
	b = appendList(b, locals)
	b = binary.AppendUvarint(b, uint64(len(points)))
	for _, p := range points {
		b = appendList(binary.AppendUvarint(b, uint64(p.point)), p.slots)
	}
	w.body = b
}

func (w *refsWriter) section() wasm.Custom {
	b := binary.AppendUvarint(nil, refsVersion)
	b = binary.AppendUvarint(b, uint64(w.funcs))
	return wasm.Custom{Name: RefsSection, Data: append(b, w.body...), After: wasm.SectionDataCount + 1}
}

func appendList(b []byte, l []uint32) []byte {
	b = binary.AppendUvarint(b, uint64(len(l)))
	for _, x := range l {
		b = binary.AppendUvarint(b, uint64(x))
	}
	return b
}

// pointRefs are the reference slots among the live values of a point.
type pointRefs struct {
	point uint32
	slots []uint32
}

// ChangesTables reports whether a function of m contains an instruction
// that changes a table at run time: table.set, table.grow, table.fill,
// table.copy, table.init or elem.drop. The transform adds none, so m may
// be the input of the transform or its output. The contents of such a
// module's tables are not in its code and data: a snapshot of it would
// lose them. (A table that the module imports or exports can also be
// changed from outside; the host knows whether it does that.)
func ChangesTables(m *wasm.Module) (bool, error) {
	for i := range m.Code {
		changes := false
		err := m.Code[i].Opcodes(func(op wasm.Opcode) {
			switch op {
			case wasm.OpTableSet, wasm.OpTableGrow, wasm.OpTableFill, wasm.OpTableCopy, wasm.OpTableInit, wasm.OpElemDrop:
				changes = true
			}
		})
		if err != nil {
			return false, fmt.Errorf("function %d: %w", m.NumImports(wasm.ExternFunc)+i, err)
		}
		if changes {
			return true, nil
		}
	}
	return false, nil
}

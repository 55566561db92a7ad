package wasm

import (
	"errors"
	"fmt"
	"math"
	"sync/atomic"
)

// Decode decodes a binary module. It checks that the module is
// well-formed, as the specification's binary format defines it, and no
// more: a well-formed module can still be invalid (see Validate). The
// Module keeps slices of binary (function bodies, data, custom
// sections), which must not change while the Module is used.
func Decode(binary []byte) (*Module, error) {
	return decode(binary, 0)
}

// decode is Decode with the function bodies checked on workers
// goroutines; 0 leaves the choice to bodyWorkers, by the size of the
// code section.
func decode(binary []byte, workers int) (*Module, error) {
	return decodeWith(binary, workers, DecodeOptions{})
}

// decodeWith is decode with the checks of opts.
func decodeWith(binary []byte, workers int, opts DecodeOptions) (*Module, error) {
	if err := checkHeader(binary); err != nil {
		return nil, err
	}
	// Count the custom sections first, to allocate them at once: a
	// module of many tiny ones must not cost a lot more than its size.
	customs, lastOrder, codeSize := 0, 0, 0
	for off := len(Magic) + len(Version); off < len(binary); {
		s, err := nextSection(binary, off, &lastOrder)
		if err != nil {
			return nil, err
		}
		switch s.ID {
		case SectionCustom:
			customs++
		case SectionCode:
			codeSize = len(s.Payload)
		}
		off = s.Offset + len(s.Payload)
	}
	if workers == 0 {
		workers = bodyWorkers(codeSize)
	}
	d := decoder{m: &Module{Customs: make([]Custom, 0, customs)}, workers: workers, lim: opts.Limits, imports: opts.Imports}
	if d.lim == nil {
		d.lim = &ModuleLimits{}
	}
	after, lastOrder := SectionCustom, 0
	for off := len(Magic) + len(Version); off < len(binary); {
		s, _ := nextSection(binary, off, &lastOrder)
		padded, err := d.section(s, after)
		if err != nil {
			return nil, err
		}
		d.m.recordOrigin(binary, s, padded)
		if s.ID != SectionCustom {
			after = s.ID
		}
		off = s.Offset + len(s.Payload)
	}
	if err := d.crossCheck(len(binary)); err != nil {
		return nil, err
	}
	if len(d.m.Customs) == 0 {
		d.m.Customs = nil
	}
	return d.m, nil
}

type decoder struct {
	m     *Module
	r     reader      // reused for every section
	instr instrReader // reused for every expression

	workers int // goroutines to check the function bodies on
	lim     *ModuleLimits
	imports func([]FuncType, []Import) error // see DecodeOptions

	hasFuncSection bool
	codeOff        int // offset of the code section, for errors
	dataOff        int
	usesData       bool // some body uses memory.init or data.drop
	usesDataOff    int
}

// section decodes one section into d.m. It reports whether the section
// had integers that Encode would write shorter.
func (d *decoder) section(s Section, after SectionID) (padded bool, err error) {
	d.r = reader{b: s.Payload, base: s.Offset}
	r, m := &d.r, d.m
	lim := d.lim
	start := r.off
	switch s.ID {
	case SectionCustom:
		name := r.name("custom section name")
		if r.err == nil {
			m.Customs = append(m.Customs, Custom{Name: name, Data: r.b[r.off:], After: after})
			r.off = len(r.b)
		}
	case SectionType:
		m.Types = readTypes(r, lim)
	case SectionImport:
		m.Imports = readImports(r, false)
		d.checkImportCounts(start)
		if r.err == nil && d.imports != nil {
			r.err = d.imports(m.Types, m.Imports)
		}
	case SectionFunction:
		d.hasFuncSection = true
		m.Funcs = readIndices(r, "function count", "type index")
		r.count(start, uint64(m.NumImports(ExternFunc))+uint64(len(m.Funcs)), "functions", lim.Functions)
	case SectionTable:
		n, c := r.vec("table count", 3)
		r.count(start, uint64(m.NumImports(ExternTable))+uint64(n), "tables", lim.Tables)
		m.Tables = make([]TableType, 0, c)
		for i := uint32(0); i < n && r.err == nil; i++ {
			off := r.off
			t := TableType{Elem: r.refType("table element type"), Limits: r.limits(false)}
			if r.err == nil && over(t.Limits.Min, lim.TableSize) {
				r.overLimit(off, "initial elements of a table", lim.TableSize, uint64(t.Limits.Min))
			}
			m.Tables = append(m.Tables, t)
		}
	case SectionMemory:
		n, c := r.vec("memory count", 2)
		m.Memories = make([]Limits, 0, c)
		for i := uint32(0); i < n && r.err == nil; i++ {
			m.Memories = append(m.Memories, r.limits(false))
		}
	case SectionGlobal:
		n, c := r.vec("global count", 3)
		r.count(start, uint64(m.NumImports(ExternGlobal))+uint64(n), "globals", lim.Globals)
		m.Globals = make([]Global, 0, c)
		for i := uint32(0); i < n && r.err == nil; i++ {
			t := r.globalType()
			m.Globals = append(m.Globals, Global{Type: t, Init: readExpr(r, &d.instr)})
		}
	case SectionExport:
		m.Exports = readExports(r)
		r.count(start, uint64(len(m.Exports)), "exports", lim.Exports)
	case SectionStart:
		m.Start, m.HasStart = r.u32("start function index"), true
	case SectionElement:
		n, c := r.vec("element segment count", 3)
		r.count(start, uint64(n), "element segments", lim.ElementSegments)
		m.Elements = make([]Element, 0, c)
		for i := uint32(0); i < n && r.err == nil; i++ {
			m.Elements = append(m.Elements, d.element(r))
		}
	case SectionDataCount:
		m.DataCount, m.HasDataCount = r.u32("data count"), true
		r.count(start, uint64(m.DataCount), "data segments", lim.DataSegments)
	case SectionCode:
		d.codeOff = s.Start
		n, c := r.vec("function body count", 2)
		r.count(start, uint64(m.NumImports(ExternFunc))+uint64(n), "functions", lim.Functions)
		m.Code = make([]Code, 0, c)
		if r.err == nil {
			d.codes(r, n)
		}
	case SectionData:
		d.dataOff = s.Start
		n, c := r.vec("data segment count", 2)
		r.count(start, uint64(n), "data segments", lim.DataSegments)
		m.Data = make([]Data, 0, c)
		for i := uint32(0); i < n && r.err == nil; i++ {
			m.Data = append(m.Data, d.data(r))
		}
	}
	r.end(s.ID)
	return r.padded, r.err
}

// crossCheck checks what the binary format says of sections together.
func (d *decoder) crossCheck(size int) error {
	m := d.m
	if len(m.Funcs) != len(m.Code) {
		off := d.codeOff
		if off == 0 {
			off = size
		}
		return &FormatError{off, fmt.Errorf("function and code section have inconsistent lengths: %d functions, %d bodies",
			len(m.Funcs), len(m.Code))}
	}
	if m.HasDataCount && uint64(m.DataCount) != uint64(len(m.Data)) {
		off := d.dataOff
		if off == 0 {
			off = size
		}
		return &FormatError{off, fmt.Errorf("data count and data section have inconsistent lengths: count %d, %d segments",
			m.DataCount, len(m.Data))}
	}
	// Like the specification's reference decoder, ask for the data count
	// only where there are segments: without any, an instruction that
	// names one is invalid rather than malformed.
	if d.usesData && !m.HasDataCount && len(m.Data) > 0 {
		return &FormatError{d.usesDataOff, errors.New("data count section required by memory.init or data.drop")}
	}
	return nil
}

func readTypes(r *reader, lim *ModuleLimits) []FuncType {
	n, c := r.vec("type count", 3)
	r.count(0, uint64(n), "types", lim.Types)
	types := make([]FuncType, 0, c)
	for i := uint32(0); i < n && r.err == nil; i++ {
		off := r.off
		if form := r.byte("function type form"); r.err == nil && form != 0x60 {
			r.failAt(r.off-1, fmt.Errorf("type %d: form 0x%02x is not a function type (0x60)", i, form))
		}
		params := readValTypes(r, "parameter")
		results := readValTypes(r, "result")
		if r.err == nil && over(len(params), lim.Params) {
			r.overLimit(off, "parameters of a function type", lim.Params, uint64(len(params)))
		}
		if r.err == nil && over(len(results), lim.Results) {
			r.overLimit(off, "results of a function type", lim.Results, uint64(len(results)))
		}
		types = append(types, FuncType{Params: params, Results: results})
	}
	return types
}

// checkImportCounts checks the imports against the limits on imports
// and on the functions, tables and globals they add to.
func (d *decoder) checkImportCounts(off int) {
	r, m, lim := &d.r, d.m, d.lim
	r.count(off, uint64(len(m.Imports)), "imports", lim.Imports)
	r.count(off, uint64(m.NumImports(ExternFunc)), "functions", lim.Functions)
	r.count(off, uint64(m.NumImports(ExternTable)), "tables", lim.Tables)
	r.count(off, uint64(m.NumImports(ExternGlobal)), "globals", lim.Globals)
	for _, imp := range m.Imports {
		if imp.Kind == ExternTable && r.err == nil && over(imp.Table.Limits.Min, lim.TableSize) {
			r.overLimit(off, "initial elements of a table", lim.TableSize, uint64(imp.Table.Limits.Min))
		}
	}
}

func readValTypes(r *reader, what string) []ValType {
	n, c := r.vec(what+" count", 1)
	if n == 0 {
		return nil
	}
	types := make([]ValType, 0, c)
	for i := uint32(0); i < n && r.err == nil; i++ {
		types = append(types, r.valType(what+" type"))
	}
	return types
}

func readIndices(r *reader, count, what string) []uint32 {
	n, c := r.vec(count, 1)
	indices := make([]uint32, 0, c)
	for i := uint32(0); i < n && r.err == nil; i++ {
		indices = append(indices, r.u32(what))
	}
	return indices
}

func readExports(r *reader) []Export {
	n, c := r.vec("export count", 3)
	exports := make([]Export, 0, c)
	for i := uint32(0); i < n && r.err == nil; i++ {
		e := Export{Name: r.name("export name")}
		kindOff := r.off
		e.Kind = ExternKind(r.byte("export kind"))
		if r.err == nil && e.Kind > ExternGlobal {
			r.failAt(kindOff, fmt.Errorf("export %d has unknown kind 0x%02x", i, byte(e.Kind)))
		}
		e.Index = r.u32("export index")
		exports = append(exports, e)
	}
	return exports
}

// element reads an element segment in any of its eight encodings. The
// flags' bit 0 marks a passive or declarative segment, bit 1 an explicit
// table index (active) or a declarative segment, and bit 2 initial
// values given as expressions rather than function indices.
func (d *decoder) element(r *reader) Element {
	off := r.off
	e := Element{Flags: r.u32("element segment flags"), Type: FuncRef}
	if r.err != nil {
		return e
	}
	if e.Flags > 7 {
		r.failAt(off, fmt.Errorf("malformed element segment flags %d", e.Flags))
		return e
	}
	switch {
	case e.Flags&1 == 0:
		e.Mode = Active
		if e.Flags&2 != 0 {
			e.Table = r.u32("element segment table index")
		}
		e.Offset = readExpr(r, &d.instr)
	case e.Flags&2 == 0:
		e.Mode = Passive
	default:
		e.Mode = Declarative
	}
	explicitType := e.Flags&3 != 0
	if e.Flags&4 == 0 {
		if explicitType {
			kindOff := r.off
			if kind := r.byte("element kind"); r.err == nil && kind != 0 {
				r.failAt(kindOff, fmt.Errorf("malformed element kind 0x%02x", kind))
			}
		}
		countOff := r.off
		e.Funcs = readIndices(r, "element count", "element function index")
		r.count(countOff, uint64(len(e.Funcs)), "elements of a segment", d.lim.Elements)
		return e
	}
	if explicitType {
		e.Type = r.refType("element reference type")
	}
	countOff := r.off
	n, c := r.vec("element count", 1)
	r.count(countOff, uint64(n), "elements of a segment", d.lim.Elements)
	e.Exprs = make([][]byte, 0, c)
	for i := uint32(0); i < n && r.err == nil; i++ {
		e.Exprs = append(e.Exprs, readExpr(r, &d.instr))
	}
	return e
}

func (d *decoder) data(r *reader) Data {
	off := r.off
	s := Data{Flags: r.u32("data segment flags")}
	if r.err != nil {
		return s
	}
	switch s.Flags {
	case 0, 2:
		if s.Flags == 2 {
			s.Memory = r.u32("data segment memory index")
		}
		s.Offset = readExpr(r, &d.instr)
	case 1:
		s.Mode = Passive
	default:
		r.failAt(off, fmt.Errorf("malformed data segment flags %d", s.Flags))
		return s
	}
	sizeOff := r.off
	n := r.u32("data segment size")
	if r.err == nil && uint64(n) > uint64(len(r.b)-r.off) {
		r.failAt(sizeOff, fmt.Errorf("data segment of %d bytes: %w", n, errTruncated))
	}
	s.Init = r.bytes(int(n), "data segment")
	return s
}

// codes reads the n entries of the code section: first the sizes and
// locals of all entries, in order, up to the first that is malformed;
// then it checks the instructions of the bodies before it, on d.workers
// goroutines (in order on the calling one if 1). The error is the one a
// reading of entry after entry would find first: that of the lowest
// failing body, or else that of the malformed entry.
func (d *decoder) codes(r *reader, n uint32) {
	m := d.m
	imported := m.NumImports(ExternFunc)
	for i := uint32(0); i < n && r.err == nil; i++ {
		m.Code = append(m.Code, d.codeEntry(r, imported+int(i)))
	}
	entryErr := r.err
	checked := len(m.Code)
	if entryErr != nil {
		checked-- // its body is not read
	}
	var dataOff atomic.Int64
	dataOff.Store(math.MaxInt64)
	r.err = lowestError(checked, d.workers, func(i int) int { return len(m.Code[i].Body) }, func() func(int) error {
		instr := instrReader{lim: d.lim}
		return func(i int) error {
			usesData, off, err := checkBody(&m.Code[i], &instr)
			if le, ok := err.(*LimitError); ok {
				le.Where = fmt.Sprintf("function %d", imported+i)
			}
			if usesData {
				// Bodies follow each other in the binary: the
				// lowest offset is that of the first body using
				// data, the one the data count error names.
				storeMin(&dataOff, int64(off))
			}
			return err
		}
	})
	if r.err == nil {
		r.err = entryErr
	}
	if off := dataOff.Load(); off != math.MaxInt64 {
		d.usesData, d.usesDataOff = true, int(off)
	}
}

// codeEntry reads the size and locals of an entry of the code section;
// the Code's Body is the rest of the entry, which checkBody checks.
func (d *decoder) codeEntry(r *reader, fn int) Code {
	sizeOff := r.off
	size := r.u32("function body size")
	if r.err == nil && over(size, d.lim.FunctionSize) {
		r.overLimit(sizeOff, "bytes of a function body", d.lim.FunctionSize, uint64(size))
		r.err.(*LimitError).Where = fmt.Sprintf("function %d", fn)
	}
	if r.err == nil && uint64(size) > uint64(len(r.b)-r.off) {
		r.failAt(sizeOff, fmt.Errorf("function body of %d bytes: %w", size, errTruncated))
	}
	if r.err != nil {
		return Code{}
	}
	entry := &reader{b: r.b[r.off : r.off+int(size)], base: r.base + r.off}
	r.off += int(size)
	c := Code{Locals: readLocals(entry)}
	if entry.err == nil && d.lim.Locals != 0 {
		// The parameters are locals too; an index past the types is
		// Validate's to refuse.
		params := 0
		if i := fn - d.m.NumImports(ExternFunc); i < len(d.m.Funcs) && int(d.m.Funcs[i]) < len(d.m.Types) {
			params = len(d.m.Types[d.m.Funcs[i]].Params)
		}
		if n := c.NumLocals() + uint64(params); over(n, d.lim.Locals) {
			entry.overLimit(0, "locals", d.lim.Locals, n)
			entry.err.(*LimitError).Where = fmt.Sprintf("function %d", fn)
		}
	}
	c.Offset = entry.base + entry.off
	// The body is kept as it is: only its locals matter to Encode.
	r.padded = r.padded || entry.padded
	c.Body = entry.b[entry.off:len(entry.b):len(entry.b)]
	r.err = entry.err
	return c
}

// checkBody checks the instructions of c.Body, which codeEntry read,
// with instr, and reports whether memory.init or data.drop is among them
// and the offset of the first.
func checkBody(c *Code, instr *instrReader) (usesData bool, dataOff int, err error) {
	r := &reader{b: c.Body, base: c.Offset}
	c.Body = readExpr(r, instr)
	if r.err == nil && r.off != len(r.b) {
		r.fail(fmt.Errorf("function body has %d bytes after its end", len(r.b)-r.off))
	}
	return instr.usesData, instr.dataOff, r.err
}

func readLocals(r *reader) []LocalDecl {
	n, c := r.vec("local declaration count", 2)
	if n == 0 {
		return nil
	}
	locals := make([]LocalDecl, 0, c)
	var total uint64
	for i := uint32(0); i < n && r.err == nil; i++ {
		off := r.off
		l := LocalDecl{Count: r.u32("local count"), Type: r.valType("local type")}
		if total += uint64(l.Count); total > math.MaxUint32 {
			r.failAt(off, fmt.Errorf("too many locals: %d", total))
		}
		locals = append(locals, l)
	}
	return locals
}

package wasm

import "fmt"

// TableCapError reports a module whose tables cannot fit under a cap on
// their elements.
type TableCapError struct {
	MinElements, CapElements uint64
}

func (e *TableCapError) Error() string {
	return fmt.Sprintf("module's tables need at least %d elements, more than the cap of %d", e.MinElements, e.CapElements)
}

// CapTables returns a copy of module whose defined tables may hold, all
// together, at most capElements elements: what their initial sizes leave
// of the cap is shared equally among them as their maximum, lowered to
// it or set where a table declares none. table.grow past a table's
// maximum then fails as the specification says, returning -1, in
// compiled code: a program cannot make the engine allocate tables of any
// size. A module whose tables' initial sizes exceed the cap is refused
// with a *TableCapError; imported tables are not counted (the caller
// provides them). A module without tables is returned as it is.
func CapTables(module []byte, capElements uint32) ([]byte, error) {
	sections, err := ReadSections(module)
	if err != nil {
		return nil, err
	}
	for _, s := range sections {
		if s.ID != SectionTable {
			continue
		}
		r := reader{b: s.Payload, base: s.Offset}
		n, c := r.vec("table count", 3)
		tables := make([]TableType, 0, c)
		var initial uint64
		for i := uint32(0); i < n && r.err == nil; i++ {
			t := TableType{Elem: r.refType("table element type"), Limits: r.limits(true)}
			initial += uint64(t.Limits.Min)
			tables = append(tables, t)
		}
		r.end(SectionTable)
		if r.err != nil {
			return nil, r.err
		}
		if len(tables) == 0 {
			return module, nil
		}
		if initial > uint64(capElements) {
			return nil, &TableCapError{MinElements: initial, CapElements: uint64(capElements)}
		}
		share := (uint64(capElements) - initial) / uint64(len(tables))
		payload := appendU32(nil, uint32(len(tables)))
		lowered := false
		for _, t := range tables {
			max := uint64(t.Limits.Min) + share
			if !t.Limits.HasMax || uint64(t.Limits.Max) > max {
				t.Limits.Max, t.Limits.HasMax = uint32(max), true
				lowered = true
			}
			payload = appendLimits(append(payload, byte(t.Elem)), t.Limits)
		}
		if !lowered {
			return module, nil
		}
		return replaceSection(module, s, payload), nil
	}
	return module, nil
}

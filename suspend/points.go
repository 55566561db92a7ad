package suspend

import (
	"fmt"

	"github.com/gate-wasm/gate/wasm"
)

// PointKind says what a suspension point is (docs/SUSPEND.md).
type PointKind uint8

const (
	// PointEntry is a function's entry check site.
	PointEntry PointKind = iota + 1
	// PointLoop is the check site at a loop's header.
	PointLoop
	// PointCall is a call of a function that may suspend: an
	// instrumented function or a blocking import.
	PointCall
	// PointIndirect is a call_indirect, whose callee may suspend.
	PointIndirect
)

// Point is one suspension point of a function.
type Point struct {
	Kind PointKind
	// Callee is the function a PointCall calls.
	Callee uint32
}

// Points finds the suspension points of a module's functions as the
// transform numbers them, from the code itself: in a module before the
// transform, and in one after it (whose calls of the transform's own
// imports are not points), the same points, the function indices of the
// second shifted by the imports the transform adds. A host resuming a
// snapshot uses it to check the points its frames name against the
// snapshot's code, rather than against a record in the snapshot, which
// whoever wrote the snapshot wrote too.
//
// It decodes only the functions asked about and those they call, once
// each. It is not safe for use by several goroutines at once.
type Points struct {
	m          *wasm.Module
	numImports uint32
	blocking   []bool // per imported function
	ours       []bool // per imported function: one of the transform's
	// transformed tells a module after the transform (one that imports
	// from gate_suspend) from one before.
	transformed bool
	// instrumented and points are what is known so far, by function
	// index.
	instrumented map[uint32]bool
	points       map[uint32][]Point
}

// NewPoints returns the Points of m, which must not change meanwhile.
func NewPoints(m *wasm.Module) *Points {
	p := &Points{m: m, instrumented: make(map[uint32]bool), points: make(map[uint32][]Point)}
	for _, im := range m.Imports {
		if im.Kind == wasm.ExternFunc {
			p.blocking = append(p.blocking, im.Module == "wasi_snapshot_preview1" && blockingImports[im.Name])
			p.ours = append(p.ours, im.Module == ImportModule)
			p.transformed = p.transformed || im.Module == ImportModule
		}
	}
	p.numImports = uint32(len(p.blocking))
	return p
}

// Of returns the suspension points of function fn (an index of the
// module, imports first): point k is Of(fn)[k-1]. An import, and a
// function the transform does not instrument, have none. It fails for
// an index that names no function and for code that does not decode.
func (p *Points) Of(fn uint32) ([]Point, error) {
	if points, ok := p.points[fn]; ok {
		return points, nil
	}
	code, err := p.code(fn)
	if err != nil || code == nil {
		return nil, err
	}
	instrumented, err := p.isInstrumented(fn)
	if err != nil || !instrumented {
		return nil, err
	}
	// As the transform numbers them: in live code only (dead code,
	// which it removes, has none), the entry first if the function
	// calls anything, then loops and calls that may suspend in the
	// order of the code. One pass, allocating nothing per instruction.
	var points []Point
	var live liveness
	calls := false
	// The transform's code issues each call site's call twice, one
	// after the other: once in the arm that runs normally and once in
	// the arm that rewinds the callee. The second is not a point.
	var copied wasm.Instr
	hasCopied := false
	call := func(in *wasm.Instr, pt Point) {
		if p.transformed && hasCopied && copied.Op == in.Op && copied.X == in.X && copied.Y == in.Y {
			hasCopied = false
			return
		}
		points = append(points, pt)
		copied, hasCopied = wasm.Instr{Op: in.Op, X: in.X, Y: in.Y}, true
	}
	var failed error
	err = code.Each(func(in *wasm.Instr) {
		if failed != nil || !live.next(in.Op) {
			return
		}
		if in.Op == wasm.OpCallIndirect || in.Op == wasm.OpCall && !p.own(in.X) {
			calls = true
		}
		switch in.Op {
		case wasm.OpLoop:
			points = append(points, Point{Kind: PointLoop})
			hasCopied = false
		case wasm.OpCallIndirect:
			call(in, Point{Kind: PointIndirect})
		case wasm.OpCall:
			may, err := p.maySuspend(in.X)
			if err != nil {
				failed = err
				return
			}
			if may {
				call(in, Point{Kind: PointCall, Callee: in.X})
			}
		}
	})
	if err == nil {
		err = failed
	} else {
		err = fmt.Errorf("function %d: %w", fn, err)
	}
	if err != nil {
		return nil, err
	}
	if calls {
		points = append([]Point{{Kind: PointEntry}}, points...)
	}
	p.points[fn] = points
	return points, nil
}

// own reports whether fn is one of the transform's imports.
func (p *Points) own(fn uint32) bool { return fn < p.numImports && p.ours[fn] }

// code returns the code of fn, nil for an import.
func (p *Points) code(fn uint32) (*wasm.Code, error) {
	if fn < p.numImports {
		return nil, nil
	}
	if i := uint64(fn - p.numImports); i < uint64(len(p.m.Code)) {
		return &p.m.Code[i], nil
	}
	return nil, fmt.Errorf("no function %d: the module has %d", fn, uint64(p.numImports)+uint64(len(p.m.Code)))
}

// maySuspend reports whether a call of fn is a suspension point.
func (p *Points) maySuspend(fn uint32) (bool, error) {
	if fn < p.numImports {
		return p.blocking[fn], nil
	}
	return p.isInstrumented(fn)
}

// isInstrumented reports whether the transform instruments fn: whether
// its live code has a loop or a call. (A call of the transform's own
// imports is only in code it instrumented.)
func (p *Points) isInstrumented(fn uint32) (bool, error) {
	if v, ok := p.instrumented[fn]; ok {
		return v, nil
	}
	code, err := p.code(fn)
	if err != nil || code == nil {
		return false, err
	}
	var live liveness
	instrumented := false
	err = code.Opcodes(func(op wasm.Opcode) {
		if live.next(op) && (op == wasm.OpLoop || op == wasm.OpCall || op == wasm.OpCallIndirect) {
			instrumented = true
		}
	})
	if err != nil {
		return false, fmt.Errorf("function %d: %w", fn, err)
	}
	p.instrumented[fn] = instrumented
	return instrumented, nil
}

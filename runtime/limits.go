package runtime

import (
	"fmt"

	"github.com/gate-wasm/gate/suspend"
	"github.com/gate-wasm/gate/wasm"
)

// SuspendableLimits bound the functions of a suspendable module, as the
// transform leaves them, beyond what the module limits bound. wazero's
// optimizing compiler takes time that grows faster than linearly in a
// function's suspension points and in its locals once the transform has
// added its unwind and rewind paths (on the project's 2-core machine,
// 1,000 locals × 1,000 call sites: 4 s and 670 MB; 50 locals × 5,000
// call sites: 12 s; 5,000 locals × 20 loops: 3 s; 50,000 locals × 5,000
// loops: past 40 s and 4 GiB), while the same functions compile in
// milliseconds untransformed. The defaults leave real programs far
// inside them (Go: at most 656 points, 43 locals, 5,891 locals ×
// points in a function after the transform) and refuse those shapes
// in milliseconds, before anything is compiled. The transform adds
// about 128 bytes of code per point (Go programs: 27,163 points in 4.1
// MiB, 60,933 in 10.4 MiB), so the points of a module bound what the
// transform adds to it. A zero field means no limit.
type SuspendableLimits struct {
	ModulePoints      uint32 // suspension points of all functions together
	Points            uint32 // suspension points of one function
	Locals            uint32 // locals of one function after the transform, its parameters included
	LocalsTimesPoints uint64 // their product, for one function
}

// DefaultSuspendableLimits are the limits CompileSuspendable and Resume
// apply by default.
func DefaultSuspendableLimits() SuspendableLimits {
	return SuspendableLimits{ModulePoints: 1 << 20, Points: 4_096, Locals: 4_096, LocalsTimesPoints: 1 << 18}
}

// pointCounts returns the number of suspension points of each function
// m defines, by its index in m.Code, counted in the code (suspend.Points,
// in a program or in a transformed module alike), so that a snapshot's
// say nothing the code does not.
func pointCounts(m *wasm.Module) ([]uint64, error) {
	points := suspend.NewPoints(m)
	imported := uint32(m.NumImports(wasm.ExternFunc))
	counts := make([]uint64, len(m.Code))
	for i := range m.Code {
		p, err := points.Of(imported + uint32(i))
		if err != nil {
			return nil, &ModuleError{Reason: "invalid module: " + err.Error(), Err: err}
		}
		counts[i] = uint64(len(p))
	}
	return counts, nil
}

// checkSuspendable checks the functions of t, with points[i] the
// suspension points of t.Code[i], against lim: a program's before the
// transform, to refuse it without transforming it, and after, with the
// points counted before (the transform keeps them and adds locals); a
// snapshot's.
func checkSuspendable(t *wasm.Module, points []uint64, lim SuspendableLimits) error {
	var added uint32 // the transform's imports, before the program's
	for _, im := range t.Imports {
		if im.Kind == wasm.ExternFunc && im.Module == suspend.ImportModule {
			added++
		}
	}
	// Function indices as the program numbers them: the transform's
	// imports come first.
	first := uint32(t.NumImports(wasm.ExternFunc)) - added
	var total uint64
	for i, n := range points {
		locals := t.Code[i].NumLocals()
		if int(t.Funcs[i]) < len(t.Types) {
			locals += uint64(len(t.Types[t.Funcs[i]].Params))
		}
		over := func(what string, value, max uint64) error {
			return &ModuleError{Reason: fmt.Sprintf("suspendable module over a limit: function %d: %d %s, more than the limit of %d",
				first+uint32(i), value, what, max)}
		}
		total += n
		if lim.ModulePoints != 0 && total > uint64(lim.ModulePoints) {
			return &ModuleError{Reason: fmt.Sprintf("suspendable module over a limit: more than %d suspension points in all functions together", lim.ModulePoints)}
		}
		switch {
		case lim.Points != 0 && n > uint64(lim.Points):
			return over("suspension points", n, uint64(lim.Points))
		case lim.Locals != 0 && locals > uint64(lim.Locals):
			return over("locals", locals, uint64(lim.Locals))
		case lim.LocalsTimesPoints != 0 && locals*n > lim.LocalsTimesPoints:
			return over("locals × suspension points", locals*n, lim.LocalsTimesPoints)
		}
	}
	return nil
}

// snapshotLimits are the module limits for the module of a snapshot:
// those of programs, lim, loosened by what the transform adds to a
// program within them, so that every program CompileSuspendable
// accepts can be resumed. It adds its imports (11), its globals (state,
// fuel, and scratch globals, at most one per local a loop's check site
// passes through them) and their exports, block types, locals (for
// spills and shadows, which SuspendableLimits bound), a few levels of
// nesting around the program's (its wrappers: loops are not added),
// and code at every suspension point (up to about 30 times a body of
// nothing but calls). The snapshot's size is bounded by MaxSnapshotSize.
func snapshotLimits(lim wasm.ModuleLimits) wasm.ModuleLimits {
	add := func(v *uint32, n uint64) {
		if *v != 0 {
			*v = uint32(min(uint64(*v)+n, 1<<32-1))
		}
	}
	l := lim
	l.ModuleSize = 0
	add(&l.Types, uint64(lim.Types)+64)
	add(&l.Imports, 64)
	add(&l.Functions, 64)
	add(&l.Globals, uint64(lim.Locals)+64)
	add(&l.Exports, uint64(lim.Globals)+64)
	add(&l.FunctionSize, 31*uint64(lim.FunctionSize))
	add(&l.Locals, uint64(lim.Locals))
	add(&l.BlockDepth, 64)
	return l
}

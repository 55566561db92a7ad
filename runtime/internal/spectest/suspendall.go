package spectest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/gate-wasm/gate/runtime/internal/frames"
	"github.com/gate-wasm/gate/runtime/internal/globals"
	"github.com/gate-wasm/gate/runtime/internal/snapshot"
	"github.com/gate-wasm/gate/suspend"
	"github.com/gate-wasm/gate/wasm"
)

// The suspend-everywhere mode (Options.Suspend, docs/CONFORMANCE.md): every
// invoke action on a transformed module is run as usual, with the fuel at
// 1 so that every check site calls gate_suspend.check, which counts them
// (C). Then, from the state the instance had before the action, the action
// is run again once per planned N (1..min(C, MaxPerAction), and Random more
// Ns drawn beyond that), suspended at the Nth check: its frames unwind into
// the host (frames.Stack), snapshot.Build writes the snapshot,
// snapshot.Parse reads it back, and the snapshot's module is instantiated
// in a fresh wazero runtime and called again to rewind (frames.Rewinder).
// Its results or trap, memory and mutable globals must be those of the
// uninterrupted run.

// SuspendOptions configure the suspend-everywhere mode.
type SuspendOptions struct {
	// MaxPerAction is the largest N of the consecutive suspensions
	// 1..N per action.
	MaxPerAction int
	// Random is how many suspensions per action, at checks drawn at
	// random beyond MaxPerAction, are made in addition (all of them if
	// there are no more).
	Random int
	// SameFrames, if positive, is how many suspensions of a module
	// whose unwound frames have the same functions and points (the same
	// code paths of unwinding and rewinding, with other values) are
	// resumed; later ones are unwound, counted as SkipSameFrames, and
	// not resumed, because compiling each snapshot is what costs. The
	// random ones are always resumed.
	SameFrames int
	// Budget, if positive, is how many suspensions are resumed per
	// file at most; later ones are unwound, counted as SkipBudget, and
	// not resumed.
	Budget int
	// SkipExhaustion leaves out the actions of assert_exhaustion
	// commands (counted in SuspendCounts.ExhaustionSkipped): each of
	// their runs grows the stack until it overflows, which under the
	// race detector costs seconds.
	SkipExhaustion bool
	// Seed seeds the random draws; each action draws from a generator
	// seeded with Seed and its position, so that a run is reproducible
	// whatever the order in which files run.
	Seed uint64
}

// Reasons for which a suspension is not made or not compared. Each is
// explained in docs/CONFORMANCE.md.
const (
	SkipForeignImport  = "the module imports from a module other than spectest: that module's instance, state and frames are not in the snapshot"
	SkipImportedMemory = "the module imports a memory: a snapshot carries only a memory the module defines"
	SkipImportedTable  = "the module imports a table: other modules may have changed it, which a snapshot cannot carry"
	SkipExportedTable  = "the module exports a table: other modules' element segments may have changed it, which a snapshot cannot carry"
	SkipImportedGlobal = "the module imports a mutable global: its value belongs to another instance"
	SkipRefGlobal      = "the module defines a mutable reference global, which a snapshot cannot carry"
	SkipTables         = "the module changes tables or drops segments at run time (table.set/grow/fill/copy/init, elem.drop, data.drop), which a snapshot cannot carry"
	SkipRef            = "a frame may hold a reference value, which the transform does not save (it rewinds as null)"
	SkipTooDeep        = "the stack at the suspension has more frames than a snapshot may hold (frames.MaxFrames)"
	SkipBudget         = "the file's budget of resumed suspensions (SuspendOptions.Budget) was spent (cost cap)"
	SkipSameFrames     = "frames with the same functions and points were already resumed SameFrames times in this module (cost cap)"
)

// SuspendCounts count what the suspend-everywhere mode did.
type SuspendCounts struct {
	// Actions is the number of invoke actions on transformed modules;
	// Reaching those that reached at least one check, and Checks the
	// checks they reached in their uninterrupted runs.
	Actions, Reaching int
	Checks            int64
	// Planned is the number of suspensions planned: for each action,
	// min(C, MaxPerAction) and the random ones.
	Planned int
	// Done is the number of suspensions made, unwound, written,
	// resumed in a fresh runtime and compared; Random of them at a
	// random check. Equal is how many resumed runs matched the
	// uninterrupted one; Failed how many did not, or could not be made.
	Done, Random, Equal, Failed int
	// Capped is the number of actions that reached more checks than
	// were planned, and NotTried the checks of those at which no
	// suspension was made.
	Capped   int
	NotTried int64
	// Skipped counts the planned suspensions not made (or, for
	// SkipRef, made but not compared), by reason.
	Skipped map[string]int
	// ExhaustionSkipped is the number of actions of assert_exhaustion
	// commands left out (SuspendOptions.SkipExhaustion).
	ExhaustionSkipped int
}

func (c *SuspendCounts) add(o *SuspendCounts) {
	c.Actions += o.Actions
	c.Reaching += o.Reaching
	c.Checks += o.Checks
	c.Planned += o.Planned
	c.Done += o.Done
	c.Random += o.Random
	c.Equal += o.Equal
	c.Failed += o.Failed
	c.Capped += o.Capped
	c.NotTried += o.NotTried
	c.ExhaustionSkipped += o.ExhaustionSkipped
	for k, v := range o.Skipped {
		if c.Skipped == nil {
			c.Skipped = map[string]int{}
		}
		c.Skipped[k] += v
	}
}

func (c *SuspendCounts) skip(reason string, n int) {
	if n == 0 {
		return
	}
	if c.Skipped == nil {
		c.Skipped = map[string]int{}
	}
	c.Skipped[reason] += n
}

// SkippedTotal is the number of planned suspensions skipped.
func (c *SuspendCounts) SkippedTotal() int {
	n := 0
	for _, v := range c.Skipped {
		n += v
	}
	return n
}

// suspender is the host side of one call in the suspend-everywhere mode,
// carried by the call's context: it counts checks, requests the
// suspension, keeps the unwound frames, and hands them back while the
// snapshot's module rewinds.
type suspender struct {
	checks    int64
	suspendAt int64            // suspend at this check, if > 0
	resumed   bool             // a run resumed from a snapshot
	saveErr   error            // the first error of save_* or save_frame
	stack     frames.Stack     // the frames unwound
	rewinder  *frames.Rewinder // while rewinding
}

type suspenderKey struct{}

func withSuspender(ctx context.Context, sp *suspender) context.Context {
	return context.WithValue(ctx, suspenderKey{}, sp)
}

func suspenderOf(ctx context.Context) *suspender {
	sp, _ := ctx.Value(suspenderKey{}).(*suspender)
	return sp
}

// check is gate_suspend.check: the first check after a rewind ends it
// (every frame and value must have been restored, as the runtime checks);
// then the fuel is set to 1, so that the next check site calls check
// again, and at the planned check the state becomes unwinding.
func (sp *suspender) check(m api.Module) {
	if sp.rewinder != nil {
		err := sp.rewinder.Done()
		sp.rewinder = nil
		if err != nil {
			panic(fmt.Errorf("%s.check after the rewind: %w", suspendModule, err))
		}
	}
	fuel, ok1 := m.ExportedGlobal(fuelExport).(api.MutableGlobal)
	state, ok2 := m.ExportedGlobal(stateExport).(api.MutableGlobal)
	if !ok1 || !ok2 {
		panic(fmt.Errorf("%s.check: the calling module does not export the mutable globals %s and %s", suspendModule, fuelExport, stateExport))
	}
	sp.checks++
	switch {
	case sp.resumed:
		// The rest of a resumed run is not counted: a spec action
		// may pass a million check sites, and a call into the host at
		// each would make the test slow.
		fuel.Set(api.EncodeI32(Fuel))
	case sp.checks == sp.suspendAt:
		state.Set(api.EncodeI32(suspend.StateUnwinding))
		fuel.Set(api.EncodeI32(Fuel))
	case sp.suspendAt == 0 || sp.checks < sp.suspendAt:
		fuel.Set(api.EncodeI32(1))
	}
}

func (sp *suspender) save(t frames.Type, stack []uint64) error {
	if sp.suspendAt == 0 || sp.checks < sp.suspendAt {
		return errors.New("called, but no suspension was requested")
	}
	return sp.saved(sp.stack.Save(t, stack[0]))
}

func (sp *suspender) saveFrame(stack []uint64) error {
	if sp.suspendAt == 0 || sp.checks < sp.suspendAt {
		return errors.New("called, but no suspension was requested")
	}
	return sp.saved(sp.stack.SaveFrame(uint32(stack[0]), uint32(stack[1])))
}

// saved keeps the first error of saving, which the harness tells apart
// (frames.ErrTooLarge) from the message wazero makes of it.
func (sp *suspender) saved(err error) error {
	if err != nil && sp.saveErr == nil {
		sp.saveErr = err
	}
	return err
}

func (sp *suspender) restoreFrame(stack []uint64) error {
	if sp.rewinder == nil {
		return errors.New("called while not rewinding")
	}
	point, err := sp.rewinder.RestoreFrame(uint32(stack[0]))
	stack[0] = uint64(point)
	return err
}

func (sp *suspender) load(t frames.Type, stack []uint64) error {
	if sp.rewinder == nil {
		return errors.New("called while not rewinding")
	}
	v, err := sp.rewinder.Load(t)
	stack[0] = v
	return err
}

// globalExportPrefix names the exports through which the harness reads
// a module's mutable globals, as the runtime does (runtime/suspend.go).
const globalExportPrefix = suspend.ImportModule + ".global."

// suspendable is what the suspend-everywhere mode knows of a transformed
// module.
type suspendable struct {
	module *wasm.Module // transformed, mutable globals exported
	hash   [sha256.Size]byte
	// skip, if not empty, is why no suspension of the module's actions
	// is made.
	skip string
	// globals are the indices of the mutable globals the module defines;
	// fuel is that of the transform's fuel global. v128 holds those
	// of them that are v128s: the harness reads those through the
	// accessors of package globals, which it adds to every module it
	// compiles (not to module, from which snapshots are made).
	globals []uint32
	fuel    uint32
	v128    map[uint32]bool
	// refs caches, per function index, whether a frame of the function
	// may hold a reference value.
	refs map[uint32]bool
	// leaves caches, per function index, whether a function certainly
	// reaches no check site (see leaf).
	leaves map[uint32]bool
	// resumed counts the suspensions resumed, by the functions and
	// points of their frames (see SuspendOptions.SameFrames).
	resumed map[string]int
}

// prepare makes the transformed module suspendable by the harness, as
// runtime.CompileSuspendable does: every mutable global is exported as
// gate_suspend.global.<index>. A module without a memory gets an empty one
// that it cannot use (no memory instruction can be valid in it), because a
// snapshot holds exactly one memory. It returns the module's new binary
// and what the mode needs to know of it.
func prepare(original, transformed []byte) ([]byte, *suspendable, error) {
	m, err := wasm.Decode(transformed)
	if err != nil {
		return nil, nil, fmt.Errorf("decoding the transform's output: %w", err)
	}
	sus := &suspendable{module: m, hash: sha256.Sum256(original), refs: map[uint32]bool{}, v128: map[uint32]bool{}, leaves: map[uint32]bool{}, resumed: map[string]int{}}
	for _, im := range m.Imports {
		if sus.skip != "" || im.Module == suspend.ImportModule {
			continue
		}
		switch {
		case im.Module != "spectest":
			sus.skip = SkipForeignImport
		case im.Kind == wasm.ExternMemory:
			sus.skip = SkipImportedMemory
		case im.Kind == wasm.ExternTable:
			sus.skip = SkipImportedTable
		case im.Kind == wasm.ExternGlobal && im.Global.Mutable:
			sus.skip = SkipImportedGlobal
		}
	}
	if sus.skip == "" && slices.ContainsFunc(m.Exports, func(e wasm.Export) bool { return e.Kind == wasm.ExternTable }) {
		sus.skip = SkipExportedTable
	}
	if len(m.Memories) == 0 && m.NumImports(wasm.ExternMemory) == 0 {
		m.Memories = append(m.Memories, wasm.Limits{})
	}
	exported := map[string]bool{}
	for _, e := range m.Exports {
		exported[e.Name] = true
	}
	fuel, ok := exportIndex(m, fuelExport, wasm.ExternGlobal)
	if !ok {
		return nil, nil, fmt.Errorf("the transform's output exports no global %s", fuelExport)
	}
	imported := uint32(m.NumImports(wasm.ExternGlobal))
	for _, index := range globals.Host(m) { // scratch globals: not in a snapshot
		g := m.Globals[index-imported]
		switch {
		case sus.skip != "":
		case g.Type.Type.IsRef():
			sus.skip = SkipRefGlobal
		}
		if g.Type.Type == wasm.V128 {
			sus.v128[index] = true
		}
		sus.globals = append(sus.globals, index)
		name := globalExportPrefix + strconv.Itoa(int(index))
		if exported[name] {
			return nil, nil, fmt.Errorf("the module already exports %s", name)
		}
		m.Exports = append(m.Exports, wasm.Export{Name: name, Kind: wasm.ExternGlobal, Index: index})
	}
	sus.fuel = fuel
	if sus.skip == "" {
		changes, err := changesTables(m)
		if err != nil {
			return nil, nil, err
		}
		if changes {
			sus.skip = SkipTables
		}
	}
	compiled, err := globals.AddV128Accessors(m, sus.globals)
	if err != nil {
		return nil, nil, err
	}
	return wasm.Encode(compiled), sus, nil
}

// withAccessors returns bin, a module made from sus.module (a snapshot of
// it), with the accessors of its mutable v128 globals added, as the
// runtime adds them to the resume module it compiles; bin itself if the
// module has no mutable v128 global.
func (sus *suspendable) withAccessors(bin []byte) ([]byte, error) {
	if len(sus.v128) == 0 {
		return bin, nil
	}
	m, err := wasm.Decode(bin)
	if err != nil {
		return nil, fmt.Errorf("decoding the snapshot: %w", err)
	}
	withAcc, err := globals.AddV128Accessors(m, sus.globals)
	if err != nil {
		return nil, err
	}
	return wasm.Encode(withAcc), nil
}

func exportIndex(m *wasm.Module, name string, kind wasm.ExternKind) (uint32, bool) {
	for _, e := range m.Exports {
		if e.Name == name && e.Kind == kind {
			return e.Index, true
		}
	}
	return 0, false
}

// changesTables reports whether any function of m has an instruction that
// changes a table or drops a segment: state a snapshot does not carry
// (docs/SNAPSHOT.md, Limits).
func changesTables(m *wasm.Module) (bool, error) {
	var instrs []wasm.Instr
	for i := range m.Code {
		var err error
		instrs, err = m.Code[i].AppendInstructions(instrs[:0])
		if err != nil {
			return false, fmt.Errorf("function %d: %w", i, err)
		}
		for _, in := range instrs {
			switch in.Op {
			case wasm.OpTableSet, wasm.OpTableGrow, wasm.OpTableFill, wasm.OpTableCopy, wasm.OpTableInit,
				wasm.OpElemDrop, wasm.OpDataDrop:
				return true, nil
			}
		}
	}
	return false, nil
}

// holdsRefs reports whether a frame of function fn (an index of the
// transformed module) may hold a reference value: the function has a
// parameter or local of a reference type (spilled values are locals too),
// or one is on the operand stack at a call or a loop header. It errs on
// the side of yes.
func (sus *suspendable) holdsRefs(fn uint32) (bool, error) {
	if r, ok := sus.refs[fn]; ok {
		return r, nil
	}
	m := sus.module
	imported := uint32(m.NumImports(wasm.ExternFunc))
	if fn < imported || fn-imported >= uint32(len(m.Code)) {
		return false, fmt.Errorf("frame of function %d, which has no body", fn)
	}
	i := fn - imported
	ft := m.Types[m.Funcs[i]]
	r := slices.ContainsFunc(ft.Params, wasm.ValType.IsRef)
	for _, l := range m.Code[i].Locals {
		r = r || l.Type.IsRef()
	}
	if !r {
		err := wasm.FuncStack(m, fn, func(_ int, in wasm.Instr, stack []wasm.ValType, _ bool) {
			switch in.Op {
			case wasm.OpCall, wasm.OpCallIndirect, wasm.OpLoop:
				r = r || slices.ContainsFunc(stack, wasm.ValType.IsRef)
			}
		})
		if err != nil {
			return false, fmt.Errorf("function %d: %w", fn, err)
		}
	}
	sus.refs[fn] = r
	return r, nil
}

// leaf reports whether the exported function name certainly reaches no
// check site: it is defined by the module and, as transformed, calls
// nothing and has no loop. (Check sites are at the entries of functions
// that call, and at loop headers; an instrumented function calls check.)
// Most actions of the suite are such, and need no suspension, nor the
// copies of memory that one needs.
func (sus *suspendable) leaf(name string) (bool, error) {
	fn, ok := exportIndex(sus.module, name, wasm.ExternFunc)
	if !ok {
		return false, nil
	}
	if l, ok := sus.leaves[fn]; ok {
		return l, nil
	}
	m := sus.module
	imported := uint32(m.NumImports(wasm.ExternFunc))
	if fn < imported || fn-imported >= uint32(len(m.Code)) {
		return false, nil
	}
	instrs, err := m.Code[fn-imported].Instructions()
	if err != nil {
		return false, fmt.Errorf("function %d: %w", fn, err)
	}
	l := !slices.ContainsFunc(instrs, func(in wasm.Instr) bool {
		return in.Op == wasm.OpCall || in.Op == wasm.OpCallIndirect || in.Op == wasm.OpLoop
	})
	sus.leaves[fn] = l
	return l, nil
}

// state is the state of an instance that a snapshot carries, or that the
// harness compares: its memory and its mutable globals.
type state struct {
	memory  []byte
	globals map[uint32][2]uint64
}

// stateOf reads an instance's memory and mutable globals.
func (sus *suspendable) stateOf(mod api.Module) (state, error) {
	st := state{globals: map[uint32][2]uint64{}}
	if mem := mod.Memory(); mem != nil {
		b, ok := mem.Read(0, mem.Size())
		if !ok {
			return st, errors.New("reading the memory")
		}
		st.memory = slices.Clone(b)
	}
	for _, index := range sus.globals {
		g := mod.ExportedGlobal(globalExportPrefix + strconv.Itoa(int(index)))
		if g == nil {
			return st, fmt.Errorf("global %d is not exported", index)
		}
		if !sus.v128[index] {
			st.globals[index] = [2]uint64{g.Get()}
			continue
		}
		// wazero's api.Global reads 64 bits of a v128: the accessor
		// returns both halves, low first.
		name := globals.GetName(index)
		get := mod.ExportedFunction(name)
		if get == nil {
			return st, fmt.Errorf("no exported function %s", name)
		}
		v, err := get.Call(context.Background())
		if err != nil || len(v) != 2 {
			return st, fmt.Errorf("%s: %d results, %v", name, len(v), err)
		}
		st.globals[index] = [2]uint64{v[0], v[1]}
	}
	return st, nil
}

// diff says how b differs from a (the uninterrupted run's state), or
// returns "". The fuel global differs by design.
func (sus *suspendable) diff(a, b state) string {
	if len(a.memory) != len(b.memory) {
		return fmt.Sprintf("memory of %d bytes, want %d", len(b.memory), len(a.memory))
	}
	if !bytes.Equal(a.memory, b.memory) {
		for i := range a.memory {
			if a.memory[i] != b.memory[i] {
				return fmt.Sprintf("memory byte %d is %#x, want %#x", i, b.memory[i], a.memory[i])
			}
		}
	}
	for _, index := range sus.globals {
		if index != sus.fuel && a.globals[index] != b.globals[index] {
			return fmt.Sprintf("global %d is %#x, want %#x (v128: low, high)", index, b.globals[index], a.globals[index])
		}
	}
	return ""
}

// run is the outcome of a call: results and error, state after it, and
// the checks it reached.
type run struct {
	results []uint64
	err     error
	state   state
	checks  int64
}

// diffRuns says how got differs from want (the uninterrupted run), or
// returns "". After a stack overflow only the trap is compared: how deep
// the stack gets before it overflows, and so what the program wrote on the
// way, is the engine's.
func (sus *suspendable) diffRuns(types []string, want, got *run) string {
	switch {
	case (want.err == nil) != (got.err == nil):
		return fmt.Sprintf("error %v, want %v", errLine(got.err), errLine(want.err))
	case want.err != nil && firstLine(want.err) != firstLine(got.err):
		return fmt.Sprintf("trapped with %q, want %q", firstLine(got.err), firstLine(want.err))
	case want.err != nil && isExhaustion(want.err):
		return ""
	}
	if want.err == nil {
		if len(want.results) != len(got.results) {
			return fmt.Sprintf("%d results, want %d", len(got.results), len(want.results))
		}
		k := 0
		for _, t := range types {
			for w := range words(t) {
				a, b := want.results[k+w], got.results[k+w]
				switch t {
				case "i32", "f32":
					a, b = uint64(uint32(a)), uint64(uint32(b))
				case "funcref":
					// A function reference is an address in the
					// instance: only its nullness can be compared.
					a, b = min(a, 1), min(b, 1)
				}
				if a != b {
					return fmt.Sprintf("results %s, want %s", formatResults(types, got.results), formatResults(types, want.results))
				}
			}
			k += words(t)
		}
	}
	return sus.diff(want.state, got.state)
}

func errLine(err error) string {
	if err == nil {
		return "none"
	}
	return strconv.Quote(firstLine(err))
}

func isExhaustion(err error) bool { return trapMatches("call stack exhausted", err) }

// call calls an export of mod with a suspender and returns what happened.
func (sus *suspendable) call(ctx context.Context, mod api.Module, field string, args []uint64, sp *suspender) (*run, error) {
	fn := mod.ExportedFunction(field)
	if fn == nil {
		return nil, fmt.Errorf("no exported function %q", field)
	}
	results, err := fn.Call(withSuspender(ctx, sp), args...)
	st, serr := sus.stateOf(mod)
	if serr != nil {
		return nil, serr
	}
	return &run{results: slices.Clone(results), err: err, state: st, checks: sp.checks}, nil
}

// setGlobal sets an exported mutable i32 global of mod.
func setGlobal(mod api.Module, name string, v int32) error {
	g, ok := mod.ExportedGlobal(name).(api.MutableGlobal)
	if !ok {
		return fmt.Errorf("no exported mutable global %s", name)
	}
	g.Set(api.EncodeI32(v))
	return nil
}

// plan returns the checks at which an action that reached c checks is
// suspended: 1..min(c, MaxPerAction), then Random more drawn beyond, and
// how many of them are drawn.
func (o *SuspendOptions) plan(pos string, c int64) (ns []int64, random int) {
	first := min(c, int64(o.MaxPerAction))
	for n := int64(1); n <= first; n++ {
		ns = append(ns, n)
	}
	rest := c - first
	if rest <= 0 || o.Random <= 0 {
		return ns, 0
	}
	if rest <= int64(o.Random) {
		for n := first + 1; n <= c; n++ {
			ns = append(ns, n)
		}
		return ns, int(rest)
	}
	h := fnv.New64a()
	h.Write([]byte(pos))
	rng := rand.New(rand.NewPCG(o.Seed, h.Sum64()))
	drawn := map[int64]bool{}
	for len(drawn) < o.Random {
		n := first + 1 + rng.Int64N(rest)
		if !drawn[n] {
			drawn[n] = true
			ns = append(ns, n)
		}
	}
	slices.Sort(ns[first:])
	return ns, o.Random
}

// everywhere is the state of the mode in one file's run.
type everywhere struct {
	opts     *SuspendOptions
	resumed  int // suspensions resumed in the file
	config   wazero.RuntimeConfig
	counts   SuspendCounts
	failures []Outcome
}

func (e *everywhere) fail(pos, cmd string, n int64, format string, args ...any) {
	e.counts.Failed++
	msg := fmt.Sprintf(format, args...)
	if n > 0 {
		msg = fmt.Sprintf("suspended at check %d: %s", n, msg)
	}
	e.failures = append(e.failures, Outcome{Position: pos, Command: cmd, Message: msg})
}

// invoke performs an invoke action of command cmd in the
// suspend-everywhere mode: the uninterrupted run on the script's instance
// (whose results the command checks), then the suspended ones.
func (s *script) invokeEverywhere(cmd *command, inst *instance, field string, args []uint64, types []string) ([]uint64, error) {
	e, sus, ctx := s.everywhere, inst.susp, s.ctx
	pos := Position(s.wast, cmd.Line)
	e.counts.Actions++
	leaf, err := sus.leaf(field)
	if err != nil {
		e.fail(pos, cmd.Type, 0, "%v", err)
		return inst.mod.ExportedFunction(field).Call(ctx, args...)
	}
	if leaf {
		return inst.mod.ExportedFunction(field).Call(ctx, args...)
	}
	if e.opts.SkipExhaustion && cmd.Type == "assert_exhaustion" {
		e.counts.ExhaustionSkipped++
		return inst.mod.ExportedFunction(field).Call(ctx, args...)
	}

	var before state
	if sus.skip == "" {
		if before, err = sus.stateOf(inst.mod); err != nil {
			e.fail(pos, cmd.Type, 0, "state before the action: %v", err)
			return inst.mod.ExportedFunction(field).Call(ctx, args...)
		}
	}
	if err := setGlobal(inst.mod, fuelExport, 1); err != nil {
		e.fail(pos, cmd.Type, 0, "%v", err)
		return inst.mod.ExportedFunction(field).Call(ctx, args...)
	}
	want, err := sus.call(ctx, inst.mod, field, args, &suspender{})
	if err != nil {
		e.fail(pos, cmd.Type, 0, "uninterrupted run: %v", err)
		return nil, err
	}
	if want.checks == 0 {
		return want.results, want.err
	}
	e.counts.Reaching++
	e.counts.Checks += want.checks
	ns, random := e.opts.plan(pos, want.checks)
	e.counts.Planned += len(ns)
	if int64(len(ns)) < want.checks {
		e.counts.Capped++
		e.counts.NotTried += want.checks - int64(len(ns))
	}
	if sus.skip != "" {
		e.counts.skip(sus.skip, len(ns))
		return want.results, want.err
	}
	if len(ns) == 0 {
		return want.results, want.err
	}
	s.suspendAll(cmd, pos, inst, field, args, types, before, want, ns, len(ns)-random)
	return want.results, want.err
}

// suspendAll makes the planned suspensions of an action; ns[firstRandom:]
// are the random ones.
func (s *script) suspendAll(cmd *command, pos string, inst *instance, field string, args []uint64, types []string, before state, want *run, ns []int64, firstRandom int) {
	e, sus, ctx := s.everywhere, inst.susp, s.ctx
	if b := e.opts.Budget; b > 0 && e.resumed >= b {
		e.counts.skip(SkipBudget, len(ns))
		return
	}
	// The instance as it was before the action: a snapshot without
	// frames, whose state global is set back to normal after
	// instantiation. Every suspended run starts from a fresh instance
	// of it.
	bin, err := snapshot.Build(sus.module, sus.hash, snapshot.State{
		Memory: before.memory, Globals: before.globals, Frames: (&frames.Stack{}).AppendBinary(nil),
	})
	if err == nil {
		bin, err = sus.withAccessors(bin)
	}
	if err != nil {
		e.fail(pos, cmd.Type, 0, "rebuilding the state before the action: %v", err)
		return
	}
	compiled, err := s.r.CompileModule(ctx, bin)
	if err != nil {
		e.fail(pos, cmd.Type, 0, "compiling the state before the action: %v", firstLine(err))
		return
	}
	defer compiled.Close(ctx)
	// fresh instantiates the state before the action, with the fuel
	// global at fuel: the fuel-th check site calls check.
	fresh := func(fuel int64) (api.Module, error) {
		mod, err := s.r.InstantiateModule(ctx, compiled, wazero.NewModuleConfig().WithName("").WithStartFunctions())
		if err != nil {
			return nil, fmt.Errorf("instantiating the state before the action: %w", err)
		}
		if err := setGlobal(mod, stateExport, suspend.StateNormal); err != nil {
			return nil, err
		}
		return mod, setGlobal(mod, fuelExport, int32(fuel))
	}

	// The rebuilt instance must run the action as the script's
	// instance did; if not, the harness, not the transform, is wrong.
	mod, err := fresh(1)
	if err != nil {
		e.fail(pos, cmd.Type, 0, "%v", err)
		return
	}
	ref, err := sus.call(ctx, mod, field, args, &suspender{})
	mod.Close(ctx)
	if err != nil {
		e.fail(pos, cmd.Type, 0, "rebuilt instance: %v", err)
		return
	}
	if d := sus.diffRuns(types, want, ref); d != "" || (ref.checks != want.checks && want.err == nil) {
		e.fail(pos, cmd.Type, 0, "the instance rebuilt from the state before the action runs it differently (%d checks, want %d): %s", ref.checks, want.checks, d)
		return
	}

	for i, n := range ns {
		outcome, msg := s.suspendAt(fresh, sus, field, args, types, want, n, i >= firstRandom)
		switch outcome {
		case failed:
			e.fail(pos, cmd.Type, n, "%s", msg)
		case skipped:
			e.counts.skip(msg, 1)
		case passed:
			e.counts.Done++
			e.counts.Equal++
			if i >= firstRandom {
				e.counts.Random++
			}
		}
	}
}

// suspendAt runs an action from a fresh instance, suspends it at check n,
// writes and reads the snapshot, resumes it in a fresh runtime and
// compares the outcome with the uninterrupted run's.
func (s *script) suspendAt(fresh func(fuel int64) (api.Module, error), sus *suspendable, field string, args []uint64, types []string, want *run, n int64, random bool) (status, string) {
	ctx := s.ctx
	// With the fuel at n, the first call of check is at the nth check
	// site: the same point as with the fuel at 1 and n calls, without
	// n calls into the host (n can be a million, in a deep recursion).
	mod, err := fresh(n)
	if err != nil {
		return failed, err.Error()
	}
	defer mod.Close(ctx)
	sp := &suspender{suspendAt: n, checks: n - 1}
	if _, err := mod.ExportedFunction(field).Call(withSuspender(ctx, sp), args...); err != nil {
		if errors.Is(sp.saveErr, frames.ErrTooLarge) {
			return skipped, SkipTooDeep
		}
		return failed, "the run to suspend failed: " + firstLine(err)
	}
	if st := mod.ExportedGlobal(stateExport).Get(); st != suspend.StateUnwinding || len(sp.stack.Frames) == 0 {
		return failed, fmt.Sprintf("the run returned with state %d and %d frames saved, not unwound", st, len(sp.stack.Frames))
	}
	for _, f := range sp.stack.Frames {
		refs, err := sus.holdsRefs(f.Func)
		if err != nil {
			return failed, err.Error()
		}
		if refs {
			return skipped, SkipRef
		}
	}
	sig := frameSignature(&sp.stack)
	if max := s.everywhere.opts.SameFrames; max > 0 && !random && sus.resumed[sig] >= max {
		return skipped, SkipSameFrames
	}
	if b := s.everywhere.opts.Budget; b > 0 && s.everywhere.resumed >= b {
		return skipped, SkipBudget
	}
	sus.resumed[sig]++
	s.everywhere.resumed++
	at, err := sus.stateOf(mod)
	if err != nil {
		return failed, err.Error()
	}
	bin, err := snapshot.Build(sus.module, sus.hash, snapshot.State{
		Memory: at.memory, Globals: at.globals, Frames: sp.stack.AppendBinary(nil),
	})
	if err != nil {
		return failed, "snapshot.Build: " + err.Error()
	}
	got, err := s.resume(sus, bin, field, len(args))
	if err != nil {
		return failed, err.Error()
	}
	if d := sus.diffRuns(types, want, got); d != "" {
		return failed, "resumed run differs: " + d
	}
	return passed, ""
}

// frameSignature names the functions and points of a stack's frames.
func frameSignature(st *frames.Stack) string {
	b := make([]byte, 0, 8*len(st.Frames))
	for _, f := range st.Frames {
		b = binary.AppendUvarint(b, uint64(f.Func))
		b = binary.AppendUvarint(b, uint64(f.Point))
	}
	return string(b)
}

// resume reads a snapshot, instantiates its module in a fresh runtime
// with the spectest and gate_suspend modules, and calls field again to
// rewind it: the entry function restores its arguments from its frame, so
// it is given zeros.
func (s *script) resume(sus *suspendable, bin []byte, field string, nargs int) (*run, error) {
	ctx := s.ctx
	snap, err := snapshot.Parse(bin)
	if err != nil {
		return nil, fmt.Errorf("snapshot.Parse: %w", err)
	}
	stack, err := frames.Parse(snap.Frames)
	if err != nil {
		return nil, err
	}
	rw, err := frames.NewRewinder(stack)
	if err != nil {
		return nil, err
	}
	r := wazero.NewRuntimeWithConfig(ctx, s.everywhere.config)
	defer r.Close(ctx)
	if _, err := r.InstantiateWithConfig(ctx, spectestModule, wazero.NewModuleConfig().WithName("spectest")); err != nil {
		return nil, fmt.Errorf("spectest module: %w", err)
	}
	var checks atomic.Int64
	if err := instantiateSuspend(ctx, r, &checks); err != nil {
		return nil, fmt.Errorf("%s module: %w", suspendModule, err)
	}
	bin, err = sus.withAccessors(snap.Module)
	if err != nil {
		return nil, err
	}
	compiled, err := r.CompileModule(ctx, bin)
	if err != nil {
		return nil, fmt.Errorf("compiling the snapshot: %s", firstLine(err))
	}
	mod, err := r.InstantiateModule(ctx, compiled, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		return nil, fmt.Errorf("instantiating the snapshot: %s", firstLine(err))
	}
	sp := &suspender{rewinder: rw, resumed: true}
	got, err := sus.call(ctx, mod, field, make([]uint64, nargs), sp)
	if err != nil {
		return nil, err
	}
	if sp.rewinder != nil && got.err == nil {
		// No check site ran after the rewind: the run ended first.
		if err := sp.rewinder.Done(); err != nil {
			return nil, fmt.Errorf("after the resumed run: %w", err)
		}
	}
	if st := mod.ExportedGlobal(stateExport).Get(); got.err == nil && st != suspend.StateNormal {
		return nil, fmt.Errorf("the resumed run returned with state %d", st)
	}
	return got, nil
}

package suspend

import (
	"math/bits"

	"github.com/gate-wasm/gate/wasm"
)

// Which locals a suspension point needs.
//
// A frame saved at a point needs only the locals live there: those that
// some path from the point reads before writing. The others are saved as
// zeros, which the program never reads. That is not to make snapshots
// smaller (a zero costs as much as any value) but to leave the compiled
// code alone: the unwind path reads every local, so without this every
// local would stay alive up to every suspension point, and across the
// calls there (see function.stashed).

// localSet is a set of local indices, one bit each.
type localSet []uint64

func (s localSet) has(i uint32) bool { return s[i/64]&(1<<(i%64)) != 0 }
func (s localSet) add(i uint32)      { s[i/64] |= 1 << (i % 64) }
func (s localSet) remove(i uint32)   { s[i/64] &^= 1 << (i % 64) }
func (s localSet) clear()            { clear(s) }
func (s localSet) copyFrom(o localSet) {
	copy(s, o)
}

// union adds o to s.
func (s localSet) union(o localSet) {
	for i, w := range o {
		s[i] |= w
	}
}

// unionChanged adds o to s and reports whether s grew.
func (s localSet) unionChanged(o localSet) bool {
	changed := false
	for i, w := range o {
		if s[i]|w != s[i] {
			s[i] |= w
			changed = true
		}
	}
	return changed
}

// each calls fn for every index in s, in increasing order.
func (s localSet) each(fn func(i uint32)) {
	for k, w := range s {
		for w != 0 {
			b := bits.TrailingZeros64(w)
			fn(uint32(k*64 + b))
			w &= w - 1
		}
	}
}

// localSets holds the sets of a function's analysis, n words each.
type localSets struct {
	words int
	arena []uint64
}

func (a *localSets) reset(locals int) {
	a.words = (locals + 63) / 64
	a.arena = a.arena[:0]
}

// alloc returns the index of a new empty set.
func (a *localSets) alloc() int32 {
	k := len(a.arena)
	for range a.words {
		a.arena = append(a.arena, 0)
	}
	return int32(k / max(a.words, 1))
}

func (a *localSets) set(k int32) localSet {
	i := int(k) * a.words
	return a.arena[i : i+a.words : i+a.words]
}

// liveFrame is a block, loop or if, met at its end by the backward walk.
type liveFrame struct {
	label  int32 // the set live where a branch to it goes
	end    int32 // the set live after its end
	els    int32 // for an if with an else: the set live at the else arm's start
	writes int32 // the locals it writes (first walk only, else -1)
	mark   int   // the arena's length before its sets, freed at its start
}

// The analysis is a product: its sets take a word per 64 locals, one set
// per loop and call site, and every walk visits every branch and block
// with a set operation; nested loops whose headers feed each other take
// a walk each. A function with many locals and many points, or loops
// nested deep, would cost the product of the two. So the analysis is
// bounded by the function's size, far above what compiled programs need
// (C and Go: at most 0.4 words held per instruction, three walks), and a
// function past the bound is instrumented without it: no local is known
// dead (see zeroDead and stash), which changes only the compiled code.
const (
	liveWordsPerInstr = 8  // set words held, per instruction
	liveOpsPerInstr   = 64 // word operations over all walks, per instruction
	liveWordsBase     = 1 << 14
	liveOpsBase       = 1 << 16
	extraCodePerInstr = 4 // zeroing and stashing instructions, per instruction
	extraCodeBase     = 256
)

// analyzeLocals finds, for every loop, the locals live
// at its header and those written in it (pcInfo.live, pcInfo.writes), and
// for every call site the locals live at the call. f.instrs has no dead
// code; the locals analyzed are the input's (params and declared). If the
// analysis would cost more than its bounds, it leaves every set at -1
// and f.liveKnown false.
func (f *function) analyzeLocals() {
	t := f.t
	sets := &t.sets
	sets.reset(f.nDecl)
	n := len(f.instrs)
	f.liveKnown = false
	// The opener of every end, and a set per loop and call site.
	if cap(t.openers) < n {
		t.openers = make([]int32, n+n/4)
	}
	openers := t.openers[:n]
	held, ops, depth, maxDepth := 0, 0, 0, 0
	for pc := range f.instrs {
		p := &f.pcs[pc]
		p.live, p.writes = -1, -1
		switch f.instrs[pc].Op {
		case wasm.OpBlock, wasm.OpIf:
			openers[p.end] = int32(pc)
			depth++
			ops += 4 // its end's sets, and the union into the frame around
		case wasm.OpLoop:
			openers[p.end] = int32(pc)
			held += 2
			depth++
			ops += 6
		case wasm.OpCall, wasm.OpCallIndirect:
			if p.point != 0 {
				held++
				ops++
			}
		case wasm.OpEnd:
			depth--
		case wasm.OpElse:
			ops += 2
		case wasm.OpBrTable:
			ops += 1 + len(f.instrs[pc].Labels)
		case wasm.OpBr, wasm.OpBrIf, wasm.OpReturn, wasm.OpUnreachable:
			ops++
		}
		maxDepth = max(maxDepth, depth)
	}
	words := sets.words
	ops = ops*words + n // per walk
	held = (held + 3*maxDepth + 3) * words
	if held > liveWordsPerInstr*n+liveWordsBase {
		return
	}
	for pc := range f.instrs {
		p := &f.pcs[pc]
		switch f.instrs[pc].Op {
		case wasm.OpLoop:
			p.live, p.writes = sets.alloc(), sets.alloc()
		case wasm.OpCall, wasm.OpCallIndirect:
			if p.point != 0 {
				p.live = sets.alloc()
			}
		}
	}
	// Backward walks until no loop header's set grows. Sets only grow,
	// so this ends; it takes one walk more than the deepest nest of
	// loops whose headers feed each other, rarely more than three.
	live := sets.alloc()
	empty := sets.alloc()
	scratchBase := len(sets.arena)
	frames := t.liveFrames[:0]
	spent := 0
	for first := true; ; first = false {
		if spent += ops; spent > liveOpsPerInstr*n+liveOpsBase {
			for pc := range f.pcs {
				f.pcs[pc].live, f.pcs[pc].writes = -1, -1
			}
			t.liveFrames = frames[:0]
			return
		}
		changed := false
		sets.arena = sets.arena[:scratchBase]
		frames = frames[:0]
		sets.set(live).clear()
		for pc := n - 1; pc >= 0; pc-- {
			in := &f.instrs[pc]
			cur := sets.set(live)
			switch in.Op {
			case wasm.OpEnd:
				fr := liveFrame{els: -1, writes: -1, mark: len(sets.arena)}
				fr.end = sets.alloc()
				if first { // the writes do not change from walk to walk
					fr.writes = sets.alloc()
				}
				cur = sets.set(live) // alloc may have moved the arena
				sets.set(fr.end).copyFrom(cur)
				fr.label = fr.end
				if pc != n-1 {
					if o := openers[pc]; f.instrs[o].Op == wasm.OpLoop {
						fr.label = f.pcs[o].live
					}
				} else {
					fr.label = empty // the function's: nothing is live after it
				}
				frames = append(frames, fr)
			case wasm.OpElse:
				fr := &frames[len(frames)-1]
				fr.els = sets.alloc()
				cur = sets.set(live)
				sets.set(fr.els).copyFrom(cur)
				cur.copyFrom(sets.set(fr.end))
			case wasm.OpBlock, wasm.OpLoop, wasm.OpIf:
				fr := frames[len(frames)-1]
				frames = frames[:len(frames)-1]
				if in.Op == wasm.OpIf {
					if fr.els >= 0 {
						cur.union(sets.set(fr.els))
					} else {
						cur.union(sets.set(fr.end))
					}
				}
				if p := &f.pcs[pc]; in.Op == wasm.OpLoop {
					if sets.set(p.live).unionChanged(cur) {
						changed = true
					}
					if first {
						sets.set(p.writes).copyFrom(sets.set(fr.writes))
					}
				}
				if first && len(frames) > 0 {
					sets.set(frames[len(frames)-1].writes).union(sets.set(fr.writes))
				}
				// The frame's sets are the last allocated: an inner
				// frame's were freed at its start.
				sets.arena = sets.arena[:fr.mark]
			case wasm.OpBr:
				cur.copyFrom(sets.set(frames[len(frames)-1-int(in.X)].label))
			case wasm.OpBrIf:
				cur.union(sets.set(frames[len(frames)-1-int(in.X)].label))
			case wasm.OpBrTable:
				cur.copyFrom(sets.set(frames[len(frames)-1-int(in.X)].label))
				for _, l := range in.Labels {
					cur.union(sets.set(frames[len(frames)-1-int(l)].label))
				}
			case wasm.OpReturn, wasm.OpUnreachable:
				cur.clear()
			case wasm.OpLocalGet:
				if int(in.X) < f.nDecl {
					cur.add(in.X)
				}
			case wasm.OpLocalSet, wasm.OpLocalTee:
				if int(in.X) < f.nDecl {
					cur.remove(in.X)
					if first && len(frames) > 0 {
						sets.set(frames[len(frames)-1].writes).add(in.X)
					}
				}
			case wasm.OpCall, wasm.OpCallIndirect:
				if p := f.pcs[pc]; p.live >= 0 {
					sets.set(p.live).copyFrom(cur)
				}
			}
		}
		if !changed {
			break
		}
	}
	t.liveFrames = frames[:0]
	f.liveKnown = true
}

// count returns the number of locals in s.
func (s localSet) count() int {
	c := 0
	for _, w := range s {
		c += bits.OnesCount64(w)
	}
	return c
}

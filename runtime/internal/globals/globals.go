// Package globals adds to a suspendable module the functions through
// which the host reads and sets its mutable v128 globals.
//
// The host reaches a module's mutable globals through exports
// (gate_suspend.global.<index>), but wazero's api.Global and
// api.MutableGlobal read and set only 64 bits of a global: not enough for
// a v128. So for each mutable v128 global the host must reach, the module
// the host compiles also gets two functions, appended after all of its
// functions (no function index of the module changes: frames in snapshots
// name functions by index):
//
//	gate_suspend.v128.get.<index>: (func (result i64 i64))
//	  global.get, i64x2.extract_lane 0, global.get, i64x2.extract_lane 1
//	gate_suspend.v128.set.<index>: (func (param i64 i64))
//	  local.get 0, i64x2.splat, local.get 1, i64x2.replace_lane 1, global.set
//
// They call nothing and touch no other global: they can be called at any
// time, while the program is suspended or before it rewinds. They are not
// part of a snapshot: the host adds them to what it compiles, both the
// program after the transform and the resume module derived from a
// snapshot.
package globals

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/gate-wasm/gate/suspend"
	"github.com/gate-wasm/gate/wasm"
)

// The prefixes of the accessors' export names; the global's index (among
// all globals, imports first) in decimal follows.
const (
	GetPrefix = "gate_suspend.v128.get."
	SetPrefix = "gate_suspend.v128.set."
)

// GetName and SetName are the export names of global index's accessors.
func GetName(index uint32) string { return GetPrefix + strconv.FormatUint(uint64(index), 10) }
func SetName(index uint32) string { return SetPrefix + strconv.FormatUint(uint64(index), 10) }

var (
	getType = wasm.FuncType{Results: []wasm.ValType{wasm.I64, wasm.I64}}
	setType = wasm.FuncType{Params: []wasm.ValType{wasm.I64, wasm.I64}}
)

// AddV128Accessors returns m with the accessors of every v128 global
// among indices (globals that m defines and that are mutable; others are
// ignored), in the order of indices, each global's get then set. If there
// is none, it returns m itself, so that the module encodes to the same
// bytes as before. m is not modified: the result is a copy with new Types,
// Funcs, Exports and Code. It refuses a module that already exports an
// accessor's name.
func AddV128Accessors(m *wasm.Module, indices []uint32) (*wasm.Module, error) {
	imported := uint32(m.NumImports(wasm.ExternGlobal))
	var v128 []uint32
	for _, index := range indices {
		if index < imported || uint64(index-imported) >= uint64(len(m.Globals)) {
			continue
		}
		if g := m.Globals[index-imported]; g.Type.Mutable && g.Type.Type == wasm.V128 {
			v128 = append(v128, index)
		}
	}
	if len(v128) == 0 {
		return m, nil
	}
	exported := make(map[string]bool, len(m.Exports))
	for _, e := range m.Exports {
		exported[e.Name] = true
	}
	c := *m
	c.Types = slices.Clip(m.Types)
	getIndex, setIndex := typeIndex(&c, getType), typeIndex(&c, setType)
	c.Funcs = slices.Clip(m.Funcs)
	c.Code = slices.Clip(m.Code)
	c.Exports = slices.Clip(m.Exports)
	next := uint32(m.NumImports(wasm.ExternFunc) + len(m.Funcs))
	for _, index := range v128 {
		get, set := GetName(index), SetName(index)
		if exported[get] || exported[set] {
			return nil, fmt.Errorf("the module already exports %s or %s, names Gate gives its accessors of global %d", get, set, index)
		}
		c.Funcs = append(c.Funcs, getIndex, setIndex)
		c.Code = append(c.Code, wasm.Code{Body: getBody(index)}, wasm.Code{Body: setBody(index)})
		c.Exports = append(c.Exports,
			wasm.Export{Name: get, Kind: wasm.ExternFunc, Index: next},
			wasm.Export{Name: set, Kind: wasm.ExternFunc, Index: next + 1})
		next += 2
	}
	return &c, nil
}

// typeIndex returns the index of a type of m equal to ft, appending it if
// there is none.
func typeIndex(m *wasm.Module, ft wasm.FuncType) uint32 {
	for i, t := range m.Types {
		if t.Equal(ft) {
			return uint32(i)
		}
	}
	m.Types = append(m.Types, ft)
	return uint32(len(m.Types) - 1)
}

func getBody(index uint32) []byte {
	return wasm.EncodeBody([]wasm.Instr{
		{Op: wasm.OpGlobalGet, X: index},
		{Op: wasm.OpI64x2ExtractLane, Y: 0},
		{Op: wasm.OpGlobalGet, X: index},
		{Op: wasm.OpI64x2ExtractLane, Y: 1},
		{Op: wasm.OpEnd},
	})
}

func setBody(index uint32) []byte {
	return wasm.EncodeBody([]wasm.Instr{
		{Op: wasm.OpLocalGet, X: 0},
		{Op: wasm.OpI64x2Splat},
		{Op: wasm.OpLocalGet, X: 1},
		{Op: wasm.OpI64x2ReplaceLane, Y: 1},
		{Op: wasm.OpGlobalSet, X: index},
		{Op: wasm.OpEnd},
	})
}

// Host lists the mutable globals that m, a module after the suspendable
// transform, defines and the host reaches (reads into a snapshot, sets
// when resuming): all but the transform's scratch globals, which hold
// nothing between calls of check.
func Host(m *wasm.Module) []uint32 {
	var indices []uint32
	imported, scratch := uint32(m.NumImports(wasm.ExternGlobal)), suspend.FirstScratchGlobal(m)
	for i, g := range m.Globals {
		if index := imported + uint32(i); g.Type.Mutable && index < scratch {
			indices = append(indices, index)
		}
	}
	return indices
}

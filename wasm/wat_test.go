package wasm

import (
	"reflect"
	"testing"
)

// TestWat checks the package against modules assembled by wabt's
// wat2wasm, as a toolchain would produce them.
func TestWat(t *testing.T) {
	tests := []struct {
		name    string
		wat     string
		imports []Import
		memory  Limits
		hasMem  bool
		cap     uint32
		capped  Limits // memory after CapMemory(cap)
		capErr  bool
	}{
		{
			name: "empty module",
			wat:  `(module)`,
			cap:  16,
		},
		{
			name: "memory min only",
			wat: `(module
				(memory (export "memory") 2)
				(func (export "_start") (drop (memory.grow (i32.const 1)))))`,
			memory: Limits{Min: 2}, hasMem: true,
			cap: 16, capped: Limits{Min: 2, Max: 16, HasMax: true},
		},
		{
			name:   "memory max above cap",
			wat:    `(module (memory 1 1000) (data (i32.const 0) "hello"))`,
			memory: Limits{Min: 1, Max: 1000, HasMax: true}, hasMem: true,
			cap: 16, capped: Limits{Min: 1, Max: 16, HasMax: true},
		},
		{
			name:   "memory max below cap",
			wat:    `(module (memory 1 2))`,
			memory: Limits{Min: 1, Max: 2, HasMax: true}, hasMem: true,
			cap: 16, capped: Limits{Min: 1, Max: 2, HasMax: true},
		},
		{
			name:   "memory min above cap",
			wat:    `(module (memory 32))`,
			memory: Limits{Min: 32}, hasMem: true,
			cap: 16, capErr: true,
		},
		{
			name: "imports of every kind",
			wat: `(module
				(type $t (func (param i32 i32 i32 i32) (result i32)))
				(import "wasi_snapshot_preview1" "fd_write" (func $fd_write (type $t)))
				(import "env" "table" (table 1 funcref))
				(import "env" "memory" (memory 1))
				(import "env" "g" (global (mut i64)))
				(import "env" "h" (global f32))
				(func (export "f") (result i32)
					(call $fd_write (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))))`,
			imports: []Import{
				{Module: "wasi_snapshot_preview1", Name: "fd_write", Kind: ExternFunc},
				{Module: "env", Name: "table", Kind: ExternTable, Table: TableType{FuncRef, Limits{Min: 1}}},
				{Module: "env", Name: "memory", Kind: ExternMemory, Memory: Limits{Min: 1}},
				{Module: "env", Name: "g", Kind: ExternGlobal, Global: GlobalType{I64, true}},
				{Module: "env", Name: "h", Kind: ExternGlobal, Global: GlobalType{F32, false}},
			},
			cap: 16,
		},
		{
			name: "bulk memory with data count",
			wat: `(module
				(memory 1)
				(data $d "abc")
				(table 2 funcref)
				(elem $e func $f)
				(func $f
					(memory.init $d (i32.const 0) (i32.const 0) (i32.const 3))
					(data.drop $d)
					(table.init $e (i32.const 0) (i32.const 0) (i32.const 1)))
				(start $f))`,
			memory: Limits{Min: 1}, hasMem: true,
			cap: 1, capped: Limits{Min: 1, Max: 1, HasMax: true},
		},
		{
			name: "everything",
			wat: `(module
				(import "env" "log" (func $log (param i32)))
				(memory (export "memory") 3 65536)
				(global $g (mut i32) (i32.const 7))
				(table 1 funcref)
				(elem (i32.const 0) $main)
				(func $main (export "main") (param i32) (result i32)
					(call $log (global.get $g))
					(i32.add (local.get 0) (memory.size)))
				(data (i32.const 16) "data"))`,
			imports: []Import{{Module: "env", Name: "log", Kind: ExternFunc}},
			memory:  Limits{Min: 3, Max: 65536, HasMax: true}, hasMem: true,
			cap: 1024, capped: Limits{Min: 3, Max: 1024, HasMax: true},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := wat2wasm(t, tc.wat)
			if _, err := ReadSections(m); err != nil {
				t.Fatalf("ReadSections: %v", err)
			}
			imports, err := Imports(m)
			if err != nil {
				t.Fatalf("Imports: %v", err)
			}
			if !reflect.DeepEqual(imports, tc.imports) {
				t.Errorf("Imports = %#v; want %#v", imports, tc.imports)
			}
			l, ok, err := Memory(m)
			if err != nil || l != tc.memory || ok != tc.hasMem {
				t.Errorf("Memory = %+v, %v, %v; want %+v, %v, nil", l, ok, err, tc.memory, tc.hasMem)
			}
			out, err := CapMemory(m, tc.cap)
			if tc.capErr {
				if _, ok := err.(*MemoryCapError); !ok {
					t.Fatalf("CapMemory = %v; want a *MemoryCapError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("CapMemory: %v", err)
			}
			l, ok, err = Memory(out)
			if err != nil || l != tc.capped || ok != tc.hasMem {
				t.Errorf("Memory(capped) = %+v, %v, %v; want %+v, %v, nil", l, ok, err, tc.capped, tc.hasMem)
			}
			if imports2, err := Imports(out); err != nil || !reflect.DeepEqual(imports2, imports) {
				t.Errorf("Imports(capped) = %#v, %v; want %#v", imports2, err, imports)
			}
			checkOnlyMemoryChanged(t, m, out)
		})
	}
}

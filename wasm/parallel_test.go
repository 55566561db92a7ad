package wasm

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// workerCounts are the numbers of goroutines the tests check bodies on,
// against 1, which is the loop over the bodies in order.
var workerCounts = []int{2, 3, 4, 8}

// sameError fails unless got is want: the same message, the same type
// and, for the errors of this package, the same offset.
func sameError(t *testing.T, what string, got, want error) {
	t.Helper()
	if (got == nil) != (want == nil) || got != nil && (got.Error() != want.Error() || reflect.TypeOf(got) != reflect.TypeOf(want)) {
		t.Fatalf("%s: error %v (%T), want %v (%T)", what, got, got, want, want)
	}
	if got == nil {
		return
	}
	if offset(got) != offset(want) {
		t.Fatalf("%s: error at offset %d, want %d", what, offset(got), offset(want))
	}
}

// offset returns the offset of an error of this package, or -2.
func offset(err error) int {
	var ve *ValidationError
	var fe *FormatError
	switch {
	case errors.As(err, &ve):
		return ve.Offset
	case errors.As(err, &fe):
		return fe.Offset
	}
	return -2
}

// manyFuncs returns a valid module of n functions, the first imported,
// with bodies of various sizes; some use ref.func of a declared function,
// so that goroutines share the set of declared functions.
func manyFuncs(n int) *Module {
	m := fn(FuncType{}, nil)
	m.Imports = []Import{{Module: "env", Name: "f", Kind: ExternFunc, Type: 1}}
	m.Elements[0].Funcs = []uint32{1}
	m.Funcs, m.Code = nil, nil
	for i := 1; i < n; i++ {
		var instrs []Instr
		for j := 0; j < i%7*i%13; j++ {
			instrs = append(instrs, BlockInstr(OpBlock, BlockOf(I32)), i32c(int32(j)), Instr{Op: OpLocalGet, X: 0},
				Instr{Op: OpI32Add}, Instr{Op: OpEnd}, Instr{Op: OpLocalSet, X: 0})
		}
		if i%5 == 0 {
			instrs = append(instrs, Instr{Op: OpRefFunc, X: 1}, Instr{Op: OpDrop})
		}
		if i%11 == 0 {
			instrs = append(instrs, i32c(0), Instr{Op: OpI32Load, X: 2}, Instr{Op: OpLocalSet, X: 0})
		}
		instrs = append(instrs, Instr{Op: OpEnd})
		m.Funcs = append(m.Funcs, 1)
		m.Code = append(m.Code, Code{Locals: []LocalDecl{{1, I32}}, Body: EncodeBody(instrs)})
	}
	return m
}

// invalidBodies are bodies for a function of type [] -> [] with one
// i32 local, each invalid in its own way.
var invalidBodies = [][]Instr{
	{i32c(1), {Op: OpI64Const}, {Op: OpI32Add}, {Op: OpDrop}},
	{{Op: OpLocalGet, X: 7}, {Op: OpDrop}},
	{{Op: OpCall, X: 100000}},
	{{Op: OpRefFunc, X: 2}, {Op: OpDrop}}, // not declared
	{i32c(0), {Op: OpI32Load, X: 3}, {Op: OpDrop}},
	{i32c(0), i32c(0), i32c(0), {Op: OpMemoryInit, X: 5}},
	{i32c(1)},
	{{Op: OpGlobalSet, X: 0}},
	{BlockInstr(OpBlock, BlockEmpty), {Op: OpBr, X: 3}, {Op: OpEnd}},
}

// TestValidateWorkers checks that validating the bodies on several
// goroutines gives the error of the lowest failing function, as one does.
func TestValidateWorkers(t *testing.T) {
	const n = 300
	bin := Encode(manyFuncs(n))
	valid, err := Decode(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range append([]int{1}, workerCounts...) {
		if err := validate(valid, w); err != nil {
			t.Fatalf("%d workers: %v", w, err)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 60 {
		m, err := Decode(bin)
		if err != nil {
			t.Fatal(err)
		}
		// Functions 1 to 3 of the bodies (0 is imported), not the first.
		lowest := len(m.Code)
		var bad []string
		for range 1 + rng.IntN(4) {
			i := 1 + rng.IntN(len(m.Code)-1)
			lowest = min(lowest, i)
			if k := rng.IntN(len(invalidBodies) + 1); k < len(invalidBodies) {
				m.Code[i].Body = EncodeBody(append(invalidBodies[k], Instr{Op: OpEnd}))
				bad = append(bad, fmt.Sprintf("%d: body %d", i, k))
			} else {
				m.Code[i].Locals = []LocalDecl{{1, 0x55}}
				bad = append(bad, fmt.Sprintf("%d: local type", i))
			}
		}
		what := fmt.Sprintf("trial %d (%v)", trial, bad)
		want := validate(m, 1)
		if want == nil {
			t.Fatalf("%s: valid", what)
		}
		if prefix := fmt.Sprintf("function %d: ", 1+lowest); !strings.Contains(want.Error(), prefix) {
			t.Fatalf("%s: error %q is not of the lowest invalid function, %d", what, want, 1+lowest)
		}
		sameError(t, what+", Validate", Validate(m), want)
		for _, w := range workerCounts {
			for range 3 {
				sameError(t, fmt.Sprintf("%s, %d workers", what, w), validate(m, w), want)
			}
		}
	}
}

// TestLowestError checks lowestError against a loop, with checks that
// fail at random indices, and that a panic in a check reaches the caller.
func TestLowestError(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for trial := range 500 {
		n := rng.IntN(200)
		sizes := make([]int, n)
		fails := make([]bool, n)
		for i := range n {
			sizes[i] = rng.IntN(3) * rng.IntN(1000) // some 0
			fails[i] = rng.IntN(50) == 0
		}
		want := -1
		for i := range n {
			if fails[i] {
				want = i
				break
			}
		}
		for _, w := range append([]int{1}, workerCounts...) {
			err := lowestError(n, w, func(i int) int { return sizes[i] }, func() func(int) error {
				return func(i int) error {
					if fails[i] {
						return fmt.Errorf("%d", i)
					}
					return nil
				}
			})
			if got := fmt.Sprint(err); want < 0 && err != nil || want >= 0 && got != fmt.Sprint(want) {
				t.Fatalf("trial %d, %d of %d failing, %d workers: error %v", trial, want, n, w, err)
			}
		}
	}
	defer func() {
		if p := recover(); p != "check 5" {
			t.Fatalf("panic %v, want check 5", p)
		}
	}()
	lowestError(100, 4, func(int) int { return 1 }, func() func(int) error {
		return func(i int) error {
			if i == 5 {
				panic("check 5")
			}
			return nil
		}
	})
	t.Fatal("no panic")
}

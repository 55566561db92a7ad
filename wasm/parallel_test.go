package wasm

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/gate-wasm/gate/internal/testprog"
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

// TestDecodeWorkers checks that checking the code section's bodies on
// several goroutines gives the error that the first malformed entry
// gives with one, be it in a body or in the size or locals of an entry.
func TestDecodeWorkers(t *testing.T) {
	const n = 300
	valid := manyFuncs(n)
	bin := Encode(valid)
	for _, w := range append([]int{1}, workerCounts...) {
		if _, err := decode(bin, w); err != nil {
			t.Fatalf("%d workers: %v", w, err)
		}
	}
	malformed := [][]byte{
		{0x41, 0x00, 0xd3, 0x1a, 0x0b},             // illegal opcode
		{0x05, 0x0b},                               // else outside an if
		{0x02, 0x40, 0x0b},                         // no final end
		{0x0b, 0x01, 0x0b},                         // bytes after the end
		{0x41, 0x00, 0x28, 0x40, 0x00, 0x1a, 0x0b}, // alignment exponent 64
		{0xd0, 0x7f, 0x1a, 0x0b},                   // ref.null of i32
		{0x02, 0x50, 0x0b, 0x0b},                   // negative block type
		{0xfc, 0x80, 0x02, 0x0b},                   // sub-opcode above 255
		{0x41, 0x80, 0x80, 0x80, 0x80, 0x80, 0x0b}, // i32 constant too long
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 60 {
		m := *valid
		m.Code = append([]Code(nil), valid.Code...)
		var bad []string
		for range 1 + rng.IntN(4) {
			i := 1 + rng.IntN(len(m.Code)-1)
			switch k := rng.IntN(len(malformed) + 2); {
			case k < len(malformed):
				m.Code[i].Body = malformed[k]
				bad = append(bad, fmt.Sprintf("%d: body %d", i, k))
			case k == len(malformed):
				m.Code[i].Locals = []LocalDecl{{1, 0x55}} // malformed local type
				bad = append(bad, fmt.Sprintf("%d: local type", i))
			default:
				m.Code[i].Locals = []LocalDecl{{1 << 31, I32}, {1 << 31, I64}} // too many locals
				bad = append(bad, fmt.Sprintf("%d: locals", i))
			}
		}
		b := Encode(&m)
		what := fmt.Sprintf("trial %d (%v)", trial, bad)
		_, want := decode(b, 1)
		if want == nil {
			t.Fatalf("%s: decodes", what)
		}
		_, err := Decode(b)
		sameError(t, what+", Decode", err, want)
		for _, w := range workerCounts {
			for range 3 {
				_, err := decode(b, w)
				sameError(t, fmt.Sprintf("%s, %d workers", what, w), err, want)
			}
		}
	}
}

// TestDecodeWorkersDataCount checks that, with bodies checked on several
// goroutines, the missing data count section is reported at the first
// memory.init or data.drop, as with one.
func TestDecodeWorkersDataCount(t *testing.T) {
	dataDrop := EncodeBody([]Instr{{Op: OpDataDrop, X: 0}, {Op: OpEnd}})
	memoryInit := EncodeBody([]Instr{i32c(0), i32c(0), i32c(0), {Op: OpMemoryInit, X: 0}, {Op: OpEnd}})
	for _, users := range [][]int{{1}, {17}, {17, 40, 41, 250}, {40, 17}, {299, 150}} {
		m := manyFuncs(300)
		m.HasDataCount = false
		for k, i := range users {
			m.Code[i-1].Body = dataDrop
			if k%2 == 1 {
				m.Code[i-1].Body = memoryInit
			}
		}
		withoutData := *m
		withoutData.Data = nil
		// The data section follows the code section: its absence moves
		// no body.
		ok, err := Decode(Encode(&withoutData))
		if err != nil {
			t.Fatal(err)
		}
		first := slicesMin(users) - 1
		b := Encode(m)
		_, want := decode(b, 1)
		if off := ok.Code[first].Offset; offset(want) < off || offset(want) >= off+len(ok.Code[first].Body) {
			t.Fatalf("users %v: error %v not in the body of function %d (%d bytes at %d)", users, want, first+1, len(ok.Code[first].Body), off)
		}
		for _, w := range workerCounts {
			_, err := decode(b, w)
			sameError(t, fmt.Sprintf("users %v, %d workers", users, w), err, want)
		}
	}
}

func slicesMin(s []int) int {
	m := s[0]
	for _, v := range s[1:] {
		m = min(m, v)
	}
	return m
}

// goModule returns a Go program compiled for wasip1, a big real module,
// or skips the test.
func goModule(t *testing.T) []byte {
	t.Helper()
	path, err := testprog.BuildGo("examples/go/hello")
	if err != nil {
		t.Skipf("building a Go program: %v", err)
	}
	bin, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// TestWorkersGoProgram checks that a Go program decodes to the same
// Module and validates the same with the bodies checked on one goroutine
// or several, and so do copies of it with bytes of the code section
// changed at random, which are malformed or invalid in many ways.
func TestWorkersGoProgram(t *testing.T) {
	bin := goModule(t)
	want, err := decode(bin, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate(want, 1); err != nil {
		t.Fatal(err)
	}
	for _, w := range workerCounts {
		got, err := decode(bin, w)
		if err != nil {
			t.Fatalf("%d workers: %v", w, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%d workers: a different Module", w)
		}
		if err := validate(got, w); err != nil {
			t.Fatalf("%d workers: %v", w, err)
		}
	}

	sections, err := ReadSections(bin)
	if err != nil {
		t.Fatal(err)
	}
	var code Section
	for _, s := range sections {
		if s.ID == SectionCode {
			code = s
		}
	}
	trials := 12
	if testing.Short() {
		trials = 3
	}
	rng := rand.New(rand.NewPCG(5, 6))
	damaged := bytes.Clone(bin)
	for trial := range trials {
		copy(damaged, bin)
		var changes []string
		for range 1 + rng.IntN(8) {
			// Past the first third of the section, to leave most of
			// the bodies before the damage.
			off := code.Offset + len(code.Payload)/3 + rng.IntN(len(code.Payload)*2/3)
			damaged[off] = byte(rng.Uint32())
			changes = append(changes, fmt.Sprintf("%d=0x%02x", off, damaged[off]))
		}
		what := fmt.Sprintf("trial %d (%v)", trial, changes)
		m, wantErr := decode(damaged, 1)
		for _, w := range workerCounts[:2] {
			got, err := decode(damaged, w)
			sameError(t, fmt.Sprintf("%s, decode, %d workers", what, w), err, wantErr)
			if err == nil && !reflect.DeepEqual(got, m) {
				t.Fatalf("%s, %d workers: a different Module", what, w)
			}
		}
		if wantErr != nil {
			continue
		}
		wantErr = validate(m, 1)
		for _, w := range workerCounts[:2] {
			sameError(t, fmt.Sprintf("%s, validate, %d workers", what, w), validate(m, w), wantErr)
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

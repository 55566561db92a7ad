package suspend

import (
	"bytes"
	"os"
	"testing"

	"github.com/gate-wasm/gate/internal/testprog"
	"github.com/gate-wasm/gate/wasm"
)

// transformWith transforms bin with the given number of workers and chunk
// size, and returns the encoded output and the number of bodies the merge
// rewrote.
func transformWith(t *testing.T, bin []byte, workers, chunkBytes int) ([]byte, int) {
	t.Helper()
	tr, out := transformedWith(t, bin, workers, chunkBytes)
	return wasm.Encode(out), tr.rewritten
}

// TestWorkersSameOutput checks that the output does not depend on how
// the functions are shared among workers: one worker with one chunk, and
// several with chunks of one function each (so that chunks number the
// types and scratch globals they add otherwise than the output, and the
// merge rewrites their code), give the same bytes, for real C and Go
// programs and the spec suite's modules.
func TestWorkersSameOutput(t *testing.T) {
	programs := []string{
		testprog.C(t, "internal/testprog/src/c/sieve.c"),
		testprog.C(t, "internal/testprog/src/c/recurse.c"),
		testprog.Go(t, "examples/go/sleepers"),
	}
	rewritten := 0
	for _, path := range programs {
		bin, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		one, _ := transformWith(t, bin, 1, len(bin))
		for _, workers := range []int{1, 2, 5} {
			many, n := transformWith(t, bin, workers, 1)
			if !bytes.Equal(one, many) {
				t.Errorf("%s: %d workers, chunks of one function: output differs from one chunk's (%d and %d bytes)", path, workers, len(many), len(one))
			}
			rewritten += n
		}
	}
	if rewritten == 0 {
		t.Error("the merge rewrote no body: the test does not exercise fixups")
	}

	mods, err := validSpecModules()
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) == 0 {
		t.Skipf("WebAssembly spec suite not found in %s: set GATE_SPEC_DIR", specDir())
	}
	for _, sm := range mods {
		m, err := wasm.Decode(sm.binary)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Transform(m); err != nil {
			continue // TestSpec reports it
		}
		one, _ := transformWith(t, sm.binary, 1, len(sm.binary))
		many, _ := transformWith(t, sm.binary, 3, 1)
		if !bytes.Equal(one, many) {
			t.Errorf("%s: 3 workers, chunks of one function: output differs from one chunk's", sm.name)
		}
	}
}

// TestWorkersSameError checks that a module with several functions the
// transform refuses gives the error of the first, however many workers
// there are.
func TestWorkersSameError(t *testing.T) {
	loop := wasm.EncodeBody([]wasm.Instr{wasm.BlockInstr(wasm.OpLoop, wasm.BlockEmpty), op(wasm.OpEnd), op(wasm.OpEnd)})
	// A loop, then an add without operands: the typer refuses it.
	bad := wasm.EncodeBody([]wasm.Instr{wasm.BlockInstr(wasm.OpLoop, wasm.BlockEmpty), op(wasm.OpEnd), op(wasm.OpI32Add), op(wasm.OpDrop), op(wasm.OpEnd)})
	m := &wasm.Module{Types: []wasm.FuncType{{}}}
	for i := range 40 {
		body := loop
		if i == 13 || i == 14 || i == 31 {
			body = bad
		}
		m.Funcs = append(m.Funcs, 0)
		m.Code = append(m.Code, wasm.Code{Body: body})
	}
	want := ""
	for _, workers := range []int{1, 2, 4, 8} {
		for _, size := range []int{1, 5, 1 << 20} {
			tr := &transformer{in: m, workers: workers, chunkBytes: size}
			_, err := tr.run()
			if err == nil {
				t.Fatalf("%d workers, chunks of %d bytes: no error", workers, size)
			}
			if want == "" {
				want = err.Error()
				if !bytes.Contains([]byte(want), []byte("function 13")) {
					t.Fatalf("error %q is not about function 13, the first refused", want)
				}
			}
			if err.Error() != want {
				t.Errorf("%d workers, chunks of %d bytes: %v, want %s", workers, size, err, want)
			}
		}
	}
}

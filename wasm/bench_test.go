package wasm

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/gate-wasm/gate/internal/testprog"
)

// benchModules returns the modules to benchmark: $GATE_BENCH_MODULE if
// set, else the medium (4 MiB) and big (10 MiB) Go programs of
// bench/programs, built as bench builds them: Go compiled for wasip1 has
// the size and shape of what Gate runs. Without any, the benchmark is
// skipped.
func benchModules(b *testing.B) []benchMod {
	b.Helper()
	if path := os.Getenv("GATE_BENCH_MODULE"); path != "" {
		bin, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		return []benchMod{{filepath.Base(path), bin}}
	}
	var mods []benchMod
	for _, name := range []string{"medium", "big"} {
		path, err := testprog.BuildGo("bench/programs/" + name)
		if err != nil {
			b.Logf("building the %s Go program: %v", name, err)
			continue
		}
		bin, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		mods = append(mods, benchMod{name, bin})
	}
	if len(mods) == 0 {
		b.Skip("no module to benchmark: set GATE_BENCH_MODULE to a .wasm file, or install Go's wasip1 port")
	}
	return mods
}

type benchMod struct {
	name string
	bin  []byte
}

// eachModule runs bench as a sub-benchmark for each module of
// benchModules, with SetBytes the module's size, so that MB/s is the
// module's bytes per second.
func eachModule(b *testing.B, bench func(b *testing.B, bin []byte)) {
	for _, m := range benchModules(b) {
		b.Run(m.name, func(b *testing.B) {
			b.SetBytes(int64(len(m.bin)))
			bench(b, m.bin)
		})
	}
}

func mustDecode(b *testing.B, bin []byte) *Module {
	m, err := Decode(bin)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func BenchmarkDecode(b *testing.B) {
	eachModule(b, func(b *testing.B, bin []byte) {
		for b.Loop() {
			if _, err := Decode(bin); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkValidate(b *testing.B) {
	eachModule(b, func(b *testing.B, bin []byte) {
		m := mustDecode(b, bin)
		for b.Loop() {
			if err := Validate(m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	eachModule(b, func(b *testing.B, bin []byte) {
		m := mustDecode(b, bin)
		for b.Loop() {
			Encode(m)
		}
	})
}

// BenchmarkInstructions decodes every function body into one reused
// buffer, as a transform going through the functions would.
func BenchmarkInstructions(b *testing.B) {
	eachModule(b, func(b *testing.B, bin []byte) {
		m := mustDecode(b, bin)
		var buf []Instr
		for b.Loop() {
			for i := range m.Code {
				var err error
				if buf, err = m.Code[i].AppendInstructions(buf[:0]); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// BenchmarkRewrite decodes, re-encodes every function body and encodes
// the module: the codec's share of a transform that rewrites everything.
func BenchmarkRewrite(b *testing.B) {
	eachModule(b, func(b *testing.B, bin []byte) {
		var buf []Instr
		for b.Loop() {
			m, err := Decode(bin)
			if err != nil {
				b.Fatal(err)
			}
			for i := range m.Code {
				if buf, err = m.Code[i].AppendInstructions(buf[:0]); err != nil {
					b.Fatal(err)
				}
				m.Code[i].Body = EncodeBody(buf)
			}
			Encode(m)
		}
	})
}

func BenchmarkSpecSuite(b *testing.B) {
	var mods [][]byte
	size := 0
	specs, err := readSpecModules(specDirOrEmpty())
	if err != nil || len(specs) == 0 {
		b.Skip("spec suite not found")
	}
	for _, sm := range specs {
		if sm.kind == "valid" {
			mods = append(mods, sm.binary)
			size += len(sm.binary)
		}
	}
	b.SetBytes(int64(size))
	for b.Loop() {
		for _, bin := range mods {
			m, err := Decode(bin)
			if err != nil {
				b.Fatal(err)
			}
			if err := Validate(m); err != nil {
				b.Fatal(err)
			}
			Encode(m)
		}
	}
}

// BenchmarkBodyWorkers measures checking function bodies on one
// goroutine and on GOMAXPROCS of them, for code of a few sizes, to find
// from what size the goroutines pay (bytesPerWorker). The functions
// are of 600 bytes, about the median size of a Go program's.
func BenchmarkBodyWorkers(b *testing.B) {
	for _, size := range []int{16 << 10, 32 << 10, 64 << 10, 256 << 10} {
		bin := Encode(sizedModule(size))
		m := mustDecode(b, bin)
		for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
			b.Run(fmt.Sprintf("decode/%dKiB/workers=%d", size>>10, workers), func(b *testing.B) {
				b.SetBytes(int64(len(bin)))
				for b.Loop() {
					if _, err := decode(bin, workers); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(fmt.Sprintf("validate/%dKiB/workers=%d", size>>10, workers), func(b *testing.B) {
				b.SetBytes(int64(len(bin)))
				for b.Loop() {
					if err := validate(m, workers); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// sizedModule returns a valid module with about size bytes of function
// bodies: loads, arithmetic, blocks, branches and calls.
func sizedModule(size int) *Module {
	m := &Module{
		Types:    []FuncType{{Params: []ValType{I32}, Results: []ValType{I32}}},
		Memories: []Limits{{Min: 1}},
	}
	for total := 0; total < size; {
		var instrs []Instr
		for j := 0; j < 20; j++ {
			instrs = append(instrs,
				BlockInstr(OpBlock, BlockEmpty),
				Instr{Op: OpLocalGet, X: 0}, Instr{Op: OpI32Load, X: 2, Imm: uint64(j * 8)},
				Instr{Op: OpLocalGet, X: 1}, Instr{Op: OpI32Add}, Instr{Op: OpLocalTee, X: 1},
				Instr{Op: OpBrIf, X: 0},
				Instr{Op: OpLocalGet, X: 0}, Instr{Op: OpCall, X: uint32(len(m.Funcs) / 2)}, Instr{Op: OpLocalSet, X: 2},
				Instr{Op: OpLocalGet, X: 2}, i32c(int32(j*1000)), Instr{Op: OpI32Mul}, Instr{Op: OpLocalSet, X: 1},
				Instr{Op: OpEnd})
		}
		instrs = append(instrs, Instr{Op: OpLocalGet, X: 1}, Instr{Op: OpEnd})
		body := EncodeBody(instrs)
		m.Funcs = append(m.Funcs, 0)
		m.Code = append(m.Code, Code{Locals: []LocalDecl{{2, I32}}, Body: body})
		total += len(body)
	}
	return m
}

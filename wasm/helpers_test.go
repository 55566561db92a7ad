package wasm

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// header is the 8-byte preamble of every binary module.
var header = append(append([]byte{}, Magic...), Version...)

// mod assembles a module from already-encoded sections.
func mod(sections ...[]byte) []byte {
	return append(append([]byte{}, header...), bytes.Join(sections, nil)...)
}

// sec encodes a section with the minimal encoding of its size.
func sec(id SectionID, payload ...byte) []byte {
	return append(appendU32([]byte{byte(id)}, uint32(len(payload))), payload...)
}

// paddedSec encodes a section whose size takes exactly width bytes.
func paddedSec(id SectionID, width int, payload ...byte) []byte {
	return append(append([]byte{byte(id)}, padU32(uint32(len(payload)), width)...), payload...)
}

// padU32 encodes v in exactly width LEB128 bytes (1 to 5), padding with
// continuation bytes as the specification allows.
func padU32(v uint32, width int) []byte {
	b := make([]byte, width)
	for i := range b {
		b[i] = byte(v & 0x7f)
		v >>= 7
		if i < width-1 {
			b[i] |= 0x80
		}
	}
	if v != 0 {
		panic("padU32: value does not fit")
	}
	return b
}

// custom encodes a custom section with the given name and content.
func custom(name string, content ...byte) []byte {
	p := appendU32(nil, uint32(len(name)))
	p = append(p, name...)
	return sec(SectionCustom, append(p, content...)...)
}

// name encodes a WebAssembly name (length-prefixed bytes).
func name(s string) []byte {
	return append(appendU32(nil, uint32(len(s))), s...)
}

// cat concatenates byte slices and single bytes into one slice.
func cat(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch p := p.(type) {
		case []byte:
			b = append(b, p...)
		case byte:
			b = append(b, p)
		case int:
			b = append(b, byte(p))
		case string:
			b = append(b, p...)
		default:
			panic("cat: unsupported part")
		}
	}
	return b
}

// Common sections of the test modules.
var (
	typeSec     = sec(SectionType, 0x01, 0x60, 0x00, 0x00)       // (type (func))
	funcSec     = sec(SectionFunction, 0x01, 0x00)               // one function of type 0
	codeSec     = sec(SectionCode, 0x01, 0x02, 0x00, 0x0b)       // one empty body
	exportSec   = sec(SectionExport, cat(1, name("f"), 0, 0)...) // (export "f" (func 0))
	dataCntSec  = sec(SectionDataCount, 0x00)
	dataSec     = sec(SectionData, 0x00)
	elemSec     = sec(SectionElement, 0x00)
	globalSec   = sec(SectionGlobal, 0x01, 0x7f, 0x00, 0x41, 0x00, 0x0b) // (global i32 (i32.const 0))
	tableSec    = sec(SectionTable, 0x01, 0x70, 0x00, 0x01)              // (table 1 funcref)
	startSec    = sec(SectionStart, 0x00)
	importSec   = sec(SectionImport, cat(1, name("env"), name("f"), 0, 0)...)
	memMin1     = memSec(Limits{Min: 1})
	memMin1Max2 = memSec(Limits{Min: 1, Max: 2, HasMax: true})
)

// memSec encodes a memory section with one memory of limits l.
func memSec(l Limits) []byte {
	return sec(SectionMemory, appendLimits([]byte{1}, l)...)
}

// wat2wasm assembles WebAssembly text into a binary module with the wabt
// tool, skipping the test when the tool is not installed.
func wat2wasm(t testing.TB, wat string) []byte {
	t.Helper()
	tool, err := exec.LookPath("wat2wasm")
	if err != nil {
		t.Skip("wat2wasm not on PATH; install wabt (e.g. apt-get install wabt) to run this test")
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "m.wat"), filepath.Join(dir, "m.wasm")
	if err := os.WriteFile(in, []byte(wat), 0o644); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command(tool, in, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm: %v\n%s", err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sectionsExcept returns module's sections other than id, each as its full
// encoding (id, size and payload), to compare around a rewrite.
func sectionsExcept(t testing.TB, module []byte, id SectionID) [][]byte {
	t.Helper()
	sections, err := ReadSections(module)
	if err != nil {
		t.Fatalf("ReadSections: %v", err)
	}
	var out [][]byte
	for _, s := range sections {
		if s.ID != id {
			out = append(out, module[s.Start:s.Offset+len(s.Payload)])
		}
	}
	return out
}

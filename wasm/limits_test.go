package wasm_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gate-wasm/gate/internal/hostile"
	"github.com/gate-wasm/gate/internal/testprog"
	"github.com/gate-wasm/gate/wasm"
)

// overLimit decodes bin with limits lim and wants a *LimitError naming
// limit.
func overLimit(t *testing.T, name string, bin []byte, lim wasm.ModuleLimits, limit string) {
	t.Helper()
	_, err := wasm.DecodeWith(bin, wasm.DecodeOptions{Limits: &lim})
	var le *wasm.LimitError
	if !errors.As(err, &le) {
		t.Errorf("%s: got %v, want a limit error for %s", name, err, limit)
		return
	}
	if le.Limit != limit {
		t.Errorf("%s: limit %q, want %q (%v)", name, le.Limit, limit, err)
	}
	if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), limit) {
		t.Errorf("%s: %q is not one line naming %q", name, err, limit)
	}
}

// within decodes and validates bin with limits lim and wants no error.
func within(t *testing.T, name string, bin []byte, lim wasm.ModuleLimits) {
	t.Helper()
	m, err := wasm.DecodeWith(bin, wasm.DecodeOptions{Limits: &lim})
	if err == nil {
		err = wasm.Validate(m)
	}
	if err != nil {
		t.Errorf("%s: %v", name, err)
	}
}

// TestLimits takes each limit to its value and one past it.
func TestLimits(t *testing.T) {
	grow := hostile.TableGrow(1, false) // a table, a local, an if
	for _, c := range []struct {
		limit    string
		set      func(l *wasm.ModuleLimits, v uint32)
		at, past []byte
		v        uint32
	}{
		{"locals", func(l *wasm.ModuleLimits, v uint32) { l.Locals = v }, hostile.LocalsLoops(100, 1), hostile.LocalsLoops(101, 1), 100},
		{"blocks nested", func(l *wasm.ModuleLimits, v uint32) { l.BlockDepth = v }, hostile.NestedBlocks(50, false), hostile.NestedBlocks(51, false), 50},
		{"blocks nested", func(l *wasm.ModuleLimits, v uint32) { l.BlockDepth = v }, hostile.NestedLoops(50, true, 0), hostile.NestedLoops(51, true, 0), 50},
		{"loops nested", func(l *wasm.ModuleLimits, v uint32) { l.LoopDepth = v }, hostile.NestedLoops(50, true, 0), hostile.NestedLoops(51, true, 0), 50},
		{"loops nested", func(l *wasm.ModuleLimits, v uint32) { l.LoopDepth = v }, hostile.NestedBlocks(51, false), hostile.NestedLoops(51, false, 0), 50},
		{"br_table targets", func(l *wasm.ModuleLimits, v uint32) { l.BrTableTargets = v }, hostile.BrTable(1000), hostile.BrTable(1001), 1000},
		{"functions", func(l *wasm.ModuleLimits, v uint32) { l.Functions = v }, hostile.Functions(97), hostile.Functions(98), 100},
		{"bytes of a function body", func(l *wasm.ModuleLimits, v uint32) { l.FunctionSize = v }, hostile.LocalsCalls(0, 500), hostile.LocalsCalls(0, 501), 1 + 2*500 + 1},
		{"initial elements of a table", func(l *wasm.ModuleLimits, v uint32) { l.TableSize = v }, tableOf(grow, 1), tableOf(grow, 2), 1},
		{"tables", func(l *wasm.ModuleLimits, v uint32) { l.Tables = v }, grow, edit(grow, func(m *wasm.Module) { m.Tables = append(m.Tables, m.Tables[0]) }), 1},
		{"exports", func(l *wasm.ModuleLimits, v uint32) { l.Exports = v }, grow, edit(grow, func(m *wasm.Module) {
			m.Exports = append(m.Exports, wasm.Export{Name: "again", Kind: wasm.ExternFunc})
		}), 2},
		{"types", func(l *wasm.ModuleLimits, v uint32) { l.Types = v }, grow, edit(grow, func(m *wasm.Module) { m.Types = append(m.Types, wasm.FuncType{}) }), 1},
		{"parameters of a function type", func(l *wasm.ModuleLimits, v uint32) { l.Params = v },
			edit(grow, func(m *wasm.Module) {
				m.Types = append(m.Types, wasm.FuncType{Params: []wasm.ValType{wasm.I32, wasm.I32, wasm.I32}})
			}),
			edit(grow, func(m *wasm.Module) {
				m.Types = append(m.Types, wasm.FuncType{Params: []wasm.ValType{wasm.I32, wasm.I32, wasm.I32, wasm.I32}})
			}), 3},
		{"globals", func(l *wasm.ModuleLimits, v uint32) { l.Globals = v }, withGlobals(grow, 2), withGlobals(grow, 3), 2},
		{"data segments", func(l *wasm.ModuleLimits, v uint32) { l.DataSegments = v }, withData(grow, 4), withData(grow, 5), 4},
		{"bytes of module", func(l *wasm.ModuleLimits, v uint32) { l.ModuleSize = uint64(v) }, grow, grow, uint32(len(grow))},
	} {
		lim := wasm.ModuleLimits{}
		c.set(&lim, c.v)
		within(t, c.limit+" at the limit", c.at, lim)
		if c.limit == "bytes of module" {
			c.set(&lim, c.v-1)
		}
		overLimit(t, c.limit+" past the limit", c.past, lim, c.limit)
	}
}

// edit returns bin changed by change.
func edit(bin []byte, change func(m *wasm.Module)) []byte {
	m, err := wasm.Decode(bin)
	if err != nil {
		panic(err)
	}
	change(m)
	return wasm.Encode(m)
}

// tableOf returns bin with its table's minimum set to min.
func tableOf(bin []byte, min uint32) []byte {
	return edit(bin, func(m *wasm.Module) { m.Tables[0].Limits.Min = min })
}

// withGlobals returns bin with n immutable i32 globals.
func withGlobals(bin []byte, n int) []byte {
	return edit(bin, func(m *wasm.Module) {
		for range n {
			m.Globals = append(m.Globals, wasm.Global{Type: wasm.GlobalType{Type: wasm.I32},
				Init: wasm.EncodeBody([]wasm.Instr{{Op: wasm.OpI32Const}, {Op: wasm.OpEnd}})})
		}
	})
}

// withData returns bin with n passive data segments.
func withData(bin []byte, n int) []byte {
	return edit(bin, func(m *wasm.Module) {
		for range n {
			m.Data = append(m.Data, wasm.Data{Mode: wasm.Passive, Flags: 1, Init: []byte("x")})
		}
	})
}

// TestDefaultLimitsRefuse decodes the shapes that the default limits
// must refuse before any body is checked in full: each one, several MB
// of code, is refused at the instruction past the limit.
func TestDefaultLimitsRefuse(t *testing.T) {
	lim := wasm.DefaultModuleLimits()
	for _, c := range []struct {
		name, limit string
		bin         []byte
	}{
		{"br_table of 1,000,000 targets", "br_table targets", hostile.BrTable(1_000_000)},
		{"100,000 nested blocks", "blocks nested", hostile.NestedBlocks(100_000, false)},
		{"1,000,000 nested blocks", "blocks nested", hostile.NestedBlocks(1_000_000, false)},
		{"100,000 nested loops", "loops nested", hostile.NestedLoops(100_000, true, 0)},
		{"1,000,000 nested loops", "loops nested", hostile.NestedLoops(1_000_000, false, 0)},
		{"257 nested loops", "loops nested", hostile.NestedLoops(257, true, 0)},
		{"50,001 locals", "locals", hostile.LocalsLoops(50_001, 1)},
	} {
		overLimit(t, c.name, c.bin, lim, c.limit)
	}
	for _, c := range []struct {
		name string
		bin  []byte
	}{
		{"50,000 locals × 5,000 loops", hostile.LocalsLoops(50_000, 5_000)},
		{"50,000 locals × 5,000 calls", hostile.LocalsCalls(50_000, 5_000)},
		{"100,000 functions", hostile.Functions(100_000)},
		{"8,192 nested blocks", hostile.NestedBlocks(8_192, false)},
		{"256 nested loops", hostile.NestedLoops(256, true, 50_000)},
		{"br_table of 16,384 targets", hostile.BrTable(16_384)},
	} {
		within(t, c.name, c.bin, lim)
	}
}

// TestDefaultLimitsAdmitPrograms decodes real programs, C and Go, under
// the default limits.
func TestDefaultLimitsAdmitPrograms(t *testing.T) {
	lim := wasm.DefaultModuleLimits()
	var paths []string
	for _, src := range []string{"examples/go/hello", "internal/testprog/src/go/workers", "bench/programs/medium"} {
		p, err := testprog.BuildGo(src)
		if err != nil {
			t.Fatalf("building %s: %v", src, err)
		}
		paths = append(paths, p)
	}
	if p, err := testprog.BuildC("internal/testprog/src/c/sieve.c"); err == nil {
		paths = append(paths, p)
	} else {
		t.Logf("no C program: %v", err)
	}
	for _, p := range paths {
		bin, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		within(t, filepath.Base(p), bin, lim)
	}
}

// TestImportsBeforeCode checks that DecodeWith asks about the imports
// before it reads any function body: a module that imports what the host
// refuses is refused for that even when its code is malformed.
func TestImportsBeforeCode(t *testing.T) {
	m, err := wasm.Decode(hostile.LocalsCalls(0, 10))
	if err != nil {
		t.Fatal(err)
	}
	m.Imports = []wasm.Import{{Module: "env", Name: "nope", Kind: wasm.ExternFunc}}
	bin := wasm.Encode(m)
	// Damage the last function's final end: a malformed body.
	bin[len(bin)-1] = 0xff
	refuse := errors.New("env.nope is not provided")
	var seen []wasm.Import
	_, err = wasm.DecodeWith(bin, wasm.DecodeOptions{Imports: func(types []wasm.FuncType, imports []wasm.Import) error {
		seen = imports
		if len(types) != 1 {
			t.Errorf("%d types, want 1", len(types))
		}
		return refuse
	}})
	if err != refuse {
		t.Fatalf("got %v, want the hook's error", err)
	}
	if len(seen) != 1 || seen[0].Name != "nope" {
		t.Errorf("the hook saw %v", seen)
	}
	if _, err := wasm.DecodeWith(bin, wasm.DecodeOptions{Imports: func([]wasm.FuncType, []wasm.Import) error { return nil }}); err == nil {
		t.Error("a malformed body was accepted")
	}
}

// TestReadModule reads files that are not modules or too large: each is
// refused on its first bytes or its size, without reading it.
func TestReadModule(t *testing.T) {
	dir := t.TempDir()
	header := append(append([]byte{}, wasm.Magic...), wasm.Version...)
	for _, c := range []struct {
		name   string
		size   int64
		prefix []byte
		want   func(error) bool
	}{
		{"3 GB of zeros", 3 << 30, nil, func(err error) bool { return errors.Is(err, wasm.ErrNotModule) }},
		{"12 GB of zeros", 12 << 30, nil, func(err error) bool { return errors.Is(err, wasm.ErrNotModule) }},
		{"3 GB after a header", 3 << 30, header, isLimit},
		{"12 GB after a header", 12 << 30, header, isLimit},
	} {
		path := filepath.Join(dir, "m.wasm")
		if err := hostile.SparseFile(path, c.size, c.prefix); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		_, err = wasm.ReadModule(f, c.size, 128<<20)
		if !c.want(err) {
			t.Errorf("%s: %v", c.name, err)
		}
		// A stream of unknown size (a pipe) is read only up to the
		// limit.
		f.Seek(0, io.SeekStart)
		counted := &countingReader{r: f}
		_, err = wasm.ReadModule(counted, -1, 1<<20)
		if !c.want(err) {
			t.Errorf("%s as a stream: %v", c.name, err)
		}
		if counted.n > 1<<20+4096 {
			t.Errorf("%s as a stream: %d bytes read for a limit of 1 MiB", c.name, counted.n)
		}
		f.Close()
	}
	// A module at the limit is read whole, from a file or a stream.
	bin := hostile.Functions(10)
	for _, size := range []int64{int64(len(bin)), -1} {
		got, err := wasm.ReadModule(bytes.NewReader(bin), size, uint64(len(bin)))
		if err != nil || !bytes.Equal(got, bin) {
			t.Errorf("size %d: %v", size, err)
		}
	}
	if _, err := wasm.ReadModule(bytes.NewReader(bin), -1, uint64(len(bin)-1)); !isLimit(err) {
		t.Errorf("a stream one byte over: %v", err)
	}
}

func isLimit(err error) bool {
	var le *wasm.LimitError
	return errors.As(err, &le)
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

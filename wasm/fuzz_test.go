package wasm

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/gate-wasm/gate/internal/testprog"
)

// fuzzSeeds are small valid modules, and a few near misses, for the
// fuzzers' seed corpus.
func fuzzSeeds() [][]byte {
	return [][]byte{
		mod(),
		mod(memMin1),
		mod(memMin1Max2),
		mod(memSec(Limits{Min: MaxPages, Max: MaxPages, HasMax: true})),
		mod(sec(SectionMemory, 0)),
		mod(paddedSec(SectionMemory, 5, 0x81, 0x00, 0x01, 0x81, 0x00, 0x82, 0x80, 0x00)),
		mod(custom("name", 1, 2), typeSec, importsSec(imp("env", "f", 0, 0), imp("env", "m", 2, 0, 1)),
			funcSec, tableSec, globalSec, exportSec, startSec, elemSec, dataCntSec, codeSec, dataSec),
		mod(typeSec, importSec, funcSec, memSec(Limits{Min: 2}), exportSec, codeSec, custom("z")),
		mod(importsSec(imp("a", "t", 1, 0x70, 1, 0, 1), imp("b", "g", 3, 0x7f, 1))),
		mod(memMin1, memMin1),
		mod(sec(SectionMemory, 1, 1, 2, 1)),
	}
}

func FuzzReadSections(f *testing.F) {
	for _, m := range fuzzSeeds() {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, m []byte) {
		orig := bytes.Clone(m)
		sections, err := ReadSections(m)
		if err != nil {
			if sections != nil {
				t.Fatalf("sections returned with error %v", err)
			}
			var fe *FormatError
			if !errors.Is(err, ErrNotModule) && !errors.As(err, &fe) {
				t.Fatalf("error %v (%T) is neither ErrNotModule nor a *FormatError", err, err)
			}
			if fe != nil && (fe.Offset < 0 || fe.Offset > len(m)) {
				t.Fatalf("error offset %d outside the module of %d bytes", fe.Offset, len(m))
			}
		} else {
			// The sections tile the module after its header.
			end := 8
			for _, s := range sections {
				if s.Start != end || s.Offset <= s.Start || s.Offset > s.Start+6 ||
					SectionID(m[s.Start]) != s.ID || s.Offset+len(s.Payload) > len(m) {
					t.Fatalf("bad section %v start %d offset %d len %d after %d", s.ID, s.Start, s.Offset, len(s.Payload), end)
				}
				end = s.Offset + len(s.Payload)
			}
			if end != len(m) {
				t.Fatalf("sections end at %d of %d bytes", end, len(m))
			}
		}
		// The decoders built on the framing must not panic either.
		Imports(m)
		Memory(m)
		if !bytes.Equal(m, orig) {
			t.Fatal("input modified")
		}
	})
}

func FuzzCapMemory(f *testing.F) {
	for _, m := range fuzzSeeds() {
		for _, c := range []uint32{0, 1, 16, MaxPages, MaxPages + 1} {
			f.Add(m, c)
		}
	}
	f.Fuzz(func(t *testing.T, m []byte, capPages uint32) {
		orig := bytes.Clone(m)
		out, err := CapMemory(m, capPages)
		if !bytes.Equal(m, orig) {
			t.Fatal("input modified")
		}
		before, hadMem, memErr := Memory(m)
		if err != nil {
			if out != nil {
				t.Fatalf("output returned with error %v", err)
			}
			var ce *MemoryCapError
			if errors.As(err, &ce) {
				if memErr != nil || !hadMem || before.Min <= capPages || ce.MinPages != before.Min {
					t.Fatalf("%v for memory %+v, %v, %v", err, before, hadMem, memErr)
				}
			} else if memErr == nil {
				t.Fatalf("CapMemory: %v, but Memory accepts the module", err)
			}
			return
		}
		if memErr != nil {
			t.Fatalf("CapMemory accepted a module Memory refuses: %v", memErr)
		}
		if _, err := ReadSections(out); err != nil {
			t.Fatalf("ReadSections(output): %v", err)
		}
		l, ok, err := Memory(out)
		if err != nil {
			t.Fatalf("Memory(output): %v", err)
		}
		if ok != hadMem {
			t.Fatalf("output defines a memory: %v; input: %v", ok, hadMem)
		}
		if ok {
			if !l.HasMax || l.Max > capPages || l.Min != before.Min {
				t.Fatalf("output memory %+v from %+v under cap %d", l, before, capPages)
			}
			if before.HasMax && before.Max <= capPages && l != before {
				t.Fatalf("memory %+v under cap %d changed to %+v", before, capPages, l)
			}
		} else if !bytes.Equal(out, m) {
			t.Fatal("module without a memory changed")
		}
		checkOnlyMemoryChanged(t, m, out)
		if i1, err1 := Imports(m); err1 == nil {
			if i2, err2 := Imports(out); err2 != nil || len(i2) != len(i1) {
				t.Fatalf("Imports(output) = %v, %v; input had %v", i2, err2, i1)
			}
		}
		// Capping is idempotent.
		again, err := CapMemory(out, capPages)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("capping the output again: % x, %v", again, err)
		}
	})
}

// FuzzDecode feeds Decode arbitrary bytes, seeded with the modules of the
// spec suite (valid, malformed and invalid ones alike). Nothing may
// panic; errors must be the package's and point inside the input; a
// module that decodes must encode back to its bytes; and a module that
// also validates must survive a canonical re-encoding, function bodies
// included, as the same valid module.
func FuzzDecode(f *testing.F) {
	for _, m := range fuzzSeeds() {
		f.Add(m)
	}
	if mods, err := readSpecModules(specDirOrEmpty()); err == nil {
		for _, sm := range mods {
			f.Add(sm.binary)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		orig := bytes.Clone(b)
		m, err := Decode(b)
		if !bytes.Equal(b, orig) {
			t.Fatal("input modified")
		}
		// Bodies checked on several goroutines give what one gives.
		m3, err3 := decode(b, 3)
		sameError(t, "decode on 3 goroutines", err3, err)
		checkLimited(t, b, m, err)
		if err != nil {
			checkDecodeError(t, err, len(b))
			return
		}
		if !reflect.DeepEqual(m3, m) {
			t.Fatal("decode on 3 goroutines: a different Module")
		}
		if out := Encode(m); !bytes.Equal(out, b) {
			t.Fatalf("Encode(Decode(b)) differs from b:\n% x\n% x", out, b)
		}
		err = Validate(m)
		sameError(t, "validate on 3 goroutines", validate(m, 3), err)
		if err != nil {
			var ve *ValidationError
			var fe *FormatError
			if !errors.As(err, &ve) && !errors.As(err, &fe) {
				t.Fatalf("Validate: %v (%T) is neither a *ValidationError nor a *FormatError", err, err)
			}
			return
		}
		if err := checkInstrRoundTrip(m); err != nil {
			t.Fatal(err)
		}
		if err := checkFuncStacks(m); err != nil {
			t.Fatal(err)
		}
		if err := checkCanonical(m); err != nil {
			t.Fatal(err)
		}
	})
}

func checkDecodeError(t *testing.T, err error, size int) {
	t.Helper()
	var fe *FormatError
	switch {
	case errors.Is(err, ErrNotModule):
	case errors.As(err, &fe):
		if fe.Offset < 0 || fe.Offset > size {
			t.Fatalf("error offset %d outside the module of %d bytes: %v", fe.Offset, size, err)
		}
	default:
		t.Fatalf("error %v (%T) is neither ErrNotModule nor a *FormatError", err, err)
	}
}

// specDirOrEmpty is specDir for code without a *testing.T: the suite's
// directory, or "" when there is none.
func specDirOrEmpty() string { return testprog.SpecDir() }

// fuzzLimits are small enough for fuzzed modules to reach.
var fuzzLimits = ModuleLimits{
	ModuleSize: 4096, Types: 4, Params: 3, Results: 2, Imports: 3, Functions: 5, Tables: 2,
	TableSize: 8, Globals: 3, Exports: 3, ElementSegments: 2, Elements: 4, DataSegments: 2,
	FunctionSize: 64, Locals: 6, BlockDepth: 3, LoopDepth: 2, BrTableTargets: 2,
}

// checkLimited decodes b with fuzzLimits and checks the result against
// Decode's (m, err): a module over a limit is refused with a
// *LimitError that is true of it, and one within them decodes as
// without limits.
func checkLimited(t *testing.T, b []byte, m *Module, err error) {
	t.Helper()
	lm, lerr := DecodeWith(b, DecodeOptions{Limits: &fuzzLimits})
	var le *LimitError
	switch {
	case errors.As(lerr, &le):
		if le.Value <= le.Max || le.Offset < 0 || le.Offset > len(b) {
			t.Fatalf("limit error that does not hold, or outside the input: %v", lerr)
		}
	case lerr != nil:
		if err == nil {
			t.Fatalf("DecodeWith: %v; Decode: no error", lerr)
		}
	case err != nil:
		t.Fatalf("DecodeWith: no error; Decode: %v", err)
	default:
		if !reflect.DeepEqual(lm, m) {
			t.Fatal("DecodeWith: a different Module")
		}
		if msg := overLimits(lm, fuzzLimits); msg != "" {
			t.Fatalf("DecodeWith accepted a module over a limit: %s", msg)
		}
	}
}

// overLimits names a limit of lim that m exceeds, or returns "".
func overLimits(m *Module, lim ModuleLimits) string {
	funcs := m.NumImports(ExternFunc) + len(m.Funcs)
	switch {
	case len(m.Types) > int(lim.Types):
		return "types"
	case len(m.Imports) > int(lim.Imports):
		return "imports"
	case funcs > int(lim.Functions):
		return "functions"
	case m.NumImports(ExternTable)+len(m.Tables) > int(lim.Tables):
		return "tables"
	case m.NumImports(ExternGlobal)+len(m.Globals) > int(lim.Globals):
		return "globals"
	case len(m.Exports) > int(lim.Exports):
		return "exports"
	case len(m.Elements) > int(lim.ElementSegments):
		return "element segments"
	case len(m.Data) > int(lim.DataSegments):
		return "data segments"
	}
	for _, ft := range m.Types {
		if len(ft.Params) > int(lim.Params) || len(ft.Results) > int(lim.Results) {
			return "parameters or results"
		}
	}
	for _, tt := range m.Tables {
		if tt.Limits.Min > lim.TableSize {
			return "table size"
		}
	}
	for _, e := range m.Elements {
		if len(e.Funcs)+len(e.Exprs) > int(lim.Elements) {
			return "elements"
		}
	}
	for i := range m.Code {
		c := &m.Code[i]
		if len(c.Body) > int(lim.FunctionSize) {
			return "function size"
		}
		instrs, err := c.Instructions()
		if err != nil {
			return "undecodable body: " + err.Error()
		}
		var open []Opcode
		loops := 0
		for _, in := range instrs {
			switch in.Op {
			case OpBlock, OpLoop, OpIf:
				if open = append(open, in.Op); len(open) > int(lim.BlockDepth) {
					return "block depth"
				}
				if in.Op == OpLoop {
					if loops++; loops > int(lim.LoopDepth) {
						return "loop depth"
					}
				}
			case OpEnd:
				if len(open) > 0 {
					if open[len(open)-1] == OpLoop {
						loops--
					}
					open = open[:len(open)-1]
				}
			case OpBrTable:
				if len(in.Labels) > int(lim.BrTableTargets) {
					return "br_table targets"
				}
			}
		}
	}
	return ""
}

// FuzzCapTables caps the tables of arbitrary modules: nothing may panic;
// a module that decodes keeps decoding, as the same module but for its
// tables' maxima, which hold together at most the cap; capping again
// changes nothing.
func FuzzCapTables(f *testing.F) {
	for _, m := range fuzzSeeds() {
		for _, c := range []uint32{0, 1, 16, 1 << 16, 10_000_000} {
			f.Add(m, c)
		}
	}
	f.Fuzz(func(t *testing.T, m []byte, capElements uint32) {
		orig := bytes.Clone(m)
		out, err := CapTables(m, capElements)
		if !bytes.Equal(m, orig) {
			t.Fatal("input modified")
		}
		before, decErr := Decode(m)
		if err != nil {
			if out != nil {
				t.Fatalf("output returned with error %v", err)
			}
			var ce *TableCapError
			if errors.As(err, &ce) && decErr == nil {
				var initial uint64
				for _, tt := range before.Tables {
					initial += uint64(tt.Limits.Min)
				}
				if initial <= uint64(capElements) || ce.MinElements != initial {
					t.Fatalf("%v for tables %+v", err, before.Tables)
				}
			}
			return
		}
		if decErr != nil {
			return // framing only: what Decode refuses may pass
		}
		after, err := Decode(out)
		if err != nil {
			t.Fatalf("Decode(output): %v", err)
		}
		var total uint64
		for i, tt := range after.Tables {
			if !tt.Limits.HasMax || tt.Limits.Min != before.Tables[i].Limits.Min || tt.Limits.Max < tt.Limits.Min {
				t.Fatalf("table %d: %+v from %+v", i, tt.Limits, before.Tables[i].Limits)
			}
			total += uint64(tt.Limits.Max)
		}
		if len(after.Tables) > 0 && total > uint64(capElements) {
			// Tables whose declared maxima were already lower may
			// leave the total lower, never higher.
			t.Fatalf("tables hold %d elements together, over the cap of %d", total, capElements)
		}
		after.Tables = before.Tables
		if !reflect.DeepEqual(Encode(after), Encode(before)) {
			t.Fatal("more than the tables changed")
		}
		again, err := CapTables(out, capElements)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("capping the output again: %v", err)
		}
	})
}

package wasm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
)

// specModule is one binary module of the spec suite and what the suite
// expects of it.
type specModule struct {
	name   string // file name, such as "binary.12.wasm"
	kind   string // "valid", "malformed" or "invalid"
	text   string // the error the suite expects
	binary []byte
}

var (
	specOnce    sync.Once
	specModules []specModule
	specErr     error
)

// loadSpecModules reads every binary module of the spec suite once per
// test binary. Modules that only fail to link or instantiate are valid.
func loadSpecModules(t *testing.T) []specModule {
	dir := specDir(t)
	specOnce.Do(func() { specModules, specErr = readSpecModules(dir) })
	if specErr != nil {
		t.Fatal(specErr)
	}
	if len(specModules) == 0 {
		t.Skipf("WebAssembly spec suite not found in %s (set GATE_SPEC_DIR)", dir)
	}
	return specModules
}

func readSpecModules(dir string) ([]specModule, error) {
	files, err := filepath.Glob(filepath.Join(dir, "json", "*", "*.json"))
	if err != nil {
		return nil, err
	}
	kinds := map[string]string{"module": "valid", "assert_unlinkable": "valid", "assert_uninstantiable": "valid",
		"assert_malformed": "malformed", "assert_invalid": "invalid"}
	var mods []specModule
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		var script struct {
			Commands []specCommand `json:"commands"`
		}
		if err := json.Unmarshal(data, &script); err != nil {
			return nil, err
		}
		for _, c := range script.Commands {
			kind, ok := kinds[c.Type]
			if !ok || filepath.Ext(c.Filename) != ".wasm" {
				continue
			}
			b, err := os.ReadFile(filepath.Join(filepath.Dir(file), c.Filename))
			if err != nil {
				return nil, err
			}
			mods = append(mods, specModule{name: c.Filename, kind: kind, text: c.Text, binary: b})
		}
	}
	return mods, nil
}

// specExceptions lists the modules whose outcome differs from what the
// suite expects, each with the reason. It is empty: every module passes.
var specExceptions = map[string]string{}

// specReasons translates the errors the suite expects into words of this
// package's errors. Binary modules cut short or with wrong section sizes
// are reported at different points by different decoders (the reference
// decoder reads past the end of a section, this one stops there), so
// those texts accept any of the framing errors.
var specReasons = func() map[string][]string {
	framing := []string{"unexpected end", "left over", "after the final end", "after its end", "declares",
		"does not start with", "the file is empty", "illegal opcode", "out of order"}
	return map[string][]string{
		"unexpected end":                        framing,
		"unexpected end of section or function": framing,
		"section size mismatch":                 framing,
		"length out of bounds":                  framing,
		"END opcode expected":                   framing,
		"illegal opcode":                        framing,
		"magic header not detected":             {"does not start with"},
		"unknown binary version":                {"binary format version"},
		"malformed section id":                  {"unknown section id"},
		"malformed UTF-8 encoding":              {"not valid UTF-8"},
		"malformed import kind":                 {"unknown kind"},
		"malformed mutability":                  {"mutability"},
		"malformed reference type":              {"not a reference type", "malformed reference type"},
		"unexpected content after last section": {"out of order"},
		// The reference decoder reads limits flags and the function type
		// form as LEB128 integers, and reads a section's content before
		// the next section's header; this decoder reads them as bytes and
		// splits the sections first. The same bytes are refused for what
		// they are here: a bad flag or form, or a section size that cuts
		// an integer so that its next byte is no section id.
		"integer too large":                              {"integer too large", "limits flags"},
		"integer representation too long":                {"integer representation too long", "limits flags", "not a function type", "unknown section id 128"},
		"size minimum must not be greater than maximum":  {"is below minimum"},
		"memory size must be at most 65536 pages (4GiB)": {"memory size must be at most 65536 pages"},
		// wast2json writes (select (result)) as a plain select, whose
		// missing operand is a type mismatch.
		"invalid result arity": {"invalid result arity", "type mismatch"},
	}
}()

func reasonMatches(text string, err error) bool {
	alternatives, ok := specReasons[text]
	if !ok {
		alternatives = []string{text}
	}
	for _, a := range alternatives {
		if strings.Contains(err.Error(), a) {
			return true
		}
	}
	return false
}

// TestSpecModules checks Decode, Validate and Encode against every
// binary module of the spec suite: valid modules decode, validate and
// encode back to the same bytes, and so do their function bodies at the
// instruction level; malformed ones fail to decode and invalid ones to
// validate, for the reason the suite gives.
func TestSpecModules(t *testing.T) {
	type tally struct{ pass, fail, excepted int }
	counts := map[string]*tally{"valid": {}, "malformed": {}, "invalid": {}}
	for _, sm := range loadSpecModules(t) {
		err := checkSpecOutcome(sm)
		c := counts[sm.kind]
		reason, excepted := specExceptions[sm.name]
		switch {
		case excepted && err != nil:
			c.excepted++
			t.Logf("%s: excepted (%s): %v", sm.name, reason, err)
		case excepted:
			c.fail++
			t.Errorf("%s: listed as an exception (%s) but passes", sm.name, reason)
		case err != nil:
			c.fail++
			t.Errorf("%s (%s): %v", sm.name, sm.kind, err)
		default:
			c.pass++
		}
	}
	kinds := []string{"valid", "malformed", "invalid"}
	for _, k := range kinds {
		c := counts[k]
		t.Logf("spec suite, %s modules: %d pass, %d fail, %d excepted", k, c.pass, c.fail, c.excepted)
	}
}

// checkSpecOutcome returns what differs from the suite's expectation.
func checkSpecOutcome(sm specModule) error {
	m, err := Decode(sm.binary)
	switch sm.kind {
	case "malformed":
		if err == nil {
			if err := Validate(m); err != nil {
				return fmt.Errorf("decodes, fails only validation: %v", err)
			}
			return fmt.Errorf("accepted; want %q", sm.text)
		}
		if !reasonMatches(sm.text, err) {
			return fmt.Errorf("refused with %v; want %q", err, sm.text)
		}
		return nil
	case "invalid":
		if err != nil {
			return fmt.Errorf("malformed: %v; want invalid: %q", err, sm.text)
		}
		err := Validate(m)
		if err == nil {
			return fmt.Errorf("valid; want %q", sm.text)
		}
		if !reasonMatches(sm.text, err) {
			return fmt.Errorf("refused with %v; want %q", err, sm.text)
		}
		return nil
	}
	if err != nil {
		return err
	}
	if err := Validate(m); err != nil {
		return err
	}
	if out := Encode(m); !bytes.Equal(out, sm.binary) {
		return errors.New("Encode does not give back the decoded bytes")
	}
	if err := checkInstrRoundTrip(m); err != nil {
		return err
	}
	if err := checkFuncStacks(m); err != nil {
		return err
	}
	return checkCanonical(m)
}

// checkInstrRoundTrip decodes every function body and constant
// expression, encodes the instructions and decodes them again: the
// instructions must be the same, and encoding them again gives the same
// bytes.
func checkInstrRoundTrip(m *Module) error {
	var exprs [][]byte
	for _, c := range m.Code {
		exprs = append(exprs, c.Body)
	}
	for _, g := range m.Globals {
		exprs = append(exprs, g.Init)
	}
	for _, e := range m.Elements {
		exprs = append(append(exprs, e.Offset), e.Exprs...)
	}
	for _, d := range m.Data {
		exprs = append(exprs, d.Offset)
	}
	for i, x := range exprs {
		if x == nil {
			continue // passive segments have no offset
		}
		instrs, err := DecodeBody(x)
		if err != nil {
			return err
		}
		enc := EncodeBody(instrs)
		again, err := DecodeBody(enc)
		if err != nil {
			return fmt.Errorf("decoding EncodeBody's output: %v", err)
		}
		if !reflect.DeepEqual(again, instrs) {
			return fmt.Errorf("expression %d: instructions change through EncodeBody and DecodeBody", i)
		}
		if !bytes.Equal(EncodeBody(again), enc) {
			return errors.New("EncodeBody is not stable")
		}
		// AppendInstructionStarts gives the same instructions, and where
		// each starts.
		again, starts, err := (&Code{Body: x}).AppendInstructionStarts(nil, nil)
		if err != nil {
			return fmt.Errorf("expression %d: AppendInstructionStarts: %v", i, err)
		}
		if !reflect.DeepEqual(again, instrs) || len(starts) != len(instrs) {
			return fmt.Errorf("expression %d: AppendInstructionStarts gives other instructions, or %d starts for %d", i, len(starts), len(instrs))
		}
		for j, off := range starts {
			first := byte(instrs[j].Op)
			if instrs[j].Op>>8 != 0 {
				first = byte(instrs[j].Op >> 8)
			}
			if j == 0 && off != 0 || j > 0 && off <= starts[j-1] || off >= len(x) || x[off] != first {
				return fmt.Errorf("expression %d: instruction %d (%v) starts at %d", i, j, instrs[j].Op, off)
			}
		}
		// Opcodes visits the same opcodes.
		var ops []Opcode
		if err := (&Code{Body: x}).Opcodes(func(op Opcode) { ops = append(ops, op) }); err != nil {
			return fmt.Errorf("expression %d: Opcodes: %v", i, err)
		}
		if len(ops) != len(instrs) {
			return fmt.Errorf("expression %d: Opcodes visits %d instructions, Instructions gives %d", i, len(ops), len(instrs))
		}
		for j, op := range ops {
			if op != instrs[j].Op {
				return fmt.Errorf("expression %d: Opcodes' instruction %d is %v, Instructions' %v", i, j, op, instrs[j].Op)
			}
		}
	}
	return nil
}

// checkFuncStacks runs FuncStack on every function and checks what it
// reports against the instructions: one call per instruction, in order,
// and through every instruction with a fixed signature in reachable code
// the stack changes as the signature says.
func checkFuncStacks(m *Module) error {
	imported := uint32(m.NumImports(ExternFunc))
	typer := NewTyper(m)
	for i := range m.Code {
		instrs, err := m.Code[i].Instructions()
		if err != nil {
			return err
		}
		type visit struct {
			in          Instr
			stack       []ValType
			unreachable bool
		}
		var visits []visit
		err = FuncStack(m, imported+uint32(i), func(pc int, in Instr, stack []ValType, unreachable bool) {
			if pc != len(visits) {
				panic("FuncStack skipped an instruction")
			}
			// in's slices are only valid during the call.
			in.Labels = append([]uint32(nil), in.Labels...)
			in.Types = append([]ValType(nil), in.Types...)
			visits = append(visits, visit{in, append([]ValType(nil), stack...), unreachable})
		})
		if err != nil {
			return err
		}
		if len(visits) != len(instrs) {
			return fmt.Errorf("function %d: FuncStack visited %d of %d instructions", i, len(visits), len(instrs))
		}
		// A Typer, reused from function to function, reports the same
		// for the decoded instructions.
		n := 0
		var differ error
		err = typer.FuncStack(imported+uint32(i), instrs, func(pc int, in Instr, stack []ValType, unreachable bool) {
			if differ == nil && n < len(visits) && (pc != n || !reflect.DeepEqual(in, visits[pc].in) || !typesEqual(stack, visits[pc].stack) || unreachable != visits[pc].unreachable) {
				differ = fmt.Errorf("function %d: Typer's visit %d (instruction %d, %v, [%s], %v) differs from FuncStack's (%v, [%s], %v)",
					i, n, pc, in, typeList(stack), unreachable, visits[n].in, typeList(visits[n].stack), visits[n].unreachable)
			}
			n++
		})
		if err != nil {
			return err
		}
		if differ != nil {
			return differ
		}
		if n != len(visits) {
			return fmt.Errorf("function %d: Typer visited %d of %d instructions", i, n, len(visits))
		}
		for pc, v := range visits {
			if !reflect.DeepEqual(v.in, instrs[pc]) {
				return fmt.Errorf("function %d: FuncStack's instruction %d is %v, Instructions' %v", i, pc, v.in, instrs[pc])
			}
			info := v.in.Op.lookup()
			if info.sig == "" || v.unreachable || pc+1 == len(visits) || visits[pc+1].unreachable {
				continue
			}
			want := append(append([]ValType(nil), v.stack[:len(v.stack)-len(info.params)]...), info.results...)
			if !typesEqual(visits[pc+1].stack, want) {
				return fmt.Errorf("function %d: stack after %v is [%s], want [%s]", i, v.in, typeList(visits[pc+1].stack), typeList(want))
			}
		}
		// Before the final end, the stack holds the function's results.
		last := visits[len(visits)-1]
		ft, _ := m.FuncType(imported + uint32(i))
		if !last.unreachable && !typesEqual(last.stack, ft.Results) {
			return fmt.Errorf("function %d: stack at the end is [%s], want the results of %v", i, typeList(last.stack), ft)
		}
	}
	return nil
}

// checkCanonical encodes m in shortest form, function bodies included,
// and checks that the result decodes to the same module, validates, and
// encodes to itself.
func checkCanonical(m *Module) error {
	c := canonical(m)
	bin := Encode(c)
	m2, err := Decode(bin)
	if err != nil {
		return fmt.Errorf("decoding the canonical encoding: %v", err)
	}
	if err := Validate(m2); err != nil {
		return fmt.Errorf("validating the canonical encoding: %v", err)
	}
	if !reflect.DeepEqual(comparable(m2), comparable(c)) {
		return errors.New("the canonical encoding decodes to a different module")
	}
	if !bytes.Equal(Encode(m2), bin) {
		return errors.New("the canonical encoding is not stable")
	}
	return nil
}

// canonical returns a copy of m that forgets its original encoding and
// whose function bodies are re-encoded by EncodeBody.
func canonical(m *Module) *Module {
	c := *m
	c.orig = [len(m.orig)]origin{}
	c.Customs = append([]Custom(nil), m.Customs...)
	for i := range c.Customs {
		c.Customs[i].orig = origin{}
	}
	c.Elements = append([]Element(nil), m.Elements...)
	c.Data = append([]Data(nil), m.Data...)
	c.Code = append([]Code(nil), m.Code...)
	for i := range c.Code {
		instrs, err := c.Code[i].Instructions()
		if err != nil {
			panic(err)
		}
		c.Code[i].Body = EncodeBody(instrs)
	}
	return &c
}

// comparable returns a copy of m without what depends on the encoding
// rather than the content: origins and offsets.
func comparable(m *Module) *Module {
	c := canonical(m)
	for i := range c.Code {
		c.Code[i].Offset = 0
	}
	// Empty lists may be nil or not: a canonical encoding drops empty
	// sections.
	v := reflect.ValueOf(c).Elem()
	for i := 0; i < v.NumField(); i++ {
		if f := v.Field(i); f.Kind() == reflect.Slice && f.Len() == 0 && f.CanSet() {
			f.SetZero()
		}
	}
	// A custom section that followed a section no longer written
	// follows the one before.
	effective := map[SectionID]SectionID{SectionCustom: SectionCustom}
	last := SectionCustom
	for _, id := range sectionSequence {
		if c.HasSection(id) {
			last = id
		}
		effective[id] = last
	}
	for i := range c.Customs {
		if after, ok := effective[c.Customs[i].After]; ok {
			c.Customs[i].After = after
		}
	}
	for i := range c.Data {
		c.Data[i].Flags = dataFlags(&c.Data[i])
	}
	for i := range c.Elements {
		e := &c.Elements[i]
		e.Flags = elementFlags(e)
		if len(e.Funcs) == 0 {
			e.Funcs = nil
		}
		if len(e.Exprs) == 0 {
			e.Exprs = nil
		}
	}
	return c
}

// TestSpecReasons keeps specReasons honest: every translation is used.
func TestSpecReasons(t *testing.T) {
	used := map[string]bool{}
	for _, sm := range loadSpecModules(t) {
		used[sm.text] = true
	}
	var unused []string
	for text := range specReasons {
		if !used[text] {
			unused = append(unused, text)
		}
	}
	sort.Strings(unused)
	if len(unused) > 0 {
		t.Errorf("specReasons has texts the suite does not use: %q", unused)
	}
}

package wasm

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// specDir returns the directory of the WebAssembly spec test suite:
// $GATE_SPEC_DIR, or ../shared/spec beside the repository root.
func specDir(t *testing.T) string {
	t.Helper()
	dir := specDirOrEmpty()
	if dir == "" {
		t.Fatal("no go.mod above the working directory")
	}
	return dir
}

type specCommand struct {
	Type       string `json:"type"`
	Line       int    `json:"line"`
	Filename   string `json:"filename"`
	ModuleType string `json:"module_type"`
	Text       string `json:"text"`
}

// TestSpec runs every module of the WebAssembly 2.0 spec test suite
// (converted to JSON by wast2json) that the suite declares valid through
// ReadSections, Imports, Memory and CapMemory: none may be refused.
// Malformed and invalid modules must not make the package panic.
func TestSpec(t *testing.T) {
	dir := specDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "json", "*", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skipf("WebAssembly spec suite not found in %s: set GATE_SPEC_DIR to a directory with json/NAME/NAME.json "+
			"and the .wasm files beside them (convert github.com/WebAssembly/testsuite with wabt's wast2json)", dir)
	}
	var valid, malformed, rejected int
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var script struct {
			Commands []specCommand `json:"commands"`
		}
		if err := json.Unmarshal(data, &script); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, c := range script.Commands {
			if filepath.Ext(c.Filename) != ".wasm" {
				continue // text modules of assert_malformed
			}
			path := filepath.Join(filepath.Dir(file), c.Filename)
			m, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("%s:%d: %v", file, c.Line, err)
				continue
			}
			switch c.Type {
			case "module":
				valid++
				checkSpecModule(t, c.Filename, m)
			case "assert_malformed", "assert_invalid", "assert_unlinkable", "assert_uninstantiable":
				// Only framing, imports and memory are decoded here, so
				// many malformed modules are accepted; none may panic.
				_, err1 := ReadSections(m)
				_, err2 := Imports(m)
				_, _, err3 := Memory(m)
				_, err4 := CapMemory(m, 16)
				if c.Type == "assert_malformed" {
					malformed++
					if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
						rejected++
					}
					// What the framing alone shows must be refused.
					mustFail := map[string]error{
						"magic header not detected": err1,
						"unknown binary version":    err1,
						"malformed section id":      err1,
						"malformed import kind":     err2,
						"malformed mutability":      imported(m, err2),
					}
					if err, ok := mustFail[c.Text]; ok && err == nil {
						t.Errorf("%s: accepted, but the suite expects %q", c.Filename, c.Text)
					}
				}
			}
		}
	}
	if valid == 0 {
		t.Fatalf("no valid modules found under %s", dir)
	}
	t.Logf("%d valid modules accepted; %d of %d binary assert_malformed modules rejected", valid, rejected, malformed)
}

func checkSpecModule(t *testing.T, name string, m []byte) {
	t.Helper()
	if _, err := ReadSections(m); err != nil {
		t.Errorf("%s: ReadSections: %v", name, err)
		return
	}
	imports, err := Imports(m)
	if err != nil {
		t.Errorf("%s: Imports: %v", name, err)
		return
	}
	l, ok, err := Memory(m)
	if err != nil {
		t.Errorf("%s: Memory: %v", name, err)
		return
	}
	const capPages = 65536
	out, err := CapMemory(m, capPages)
	if err != nil {
		var ce *MemoryCapError
		if !errors.As(err, &ce) || !ok || l.Min <= capPages {
			t.Errorf("%s: CapMemory(%d): %v (memory %+v, %v)", name, capPages, err, l, ok)
		}
		return
	}
	l2, ok2, err := Memory(out)
	switch {
	case err != nil:
		t.Errorf("%s: Memory(capped): %v", name, err)
	case ok2 != ok || l2.Min != l.Min || !ok2 && l2 != l:
		t.Errorf("%s: Memory(capped) = %+v, %v; was %+v, %v", name, l2, ok2, l, ok)
	case ok2 && (!l2.HasMax || l2.Max > capPages):
		t.Errorf("%s: capped memory %+v not under %d pages", name, l2, capPages)
	case ok2 && l.HasMax && l2.Max != l.Max:
		t.Errorf("%s: maximum %d changed to %d though under the cap", name, l.Max, l2.Max)
	}
	if imports2, err := Imports(out); err != nil || !reflect.DeepEqual(imports2, imports) {
		t.Errorf("%s: Imports(capped) = %v, %v; want %v", name, imports2, err, imports)
	}
	checkOnlyMemoryChanged(t, m, out)
	// A tighter cap still succeeds unless the minimum does not fit.
	out, err = CapMemory(m, 1)
	var ce *MemoryCapError
	switch {
	case err == nil:
		if l3, ok3, err := Memory(out); err != nil || ok3 != ok || ok3 && l3.Max > 1 {
			t.Errorf("%s: Memory(CapMemory(1)) = %+v, %v, %v", name, l3, ok3, err)
		}
	case !errors.As(err, &ce) || !ok || l.Min <= 1:
		t.Errorf("%s: CapMemory(1): %v (memory %+v)", name, err, l)
	}
}

// imported returns err for a module with an import section, and a
// stand-in error otherwise: Imports decodes nothing else.
func imported(m []byte, err error) error {
	sections, _ := ReadSections(m)
	for _, s := range sections {
		if s.ID == SectionImport {
			return err
		}
	}
	return errors.New("no import section")
}

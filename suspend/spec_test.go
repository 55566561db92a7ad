package suspend

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gate-wasm/gate/internal/testprog"
	"github.com/gate-wasm/gate/wasm"
)

// specDir returns the directory of the WebAssembly spec test suite.
func specDir() string { return testprog.SpecDir() }

type specModule struct {
	name   string
	binary []byte
}

var (
	specOnce sync.Once
	specMods []specModule
	specErr  error
)

// validSpecModules returns the binary modules of the spec suite that
// Decode and Validate accept (the suite's valid modules, and those of
// assert_unlinkable and assert_uninstantiable).
func validSpecModules() ([]specModule, error) {
	specOnce.Do(func() {
		files, err := filepath.Glob(filepath.Join(specDir(), "json", "*", "*.json"))
		if err != nil {
			specErr = err
			return
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				specErr = err
				return
			}
			var script struct {
				Commands []struct {
					Type     string `json:"type"`
					Filename string `json:"filename"`
				} `json:"commands"`
			}
			if err := json.Unmarshal(data, &script); err != nil {
				specErr = err
				return
			}
			for _, c := range script.Commands {
				switch c.Type {
				case "module", "assert_unlinkable", "assert_uninstantiable":
				default:
					continue
				}
				if filepath.Ext(c.Filename) != ".wasm" {
					continue
				}
				b, err := os.ReadFile(filepath.Join(filepath.Dir(file), c.Filename))
				if err != nil {
					specErr = err
					return
				}
				m, err := wasm.Decode(b)
				if err != nil || wasm.Validate(m) != nil {
					continue
				}
				specMods = append(specMods, specModule{c.Filename, b})
			}
		}
	})
	return specMods, specErr
}

// TestSpec transforms every valid module of the spec suite and validates
// the result with wasm.Validate, and every 8th (all with -wabt) with wabt's
// wasm-validate too.
func TestSpec(t *testing.T) {
	mods, err := validSpecModules()
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) == 0 {
		t.Skipf("WebAssembly spec suite not found in %s: set GATE_SPEC_DIR", specDir())
	}
	wabt, _ := exec.LookPath("wasm-validate")
	dir := t.TempDir()
	var n, wabtRuns int
	for i, sm := range mods {
		m, err := wasm.Decode(sm.binary)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Transform(m)
		if err != nil {
			t.Errorf("%s: %v", sm.name, err)
			continue
		}
		if err := wasm.Validate(out); err != nil {
			t.Errorf("%s: transformed module invalid: %v", sm.name, err)
			continue
		}
		n++
		if wabt != "" && (*allWabt || i%8 == 0) {
			b := wasm.Encode(out)
			p := filepath.Join(dir, "m.wasm")
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			wabtRuns++
			if o, err := exec.Command(wabt, p).CombinedOutput(); err != nil {
				// wabt 1.0.32 refuses a few valid modules of the suite
				// (elem.68, expressions in passive segments): then the
				// input fails too, and the output is not blamed.
				if err := os.WriteFile(p, sm.binary, 0o644); err != nil {
					t.Fatal(err)
				}
				if exec.Command(wabt, p).Run() == nil {
					t.Errorf("%s: wasm-validate: %v\n%s", sm.name, err, o)
				}
			}
		}
	}
	t.Logf("%d spec modules transformed and valid; %d checked by wasm-validate", n, wabtRuns)
}

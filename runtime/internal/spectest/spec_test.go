package spectest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gate-wasm/gate/suspend"
)

// suiteDir returns the directory of the spec suite, or skips the test
// saying how to get it.
func suiteDir(t *testing.T) string {
	t.Helper()
	dir := Dir()
	if files, _ := Files(dir); len(files) == 0 {
		t.Skipf("WebAssembly spec suite not found in %q: set GATE_SPEC_DIR to a directory holding json/NAME/NAME.json "+
			"and the .wasm files beside them (github.com/WebAssembly/testsuite converted by wabt's wast2json; "+
			"by default ../shared/spec beside the repository root)", dir)
	}
	return dir
}

var (
	plainOnce   sync.Once
	plainResult *Result
	plainErr    error
)

// plainRun runs the suite in dir on the plain modules, with Known, once
// for both tests.
func plainRun(dir string) (*Result, error) {
	plainOnce.Do(func() { plainResult, plainErr = Run(context.Background(), dir, Options{Known: Known}) })
	return plainResult, plainErr
}

// report logs the counts of a run, per file and in total.
func report(t *testing.T, res *Result, took time.Duration) {
	t.Helper()
	var b strings.Builder
	for _, f := range res.Files {
		fmt.Fprintf(&b, "%-40s passed %6d  failed %4d  skipped %4d\n", f.Name, f.Passed, f.Failed, f.Skipped)
	}
	types := make([]string, 0, len(res.ByType))
	for k := range res.ByType {
		types = append(types, k)
	}
	sort.Strings(types)
	for _, k := range types {
		c := res.ByType[k]
		fmt.Fprintf(&b, "%-40s passed %6d  failed %4d  skipped %4d\n", k, c.Passed, c.Failed, c.Skipped)
	}
	fmt.Fprintf(&b, "%-40s passed %6d  failed %4d  skipped %4d  (%d commands, %d files, %v)",
		"TOTAL", res.Total.Passed, res.Total.Failed, res.Total.Skipped, res.Total.Total(), len(res.Files), took.Round(time.Millisecond))
	t.Log("\n" + b.String())
}

// TestSpec runs every command of the suite on the plain modules. It fails
// on any failed command (commands in Known are counted as skipped when
// they fail), and on any entry of Known whose command passes.
func TestSpec(t *testing.T) {
	dir := suiteDir(t)
	start := time.Now()
	res, err := plainRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	report(t, res, time.Since(start))
	text := 0
	for _, f := range res.Files {
		for _, o := range f.Skips {
			if o.Message == textSkip {
				text++
				continue
			}
			t.Logf("skipped %v", o)
		}
	}
	t.Logf("skipped %d commands whose module is in the text format", text)
	for _, f := range res.Files {
		for _, o := range f.Failures {
			t.Errorf("failed %v", o)
		}
		for _, pos := range f.Stale {
			t.Errorf("%s is in Known but passes: remove it (and from docs/CONFORMANCE.md)", pos)
		}
	}
	if res.Total.Passed == 0 {
		t.Error("no command passed")
	}
}

// TestSpecTransformed runs the suite on the output of the suspendable
// transform (package suspend), with the gate_suspend imports provided and
// no suspension ever requested: every command that passes on the plain
// modules must pass on the transformed ones.
func TestSpecTransformed(t *testing.T) {
	dir := suiteDir(t)
	plain, err := plainRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	notPassed := map[string]bool{}
	for _, f := range plain.Files {
		for _, o := range append(f.Failures, f.Skips...) {
			notPassed[o.Position] = true
		}
	}
	start := time.Now()
	res, err := Run(context.Background(), dir, Options{Transform: suspend.TransformBinary, Known: Known})
	if err != nil {
		t.Fatal(err)
	}
	report(t, res, time.Since(start))
	t.Logf("gate_suspend.check called %d times", res.Checks)
	if res.Checks == 0 {
		t.Error("gate_suspend.check never called: are the modules transformed?")
	}
	for _, f := range res.Files {
		for _, o := range f.Skips {
			if o.Message != textSkip {
				t.Logf("skipped %v", o)
			}
		}
		for _, o := range f.Failures {
			if notPassed[o.Position] {
				t.Logf("failed %v (fails on the plain module too)", o)
				continue
			}
			t.Errorf("failed %v (passes on the plain module)", o)
		}
	}
}

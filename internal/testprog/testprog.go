// Package testprog builds the WebAssembly programs that tests and
// benchmarks run, from their sources in this repository: C with clang
// --target=wasm32-wasi and wasi-libc, Go with GOOS=wasip1, and the
// WebAssembly text format with wabt's wat2wasm.
//
// Builds are cached in the system's temporary directory under a hash of
// the sources and the build command, so a test run rebuilds only what
// changed. It is for tests and benchmarks only; nothing in Gate's binary
// may import it.
package testprog

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Root returns the repository's root directory: the nearest directory
// above the working directory that holds go.mod.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// SpecDir returns the directory of the WebAssembly spec test suite:
// $GATE_SPEC_DIR, or else ../shared/spec beside the repository root, or ""
// if the working directory is in no repository. The directory may not
// exist: tests that need it skip and say how to get it.
func SpecDir() string {
	if dir := os.Getenv("GATE_SPEC_DIR"); dir != "" {
		return dir
	}
	root, err := Root()
	if err != nil {
		return ""
	}
	return filepath.Join(root, "..", "shared", "spec")
}

// TB is the part of testing.TB that builds need.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// C compiles the C source file src (relative to the repository root) to
// a WASI command, with -O2 and any extra clang flags.
func C(t TB, src string, flags ...string) string {
	t.Helper()
	path, err := BuildC(src, flags...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return path
}

// Go builds the Go main package in dir (relative to the repository root)
// with GOOS=wasip1 GOARCH=wasm.
func Go(t TB, dir string) string {
	t.Helper()
	path, err := BuildGo(dir)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return path
}

// Wat assembles the text-format module src (relative to the repository
// root).
func Wat(t TB, src string) string {
	t.Helper()
	path, err := BuildWat(src)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return path
}

// BuildC is C for code without a testing.TB, such as benchmark drivers.
func BuildC(src string, flags ...string) (string, error) {
	args := append([]string{"--target=wasm32-wasi", "-O2", "-Wl,--strip-debug"}, flags...)
	return build([]string{src}, "clang", append(args, "-o", "{out}", "{src}")...)
}

// BuildGo is Go for code without a testing.TB.
func BuildGo(dir string) (string, error) {
	return build([]string{dir}, "go", "build", "-o", "{out}", "./{src}")
}

// BuildWat is Wat for code without a testing.TB.
func BuildWat(src string) (string, error) {
	return build([]string{src}, "wat2wasm", "-o", "{out}", "{src}")
}

var buildMu sync.Mutex // one build at a time: they share the cache

// build runs tool with args, where {src} stands for the first source and
// {out} for the output file, unless an earlier identical build is cached.
func build(srcs []string, tool string, args ...string) (string, error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	root, err := Root()
	if err != nil {
		return "", err
	}
	toolPath, err := exec.LookPath(tool)
	if err != nil {
		return "", fmt.Errorf("%s is needed to build test programs and is not installed: %s", tool, installHint)
	}
	h := sha256.New()
	fmt.Fprintln(h, toolPath, strings.Join(args, " "))
	for _, src := range srcs {
		if err := hashTree(h, filepath.Join(root, src)); err != nil {
			return "", fmt.Errorf("reading test program source: %w", err)
		}
	}
	cacheDir := filepath.Join(os.TempDir(), "gate-testprog")
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	name := strings.NewReplacer("/", "_", ".", "_").Replace(srcs[0])
	out := filepath.Join(cacheDir, name+"-"+hex.EncodeToString(h.Sum(nil))[:16]+".wasm")
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	tmp := out + ".tmp"
	expanded := make([]string, len(args))
	for i, a := range args {
		expanded[i] = strings.NewReplacer("{out}", tmp, "{src}", srcs[0]).Replace(a)
	}
	cmd := exec.Command(toolPath, expanded...)
	cmd.Dir = root
	if tool == "go" {
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	}
	if output, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s: %s %s: %v\n%s", srcs[0], tool, strings.Join(expanded, " "), err, output)
	}
	return out, os.Rename(tmp, out)
}

const installHint = "apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32 wabt (scripts/test does it)"

// hashTree hashes the file at path, or every file under the directory.
func hashTree(h interface{ Write([]byte) (int, error) }, path string) error {
	var files []string
	err := filepath.WalkDir(path, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		return err
	}
	slices.Sort(files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(f), len(data))
		h.Write(data)
	}
	return nil
}

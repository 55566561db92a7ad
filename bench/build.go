package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/gate-wasm/gate/internal/testprog"
)

// Sources of the benchmark programs, relative to the repository root.
const (
	cpuSource    = "bench/programs/cpu.c"
	helloSource  = "examples/c/hello.c"
	mediumSource = "bench/programs/medium"
	bigSource    = "bench/programs/big"
)

// builds are the programs and engines the benchmark runs.
type builds struct {
	nativeCPU   string // cpu.c built with gcc -O2
	cpuWasm     string // cpu.c built with clang --target=wasm32-wasi -O2
	helloWasm   string
	mediumWasm  string // bench/programs/medium: about 4 MB
	bigWasm     string // bench/programs/big: about 10 MiB
	gate        string // the gate CLI
	plainWazero string // bench/plainwazero
	nodeScript  string
}

func buildAll(root, tmp string) (*builds, error) {
	b := &builds{
		nativeCPU:   filepath.Join(tmp, "cpu-native"),
		gate:        filepath.Join(tmp, "gate"),
		plainWazero: filepath.Join(tmp, "plainwazero"),
		nodeScript:  filepath.Join(tmp, "wasi.cjs"),
	}
	steps := []struct {
		what string
		cmd  []string
		env  []string
	}{
		{"native cpu.c", []string{"gcc", "-O2", "-o", b.nativeCPU, cpuSource, "-lm"}, nil},
		// CGO_ENABLED=0: the engines in Go are built the same way.
		{"gate", []string{"go", "build", "-o", b.gate, "./cmd/gate"}, []string{"CGO_ENABLED=0"}},
		{"plain wazero", []string{"go", "build", "-o", b.plainWazero, "./bench/plainwazero"}, []string{"CGO_ENABLED=0"}},
	}
	for _, s := range steps {
		cmd := exec.Command(s.cmd[0], s.cmd[1:]...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), s.env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("building %s: %v: %v\n%s", s.what, cmd.Args, err, out)
		}
	}
	var err error
	if b.cpuWasm, err = testprog.BuildC(cpuSource); err != nil {
		return nil, err
	}
	if b.helloWasm, err = testprog.BuildC(helloSource); err != nil {
		return nil, err
	}
	if b.mediumWasm, err = testprog.BuildGo(mediumSource); err != nil {
		return nil, err
	}
	if b.bigWasm, err = testprog.BuildGo(bigSource); err != nil {
		return nil, err
	}
	if err := os.WriteFile(b.nodeScript, []byte(nodeScript), 0o644); err != nil {
		return nil, err
	}
	return b, nil
}

// nodeScript runs a WASI command with Node.js's wasi module:
// node wasi.cjs PROGRAM.wasm [ARGS...]. It compiles the module every time:
// Node keeps no compiled code across processes.
const nodeScript = `'use strict';
const { WASI } = require('node:wasi');
const fs = require('node:fs');
const path = require('node:path');
const args = process.argv.slice(2);
const wasi = new WASI({
  version: 'preview1',
  args: [path.basename(args[0]), ...args.slice(1)],
  env: {},
  returnOnExit: true,
});
const wasm = new WebAssembly.Module(fs.readFileSync(args[0]));
const instance = new WebAssembly.Instance(wasm, wasi.getImportObject());
process.exitCode = wasi.start(instance);
`

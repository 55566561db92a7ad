// Command plainwazero runs a WASI command with plain wazero: its default
// (compiler) configuration, its own wasi_snapshot_preview1 host module, and
// a compiled-code cache in a directory. It is the baseline against which
// the benchmark measures gate run.
//
// Usage: plainwazero [-cache-dir DIR] [-close-on-context-done] PROGRAM.wasm [ARGS...]
//
// -close-on-context-done turns on the one engine option in which Gate's
// configuration differs for compiled code, to tell its cost apart.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

func main() {
	cacheDir := flag.String("cache-dir", "", "directory for wazero's compilation cache (empty: in memory)")
	closeOnDone := flag.Bool("close-on-context-done", false, "enable wazero's WithCloseOnContextDone, as Gate does (for comparison)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: plainwazero [-cache-dir DIR] [-close-on-context-done] PROGRAM.wasm [ARGS...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() < 1 {
		flag.Usage()
		os.Exit(2)
	}
	os.Exit(run(*cacheDir, *closeOnDone, flag.Arg(0), flag.Args()[1:]))
}

func run(cacheDir string, closeOnDone bool, path string, args []string) int {
	ctx := context.Background()
	bin, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "plainwazero:", err)
		return 1
	}
	cache := wazero.NewCompilationCache()
	if cacheDir != "" {
		if cache, err = wazero.NewCompilationCacheWithDir(cacheDir); err != nil {
			fmt.Fprintln(os.Stderr, "plainwazero:", err)
			return 1
		}
	}
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCompilationCache(cache).WithCloseOnContextDone(closeOnDone))
	defer r.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	compiled, err := r.CompileModule(ctx, bin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "plainwazero:", err)
		return 1
	}
	cfg := wazero.NewModuleConfig().
		WithArgs(append([]string{filepath.Base(path)}, args...)...).
		WithStdin(os.Stdin).WithStdout(os.Stdout).WithStderr(os.Stderr)
	_, err = r.InstantiateModule(ctx, compiled, cfg)
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		return int(exit.ExitCode())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "plainwazero:", err)
		return 1
	}
	return 0
}

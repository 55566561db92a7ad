package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gate-wasm/gate/runtime"
)

type runFlags struct {
	memory   string
	timeout  time.Duration
	env      []string
	cacheDir string
	verbose  bool
}

func newRunCommand(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [flags] PROGRAM.wasm [ARGS...]",
		Short: "Run a WebAssembly program locally",
		Long: `Run a WebAssembly program (a WASI command) locally.

Its standard input, output and error are gate's. gate exits with the
program's exit status, 134 if it trapped, 137 if a limit stopped it, 1 if
the module was refused and 2 for a usage error.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("run: missing PROGRAM.wasm (see %s --help)", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runProgram(cmd.Context(), f, args[0], args, stdin, stdout, stderr)
		},
	}
	// Everything after the program is the program's.
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().StringVar(&f.memory, "memory", "256MiB", "cap on the program's linear memory (e.g. 64MiB, 1GiB)")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 0, "wall-clock time limit (e.g. 10s); 0 means none")
	cmd.Flags().StringArrayVar(&f.env, "env", nil, "set an environment variable of the program (KEY=VALUE; repeatable)")
	cmd.Flags().StringVar(&f.cacheDir, "cache-dir", defaultCacheDir(), `directory for compiled code; "" keeps it in memory only`)
	cmd.Flags().BoolVarP(&f.verbose, "verbose", "v", false, "log what gate does, and a trap's wasm stack, to standard error")
	return cmd
}

func defaultCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "gate", "compiled")
}

func runProgram(ctx context.Context, f runFlags, path string, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	memory, err := parseSize(f.memory)
	if err != nil {
		return usageErrorf("run: --memory: %v", err)
	}
	if f.timeout < 0 {
		return usageErrorf("run: --timeout must not be negative")
	}
	for _, kv := range f.env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return usageErrorf("run: --env %q: want KEY=VALUE", kv)
		}
	}
	binary, err := os.ReadFile(path)
	if err != nil {
		return refused("%v", err)
	}
	level := slog.LevelWarn
	if f.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	// Stop checks slow compiled code down (docs/PERFORMANCE.md): only a
	// timeout needs them.
	rt, err := runtime.New(ctx, runtime.Config{CacheDir: f.cacheDir, Logger: logger, Interruptible: f.timeout > 0})
	if err != nil {
		return refused("%v", err)
	}
	defer rt.Close(ctx)

	module, err := rt.Compile(ctx, binary, memory)
	if err != nil {
		return refused("%s: %v", path, err)
	}
	inst, err := rt.Instantiate(ctx, module, runtime.Options{
		Args: append([]string{filepath.Base(args[0])}, args[1:]...),
		Env:  f.env, Stdin: stdin, Stdout: stdout, Stderr: stderr,
	})
	if err != nil {
		return outcome(logger, 0, err)
	}
	defer inst.Close(ctx)
	code, err := inst.Run(ctx, f.timeout)
	return outcome(logger, code, err)
}

// outcome turns how a program ended into gate's exit.
func outcome(logger *slog.Logger, code uint32, err error) error {
	var trap *runtime.TrapError
	var limit *runtime.LimitError
	switch {
	case err == nil && code == 0:
		return nil
	case err == nil && code <= 255:
		return &exitError{code: int(code)}
	case err == nil:
		return &exitError{code: exitRefused, message: fmt.Sprintf("program exited with status %d, which does not fit in a process exit status", code)}
	case errors.As(err, &trap):
		for _, frame := range trap.Stack {
			logger.Debug("trap", "frame", frame)
		}
		return &exitError{code: exitTrap, message: trap.Error()}
	case errors.As(err, &limit):
		return &exitError{code: exitLimit, message: limit.Error()}
	}
	return refused("%v", err)
}

func refused(format string, args ...any) error {
	return &exitError{code: exitRefused, message: fmt.Sprintf(format, args...)}
}

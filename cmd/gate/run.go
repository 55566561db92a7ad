package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/gate-wasm/gate/internal/snapfile"
	"github.com/gate-wasm/gate/runtime"
	"github.com/gate-wasm/gate/wasm"
)

type runFlags struct {
	// began is when gate started on the command: --timeout counts
	// from it.
	began        time.Time
	memory       string
	timeout      time.Duration
	env          []string
	cacheDir     string
	verbose      bool
	snapshot     string
	suspendAfter time.Duration
	sandbox      string
}

func newRunCommand(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [flags] PROGRAM.wasm [ARGS...]",
		Short: "Run a WebAssembly program locally",
		Long: `Run a WebAssembly program (a WASI command) locally.

Its standard input, output and error are gate's. gate exits with the
program's exit status, 134 if it trapped, 137 if a limit stopped it, 75 if
it was suspended into a snapshot (--snapshot), 129, 130 or 143 if SIGHUP,
SIGINT or SIGTERM stopped gate, 1 if the module was refused and 2 for a
usage error.
--timeout counts from gate's start: it bounds the compile too.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("run: missing PROGRAM.wasm (see %s --help)", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			f.began = time.Now()
			return runProgram(cmd.Context(), f, args[0], args, stdin, stdout, stderr)
		},
	}
	// Everything after the program is the program's.
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().StringVar(&f.memory, "memory", "256MiB", "cap on the program's linear memory (e.g. 64MiB, 1GiB)")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 0, "wall-clock time limit of everything gate does, compiling the program included (e.g. 10s); 0 means none")
	cmd.Flags().StringArrayVar(&f.env, "env", nil, "set an environment variable of the program (KEY=VALUE; repeatable)")
	cmd.Flags().StringVar(&f.cacheDir, "cache-dir", defaultCacheDir(), `directory for compiled code, with --sandbox=off; "" keeps it in memory only (the sandboxed executor keeps it in its memory)`)
	cmd.Flags().BoolVarP(&f.verbose, "verbose", "v", false, "log what gate does, and a trap's wasm stack, to standard error")
	f.addSuspendFlags(cmd, "")
	f.addSandboxFlag(cmd)
	return cmd
}

// addSuspendFlags adds --snapshot and --suspend-after; what is the
// default snapshot file's description, if any.
func (f *runFlags) addSuspendFlags(cmd *cobra.Command, what string) {
	usage := "make the program suspendable: on SIGINT, SIGTERM, SIGHUP or --suspend-after, write it to FILE and exit with status 75"
	if what != "" {
		usage += " (default: " + what + ")"
	}
	cmd.Flags().StringVar(&f.snapshot, "snapshot", "", usage)
	cmd.Flags().DurationVar(&f.suspendAfter, "suspend-after", 0, "suspend the program after this long (needs --snapshot)")
}

func defaultCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "gate", "compiled")
}

func runProgram(ctx context.Context, f runFlags, path string, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if err := f.check("run"); err != nil {
		return err
	}
	progArgs := append([]string{filepath.Base(args[0])}, args[1:]...)
	// Before anything starts: refused later, they would cost a compile.
	if err := runtime.CheckArgs(progArgs, f.env); err != nil {
		return refused("run: %v", err)
	}
	binary, err := readModule(path)
	if err != nil {
		return refused("%v", err)
	}
	if f.snapshot != "" {
		stdin = interruptibleStdin(stdin)
	}
	// A snapshot holds the memory and the transformed program, which is
	// larger than the program.
	expected := func(memory uint64) int64 { return int64(memory) + int64(len(binary))*3/2 }
	return f.execute(ctx, stderr, expected, func(ctx context.Context, eng engine, memory uint64, grown func(uint64)) (program, error) {
		p, err := eng.start(ctx, binary, memory, f.snapshot != "", runtime.Options{
			Args: progArgs,
			Env:  f.env, Stdin: stdin, Stdout: stdout, Stderr: stderr,
			MemoryGrown: grown,
		})
		var compile *compileError
		if errors.As(err, &compile) {
			return nil, refused("%s: %v", path, compile.err)
		}
		return p, err
	})
}

// readModule reads the module at path, refusing on its first bytes a
// file that is not a module and on its size one over the limit, before
// reading it. Its errors name the file.
func readModule(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	b, err := wasm.ReadModule(f, size, wasm.DefaultModuleLimits().ModuleSize)
	var limit *wasm.LimitError
	var format *wasm.FormatError
	switch {
	case err == nil:
	case errors.Is(err, wasm.ErrNotModule) || errors.As(err, &format) && !errors.As(err, &limit):
		err = fmt.Errorf("%s: invalid module: %w", path, err)
	default:
		err = fmt.Errorf("%s: %w", path, err)
	}
	return b, err
}

// check validates the flags of command cmd.
func (f *runFlags) check(cmd string) error {
	if _, err := parseSize(f.memory); err != nil {
		return usageErrorf("%s: --memory: %v", cmd, err)
	}
	if f.timeout < 0 {
		return usageErrorf("%s: --timeout must not be negative", cmd)
	}
	if f.suspendAfter < 0 {
		return usageErrorf("%s: --suspend-after must not be negative", cmd)
	}
	if f.suspendAfter > 0 && f.snapshot == "" {
		return usageErrorf("%s: --suspend-after needs --snapshot FILE", cmd)
	}
	if f.sandbox != "on" && f.sandbox != "off" {
		return usageErrorf("%s: --sandbox must be on or off, not %q", cmd, f.sandbox)
	}
	for _, kv := range f.env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return usageErrorf("%s: --env %q: want KEY=VALUE", cmd, kv)
		}
	}
	return nil
}

// execute creates a runtime as the flags say, gets an instance from
// start, runs it and turns how it ended into gate's exit. With
// --snapshot, SIGINT, SIGTERM, SIGHUP and --suspend-after suspend it and write
// the snapshot, into a file whose pages are reserved as the program's
// memory grows: start passes grown to the instance as
// Options.MemoryGrown (nil without --snapshot), and expected says how
// large a snapshot of a memory of a given size may be.
//
// --timeout counts from f.began and covers starting the executor,
// compiling (decoding, transforming) and instantiating as well as the
// run. SIGINT, SIGTERM and SIGHUP before the program runs, and during its run
// without --snapshot, stop gate at once with status 128 + the signal;
// the engine is closed on the way out, which ends the executor and
// removes its cgroup.
func (f *runFlags) execute(ctx context.Context, stderr io.Writer, expected func(memory uint64) int64, start func(ctx context.Context, eng engine, memory uint64, grown func(uint64)) (program, error)) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if f.began.IsZero() {
		f.began = time.Now()
	}
	// From the start: the default action would end gate on the spot,
	// leaving the executor's cgroup behind. SIGHUP too: a terminal
	// that closes sends it.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(signals)
	memory, _ := parseSize(f.memory) // checked by check
	level := slog.LevelWarn
	if f.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	var file *snapfile.File
	var grown func(uint64)
	if f.snapshot != "" {
		// Now, so that a directory where the snapshot cannot be
		// written is known before the program runs.
		var err error
		if file, err = snapfile.Create(f.snapshot, logger); err != nil {
			return refused("%v", err)
		}
		defer file.Discard() // nothing, once committed
		grown = func(size uint64) { file.Reserve(expected(size)) }
	}

	// Until the program runs, a signal or the timeout abandons what is
	// under way: a compile cannot be interrupted, and there is nothing
	// to snapshot yet.
	startCtx, stopStart := context.WithCancelCause(ctx)
	defer stopStart(nil)
	if f.timeout > 0 {
		var cancel context.CancelFunc
		startCtx, cancel = context.WithDeadlineCause(startCtx, f.began.Add(f.timeout), f.timeLimit())
		defer cancel()
	}
	when := "before the program started"
	if f.snapshot != "" {
		when += ": nothing to snapshot yet"
	}
	stopWatching := watchSignals(signals, func(sig os.Signal) { stopStart(&signalError{sig, when}) })
	eng, inst, err := f.start(startCtx, logger, stderr, memory, grown, start)
	stopWatching()
	if eng != nil {
		defer eng.close(ctx)
	}
	cause := context.Cause(startCtx)
	var sig *signalError
	// A signal that came once the program was made suspends it at its
	// start, with --snapshot.
	suspendAtStart := err == nil && f.snapshot != "" && errors.As(cause, &sig)
	if cause != nil && !suspendAtStart {
		// Whatever start returned, the signal or the limit is why.
		if inst != nil {
			inst.Close(ctx)
		}
		return outcome(logger, 0, cause)
	}
	if err != nil {
		var exit *exitError
		if errors.As(err, &exit) {
			return err
		}
		return outcome(logger, 0, err)
	}
	defer inst.Close(ctx)
	timeout := f.timeout
	if timeout > 0 {
		if timeout = time.Until(f.began.Add(f.timeout)); timeout <= 0 {
			return outcome(logger, 0, f.timeLimit())
		}
	}
	runCtx, stopRun := context.WithCancelCause(ctx)
	defer stopRun(nil)
	if f.snapshot != "" {
		if suspendAtStart {
			signals <- sig.sig
		}
		stop := suspendOnRequest(inst, signals, f.suspendAfter)
		defer stop()
	} else {
		stop := watchSignals(signals, func(sig os.Signal) { stopRun(&signalError{sig, "while the program ran"}) })
		defer stop()
	}
	code, err := inst.Run(runCtx, timeout)
	var limit *runtime.LimitError
	if errors.As(err, &limit) && limit.Limit == "timeout" {
		// Run was given what was left of it: name the whole.
		err = f.timeLimit()
	}
	if errors.Is(err, runtime.ErrSuspended) {
		size, err := writeSnapshot(inst, file)
		if err != nil {
			return err
		}
		// The snapshot is safe: say so now, since what follows may take
		// seconds for a large program.
		fmt.Fprintf(stderr, "gate: suspended: snapshot written to %s (%s)\n", f.snapshot, wasm.FormatBytes(uint64(size)))
		// So that gate resume, with the same --memory and cache
		// directory, finds the resume module compiled.
		if p, ok := inst.(resumePreparer); ok && f.cacheDir != "" {
			if err := p.PrepareResume(ctx, memory); err != nil {
				logger.Warn("compiling the program's resume module ahead of time", "err", err)
			}
		}
		return &exitError{code: exitSuspended}
	}
	return outcome(logger, code, err)
}

// start makes the engine and has start make the instance, under ctx: if
// ctx ends first, it returns at once with what it has, and what is
// still under way is abandoned (the engine, once closed, ends it).
func (f *runFlags) start(ctx context.Context, logger *slog.Logger, stderr io.Writer, memory uint64, grown func(uint64), start func(ctx context.Context, eng engine, memory uint64, grown func(uint64)) (program, error)) (engine, program, error) {
	eng, err := f.engine(ctx, logger, stderr, memory)
	if err != nil {
		return nil, nil, err
	}
	inst, err := start(ctx, eng, memory, grown)
	return eng, inst, err
}

// timeLimit is the error of --timeout reached: the same whether the
// program was still being compiled or ran.
func (f *runFlags) timeLimit() error {
	return &runtime.LimitError{Limit: "timeout", Detail: fmt.Sprintf("wall-clock time limit of %v reached", f.timeout)}
}

// signalError is gate stopped by a signal: it exits with 128 + its
// number, as a process the signal killed would.
type signalError struct {
	sig  os.Signal
	when string
}

func (e *signalError) Error() string {
	return fmt.Sprintf("stopped by %s %s", unix.SignalName(e.sig.(syscall.Signal)), e.when)
}

// watchSignals calls stop with the first signal that comes until the
// returned function is called, which waits for stop to have returned if
// it was called.
func watchSignals(signals <-chan os.Signal, stop func(os.Signal)) (cancel func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		select {
		case sig := <-signals:
			stop(sig)
		case <-done:
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// suspendOnRequest suspends inst on a signal, and after d if positive.
// The returned function stops waiting.
func suspendOnRequest(inst program, signals <-chan os.Signal, d time.Duration) (stop func()) {
	var timer *time.Timer
	var expired <-chan time.Time
	if d > 0 {
		timer = time.NewTimer(d)
		expired = timer.C
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-signals:
		case <-expired:
		case <-done:
			return
		}
		inst.Suspend()
	}()
	return func() {
		if timer != nil {
			timer.Stop()
		}
		close(done)
	}
}

// writeSnapshot streams inst's snapshot into file and commits it:
// synced, then renamed to its path, so that a file there is a whole
// snapshot. It returns the snapshot's size. A program in the sandboxed
// executor has the executor write it into the file's descriptor.
func writeSnapshot(inst program, file *snapfile.File) (int64, error) {
	var size int64
	var err error
	if fs, ok := inst.(fileSnapshotter); ok {
		// Commit cuts the file where the executor's writes left
		// its offset.
		size, err = fs.WriteSnapshotTo(file.OSFile())
	} else {
		size, err = inst.WriteSnapshot(file)
	}
	if err != nil {
		// An error of the file is wrapped in it.
		return 0, refused("suspended, but writing the snapshot failed: %v", err)
	}
	if err := file.Commit(); err != nil {
		return 0, refused("suspended, but %v", err)
	}
	return size, nil
}

// outcome turns how a program ended into gate's exit.
func outcome(logger *slog.Logger, code uint32, err error) error {
	var trap *runtime.TrapError
	var limit *runtime.LimitError
	var sig *signalError
	switch {
	case errors.As(err, &sig):
		return &exitError{code: 128 + int(sig.sig.(syscall.Signal)), message: sig.Error()}
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

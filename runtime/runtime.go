// Package runtime compiles and runs WebAssembly programs.
//
// It puts wazero (the optimizing compiler on amd64 and arm64, the
// interpreter elsewhere) behind a small API: compile a module once, with a
// cache of compiled code, instantiate it many times, run an instance under
// limits, and report how it ended as an exit status, a *TrapError or a
// *LimitError. It provides the program ABI (package internal/wasi) to
// every instance.
//
// It is the only package that imports wazero: nothing of wazero appears in
// its API. It must not touch the host on a program's behalf beyond the
// readers and writers it is given.
package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/gate-wasm/gate/runtime/internal/wasi"
	"github.com/gate-wasm/gate/wasm"
)

// DefaultMemoryLimit is the cap on an instance's linear memory when none
// is given.
const DefaultMemoryLimit = 256 << 20

// Config configures a Runtime.
type Config struct {
	// CacheDir, when set, is a directory where compiled machine code is
	// kept across processes. Otherwise it is kept in memory only.
	CacheDir string
	// Interpreter selects wazero's interpreter even where its compiler
	// is available.
	Interpreter bool
	// Interruptible makes compiled code check, at every function entry
	// and loop header, whether its Run has been stopped, so that a
	// timeout or a cancelled context stops even a program that never
	// calls the host. Run accepts a timeout only from an interruptible
	// runtime.
	//
	// The check leaves compiled code for Go at every loop iteration, so
	// it makes tight loops several times slower (docs/PERFORMANCE.md).
	// Without it, a cancelled context still ends blocking calls (reads,
	// sleeps, polls) at once, and nothing else: compiled code runs on to
	// its next call into the host. Go's scheduler cannot preempt
	// compiled WebAssembly, so a program that never calls the host also
	// holds up the garbage collector of the whole process until it does.
	Interruptible bool
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
	// Limits bound the modules Compile and CompileSuspendable accept
	// (docs/SECURITY.md); nil means wasm.DefaultModuleLimits.
	Limits *wasm.ModuleLimits
	// Suspendable bounds the functions of the modules
	// CompileSuspendable and Resume accept; nil means
	// DefaultSuspendableLimits.
	Suspendable *SuspendableLimits
}

// Runtime compiles modules and runs their instances. Its methods may be
// called from several goroutines at once.
type Runtime struct {
	engine       wazero.Runtime
	cache        wazero.CompilationCache
	moduleConfig wazero.ModuleConfig
	abi          map[string]*wasi.Func
	log          *slog.Logger
	// interruptible is Config.Interruptible.
	interruptible bool
	limits        wasm.ModuleLimits
	suspendable   SuspendableLimits
	// abandoned counts instances whose goroutine Run gave up on (see
	// Instance.Run): it may still be running compiled code.
	abandoned atomic.Int32
	// resumeModules are the resume modules compiled (and validated) so
	// far, kept until Close so that every resume of a program after the
	// first instantiates compiled code (see Resume).
	resumeMu      sync.Mutex
	resumeModules map[resumeKey]*Module
}

// bindingKey is the context key under which Instantiate and Run pass the
// instance's binding to the host functions.
type bindingKey struct{}

// binding is what a host function needs to know of its instance.
type binding struct {
	state *wasi.State
	// hasMemory tells whether the module defines a memory. wazero's
	// Module.Memory returns a non-nil interface holding a nil pointer
	// when it does not, so it cannot be asked.
	hasMemory bool
	// suspension is set for instances of suspendable modules.
	suspension *suspension
}

// New returns a runtime. Close it to free its compiled code.
func New(ctx context.Context, cfg Config) (*Runtime, error) {
	cache := wazero.NewCompilationCache()
	if cfg.CacheDir != "" {
		// wazero's cache key does not tell code compiled with stop
		// checks from code compiled without: keep them apart, or a
		// timeout could silently stop working.
		dir := filepath.Join(cfg.CacheDir, "plain")
		if cfg.Interruptible {
			dir = filepath.Join(cfg.CacheDir, "interruptible")
		}
		var err error
		if cache, err = wazero.NewCompilationCacheWithDir(dir); err != nil {
			return nil, fmt.Errorf("compiled code cache in %s: %w", cfg.CacheDir, err)
		}
	}
	rc := wazero.NewRuntimeConfig()
	if cfg.Interpreter {
		rc = wazero.NewRuntimeConfigInterpreter()
	}
	rc = rc.WithCoreFeatures(api.CoreFeaturesV2).
		WithCloseOnContextDone(cfg.Interruptible).
		WithCompilationCache(cache)
	r := &Runtime{
		interruptible: cfg.Interruptible,
		engine:        wazero.NewRuntimeWithConfig(ctx, rc),
		cache:         cache,
		// Anonymous instances, so that one module runs many times at
		// once; _start is called by Run, not at instantiation.
		moduleConfig:  wazero.NewModuleConfig().WithName("").WithStartFunctions(),
		abi:           make(map[string]*wasi.Func),
		log:           cfg.Logger,
		resumeModules: make(map[resumeKey]*Module),
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.limits = wasm.DefaultModuleLimits()
	if cfg.Limits != nil {
		r.limits = *cfg.Limits
	}
	r.suspendable = DefaultSuspendableLimits()
	if cfg.Suspendable != nil {
		r.suspendable = *cfg.Suspendable
	}
	if err := r.instantiateABI(ctx); err != nil {
		r.Close(ctx)
		return nil, err
	}
	if err := r.instantiateSuspend(ctx); err != nil {
		r.Close(ctx)
		return nil, err
	}
	return r, nil
}

// instantiateABI registers the WASI functions with the engine. Each call
// finds its instance's state in the context.
func (r *Runtime) instantiateABI(ctx context.Context) error {
	b := r.engine.NewHostModuleBuilder(wasi.ModuleName)
	for _, f := range wasi.Functions() {
		r.abi[f.Name] = &f
		b.NewFunctionBuilder().
			WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
				b := ctx.Value(bindingKey{}).(binding)
				var mem wasi.Memory = noMemory{}
				if b.hasMemory {
					mem = mod.Memory()
				}
				if b.suspension != nil {
					b.suspension.rewound(mod)
				}
				f.Call(ctx, b.state, mem, stack)
				if !f.NoResult && stack[0] == uint64(wasi.Suspended) {
					// The call had no effect: unwind, and make
					// it again on resume.
					b.suspension.unwind(mod)
					stack[0] = 0
				}
			}), abiParams(&f), abiResults(&f)).
			WithName(f.Name).
			Export(f.Name)
	}
	if _, err := b.Instantiate(ctx); err != nil {
		return fmt.Errorf("registering the program ABI: %w", err)
	}
	return nil
}

func valueType(t wasi.ValueType) api.ValueType {
	if t == wasi.I64 {
		return api.ValueTypeI64
	}
	return api.ValueTypeI32
}

// noMemory stands for the memory of a module that has none.
type noMemory struct{}

func (noMemory) Read(uint32, uint32) ([]byte, bool) { return nil, false }

// Close frees the runtime's compiled code and closes its instances. While
// an abandoned instance may still run, the compiled code stays: freeing it
// would pull the code from under that goroutine.
func (r *Runtime) Close(ctx context.Context) error {
	if n := r.abandoned.Load(); n > 0 {
		// The cache's engine holds the code too.
		r.log.Warn("keeping compiled code that abandoned instances may still run", "instances", n)
		return nil
	}
	return errors.Join(r.engine.Close(ctx), r.cache.Close(ctx))
}

// wasiConfig is the part of o that the ABI's state takes.
func (o Options) wasiConfig() wasi.Config {
	return wasi.Config{Args: o.Args, Env: o.Env, Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr}
}

// Options are what one instance is given.
type Options struct {
	Args []string
	// Env holds "KEY=VALUE" strings.
	Env    []string
	Stdin  io.Reader // nil reads as empty
	Stdout io.Writer // nil discards
	Stderr io.Writer // nil discards
	// MemoryGrown, if set, is called with the size in bytes of the
	// instance's linear memory when it is first allocated and each time
	// it grows, on the goroutine that grows it (the program's, or
	// Resume's caller's): it must return quickly and not call the
	// instance. gate uses it to reserve a snapshot file's pages ahead of
	// a suspension (docs/SNAPSHOT.md).
	MemoryGrown func(size uint64)
}

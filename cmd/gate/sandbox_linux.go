package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/gate-wasm/gate/executor"
	"github.com/gate-wasm/gate/runtime"
)

// sandboxed runs programs in a sandboxed executor process.
type sandboxed struct {
	ex            *executor.Executor
	interruptible bool
	// abandoned is set when a compile or resume was given up on: the
	// executor may still be at it, and is killed rather than closed.
	abandoned bool
}

func newSandboxed(ctx context.Context, logger *slog.Logger, memory uint64, interruptible bool) (engine, error) {
	ex, err := executor.New(ctx, executor.Config{
		// The program's memory and room for the compiler and the
		// runtime.
		Memory: max(4<<30, memory+2<<30),
		Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	return &sandboxed{ex: ex, interruptible: interruptible}, nil
}

func (e *sandboxed) start(ctx context.Context, binary []byte, memory uint64, suspendable bool, opts runtime.Options) (program, error) {
	m, err := e.ex.Compile(ctx, binary, executor.CompileOptions{MemoryLimit: memory, Suspendable: suspendable, Interruptible: e.interruptible})
	e.abandoned = e.abandoned || ctx.Err() != nil
	if err != nil {
		if _, crashed := err.(*executor.CrashError); crashed {
			return nil, err
		}
		return nil, &compileError{err}
	}
	inst, err := e.ex.Instantiate(ctx, m, opts)
	e.abandoned = e.abandoned || ctx.Err() != nil
	if err != nil {
		return nil, err
	}
	return inst, nil
}

// resume has the executor read a snapshot file itself, by its
// descriptor: it does not cross the socket. Bytes read from a pipe do.
func (e *sandboxed) resume(ctx context.Context, snap snapshotSource, memory uint64, opts runtime.Options) (program, error) {
	var inst *executor.Instance
	var err error
	if snap.file != nil {
		inst, err = e.ex.ResumeFile(ctx, snap.file, memory, e.interruptible, opts)
	} else {
		inst, err = e.ex.Resume(ctx, snap.data, memory, e.interruptible, opts)
	}
	e.abandoned = e.abandoned || ctx.Err() != nil
	if err != nil {
		return nil, err
	}
	return inst, nil
}

func (e *sandboxed) close(context.Context) {
	if e.abandoned {
		e.ex.Kill()
		return
	}
	e.ex.Close()
}

// newExecutorCommand is the hidden subcommand that the executor process
// runs: gate started again by itself, never by a user.
func newExecutorCommand() *cobra.Command {
	return &cobra.Command{
		Use:    executor.CommandName,
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			os.Exit(executor.Serve(context.Background(), executor.DefaultLimits()))
			return nil
		},
	}
}

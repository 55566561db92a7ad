package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/gate-wasm/gate/runtime"
	"github.com/gate-wasm/gate/wasm"
)

func newResumeCommand(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "resume [flags] SNAPSHOT",
		Short: "Continue a suspended program from its snapshot",
		Long: `Continue a program that "gate run --snapshot" (or an earlier resume)
suspended. It continues where it stopped, with gate's standard input,
output and error as its own; its arguments and environment are those it
started with. It can be suspended again, into --snapshot (by default the
same file). Exit statuses are those of gate run.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("resume: want one SNAPSHOT file (see %s --help)", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			f.began = time.Now()
			path := args[0]
			if f.snapshot == "" {
				f.snapshot = path
			}
			if err := f.check("resume"); err != nil {
				return err
			}
			memory, _ := parseSize(f.memory) // checked by check
			snap, err := openSnapshot(path, runtime.MaxSnapshotSize(memory))
			if err != nil {
				return refused("%v", err)
			}
			defer snap.close()
			in := interruptibleStdin(stdin)
			return f.execute(cmd.Context(), stderr, resumedSnapshotSize(snap.size), func(ctx context.Context, eng engine, memory uint64, grown func(uint64)) (program, error) {
				inst, err := eng.resume(ctx, snap, memory, runtime.Options{Stdin: in, Stdout: stdout, Stderr: stderr, MemoryGrown: grown})
				if err != nil {
					return nil, refused("%s: %v", path, err)
				}
				return inst, nil
			})
		},
	}
	cmd.Flags().StringVar(&f.memory, "memory", "256MiB", "cap on the program's linear memory")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 0, "wall-clock time limit of this run, reading and compiling the snapshot included (e.g. 10s); 0 means none")
	cmd.Flags().StringVar(&f.cacheDir, "cache-dir", defaultCacheDir(), `directory for compiled code, with --sandbox=off; "" keeps it in memory only (the sandboxed executor keeps it in its memory)`)
	cmd.Flags().BoolVarP(&f.verbose, "verbose", "v", false, "log what gate does to standard error")
	f.addSuspendFlags(cmd, "SNAPSHOT itself")
	f.addSandboxFlag(cmd)
	return cmd
}

// resumedSnapshotSize returns how large a snapshot of a program resumed
// from a snapshot of size bytes may be, for a memory of a given size. The
// first size it is given is the memory's at resumption, when a snapshot
// would be about as large as the one resumed (never less than the
// memory); it grows with the memory.
func resumedSnapshotSize(size int64) func(memory uint64) int64 {
	var once sync.Once
	var rest int64
	return func(memory uint64) int64 {
		once.Do(func() { rest = max(size-int64(memory), 0) })
		return int64(memory) + rest
	}
}

func newInspectCommand(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "inspect SNAPSHOT",
		Short: "Print what a snapshot holds",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("inspect: want one SNAPSHOT file (see %s --help)", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			info, size, err := inspect(args[0])
			if err != nil {
				return refused("%v", err)
			}
			fmt.Fprint(stdout, formatSnapshotInfo(info, int(size)))
			return nil
		},
	}
}

// inspect describes the snapshot at path, opened as gate resume opens
// one: a file is then read where it is, a section at a time (a snapshot
// may be as large as its memory, and a file named as one larger still);
// anything else (a pipe) has been read into memory, no more than a
// snapshot of the largest memory may be.
func inspect(path string) (*runtime.SnapshotInfo, int64, error) {
	// Any memory cap: inspect runs nothing.
	snap, err := openSnapshot(path, runtime.MaxSnapshotSize(wasm.MaxPages*wasm.PageSize))
	if err != nil {
		return nil, 0, err
	}
	defer snap.close()
	var r io.ReaderAt = bytes.NewReader(snap.data)
	if snap.file != nil {
		r = snap.file
	}
	info, err := runtime.InspectSnapshotAt(r, snap.size)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	return info, snap.size, nil
}

func formatSnapshotInfo(info *runtime.SnapshotInfo, size int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "snapshot format: version %d\n", info.Version)
	fmt.Fprintf(&b, "size:            %s\n", wasm.FormatBytes(uint64(size)))
	fmt.Fprintf(&b, "module:          sha256:%x\n", info.ModuleHash)
	fmt.Fprintf(&b, "memory:          %s (%d pages), %s stored (pages of zeros left out)\n",
		wasm.FormatBytes(uint64(info.MemoryPages)*wasm.PageSize), info.MemoryPages, wasm.FormatBytes(info.MemoryStored))
	fmt.Fprintf(&b, "arguments:       %q\n", info.Args)
	fmt.Fprintf(&b, "environment:     %q\n", info.Env)
	fmt.Fprintf(&b, "monotonic clock: %v\n", info.Monotonic)
	fmt.Fprintf(&b, "pending input:   %d bytes\n", info.PendingInput)
	fmt.Fprintf(&b, "services:        none\n")
	fmt.Fprintf(&b, "frames:          %d, innermost first\n", len(info.Frames))
	for i, fr := range info.Frames {
		fmt.Fprintf(&b, "  #%-3d function %d at suspension point %d, %d values\n", i, fr.Function, fr.Point, fr.Values)
	}
	return b.String()
}

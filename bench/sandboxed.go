package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"time"

	"github.com/gate-wasm/gate/executor"
	"github.com/gate-wasm/gate/internal/snapfile"
	"github.com/gate-wasm/gate/runtime"
)

// sandboxedResult is the suspend and resume of the mem program in the
// sandboxed executor.
type sandboxedResult struct {
	mib              int
	snapSize         int64
	suspend, durable []time.Duration
	resume           []time.Duration // warm: the executor has compiled the resume module
	firstResume      time.Duration   // cold: the executor compiles it
	open, resumed    []time.Duration // parts of resume: os.Open, Executor.ResumeFile
}

// sandboxedBenchmark is memBenchmark through one sandboxed executor
// started from the gate binary, as gate run --snapshot and a server do:
// each run suspends mem.c mib into a snapfile.File reserved through
// MemoryGrown, which the executor writes into by its descriptor
// (WriteSnapshotTo), then resumes the snapshot in the same executor
// (which keeps the compiled resume module after the first) from the
// file, which the executor reads by its descriptor (ResumeFile), to the
// program's first output.
func sandboxedBenchmark(tmp, gate, memWasm string, mib, runs int) (*sandboxedResult, error) {
	ctx := context.Background()
	binary, err := os.ReadFile(memWasm)
	if err != nil {
		return nil, err
	}
	ex, err := executor.New(ctx, executor.Config{Path: gate})
	if err != nil {
		return nil, err
	}
	defer ex.Close()
	m, err := ex.Compile(ctx, binary, executor.CompileOptions{Suspendable: true})
	if err != nil {
		return nil, err
	}
	defer m.Close()
	r := &sandboxedResult{mib: mib}
	file := filepath.Join(tmp, fmt.Sprintf("sandboxed-%d.snapshot", mib))
	args := []string{"mem", strconv.Itoa(mib), "1000000"}
	for i := range runs {
		sf, err := snapfile.Create(file, nil)
		if err != nil {
			return nil, err
		}
		w := newTickWriter()
		inst, err := ex.Instantiate(ctx, m, runtime.Options{Args: args, Stdout: w, MemoryGrown: reserveAsGate(sf, binary)})
		if err != nil {
			sf.Discard()
			return nil, err
		}
		d, _, err := suspendWhenTicked(ctx, inst, w, time.Duration(5+7*i%20)*time.Millisecond)
		if err != nil {
			sf.Discard()
			return nil, err
		}
		n, err := inst.WriteSnapshotTo(sf.OSFile())
		if err != nil {
			sf.Discard()
			return nil, err
		}
		t2 := time.Now()
		if err := sf.Commit(); err != nil {
			return nil, err
		}
		t3 := time.Now()
		inst.Close(ctx)
		r.snapSize = n
		r.suspend, r.durable = append(r.suspend, t2.Sub(d)), append(r.durable, t3.Sub(d))

		goruntime.GC()
		w = newTickWriter()
		t0 := time.Now()
		snap, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		t1 := time.Now()
		inst, err = ex.ResumeFile(ctx, snap, 0, false, runtime.Options{Stdout: w})
		snap.Close()
		if err != nil {
			return nil, err
		}
		t2 = time.Now()
		if _, _, err := suspendWhenTicked(ctx, inst, w, 0); err != nil {
			return nil, err
		}
		total := w.firstWrite().Sub(t0)
		inst.Close(ctx)
		if i == 0 {
			r.firstResume = total
			continue
		}
		r.resume, r.open, r.resumed = append(r.resume, total), append(r.open, t1.Sub(t0)), append(r.resumed, t2.Sub(t1))
	}
	return r, nil
}

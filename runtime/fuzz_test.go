package runtime_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"os"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/gate-wasm/gate/internal/testprog"
	"github.com/gate-wasm/gate/runtime"
	"github.com/gate-wasm/gate/runtime/internal/frames"
	"github.com/gate-wasm/gate/wasm"
)

// Caps of every resume FuzzResume makes.
const (
	fuzzMemoryCap = 8 << 20
	fuzzTimeout   = 2 * time.Second
	// fuzzHeapGrowth bounds what the Go heap keeps after a run, its
	// instance still open: the memory cap, the frames' limit (as large)
	// and what compiling takes, with room.
	fuzzHeapGrowth = 2*fuzzMemoryCap + 64<<20
	// fuzzAllocated bounds what a resume and its run allocate in all,
	// garbage included: a snapshot must not make the host allocate many
	// times its caps, even for a moment.
	fuzzAllocated = 512 << 20
)

// suspendedSnapshot returns a snapshot of the C program tiny suspended
// 9 frames deep, at its 20th check site.
func suspendedSnapshot(tb testing.TB) []byte {
	tb.Helper()
	ctx := context.Background()
	bin, err := os.ReadFile(testprog.C(tb, "internal/testprog/src/c/tiny.c"))
	if err != nil {
		tb.Fatal(err)
	}
	rt, err := runtime.New(ctx, runtime.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	defer rt.Close(ctx)
	m, err := rt.CompileSuspendable(ctx, bin, 0)
	if err != nil {
		tb.Fatal(err)
	}
	inst, err := rt.Instantiate(ctx, m, runtime.Options{Args: []string{"tiny"}})
	if err != nil {
		tb.Fatal(err)
	}
	defer inst.Close(ctx)
	runtime.SuspendAtCheck(inst, 20)
	if _, err := inst.Run(ctx, 0); !errors.Is(err, runtime.ErrSuspended) {
		tb.Fatalf("run to check 20: %v, want ErrSuspended", err)
	}
	snap, err := inst.Snapshot()
	if err != nil {
		tb.Fatal(err)
	}
	return snap
}

// FuzzResume resumes and runs snapshots mutated with their structure in
// mind: bytes of the frames, ABI state, memory, globals and code, frames
// edited as frames, every mutation resealed with a right checksum so that
// it reaches the parsers and the resumption. Seeded with a real snapshot
// of a C program and with forged ones whose code saves values or frames
// for ever. Every resume runs under a memory cap and a timeout; none may
// panic the host, end in an error that looks like a Go panic, or pass its
// caps.
func FuzzResume(f *testing.F) {
	real := suspendedSnapshot(f)
	f.Add(real, []byte{})
	for _, name := range []string{"values", "frames"} {
		f.Add(forgedSnapshot(f, forgedModule([]string{"save_i32", "save_frame"}, forgedLoops[name])), []byte{})
	}
	// One mutation of each kind on the real snapshot.
	for kind := range byte(mutationKinds) {
		f.Add(real, []byte{kind, 3, 1, 0xff})
	}
	f.Add(real, []byte{1, 0, 1, 0xff, 1, 5, 0, 9}) // frames' points and functions
	f.Fuzz(func(t *testing.T, snap, ops []byte) {
		snap = mutate(snap, ops)
		resumeUnderCaps(t, snap)
	})
}

// resumeUnderCaps resumes snap and runs it under the fuzz caps, failing
// the test on a panic, an error that looks like a Go panic or an
// internal error, a memory over its cap, more than fuzzAllocated bytes
// allocated, or a Go heap that kept more than fuzzHeapGrowth after a
// run.
func resumeUnderCaps(t *testing.T, snap []byte) {
	ctx := context.Background()
	rt := fuzzRuntime(t)
	var inst *runtime.Instance
	var err error
	var before goruntime.MemStats
	goruntime.ReadMemStats(&before)
	defer func() {
		var after goruntime.MemStats
		goruntime.ReadMemStats(&after)
		if n := after.TotalAlloc - before.TotalAlloc; n > fuzzAllocated {
			t.Errorf("resuming and running allocated %d MiB", n>>20)
		}
	}()
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("Resume panicked: %v", r)
			}
		}()
		inst, err = rt.Resume(ctx, snap, fuzzMemoryCap, runtime.Options{Stdout: io.Discard, Stderr: io.Discard})
	}()
	if err != nil {
		noTrace(t, "resume", err)
		return
	}
	defer inst.Close(ctx)
	// The live heap, measured after collections (which cost more than
	// most resumes that are refused): what else the process allocated
	// and left is not counted.
	var live goruntime.MemStats
	goruntime.GC()
	goruntime.ReadMemStats(&live)
	_, err = inst.Run(ctx, fuzzTimeout)
	if err != nil {
		noTrace(t, "run", err)
	}
	if size := inst.MemorySize(); size > fuzzMemoryCap {
		t.Errorf("memory of %d bytes, over the cap of %d", size, fuzzMemoryCap)
	}
	var after goruntime.MemStats
	goruntime.GC()
	goruntime.ReadMemStats(&after)
	if after.HeapAlloc > live.HeapAlloc+fuzzHeapGrowth {
		t.Errorf("Go heap grew from %d to %d MiB in the run", live.HeapAlloc>>20, after.HeapAlloc>>20)
	}
}

// fuzzRT is the runtime of FuzzResume's resumes, which keeps the resume
// modules it compiles: most mutations leave the code as it is, and
// compiling it again for each would make them many times slower.
var fuzzRT *runtime.Runtime

// fuzzRuntime returns fuzzRT, a fresh one once it keeps a few resume
// modules, so that mutations of the code do not pile up compiled code.
func fuzzRuntime(t *testing.T) *runtime.Runtime {
	ctx := context.Background()
	if fuzzRT != nil && runtime.ResumeModules(fuzzRT) > 8 {
		fuzzRT.Close(ctx)
		fuzzRT = nil
	}
	if fuzzRT == nil {
		rt, err := runtime.New(ctx, runtime.Config{Interruptible: true})
		if err != nil {
			t.Fatal(err)
		}
		fuzzRT = rt
	}
	return fuzzRT
}

// mutationKinds is the number of kinds of mutation that mutate knows.
const mutationKinds = 8

// mutate applies ops to snap, four bytes at a time: a kind, two bytes
// of position and a value (see the cases), and returns the result with
// its checksum made right. A mutation that does not apply (the section
// it changes is missing or no longer decodes) is skipped.
func mutate(snap, ops []byte) []byte {
	snap = bytes.Clone(snap)
	for ; len(ops) >= 4; ops = ops[4:] {
		kind, pos, v := ops[0]%mutationKinds, int(ops[1])<<8|int(ops[2]), ops[3]
		switch kind {
		case 0: // a byte of the frames
			setByte(customPayload(snap, "gate.frames"), pos, v)
		case 1: // a frame edited as a frame
			snap = editFrames(snap, pos, v)
		case 2: // a byte of the ABI state
			setByte(customPayload(snap, "gate.wasi"), pos, v)
		case 3: // a byte of the data section: memory, segments' framing
			setByte(sectionPayload(snap, wasm.SectionData), pos, v)
		case 4: // a global's initializer, as a constant of its type
			snap = editModule(snap, func(m *wasm.Module) {
				if len(m.Globals) == 0 {
					return
				}
				g := &m.Globals[pos%len(m.Globals)]
				in := wasm.Instr{Op: wasm.OpI32Const, Imm: uint64(int64(int8(v)))}
				switch g.Type.Type {
				case wasm.I64:
					in.Op = wasm.OpI64Const
				case wasm.F32:
					in.Op = wasm.OpF32Const
				case wasm.F64:
					in.Op = wasm.OpF64Const
				}
				g.Init = wasm.EncodeBody([]wasm.Instr{in, {Op: wasm.OpEnd}})
			})
		case 5: // a byte of the code section
			setByte(sectionPayload(snap, wasm.SectionCode), pos, v)
		case 6: // a byte of the global and export sections
			if v&1 == 0 {
				setByte(sectionPayload(snap, wasm.SectionGlobal), pos, v)
			} else {
				setByte(sectionPayload(snap, wasm.SectionExport), pos, v)
			}
		case 7: // any byte before the header
			if end := headerStart(snap); end > 0 {
				snap[pos*int(v|1)%end] = v
			}
		}
	}
	return resealBytes(snap)
}

// setByte sets b[pos mod len(b)] to v, if b is not empty.
func setByte(b []byte, pos int, v byte) {
	if len(b) > 0 {
		b[pos%len(b)] = v
	}
}

// sectionPayload returns the payload of snap's first section of id, a
// slice of snap, or nil.
func sectionPayload(snap []byte, id wasm.SectionID) []byte {
	sections, err := wasm.ReadSections(snap)
	if err != nil {
		return nil
	}
	for _, s := range sections {
		if s.ID == id {
			return s.Payload
		}
	}
	return nil
}

// customPayload returns the data of snap's custom section name (after
// the name), a slice of snap, or nil.
func customPayload(snap []byte, name string) []byte {
	sections, err := wasm.ReadSections(snap)
	if err != nil {
		return nil
	}
	prefix := append(binary.AppendUvarint(nil, uint64(len(name))), name...)
	for _, s := range sections {
		if s.ID == wasm.SectionCustom && bytes.HasPrefix(s.Payload, prefix) {
			return s.Payload[len(prefix):]
		}
	}
	return nil
}

// headerStart returns where snap's last section starts, or 0.
func headerStart(snap []byte) int {
	sections, err := wasm.ReadSections(snap)
	if err != nil || len(sections) == 0 {
		return 0
	}
	return sections[len(sections)-1].Start
}

// editModule decodes snap, edits it and encodes it again; it returns snap
// as it is if it does not decode.
func editModule(snap []byte, edit func(m *wasm.Module)) []byte {
	m, err := wasm.Decode(snap)
	if err != nil {
		return snap
	}
	edit(m)
	return wasm.Encode(m)
}

// editFrames changes one frame of snap, chosen by pos: its function, its
// point, or its values, by v.
func editFrames(snap []byte, pos int, v byte) []byte {
	return editModule(snap, func(m *wasm.Module) {
		for i := range m.Customs {
			c := &m.Customs[i]
			if c.Name != "gate.frames" {
				continue
			}
			s, err := frames.Parse(c.Data)
			if err != nil || len(s.Frames) == 0 {
				return
			}
			f := &s.Frames[pos%len(s.Frames)]
			switch (pos >> 8) % 6 {
			case 0:
				f.Func = uint32(v)
			case 1:
				f.Point = uint32(v)
			case 2:
				f.Point += uint32(v) << 24
			case 3:
				if len(f.Values) > 0 {
					f.Types, f.Values = f.Types[1:], f.Values[1:]
				}
			case 4:
				f.Types, f.Values = append(f.Types, frames.I32), append(f.Values, uint64(v))
			case 5:
				j := int(v) % len(s.Frames)
				s.Frames[pos%len(s.Frames)], s.Frames[j] = s.Frames[j], s.Frames[pos%len(s.Frames)]
			}
			c.Data = s.AppendBinary(nil)
		}
	})
}

// resealBytes makes the checksum of an edited snapshot right again (see
// reseal).
func resealBytes(snap []byte) []byte {
	sections, err := wasm.ReadSections(snap)
	if err != nil || len(sections) == 0 {
		return snap
	}
	last := sections[len(sections)-1]
	name := append(binary.AppendUvarint(nil, uint64(len("gate.snapshot"))), "gate.snapshot"...)
	if last.ID != wasm.SectionCustom || !bytes.HasPrefix(last.Payload, name) || len(last.Payload) < len(name)+4 || last.Offset+len(last.Payload) != len(snap) {
		return snap
	}
	binary.LittleEndian.PutUint32(snap[len(snap)-4:], crc32.Checksum(snap[:last.Start], crc32.MakeTable(crc32.Castagnoli)))
	return snap
}

// TestMutations checks that FuzzResume's mutations reach what they
// mean to: each kind changes the snapshot and keeps its checksum right,
// so that Resume gets past the checksum.
func TestMutations(t *testing.T) {
	t.Parallel()
	real := suspendedSnapshot(t)
	for kind := range byte(mutationKinds) {
		mutated := mutate(real, []byte{kind, 0, 7, 0x5a})
		if bytes.Equal(mutated, real) {
			t.Errorf("mutation %d changed nothing", kind)
			continue
		}
		_, err := runtime.InspectSnapshot(mutated)
		if err != nil && strings.Contains(err.Error(), "checksum") {
			t.Errorf("mutation %d: %v", kind, err)
		}
		t.Logf("mutation %d: %v", kind, err)
	}
}

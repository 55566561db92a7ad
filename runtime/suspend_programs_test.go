package runtime_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gate-wasm/gate/internal/testprog"
	"github.com/gate-wasm/gate/runtime"
	"github.com/gate-wasm/gate/runtime/internal/frames"
	"github.com/gate-wasm/gate/runtime/internal/snapshot"
	"github.com/gate-wasm/gate/runtime/internal/wasi"
	"github.com/gate-wasm/gate/wasm"
)

// progRun is how a run of a program ended, over all its suspensions.
type progRun struct {
	stdout, stderr string
	code           uint32
	mem            []byte // linear memory at the end
	suspensions    int
	snaps          [][]byte // the snapshots, when kept
}

// step is when a run is suspended: at the nth check site after it
// (re)started, after a delay, or by a function given the instance.
type step struct {
	check int
	delay time.Duration
	fn    func(*runtime.Instance)
}

// prog is a program with what it is given.
type prog struct {
	path string
	args []string
	cfg  runtime.Config
	// stdin returns the host's standard input for a whole run: the
	// same reader goes on after every resume (the "same role").
	stdin func() io.Reader
	// stdinAfter, if set, gives the reader for the resume after the
	// nth suspension (counted from 1) instead.
	stdinAfter func(n int) io.Reader
	keepSnaps  bool

	rt  *runtime.Runtime // for first instantiations
	mod *runtime.Module
}

// compiled returns the program compiled with the transform in a runtime
// kept for first instantiations.
func (p *prog) compiled(t *testing.T) (*runtime.Runtime, *runtime.Module) {
	t.Helper()
	if p.mod == nil {
		bin, err := os.ReadFile(p.path)
		if err != nil {
			t.Fatal(err)
		}
		p.rt = newRuntime(t, p.cfg)
		if p.mod, err = p.rt.CompileSuspendable(context.Background(), bin, 0); err != nil {
			t.Fatalf("CompileSuspendable(%s): %v", p.path, err)
		}
	}
	return p.rt, p.mod
}

// run runs the program, suspending it as plan says in turn, each time
// resuming it from its snapshot in a fresh runtime.
func (p *prog) run(t *testing.T, plan []step) progRun {
	t.Helper()
	ctx := context.Background()
	var stdout, stderr bytes.Buffer
	var stdin io.Reader
	if p.stdin != nil {
		stdin = p.stdin()
	}
	rt, mod := p.compiled(t)
	inst, err := rt.Instantiate(ctx, mod, runtime.Options{Args: p.args, Stdin: stdin, Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	var res progRun
	for n := 0; ; n++ {
		var timer *time.Timer
		if n < len(plan) {
			switch s := plan[n]; {
			case s.check > 0:
				runtime.SuspendAtCheck(inst, s.check)
				if s.delay > 0 { // a safety net
					timer = time.AfterFunc(s.delay, inst.Suspend)
				}
			case s.fn != nil:
				go s.fn(inst)
			default:
				timer = time.AfterFunc(s.delay, inst.Suspend)
			}
		}
		code, err := inst.Run(ctx, 0)
		if timer != nil {
			timer.Stop()
		}
		if !errors.Is(err, runtime.ErrSuspended) {
			if err != nil {
				inst.Close(ctx)
				t.Fatalf("run %d (after %d suspensions): %v", n, res.suspensions, err)
			}
			res.code, res.mem = code, runtime.MemoryOf(inst)
			inst.Close(ctx)
			res.stdout, res.stderr = stdout.String(), stderr.String()
			return res
		}
		res.suspensions++
		snap, err := inst.Snapshot()
		if err != nil {
			t.Fatalf("Snapshot after run %d: %v", n, err)
		}
		inst.Close(ctx)
		if p.keepSnaps {
			res.snaps = append(res.snaps, snap)
		}
		if p.stdinAfter != nil {
			stdin = p.stdinAfter(res.suspensions)
		}
		fresh := newRuntime(t, p.cfg)
		if inst, err = fresh.Resume(ctx, snap, 0, runtime.Options{Stdin: stdin, Stdout: &stdout, Stderr: &stderr}); err != nil {
			t.Fatalf("Resume after run %d: %v", n, err)
		}
	}
}

// checks counts the check sites an uninterrupted run passes.
func (p *prog) checks(t *testing.T) int {
	t.Helper()
	const start = 1 << 40
	ctx := context.Background()
	var stdin io.Reader
	if p.stdin != nil {
		stdin = p.stdin()
	}
	rt, mod := p.compiled(t)
	inst, err := rt.Instantiate(ctx, mod, runtime.Options{Args: p.args, Stdin: stdin})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(ctx)
	runtime.SuspendAtCheck(inst, start)
	if _, err := inst.Run(ctx, 0); err != nil {
		t.Fatalf("counting check sites: %v", err)
	}
	return start - runtime.ChecksLeft(inst)
}

// spread returns the check sites 1..dense, then points growing by about
// a factor, up to n.
func spread(dense, n int, factor float64) []int {
	var at []int
	for c := 1; c <= n; {
		at = append(at, c)
		if c < dense {
			c++
		} else {
			c = max(c+1, int(float64(c)*factor))
		}
	}
	return at
}

// same fails the test if got differs from want in output, status or,
// when memory is set, linear memory.
func same(t *testing.T, name string, got, want progRun, memory bool) {
	t.Helper()
	if got.stdout != want.stdout || got.stderr != want.stderr || got.code != want.code {
		t.Fatalf("%s (%d suspensions): status %d, stdout\n%s\nstderr %q\nwant status %d, stdout\n%s\nstderr %q",
			name, got.suspensions, got.code, got.stdout, got.stderr, want.code, want.stdout, want.stderr)
	}
	if memory && !bytes.Equal(got.mem, want.mem) {
		t.Fatalf("%s (%d suspensions): linear memory differs: %d bytes differ, size %d, want %d",
			name, got.suspensions, memDiff(got.mem, want.mem), len(got.mem), len(want.mem))
	}
}

// memDiff counts the bytes in which a and b differ (a size difference
// counts in full).
func memDiff(a, b []byte) int {
	n := max(len(a), len(b)) - min(len(a), len(b))
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

// snapshotState parses what a snapshot says of itself and of the ABI.
func snapshotState(t *testing.T, snap []byte) (*snapshot.Snapshot, wasi.Snapshot) {
	t.Helper()
	s, err := snapshot.Parse(snap)
	if err != nil {
		t.Fatal(err)
	}
	abi, err := wasi.ParseSnapshot(s.ABI)
	if err != nil {
		t.Fatal(err)
	}
	return s, abi
}

// TestSuspendProgramSieve suspends a C program made of loops (a sieve)
// at every one of its first check sites, then at points spread over the
// whole run, at every kth check site again and again, in its phase of
// memory growth (6 MiB malloc'd), and at timed moments; each run must
// end exactly like the uninterrupted one, linear memory included.
func TestSuspendProgramSieve(t *testing.T) {
	t.Parallel()
	p := &prog{path: testprog.C(t, "internal/testprog/src/c/sieve.c"), args: []string{"sieve", "100000", "6"}, keepSnaps: true}
	want := p.run(t, nil)
	if want.code != 5 || !strings.Contains(want.stdout, "primes below 100000: 9592") || want.stderr != "sieve: done\n" {
		t.Fatalf("uninterrupted run: status %d, stdout %q, stderr %q", want.code, want.stdout, want.stderr)
	}
	n := p.checks(t)
	t.Logf("uninterrupted run: %d check sites, %d bytes of memory", n, len(want.mem))
	singles := spread(12, n, 1.5)
	for _, at := range singles {
		got := p.run(t, []step{{check: at}})
		same(t, fmt.Sprintf("at check %d", at), got, want, true)
		if got.suspensions != 1 {
			t.Fatalf("at check %d: %d suspensions, want 1", at, got.suspensions)
		}
	}
	// The last phase: 6 blocks of 1 MiB, each grown into and filled:
	// suspend in every block. It starts after the check sites of a run
	// that allocates nothing.
	p0 := &prog{path: p.path, args: []string{"sieve", "100000", "0"}}
	n0 := p0.checks(t)
	var grown []uint32
	for b := range 6 {
		at := n0 + (n-n0)*(2*b+1)/12
		got := p.run(t, []step{{check: at}})
		same(t, fmt.Sprintf("at check %d (growth)", at), got, want, true)
		s, _ := snapshotState(t, got.snaps[0])
		grown = append(grown, s.MemoryPages)
	}
	if !slices.IsSorted(grown) || grown[0] == grown[len(grown)-1] {
		t.Errorf("memory at suspensions during growth: %v pages, want it growing", grown)
	}
	// Every kth check site, again and again.
	k := n/24 + 1
	plan := make([]step, n/k)
	for i := range plan {
		plan[i] = step{check: k}
	}
	got := p.run(t, plan)
	same(t, fmt.Sprintf("every %dth check", k), got, want, true)
	if got.suspensions != len(plan) {
		t.Errorf("every %dth check: %d suspensions, want %d", k, got.suspensions, len(plan))
	}
	// At timed moments: compiled, the sieve computes for a few
	// milliseconds only.
	timed := p.run(t, []step{{delay: 50 * time.Microsecond}, {delay: 100 * time.Microsecond}, {delay: 200 * time.Microsecond}, {delay: 400 * time.Microsecond}})
	same(t, "timed", timed, want, true)
	t.Logf("%d single suspensions (checks %v), %d during growth (memory %v pages), %d every %dth check, %d timed",
		len(singles), singles, len(grown), grown, got.suspensions, k, timed.suspensions)
}

// goMemory runs p uninterrupted twice and tells whether its final memory
// is deterministic. A Go program's is not: the runtime seeds its hash
// maps and scheduler from random_get and keeps nanotime readings (timers,
// GC pacing, scheduler ticks) in memory, so two uninterrupted runs of the
// same program differ; then memory is not compared, only its size is
// logged.
func goMemory(t *testing.T, p *prog, want progRun) bool {
	t.Helper()
	again := p.run(t, nil)
	same(t, "second uninterrupted run", again, want, false)
	if d := memDiff(again.mem, want.mem); d != 0 {
		t.Logf("two uninterrupted runs end with memories that differ in %d of %d bytes: memory not compared", d, len(want.mem))
		return false
	}
	return true
}

// TestSuspendProgramGoWorkers suspends a Go program with goroutines,
// channels, a WaitGroup, 60-deep recursion and sleeps at its first check
// sites, at points spread over the run, and at timed moments, when it is
// most often blocked in poll_oneoff. It runs in wazero's interpreter:
// compiling a 2 MB Go program for each resume takes seconds with the
// compiler.
func TestSuspendProgramGoWorkers(t *testing.T) {
	t.Parallel()
	p := &prog{path: testprog.Go(t, "internal/testprog/src/go/workers"), args: []string{"workers"}, cfg: runtime.Config{Interpreter: true}}
	want := p.run(t, nil)
	if want.code != 3 || !strings.Contains(want.stdout, "12 results") || want.stderr != "workers: done\n" {
		t.Fatalf("uninterrupted run: status %d, stdout %q, stderr %q", want.code, want.stdout, want.stderr)
	}
	memory := goMemory(t, p, want)
	n := p.checks(t)
	count := 0
	// The check count varies between runs (timers, scheduling): a
	// point near the end may not be reached.
	for _, at := range []int{1, 2, 3, 50, 1000, n / 4, n / 2, n * 7 / 8} {
		got := p.run(t, []step{{check: at}})
		same(t, fmt.Sprintf("at check %d", at), got, want, memory)
		count += got.suspensions
	}
	// Three times in one run, at moments when it mostly sleeps.
	got := p.run(t, []step{{delay: 5 * time.Millisecond}, {delay: 10 * time.Millisecond}, {delay: 10 * time.Millisecond}})
	same(t, "timed", got, want, memory)
	if got.suspensions == 0 {
		t.Errorf("timed: never suspended")
	}
	t.Logf("about %d check sites; %d suspensions at checks, %d timed; memory %d bytes", n, count, got.suspensions, len(want.mem))
}

// TestSuspendProgramSleepers suspends examples/go/sleepers while its
// goroutines sleep: the sleeps must go on after resume, on a monotonic
// clock that continues from the snapshot's (time spent suspended does not
// count), so the program still finds that it slept at least n*step.
func TestSuspendProgramSleepers(t *testing.T) {
	t.Parallel()
	p := &prog{path: testprog.Go(t, "examples/go/sleepers"), args: []string{"sleepers", "-n", "3", "-step", "1s"}, cfg: runtime.Config{Interpreter: true}, keepSnaps: true}
	want := p.run(t, nil)
	if wantOut := "goroutine 2 woke\ngoroutine 1 woke\ngoroutine 0 woke\nall 3 woke in at least 3s: true\n"; want.stdout != wantOut {
		t.Fatalf("uninterrupted run: stdout %q, want %q", want.stdout, wantOut)
	}
	goMemory(t, p, want)
	// Each delay is from the start of a (resumed) run. The sleeps are
	// long so that even a slow machine (or -race) suspends the program
	// asleep every time, not after it has ended.
	got := p.run(t, []step{{delay: 100 * time.Millisecond}, {delay: 100 * time.Millisecond}, {delay: 100 * time.Millisecond}})
	same(t, "suspended while asleep", got, want, false)
	if got.suspensions < 2 {
		t.Fatalf("%d suspensions, want at least 2", got.suspensions)
	}
	var clocks []time.Duration
	for _, snap := range got.snaps {
		_, abi := snapshotState(t, snap)
		clocks = append(clocks, time.Duration(abi.Monotonic))
	}
	for i := 1; i < len(clocks); i++ {
		if clocks[i] <= clocks[i-1] {
			t.Errorf("monotonic clock at suspensions %v: not increasing", clocks)
		}
	}
	t.Logf("%d suspensions while asleep; program's monotonic clock at each: %v", got.suspensions, clocks)
}

// blockingReader blocks every Read until done is closed, then ends: a
// host input that has nothing more for now. It closes reached, if set,
// when first read.
type blockingReader struct {
	done    chan struct{}
	reached chan struct{}
	once    *sync.Once
}

func (b blockingReader) Read([]byte) (int, error) {
	if b.reached != nil {
		b.once.Do(func() { close(b.reached) })
	}
	<-b.done
	return 0, io.EOF
}

// filterInput is the input of the filter tests: numbered lines.
func filterInput(lines int) []byte {
	var b bytes.Buffer
	for i := range lines {
		fmt.Fprintf(&b, "line %d of the input: the quick brown fox jumps over the lazy dog\n", i)
	}
	return b.Bytes()
}

// testFilter suspends a program that copies standard input to standard
// output:
//   - at check sites over a run that reads the whole input from one
//     reader, which goes on after each resume (the same role): memory
//     compared when memory is set, since the reads see the same bytes at
//     the same points;
//   - while blocked on standard input: part of the input, in several
//     chunks, then nothing; suspended once it waits; resumed with the
//     rest as the new standard input;
//   - while busy with bytes the host has read from several chunks and
//     the program has not: they travel in the snapshot and must come
//     first after resume.
//
// Memory is not compared in the last two: how the input arrives in
// chunks (timing-dependent) decides what the program's buffers hold.
//
// pendingAt are fractions of the check sites the program passes over the
// first chunk.
func testFilter(t *testing.T, p *prog, points func(n int) []int, pendingAt []float64, memory, requirePending bool) {
	input := filterInput(400)
	p.stdin = func() io.Reader { return bytes.NewReader(input) }
	want := p.run(t, nil)
	if want.code != 0 || len(want.stdout) < len(input) {
		t.Fatalf("uninterrupted run: status %d, stdout %d bytes, stderr %q", want.code, len(want.stdout), want.stderr)
	}
	n := p.checks(t)
	checkAt := points(n)
	for _, at := range checkAt {
		got := p.run(t, []step{{check: at}})
		same(t, fmt.Sprintf("at check %d", at), got, want, memory)
	}

	// Part of the input in 3 chunks, then the host waits.
	part, rest := input[:3*6000], input[3*6000:]
	p.stdin = func() io.Reader { return nil }
	nEmpty := p.checks(t)
	p.stdin = func() io.Reader { return bytes.NewReader(part) }
	nPart := p.checks(t)
	var blockers []chan struct{}
	var reached chan struct{} // of the last reader made
	t.Cleanup(func() {
		for _, c := range blockers {
			close(c)
		}
	})
	p.stdin = func() io.Reader {
		c := make(chan struct{})
		blockers = append(blockers, c)
		reached = make(chan struct{})
		return io.MultiReader(bytes.NewReader(part[:6000]), bytes.NewReader(part[6000:12000]), bytes.NewReader(part[12000:]), blockingReader{c, reached, new(sync.Once)})
	}
	p.stdinAfter = func(int) io.Reader { return bytes.NewReader(rest) }
	p.keepSnaps = true
	defer func() { p.stdin, p.stdinAfter, p.keepSnaps = nil, nil, false }()

	got := p.run(t, []step{{fn: func(i *runtime.Instance) {
		<-reached                          // the host has read the chunks
		time.Sleep(300 * time.Millisecond) // and the program, most likely
		i.Suspend()
	}}})
	same(t, "suspended while blocked on stdin", got, want, false)
	if got.suspensions != 1 {
		t.Fatalf("blocked on stdin: %d suspensions, want 1", got.suspensions)
	}
	// Slow (under -race, interpreted), the program may not have read
	// them all yet: then they are in the snapshot, and the output above
	// shows that none was lost.
	if _, abi := snapshotState(t, got.snaps[0]); abi.StdinState != 0 {
		t.Errorf("blocked on stdin: snapshot's input state %d, want 0 (open)", abi.StdinState)
	} else if len(abi.Stdin) != 0 {
		t.Logf("blocked on stdin: the program had not read %d bytes yet when suspended", len(abi.Stdin))
	}

	var pendings, pendingChecks []int
	for _, f := range pendingAt {
		at := nEmpty + int(f*float64(nPart-nEmpty)/3)
		pendingChecks = append(pendingChecks, at)
		got := p.run(t, []step{{check: at, delay: 5 * time.Second}})
		same(t, fmt.Sprintf("at check %d while input is pending", at), got, want, false)
		if got.suspensions != 1 {
			t.Fatalf("at check %d while input is pending: %d suspensions, want 1", at, got.suspensions)
		}
		_, abi := snapshotState(t, got.snaps[0])
		pendings = append(pendings, len(abi.Stdin))
	}
	if requirePending && slices.Max(pendings) == 0 {
		t.Errorf("no snapshot held pending input (suspended at checks %v)", pendingChecks)
	}
	t.Logf("%d check sites; suspended once at checks %v; once blocked on stdin; at checks %v with %v bytes read by the host and not by the program",
		n, checkAt, pendingChecks, pendings)
}

func TestSuspendProgramFilterC(t *testing.T) {
	t.Parallel()
	p := &prog{path: testprog.C(t, "examples/c/filter.c"), args: []string{"filter"}}
	testFilter(t, p, func(n int) []int { return spread(4, n, 2.5) }, []float64{0.1, 0.3, 0.6}, true, true)
}

// TestSuspendProgramFilterGo is testFilter for examples/go/filter. Its
// first read takes all the input that has arrived (a 64 KiB buffer), and
// the host has all of it by then, so its snapshots rarely hold pending
// input: that is required of the C filter only.
func TestSuspendProgramFilterGo(t *testing.T) {
	t.Parallel()
	p := &prog{path: testprog.Go(t, "examples/go/filter"), args: []string{"filter"}, cfg: runtime.Config{Interpreter: true}}
	testFilter(t, p, func(n int) []int { return []int{n / 2} }, []float64{0.2, 0.5}, false, false)
}

// withCustom returns snap with the data of custom section name replaced
// by what edit makes of it, re-encoded.
func withCustom(t *testing.T, snap []byte, name string, edit func([]byte) []byte) []byte {
	t.Helper()
	m, err := wasm.Decode(snap)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for i := range m.Customs {
		if m.Customs[i].Name == name {
			m.Customs[i].Data = edit(bytes.Clone(m.Customs[i].Data))
			found = true
		}
	}
	if !found {
		t.Fatalf("no custom section %q", name)
	}
	return reseal(t, wasm.Encode(m))
}

// reseal makes the checksum of an edited snapshot right again, if its
// format has one (a CRC-32C in the header's last 4 bytes, the header being
// the last section, of everything before the header), so that a test
// reaches the checks behind it. A snapshot without one is returned as it
// is.
func reseal(t *testing.T, snap []byte) []byte {
	t.Helper()
	sections, err := wasm.ReadSections(snap)
	if err != nil || len(sections) == 0 {
		return snap
	}
	last := sections[len(sections)-1]
	name := append(binary.AppendUvarint(nil, uint64(len("gate.snapshot"))), "gate.snapshot"...)
	if last.ID != wasm.SectionCustom || !bytes.HasPrefix(last.Payload, name) || len(last.Payload) < len(name)+4 {
		return snap
	}
	out := bytes.Clone(snap)
	binary.LittleEndian.PutUint32(out[len(out)-4:], crc32.Checksum(out[:last.Start], crc32.MakeTable(crc32.Castagnoli)))
	return out
}

// withFrames returns snap with its frames changed by edit.
func withFrames(t *testing.T, snap []byte, edit func(*frames.Stack)) []byte {
	t.Helper()
	return withCustom(t, snap, "gate.frames", func(data []byte) []byte {
		s, err := frames.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		edit(s)
		return s.AppendBinary(nil)
	})
}

// badOutcome is what became of a bad snapshot.
type badOutcome int

const (
	refused      badOutcome = iota // by Resume
	failedRun                      // Resume took it, Run failed with an error
	sameRun                        // Resume took it, Run ended as it should
	differentRun                   // Resume took it, Run ended otherwise
)

// tryBad resumes snap and runs it, failing the test on a panic, a Go
// panic trace in an error or a Run that does not end.
func tryBad(t *testing.T, name string, snap []byte, memoryLimit uint64, want progRun) (badOutcome, error) {
	t.Helper()
	ctx := context.Background()
	rt := newRuntime(t, runtime.Config{Interruptible: true})
	var stdout, stderr bytes.Buffer
	var inst *runtime.Instance
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("%s: Resume panicked: %v", name, r)
			}
		}()
		inst, err = rt.Resume(ctx, snap, memoryLimit, runtime.Options{Stdout: &stdout, Stderr: &stderr})
	}()
	if err != nil {
		noTrace(t, name, err)
		return refused, err
	}
	defer inst.Close(ctx)
	code, err := inst.Run(ctx, 5*time.Second)
	if err != nil {
		noTrace(t, name, err)
		var limit *runtime.LimitError
		if errors.As(err, &limit) {
			t.Errorf("%s: Run did not end: %v", name, err)
		}
		return failedRun, err
	}
	if code == want.code && stdout.String() == want.stdout && stderr.String() == want.stderr {
		return sameRun, nil
	}
	return differentRun, nil
}

// noTrace fails the test if err looks like a Go panic or one of its
// traces, or an internal error of the runtime.
func noTrace(t *testing.T, name string, err error) {
	t.Helper()
	msg := err.Error()
	for _, bad := range []string{"panic", "goroutine ", "runtime error", "internal error", ".go:"} {
		if strings.Contains(msg, bad) {
			t.Errorf("%s: error looks like a Go panic or an internal error: %v", name, err)
			return
		}
	}
}

// TestSuspendProgramBadSnapshots resumes corrupted snapshots of a small
// C program suspended 9 frames deep: truncated at every length, one byte
// flipped at many offsets, frames edited to name other functions (and
// otherwise not to match the code), wrong format versions, memory above
// the cap. Each must be refused by Resume or fail Run with an error that
// names the snapshot; never a panic, a Go trace, or the program run on
// with wrong state. A flipped byte may still make a valid snapshot (in a
// data segment, say): then Run must end without a panic, and the outcomes
// are counted.
func TestSuspendProgramBadSnapshots(t *testing.T) {
	t.Parallel()
	p := &prog{path: testprog.C(t, "internal/testprog/src/c/tiny.c"), args: []string{"tiny"}, keepSnaps: true}
	want := p.run(t, nil)
	if want.code != 9 || want.stdout == "" {
		t.Fatalf("uninterrupted run: status %d, stdout %q", want.code, want.stdout)
	}
	// In the loop at the bottom of the recursion: 9 frames of tiny's,
	// under those of the C library's start.
	got := p.run(t, []step{{check: 20}})
	same(t, "suspended at check 20", got, want, true)
	snap := got.snaps[0]
	st, err := frames.Parse(mustSnapshot(t, snap).Frames)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Frames) < 10 {
		t.Fatalf("snapshot has %d frames, want at least 10", len(st.Frames))
	}
	if outcome, err := tryBad(t, "intact", snap, 0, want); outcome != sameRun {
		t.Fatalf("intact snapshot: outcome %d, %v", outcome, err)
	}

	// Truncated: every length below 256 bytes, then every 7th.
	truncated := 0
	for n := 0; n < len(snap); n += 1 + n/256*6 {
		if outcome, err := tryBad(t, fmt.Sprintf("truncated to %d bytes", n), snap[:n], 0, want); outcome != refused {
			t.Fatalf("truncated to %d of %d bytes: outcome %d (%v), want refused", n, len(snap), outcome, err)
		}
		truncated++
	}

	// One byte flipped: every byte of the sections Gate reads itself
	// (the custom sections at the end), then at offsets spread over the
	// rest.
	var counts, resealed [4]int
	flips := 0
	customs := customStart(t, snap)
	for off := 0; off < len(snap); {
		bad := bytes.Clone(snap)
		bad[off] ^= 0xff
		outcome, err := tryBad(t, fmt.Sprintf("byte %d flipped", off), bad, 0, want)
		counts[outcome]++
		// The same with the checksum made right, if there is one: the
		// checks behind it.
		if sealed := reseal(t, bad); !bytes.Equal(sealed, bad) {
			outcome, err = tryBad(t, fmt.Sprintf("byte %d flipped, resealed", off), sealed, 0, want)
		}
		if outcome == failedRun && !strings.Contains(err.Error(), "snapshot") {
			// A trap or exit in the program is not "wrong state run
			// on" only if the change was in its own code or data.
			if off >= customs {
				t.Errorf("byte %d (in Gate's sections) flipped: Run failed without naming the snapshot: %v", off, err)
			}
		}
		resealed[outcome]++
		flips++
		if off >= customs {
			off++
		} else {
			off += 1 + off%97
		}
	}

	// Frames that do not match the code.
	frameEdits := map[string]func(*frames.Stack){
		"innermost function index changed": func(s *frames.Stack) { s.Frames[0].Func++ },
		"outermost function index changed": func(s *frames.Stack) { s.Frames[len(s.Frames)-1].Func += 3 },
		"every function index changed": func(s *frames.Stack) {
			for i := range s.Frames {
				s.Frames[i].Func ^= 1
			}
		},
		"middle function index changed": func(s *frames.Stack) { s.Frames[len(s.Frames)/2].Func = 1 << 20 },
		"frames of two functions swapped": func(s *frames.Stack) {
			j := slices.IndexFunc(s.Frames, func(f frames.Frame) bool { return f.Func != s.Frames[0].Func })
			s.Frames[0], s.Frames[j] = s.Frames[j], s.Frames[0]
		},
		"innermost frame dropped": func(s *frames.Stack) { s.Frames = s.Frames[1:] },
		"outermost frame dropped": func(s *frames.Stack) { s.Frames = s.Frames[:len(s.Frames)-1] },
		"frame added":             func(s *frames.Stack) { s.Frames = append([]frames.Frame{s.Frames[0]}, s.Frames...) },
		"value removed": func(s *frames.Stack) {
			f := &s.Frames[2]
			f.Types, f.Values = f.Types[1:], f.Values[1:]
		},
		"value added": func(s *frames.Stack) {
			f := &s.Frames[2]
			f.Types, f.Values = append(f.Types, frames.I64), append(f.Values, 7)
		},
		"value type changed": func(s *frames.Stack) {
			f := &s.Frames[2]
			f.Types = slices.Clone(f.Types)
			f.Types[0] = map[frames.Type]frames.Type{frames.I32: frames.I64, frames.I64: frames.I32, frames.F32: frames.F64, frames.F64: frames.F32}[f.Types[0]]
		},
		"no frames": func(s *frames.Stack) { s.Frames = nil },
	}
	for name, edit := range frameEdits {
		outcome, err := tryBad(t, name, withFrames(t, snap, edit), 0, want)
		if outcome == sameRun || outcome == differentRun || !strings.Contains(err.Error(), "snapshot") {
			t.Errorf("frames with %s: outcome %d (%v), want refused or a failed Run that names the snapshot", name, outcome, err)
		}
	}

	// Versions.
	versions := map[string][]byte{
		"format version 1": withCustom(t, snap, "gate.snapshot", func(d []byte) []byte { d[0] = 1; return d }),
		"format version 3": withCustom(t, snap, "gate.snapshot", func(d []byte) []byte { d[0] = 3; return d }),
		"format version 0": withCustom(t, snap, "gate.snapshot", func(d []byte) []byte { d[0] = 0; return d }),
		"frames version 2": withCustom(t, snap, "gate.frames", func(d []byte) []byte { d[0] = 2; return d }),
		"ABI version 2":    withCustom(t, snap, "gate.wasi", func(d []byte) []byte { d[0] = 2; return d }),
	}
	for name, bad := range versions {
		if outcome, err := tryBad(t, name, bad, 0, want); outcome != refused || !strings.Contains(err.Error(), "version") {
			t.Errorf("%s: outcome %d (%v), want refused for its version", name, outcome, err)
		}
	}

	// Memory above the cap: the snapshot declares 2 pages.
	pages := mustSnapshot(t, snap).MemoryPages
	for _, limit := range []uint64{1, wasm.PageSize, uint64(pages-1) * wasm.PageSize} {
		if outcome, err := tryBad(t, fmt.Sprintf("memory limit %d", limit), snap, limit, want); outcome != refused {
			t.Errorf("memory of %d pages, limit %d bytes: outcome %d (%v), want refused", pages, limit, outcome, err)
		}
	}
	if outcome, err := tryBad(t, "memory limit at size", snap, uint64(pages)*wasm.PageSize, want); outcome != sameRun {
		t.Errorf("memory of %d pages, limit as large: outcome %d (%v), want resumed", pages, outcome, err)
	}

	t.Logf("snapshot of %d bytes, %d frames, %d pages; %d truncations refused; %d single-byte flips (every byte from offset %d, Gate's sections): %d refused by Resume, %d failed Run, %d ran as before, %d ran otherwise; with the checksum made right: %d refused, %d failed Run, %d ran as before, %d ran otherwise; %d frame edits, %d version changes refused; memory above the cap refused",
		len(snap), len(st.Frames), pages, truncated, flips, customs, counts[refused], counts[failedRun], counts[sameRun], counts[differentRun],
		resealed[refused], resealed[failedRun], resealed[sameRun], resealed[differentRun], len(frameEdits), len(versions))
}

// mustSnapshot parses snap.
func mustSnapshot(t *testing.T, snap []byte) *snapshot.Snapshot {
	t.Helper()
	s, err := snapshot.Parse(snap)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// customStart returns the offset of the first of Gate's custom sections,
// which a snapshot has at its end.
func customStart(t *testing.T, snap []byte) int {
	t.Helper()
	i := bytes.Index(snap, []byte("gate.snapshot"))
	j := bytes.Index(snap, []byte("gate.frames"))
	k := bytes.Index(snap, []byte("gate.wasi"))
	if i < 0 || j < 0 || k < 0 {
		t.Fatal("snapshot without Gate's custom sections")
	}
	return min(i, j, k) - 2 // section id and size
}

//go:build linux

package executor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/gate-wasm/gate/executor/internal/proto"
	"github.com/gate-wasm/gate/runtime"
)

// CompileOptions say how a module is compiled.
type CompileOptions struct {
	// MemoryLimit caps its linear memory (0: runtime.DefaultMemoryLimit).
	MemoryLimit uint64
	// Suspendable compiles it with runtime.CompileSuspendable.
	Suspendable bool
	// Interruptible compiles it with stop checks, for runs with a
	// timeout (runtime.Config.Interruptible).
	Interruptible bool
}

func (o CompileOptions) flags() uint8 {
	var f uint8
	if o.Suspendable {
		f |= proto.FlagSuspendable
	}
	if o.Interruptible {
		f |= proto.FlagInterruptible
	}
	return f
}

// Module is a module compiled in the executor. If the executor dies, the
// module is compiled again in the next one when next instantiated, from
// the binary the parent keeps.
type Module struct {
	e      *Executor
	binary []byte
	opts   CompileOptions

	mu   sync.Mutex
	proc *process
	id   uint32
}

// Compile compiles binary in the executor. A module Gate refuses is a
// *runtime.ModuleError. If ctx ends first, Compile returns its cause at
// once; the executor, which cannot interrupt a compile, goes on with it
// (bounded by its cgroup) and the module is unloaded once compiled.
// Closing the Executor ends it at once.
func (e *Executor) Compile(ctx context.Context, binary []byte, opts CompileOptions) (*Module, error) {
	m := &Module{e: e, binary: binary, opts: opts}
	if _, _, err := m.loaded(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// loaded returns the process in which m is compiled and its id there,
// compiling it if needed.
func (m *Module) loaded(ctx context.Context) (*process, uint32, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, err := m.e.process(ctx)
	if err != nil {
		return nil, 0, err
	}
	if m.proc == p {
		return p, m.id, nil
	}
	id := m.e.id()
	if err := p.sendBlob(id, m.binary); err != nil {
		return nil, 0, err
	}
	r, err := p.request(ctx, proto.TCompile, id, proto.Load{Blob: id, Flags: m.opts.flags(), MemoryLimit: m.opts.MemoryLimit}.Encode(), nil)
	if err != nil {
		return nil, 0, err
	}
	if _, err := errorOf(r); err != nil {
		return nil, 0, err
	}
	m.proc, m.id = p, id
	return p, id, nil
}

// Close frees the module in the executor.
func (m *Module) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.proc == nil {
		return nil
	}
	p := m.proc
	m.proc = nil
	select {
	case <-p.dead:
		return nil
	default:
	}
	return p.w.Write(proto.Unload, m.id)
}

// Options are what one instance is given: runtime's, whose streams stay
// in the parent. MemoryGrown is called with the sizes the executor
// reports, on the goroutine that reads the executor's frames (which
// waits for it: it must return quickly): the first before Instantiate
// or Resume returns, the last before Run returns. A burst of growth may
// be reported as its last size only. Without MemoryGrown, the executor
// sends no sizes.
type Options = runtime.Options

// Instance is an instance in the executor: runtime.Instance's methods,
// across the socket.
type Instance struct {
	proc *process
	id   uint32
	opts Options
	// maxSnapshot bounds the snapshot the executor may send back.
	maxSnapshot int
	// memoryLimit bounds the memory sizes the executor may report.
	memoryLimit uint64

	mu   sync.Mutex
	cond sync.Cond
	// queue holds output received and not yet written out, in order;
	// adjacent pieces of one stream are joined. exit is how the run
	// ended, recorded once the queue before it is written.
	queue []segment
	sent  [3]int // output credit used and not yet returned, by stream
	exit  *proto.Result
	asked bool // a StdinRequest is unanswered
	// memorySize is the last memory size reported, if memoryReported.
	memorySize     uint64
	memoryReported bool
	// stdinDeadlines says opts.Stdin takes read deadlines;
	// interrupting is set while readStdin's read is being interrupted
	// by a deadline that cancelStdin set.
	stdinDeadlines bool
	interrupting   bool
	ran            bool
	// killWatched is set once Kill has started waiting for the run's
	// end, killTimedOut if it gave up and replaced the executor.
	killWatched, killTimedOut bool
	// closing is set once Close has been sent: frames until Closed
	// are dropped.
	closing bool
	result  *proto.Result
	done    chan struct{} // closed when the run has ended (result or crash)
	crash   error
	// While WriteSnapshot or WriteSnapshotTo (snapFile) waits for a
	// snapshot (snapping), snapQ holds its chunks received and not yet
	// written out, snapGot counts its bytes received, snapDone is how
	// it ended and snapSize how many bytes the executor sent or wrote,
	// and snapWake tells the waiter that one of them changed.
	snapping bool
	snapFile bool
	snapQ    [][]byte
	snapGot  int
	snapDone *proto.Result
	snapSize uint64
	snapWake chan struct{}
}

// Instantiate creates an instance of m in the executor. Arguments and
// environment beyond runtime.CheckArgs's bounds are refused.
func (e *Executor) Instantiate(ctx context.Context, m *Module, opts Options) (*Instance, error) {
	// Before anything is sent: the executor would take more than it
	// allows as a protocol error, and stop.
	if err := runtime.CheckArgs(opts.Args, opts.Env); err != nil {
		return nil, err
	}
	p, mid, err := m.loaded(ctx)
	if err != nil {
		return nil, err
	}
	inst := e.newInstance(p, opts, m.opts.memory(), int(m.opts.memory())+4*len(m.binary)+64<<20)
	payload := proto.Instantiate{Module: mid, Flags: inst.flags(), Args: opts.Args, Env: opts.Env}.Encode()
	if len(payload) > proto.MaxFrame-64 {
		return nil, fmt.Errorf("arguments and environment of %d bytes: more than %d", len(payload), proto.MaxFrame-64)
	}
	return inst.create(ctx, proto.TInstantiate, payload, nil)
}

// Resume creates an instance from a snapshot in the executor, as
// runtime.Runtime.Resume.
func (e *Executor) Resume(ctx context.Context, snapshot []byte, memoryLimit uint64, interruptible bool, opts Options) (*Instance, error) {
	p, err := e.process(ctx)
	if err != nil {
		return nil, err
	}
	inst, flags := e.newResumed(p, opts, memoryLimit, int64(len(snapshot)), interruptible)
	if err := p.sendBlob(inst.id, snapshot); err != nil {
		return nil, err
	}
	return inst.create(ctx, proto.TResume, proto.Load{Blob: inst.id, Flags: flags, MemoryLimit: memoryLimit}.Encode(), nil)
}

// ResumeFile is Resume of the snapshot in f, from its offset to its end,
// which the executor reads itself: f's descriptor is passed to it (it
// shares f's open file description, and so its offset, which ends at
// f's end) and it reads the snapshot into one buffer of its size, then
// closes it. The snapshot does not cross the socket, nor is it held in
// this process. f must be a regular file, and should be open for
// reading only: the executor can do with it what f allows. Errors are
// Resume's (a damaged or truncated snapshot is a *runtime.ModuleError;
// a file that ends before the size it had when ResumeFile was called,
// an error that says so).
func (e *Executor) ResumeFile(ctx context.Context, f *os.File, memoryLimit uint64, interruptible bool, opts Options) (*Instance, error) {
	size, err := remaining(f)
	if err != nil {
		return nil, err
	}
	if size > maxBlob {
		return nil, fmt.Errorf("snapshot %s of %d bytes: more than %d", f.Name(), size, int64(maxBlob))
	}
	p, err := e.process(ctx)
	if err != nil {
		return nil, err
	}
	inst, flags := e.newResumed(p, opts, memoryLimit, size, interruptible)
	return inst.create(ctx, proto.TResumeFile, proto.ResumeFile{Flags: flags, MemoryLimit: memoryLimit, Size: uint64(size)}.Encode(), f)
}

// newResumed makes the instance of a resume of a snapshot of size bytes,
// for Resume and ResumeFile, and returns it with the flags of its frame.
func (e *Executor) newResumed(p *process, opts Options, memoryLimit uint64, size int64, interruptible bool) (*Instance, uint8) {
	o := CompileOptions{MemoryLimit: memoryLimit}
	inst := e.newInstance(p, opts, o.memory(), int(o.memory())+4*int(size)+64<<20)
	flags := inst.flags()
	if interruptible {
		flags |= proto.FlagInterruptible
	}
	return inst, flags
}

// remaining returns how many bytes regular file f holds from its offset.
func remaining(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if !st.Mode().IsRegular() {
		return 0, fmt.Errorf("snapshot %s is not a regular file (%v)", f.Name(), st.Mode().Type())
	}
	off, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, fmt.Errorf("snapshot %s: %w", f.Name(), err)
	}
	return max(st.Size()-off, 0), nil
}

func (o CompileOptions) memory() uint64 {
	if o.MemoryLimit == 0 {
		return runtime.DefaultMemoryLimit
	}
	return min(o.MemoryLimit, 4<<30)
}

func (e *Executor) newInstance(p *process, opts Options, memoryLimit uint64, maxSnapshot int) *Instance {
	inst := &Instance{proc: p, id: e.id(), opts: opts, memoryLimit: memoryLimit, maxSnapshot: maxSnapshot, done: make(chan struct{}), stdinDeadlines: takesDeadlines(opts.Stdin)}
	inst.cond.L = &inst.mu
	return inst
}

// flags are the instance's flags for Instantiate or Resume: what the
// executor may send about it.
func (i *Instance) flags() uint8 {
	var f uint8
	if i.stdinDeadlines {
		f |= proto.FlagStdinDeadlines
	}
	if i.opts.MemoryGrown != nil {
		// Only then: no frames flow for callers that do not care.
		f |= proto.FlagMemoryGrown
	}
	return f
}

// create registers the instance and asks the executor to create it,
// passing file's descriptor if file is not nil.
func (i *Instance) create(ctx context.Context, t proto.Type, payload []byte, file *os.File) (*Instance, error) {
	p := i.proc
	p.mu.Lock()
	if p.instances == nil {
		p.mu.Unlock()
		return nil, &CrashError{Reason: p.failure.Error()}
	}
	p.instances[i.id] = i
	p.mu.Unlock()
	r, err := p.request(ctx, t, i.id, payload, file)
	if err != nil {
		return nil, err // the executor died, ctx is done, or file could not be passed
	}
	if _, err := errorOf(r); err != nil {
		// The executor keeps it until closed: a read of its input
		// may be under way.
		i.mu.Lock()
		i.closing = true
		i.mu.Unlock()
		p.w.Write(proto.Close, i.id)
		return nil, err
	}
	go i.pump()
	return i, nil
}

// dispatch handles a frame from the executor for this instance; it runs
// on the process's reading loop and must not block.
func (i *Instance) dispatch(f proto.Frame) error {
	if f.Type == proto.MemoryGrown {
		return i.memoryGrown(f)
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if f.Type == proto.Closed {
		if !i.closing {
			return fmt.Errorf("%w: closed, but not asked to", proto.ErrProtocol)
		}
		i.proc.mu.Lock()
		delete(i.proc.instances, i.id)
		i.proc.mu.Unlock()
		return nil
	}
	if i.closing {
		// A read or a write under way when Close was sent: nothing
		// waits for it any more.
		return nil
	}
	switch f.Type {
	case proto.StdinRequest:
		n, err := proto.DecodeU32(f.Payload, "stdin request")
		if err != nil {
			return err
		}
		if i.asked || n == 0 || n > proto.MaxChunk {
			return fmt.Errorf("%w: stdin request of %d bytes (another pending: %v)", proto.ErrProtocol, n, i.asked)
		}
		i.asked = true
		go i.readStdin(int(n))
	case proto.StdinCancel:
		if err := proto.Empty(f); err != nil {
			return err
		}
		return i.cancelStdin()
	case proto.Output:
		stream, data, err := proto.DecodeOutput(f.Payload)
		if err != nil {
			return err
		}
		cost := len(data) + proto.OutputCost
		if i.sent[stream]+cost > proto.Window {
			return fmt.Errorf("%w: output beyond its window", proto.ErrProtocol)
		}
		if i.exit != nil {
			return fmt.Errorf("%w: output after the exit", proto.ErrProtocol)
		}
		i.sent[stream] += cost
		if n := len(i.queue); n > 1 && i.queue[n-1].stream == stream {
			// Not the first, which the pump may be writing.
			i.queue[n-1].data = append(i.queue[n-1].data, data...)
			i.queue[n-1].cost += cost
		} else {
			i.queue = append(i.queue, segment{stream: stream, data: data, cost: cost})
		}
		i.cond.Signal()
	case proto.Exit:
		r, err := proto.DecodeResult(f.Payload)
		if err != nil {
			return err
		}
		if !i.ran || i.exit != nil {
			return fmt.Errorf("%w: exit of an instance that is not running", proto.ErrProtocol)
		}
		i.exit = &r
		i.cond.Signal()
		if r.Kind == proto.Abandoned {
			// Its other instances would stall at its next garbage
			// collection: replace it now, and say why.
			i.proc.stop(errors.New("replaced: a killed program did not stop and would hold up its garbage collector"))
		}
	case proto.Chunk:
		if !i.snapping || i.snapFile || i.snapDone != nil || i.snapGot+len(f.Payload) > i.maxSnapshot {
			return fmt.Errorf("%w: snapshot data not asked for, or more than %d bytes", proto.ErrProtocol, i.maxSnapshot)
		}
		// Handed to WriteSnapshot, which writes it out: the reading
		// loop does not wait for the writer.
		i.snapGot += len(f.Payload)
		i.snapQ = append(i.snapQ, f.Payload)
		i.wakeSnapshot()
	case proto.SnapshotDone:
		end, err := proto.DecodeSnapshotEnd(f.Payload)
		if err != nil {
			return err
		}
		if !i.snapping || i.snapDone != nil {
			return fmt.Errorf("%w: snapshot not asked for", proto.ErrProtocol)
		}
		if i.snapFile && end.Size > uint64(i.maxSnapshot) {
			return fmt.Errorf("%w: a snapshot of %d bytes written, more than %d", proto.ErrProtocol, end.Size, i.maxSnapshot)
		}
		if !i.snapFile && end.Size != uint64(i.snapGot) {
			return fmt.Errorf("%w: a snapshot of %d bytes sent, but %d received", proto.ErrProtocol, end.Size, i.snapGot)
		}
		i.snapDone, i.snapSize = &end.Result, end.Size
		i.wakeSnapshot()
	default:
		return fmt.Errorf("%w: frame of type %d for an instance", proto.ErrProtocol, f.Type)
	}
	return nil
}

// memoryGrown handles a MemoryGrown frame: a size that the instance's
// memory can have, no smaller than the last one, goes to
// opts.MemoryGrown. It is called outside i.mu: the function is the
// caller's, documented to return quickly, and the reading loop waits for
// it, so that a size reaches it before the Exit that follows it does.
func (i *Instance) memoryGrown(f proto.Frame) error {
	if i.opts.MemoryGrown == nil {
		return fmt.Errorf("%w: memory size of an instance that did not ask for it", proto.ErrProtocol)
	}
	size, err := proto.DecodeMemoryGrown(f.Payload)
	if err != nil {
		return err
	}
	i.mu.Lock()
	if i.closing {
		i.mu.Unlock()
		return nil
	}
	if size > i.memoryLimit {
		i.mu.Unlock()
		return fmt.Errorf("%w: memory size of %d bytes, more than the limit of %d", proto.ErrProtocol, size, i.memoryLimit)
	}
	if i.memoryReported && size < i.memorySize {
		i.mu.Unlock()
		return fmt.Errorf("%w: memory size of %d bytes, less than the %d reported before", proto.ErrProtocol, size, i.memorySize)
	}
	if i.exit != nil {
		i.mu.Unlock()
		return fmt.Errorf("%w: memory size after the exit", proto.ErrProtocol)
	}
	i.memorySize, i.memoryReported = size, true
	i.mu.Unlock()
	i.opts.MemoryGrown(size)
	return nil
}

// readStdin answers a request for n bytes of input with one read.
func (i *Instance) readStdin(n int) {
	var data []byte
	var err error
	if i.opts.Stdin != nil {
		buf := make([]byte, n)
		var k int
		for k == 0 && err == nil {
			k, err = i.opts.Stdin.Read(buf)
		}
		data = buf[:k]
	}
	i.mu.Lock()
	i.asked = false
	interrupted := false
	if i.interrupting {
		// The deadline was ours: clear it for whoever reads next.
		i.interrupting = false
		i.opts.Stdin.(readDeadliner).SetReadDeadline(time.Time{})
		interrupted = len(data) == 0 && errors.Is(err, os.ErrDeadlineExceeded)
	}
	i.mu.Unlock()
	// A failed write means a dead executor, which the reading loop
	// reports.
	if interrupted {
		i.proc.w.Write(proto.StdinInterrupted, i.id)
		return
	}
	// Empty data says end of input.
	i.proc.w.Write(proto.Stdin, i.id, data)
}

// readDeadliner is an input whose read under way can be interrupted, as
// an *os.File of a pipe or a net.Conn.
type readDeadliner interface {
	SetReadDeadline(time.Time) error
}

// cancelStdin handles the executor's StdinCancel: it interrupts the read
// under way with a deadline in the past, and readStdin then answers. It
// runs on the reading loop, so it writes nothing to the socket (which
// could block the loop while the executor waits on it). i.mu is held.
func (i *Instance) cancelStdin() error {
	if !i.stdinDeadlines {
		return fmt.Errorf("%w: stdin cancel of an input that takes no deadlines", proto.ErrProtocol)
	}
	if !i.asked || i.interrupting {
		return nil // the answer is on its way and settles it
	}
	if err := i.opts.Stdin.(readDeadliner).SetReadDeadline(time.Unix(1, 0)); err != nil {
		// The read goes on; its answer comes when it returns.
		i.proc.log.Debug("interrupting a read of a program's input", "err", err)
		return nil
	}
	i.interrupting = true
	return nil
}

// takesDeadlines tells whether r's reads can be interrupted: it has
// SetReadDeadline, and it works (an *os.File that is not in Go's poller,
// such as a terminal or a blocking pipe, says os.ErrNoDeadline).
func takesDeadlines(r io.Reader) bool {
	d, ok := r.(readDeadliner)
	return ok && d.SetReadDeadline(time.Time{}) == nil
}

// segment is output waiting to be written: data of one stream, and the
// credit it took.
type segment struct {
	stream uint8
	data   []byte
	cost   int
}

// pump writes the instance's output in order, returning credit as it
// goes, then records how it ended. A slow writer holds back only this
// instance.
func (i *Instance) pump() {
	var failed [3]bool
	for {
		i.mu.Lock()
		for len(i.queue) == 0 && i.exit == nil && i.crash == nil {
			i.cond.Wait()
		}
		if len(i.queue) == 0 {
			if i.exit != nil && i.result == nil && i.crash == nil {
				i.result = i.exit
				close(i.done)
			}
			i.mu.Unlock()
			return
		}
		seg := i.queue[0]
		i.mu.Unlock()
		w := i.opts.Stdout
		if seg.stream == 2 {
			w = i.opts.Stderr
		}
		if w != nil && !failed[seg.stream] {
			if _, err := w.Write(seg.data); err != nil {
				// The program goes on, as it would with its
				// output discarded.
				failed[seg.stream] = true
				i.proc.log.Debug("writing a program's output", "stream", seg.stream, "err", err)
			}
		}
		i.mu.Lock()
		i.queue[0] = segment{}
		i.queue = i.queue[1:]
		i.sent[seg.stream] -= seg.cost
		i.mu.Unlock()
		// Credit goes back in pieces of at most a window.
		for cost := seg.cost; cost > 0; cost -= proto.Window {
			if err := i.proc.w.Write(proto.Credit, i.id, proto.EncodeCredit(seg.stream, uint32(min(cost, proto.Window)))); err != nil {
				return // the executor is gone; crashed() ends the run
			}
		}
	}
}

// crashed ends the instance because its executor died.
func (i *Instance) crashed(err error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.crash == nil {
		i.crash = err
	}
	if i.result == nil {
		// An exit received before the crash still says how the run
		// ended (output after it in the queue may be lost).
		i.result = i.exit
		select {
		case <-i.done:
		default:
			close(i.done)
		}
	}
	if i.snapping && i.snapDone == nil {
		i.snapDone = &proto.Result{Kind: proto.Failed, Reason: err.Error()}
		i.wakeSnapshot()
	}
	i.cond.Broadcast()
}

// Run runs the program as runtime.Instance.Run does, in the executor,
// and returns its exit status or how it ended; a *CrashError if the
// executor died. If ctx is done first, the instance is killed.
func (i *Instance) Run(ctx context.Context, timeout time.Duration) (uint32, error) {
	i.mu.Lock()
	if i.ran {
		i.mu.Unlock()
		return 0, errors.New("instance has already run")
	}
	i.ran = true
	i.mu.Unlock()
	if timeout < 0 {
		timeout = 0
	}
	if err := i.proc.w.Write(proto.Run, i.id, proto.EncodeU64(uint64(timeout))); err != nil {
		i.proc.lost(err)
	}
	select {
	case <-i.done:
	case <-ctx.Done():
		i.Kill()
		<-i.done
		return 0, context.Cause(ctx)
	}
	// Wait for the pump to finish writing output that came before a crash.
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.result != nil {
		return errorOf(*i.result)
	}
	if i.killTimedOut {
		return 0, fmt.Errorf("%w (%v)", ErrKilled, i.crash)
	}
	return 0, i.crash
}

// Suspend asks the program to suspend at its next suspension point, as
// runtime.Instance.Suspend.
func (i *Instance) Suspend() {
	i.proc.w.Write(proto.Suspend, i.id) // a dead executor ends the run anyway
}

// killGrace bounds how long the executor of a killed instance that runs
// may take to report its end. A program without stop checks that never
// calls the host cannot be stopped, and the executor's Go runtime cannot
// preempt it either: once a garbage collection begins, every goroutine
// of the executor waits for it, and the executor answers nothing more.
// Past killGrace, the parent replaces the executor, as it would on the
// executor's report that it abandoned the program.
const killGrace = 2 * time.Second

// Kill stops the instance; its Run returns ErrKilled.
func (i *Instance) Kill() {
	i.proc.w.Write(proto.Kill, i.id)
	i.mu.Lock()
	watch := i.ran && !i.killWatched
	i.killWatched = true
	i.mu.Unlock()
	if !watch {
		return
	}
	go func() {
		timer := time.NewTimer(killGrace)
		defer timer.Stop()
		select {
		case <-i.done:
		case <-timer.C:
			i.mu.Lock()
			i.killTimedOut = true
			i.mu.Unlock()
			i.proc.stop(fmt.Errorf("replaced: a killed program did not stop, and the executor did not report its end within %v (its garbage collector waits for code that cannot be preempted)", killGrace))
		}
	}()
}

// WriteSnapshot writes the snapshot of a suspended instance to w, as
// runtime.Instance.WriteSnapshot, and returns the number of bytes
// written. The executor streams it from the instance's memory; its
// chunks are written to w as they arrive, so that neither process holds
// the whole snapshot unless w is slower than the socket. Whatever w
// was given is not a snapshot unless the error is nil; an error of w is
// returned, wrapped, once the executor has sent the rest.
func (i *Instance) WriteSnapshot(w io.Writer) (int64, error) {
	wake, err := i.startSnapshot(false)
	if err != nil {
		return 0, err
	}
	defer i.endSnapshot()
	if err := i.proc.w.Write(proto.Snapshot, i.id); err != nil {
		return 0, i.proc.lost(err)
	}
	var n int64
	var werr error
	for {
		i.mu.Lock()
		q, done := i.snapQ, i.snapDone
		i.snapQ = nil
		i.mu.Unlock()
		// The chunks of q came before done, if done is set.
		for _, chunk := range q {
			if werr == nil {
				var k int
				k, werr = w.Write(chunk)
				n += int64(k)
			}
			// After a failed write, the rest is read and dropped:
			// the executor sends it all, then SnapshotDone.
		}
		if done != nil {
			if done.Kind != proto.OK {
				return n, fmt.Errorf("snapshot: %s", done.Reason)
			}
			if werr != nil {
				return n, fmt.Errorf("writing the snapshot: %w", werr)
			}
			return n, nil
		}
		if len(q) == 0 {
			<-wake
		}
	}
}

// WriteSnapshotTo writes the snapshot of a suspended instance into f,
// from its offset, as WriteSnapshot does, and returns its size. The
// executor writes it itself: f's descriptor is passed to it (it shares
// f's open file description, and so its offset, which advances past
// the snapshot), it writes the snapshot there straight from the
// instance's memory with write(2), and closes it before it answers. The
// snapshot does not cross the socket, nor is it held in this process.
// f must be open for writing, and blocking (a regular file is); the
// executor cannot write past 8 GiB into a file (its RLIMIT_FSIZE).
// What was written from the offset is not a snapshot unless the error
// is nil. If the instance is closed meanwhile, WriteSnapshotTo returns
// at once, and the executor may write into f until it has finished.
func (i *Instance) WriteSnapshotTo(f *os.File) (int64, error) {
	wake, err := i.startSnapshot(true)
	if err != nil {
		return 0, err
	}
	defer i.endSnapshot()
	if err := i.proc.sendFD(context.Background(), proto.SnapshotFile, i.id, f, nil); err != nil {
		return 0, err
	}
	for {
		i.mu.Lock()
		done, size := i.snapDone, i.snapSize
		i.mu.Unlock()
		if done != nil {
			if done.Kind != proto.OK {
				return int64(size), fmt.Errorf("snapshot: %s", done.Reason)
			}
			return int64(size), nil
		}
		<-wake
	}
}

// startSnapshot checks that a snapshot can be taken and records that
// one is being taken, into a file or not; it returns the channel that
// wakes its waiter.
func (i *Instance) startSnapshot(file bool) (chan struct{}, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.result == nil || i.result.Kind != proto.Suspended {
		return nil, errors.New("snapshot of an instance that has not been suspended")
	}
	if i.snapping {
		return nil, errors.New("snapshot of an instance whose snapshot is being written")
	}
	i.snapping, i.snapFile, i.snapQ, i.snapGot, i.snapDone, i.snapSize = true, file, nil, 0, nil, 0
	i.snapWake = make(chan struct{}, 1)
	return i.snapWake, nil
}

func (i *Instance) endSnapshot() {
	i.mu.Lock()
	i.snapping, i.snapQ, i.snapDone = false, nil, nil
	i.mu.Unlock()
}

// wakeSnapshot tells WriteSnapshot that a chunk or the end came. i.mu
// is held.
func (i *Instance) wakeSnapshot() {
	select {
	case i.snapWake <- struct{}{}:
	default: // it has a wake-up pending, which will find this too
	}
}

// Snapshot returns the snapshot of a suspended instance, as
// runtime.Instance.Snapshot: WriteSnapshot into memory.
func (i *Instance) Snapshot() ([]byte, error) {
	var b bytes.Buffer
	if _, err := i.WriteSnapshot(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Close frees the instance in the executor. A running instance is
// killed first.
func (i *Instance) Close(context.Context) error {
	i.mu.Lock()
	running := i.ran && i.result == nil && i.crash == nil
	i.mu.Unlock()
	if running {
		i.Kill()
		<-i.done
	}
	i.mu.Lock()
	if i.closing {
		i.mu.Unlock()
		return nil
	}
	i.closing = true
	i.crash = errors.Join(i.crash, errClosed) // ends the pump
	i.cond.Broadcast()
	if i.snapping && i.snapDone == nil {
		// What the executor still sends of it is dropped.
		i.snapDone = &proto.Result{Kind: proto.Failed, Reason: "the instance was closed"}
		i.wakeSnapshot()
	}
	i.mu.Unlock()
	select {
	case <-i.proc.dead:
		return nil
	default:
	}
	return i.proc.w.Write(proto.Close, i.id)
}

//go:build linux

package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gate-wasm/gate/executor/internal/attack"
	"github.com/gate-wasm/gate/executor/internal/proto"
	"github.com/gate-wasm/gate/executor/internal/sandbox"
	"github.com/gate-wasm/gate/runtime"
)

// CommandName is the hidden subcommand of gate that runs the executor:
// the parent starts its own binary with it (see Config.Args).
const CommandName = "__executor"

// maxBlob bounds a module or snapshot sent to the executor: the largest
// memory a program may have (4 GiB) and room for its code.
const maxBlob = 4<<30 + 512<<20

// Serve is the executor process: called by gate's hidden subcommand in a
// process that Start started, it enters the sandbox and serves its
// parent on fd 3 until the parent closes it. It returns the process's
// exit status; errors go to fd 2, which the parent reads.
func Serve(ctx context.Context, limits Limits) int {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{
		Level: slog.LevelInfo,
		// The parent stamps the time; reading the clock's zone here
		// would open a file.
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	// A blocking socket: writes are plain system calls, not the
	// poller's. Made before the sandbox: NewFile asks fcntl for the
	// descriptor's flags. Reads are recvmsg, by NewSocketReader, so
	// that the descriptors the parent passes are received.
	conn := os.NewFile(sandbox.ControlFD, "control")
	if err := sandbox.Enter(limits); err != nil {
		fmt.Fprintf(os.Stderr, "sandbox: %v\n", err)
		return 1
	}
	s := &server{
		ctx:       ctx,
		log:       log,
		w:         proto.NewWriter(conn),
		blobs:     make(map[uint32][]byte),
		modules:   make(map[uint32]loaded),
		instances: make(map[uint32]*instance),
	}
	if err := s.w.Write(proto.TReady, 0, proto.Ready{Version: proto.Version}.Encode()); err != nil {
		log.Error("greeting the parent", "err", err)
		return 1
	}
	err := s.serve(proto.NewSocketReader(sandbox.ControlFD))
	if errors.Is(err, io.EOF) {
		return 0 // the parent closed the socket: nothing left to do
	}
	log.Error("executor stopping", "err", err)
	return 1
}

type server struct {
	ctx context.Context
	log *slog.Logger
	w   *proto.Writer

	mu sync.Mutex
	// runtimes are the plain and the interruptible runtime, created
	// when first needed.
	runtimes  [2]*runtime.Runtime
	blobs     map[uint32][]byte
	modules   map[uint32]loaded
	instances map[uint32]*instance
	// highest is the highest instance id seen: the parent never reuses
	// one, so a lower id that is gone was closed.
	highest uint32
}

// loaded is a compiled module and the runtime that compiled it.
type loaded struct {
	m  *runtime.Module
	rt *runtime.Runtime
}

// instance is one instance in the executor.
type instance struct {
	id     uint32
	inst   *runtime.Instance
	stdin  *stdinPipe
	stdout *output
	stderr *output
	// memory reports the memory's size, if the parent asked for it.
	memory *memoryReport
	cancel context.CancelCauseFunc
	// killedAt is when Kill came.
	killedAt time.Time
	// state guards against out-of-order requests: created, running,
	// ended.
	state int
}

const (
	created = iota
	running
	ended
)

// abandonAfter is how long runtime.Instance.Run waits for a program to
// stop before it abandons it.
const abandonAfter = 100 * time.Millisecond

// errKilled is the cause of a run's context when the parent kills it.
var errKilled = errors.New("killed")

func (s *server) serve(r *proto.Reader) error {
	for {
		f, err := r.Read()
		if err != nil {
			return err
		}
		if err := s.handle(f); err != nil {
			return fmt.Errorf("frame of type %d for %d: %w", f.Type, f.ID, err)
		}
	}
}

func (s *server) handle(f proto.Frame) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch f.Type {
	case proto.Chunk:
		b := s.blobs[f.ID]
		if len(b)+len(f.Payload) > maxBlob {
			return fmt.Errorf("%w: blob larger than %d bytes", proto.ErrProtocol, maxBlob)
		}
		s.blobs[f.ID] = append(b, f.Payload...)
	case proto.TCompile:
		c, err := proto.DecodeLoad(f.Type, f.Payload)
		if err != nil {
			return err
		}
		if _, dup := s.modules[f.ID]; dup {
			return fmt.Errorf("%w: module %d exists", proto.ErrProtocol, f.ID)
		}
		binary := s.blobs[c.Blob]
		delete(s.blobs, c.Blob)
		rt, err := s.runtime(c.Flags&proto.FlagInterruptible != 0)
		if err != nil {
			return s.w.Write(proto.Compiled, f.ID, failed(err).Encode())
		}
		// Compiling takes time: other instances go on meanwhile.
		go s.compile(f.ID, rt, binary, c)
	case proto.Unload:
		if err := proto.Empty(f); err != nil {
			return err
		}
		m, ok := s.modules[f.ID]
		if !ok {
			return fmt.Errorf("%w: no module %d", proto.ErrProtocol, f.ID)
		}
		delete(s.modules, f.ID)
		m.m.Close(s.ctx)
	case proto.TInstantiate:
		m, err := proto.DecodeInstantiate(f.Payload)
		if err != nil {
			return err
		}
		mod, ok := s.modules[m.Module]
		if !ok {
			return fmt.Errorf("%w: no module %d", proto.ErrProtocol, m.Module)
		}
		inst, err := s.newInstance(f.ID, m.Flags)
		if err != nil {
			return err
		}
		go s.instantiate(inst, func(opts runtime.Options) (*runtime.Instance, error) {
			opts.Args, opts.Env = m.Args, m.Env
			return mod.rt.Instantiate(s.ctx, mod.m, opts)
		})
	case proto.TResume:
		r, err := proto.DecodeLoad(f.Type, f.Payload)
		if err != nil {
			return err
		}
		snap := s.blobs[r.Blob]
		delete(s.blobs, r.Blob)
		return s.resume(f.ID, r.Flags, r.MemoryLimit, func() ([]byte, error) { return snap, nil }, func() {})
	case proto.TResumeFile:
		return s.resumeFile(f)
	case proto.Run:
		timeout, err := proto.DecodeU64(f.Payload, "run")
		if err != nil {
			return err
		}
		inst, err := s.instance(f.ID, created)
		if err != nil {
			return err
		}
		inst.state = running
		ctx, cancel := context.WithCancelCause(s.ctx)
		inst.cancel = cancel
		go s.run(inst, ctx, time.Duration(min(timeout, 1<<63-1)))
	case proto.Stdin, proto.StdinInterrupted:
		// Also while it is being instantiated: a start function may
		// read its input.
		inst, err := s.streams(f.ID)
		if s.late(f.ID, inst) {
			return nil
		}
		if err != nil {
			return err
		}
		if f.Type == proto.StdinInterrupted {
			return inst.stdin.interrupted(f)
		}
		return inst.stdin.deliver(f.Payload)
	case proto.Credit:
		stream, n, err := proto.DecodeCredit(f.Payload)
		if err != nil {
			return err
		}
		inst, err := s.streams(f.ID)
		if s.late(f.ID, inst) {
			return nil
		}
		if err != nil {
			return err
		}
		out := inst.stdout
		if stream == 2 {
			out = inst.stderr
		}
		return out.credit(int(n))
	case proto.Suspend:
		inst, err := s.instance(f.ID, -1)
		if err != nil {
			return err
		}
		inst.inst.Suspend()
	case proto.Snapshot:
		if err := proto.Empty(f); err != nil {
			return err
		}
		inst, err := s.instance(f.ID, ended)
		if err != nil {
			return err
		}
		go s.snapshot(inst)
	case proto.SnapshotFile:
		return s.snapshotFile(f)
	case proto.Kill:
		inst, err := s.instance(f.ID, -1)
		if err != nil {
			return err
		}
		if inst.cancel != nil && inst.killedAt.IsZero() {
			inst.killedAt = time.Now()
			inst.cancel(errKilled)
		}
	case proto.Close:
		inst, err := s.streams(f.ID)
		if err != nil {
			return err
		}
		if inst.state == running || (inst.inst == nil && inst.state != ended) {
			return fmt.Errorf("%w: close of instance %d, which is running or being instantiated", proto.ErrProtocol, f.ID)
		}
		delete(s.instances, f.ID)
		inst.close()
		if inst.inst != nil {
			inst.inst.Close(s.ctx)
		}
		// After close: no frame for the instance can follow this one.
		return s.w.Write(proto.Closed, f.ID)
	case proto.Attack:
		if !attack.Built {
			return fmt.Errorf("%w: unknown frame type %d", proto.ErrProtocol, f.Type)
		}
		d := proto.NewDecoder(f.Payload)
		name := d.String("attack")
		if err := d.Done("attack"); err != nil {
			return err
		}
		if t, id, payload, ok := attack.Frame(name); ok {
			// A compromised executor lying to its parent, which
			// must stop it for a frame it would not send.
			s.log.Info("sending a forged frame, as the test asked", "type", t, "id", id)
			return s.w.Write(proto.Type(t), id, payload)
		}
		if attack.Stall(name) {
			s.log.Info("stalling, as the test asked", "attack", name)
			return nil
		}
		s.log.Info("attacking the sandbox, as the test asked", "attack", name)
		// Only reached if the filter let the call through.
		return fmt.Errorf("attack %q was not stopped: %v", name, attack.Do(name))
	default:
		return fmt.Errorf("%w: unknown frame type %d", proto.ErrProtocol, f.Type)
	}
	return nil
}

// resume registers instance id and has it made, on a goroutine of its
// own, from the snapshot that load returns; if load is not to be called
// (the frame is refused, or the runtime cannot be made, which is
// answered), unused is, before any answer. s.mu is held.
func (s *server) resume(id uint32, flags uint8, memoryLimit uint64, load func() ([]byte, error), unused func()) error {
	inst, err := s.newInstance(id, flags)
	if err != nil {
		unused()
		return err
	}
	rt, err := s.runtime(flags&proto.FlagInterruptible != 0)
	if err != nil {
		unused()
		// Kept until the parent closes it, as any instance that
		// could not be made.
		inst.state = ended
		inst.close()
		return s.w.Write(proto.Instantiated, id, failed(err).Encode())
	}
	go s.instantiate(inst, func(opts runtime.Options) (*runtime.Instance, error) {
		snap, err := load()
		if err != nil {
			return nil, err
		}
		return rt.Resume(s.ctx, snap, memoryLimit, opts)
	})
	return nil
}

// resumeFile handles TResumeFile: the snapshot is read from the
// descriptor that came with the frame, on the instance's goroutine,
// which closes it before the snapshot is resumed. Every other path
// closes it at once: the executor keeps no descriptor it was passed,
// and answers only once it is closed (the parent counts those it
// holds). s.mu is held.
func (s *server) resumeFile(f proto.Frame) error {
	fd := f.FD
	r, err := proto.DecodeResumeFile(f.Payload)
	if err == nil && r.Size > maxBlob {
		err = fmt.Errorf("%w: snapshot of %d bytes, more than %d", proto.ErrProtocol, r.Size, uint64(maxBlob))
	}
	if err != nil {
		closeFD(fd)
		return err
	}
	return s.resume(f.ID, r.Flags, r.MemoryLimit,
		func() ([]byte, error) { return readSnapshot(fd, int(r.Size)) },
		func() { closeFD(fd) })
}

// readSnapshot reads size bytes from fd, from its offset, into one
// buffer of that size (a snapshot is large: no growing and copying),
// and closes fd. Fewer bytes are an error.
func readSnapshot(fd, size int) ([]byte, error) {
	defer closeFD(fd)
	b := make([]byte, size)
	for n := 0; n < size; {
		k, err := unix.Read(fd, b[n:])
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return nil, fmt.Errorf("reading the snapshot file after %d of its %d bytes: %w", n, size, err)
		case k == 0:
			return nil, fmt.Errorf("reading the snapshot file: it ended after %d of its %d bytes", n, size)
		}
		n += k
	}
	return b, nil
}

// closeFD closes a descriptor the parent passed. close(2) releases the
// descriptor even when it reports an error (on Linux, EINTR too): it is
// never retried, which could close a descriptor opened since.
func closeFD(fd int) error {
	return unix.Close(fd)
}

// runtime returns the plain or the interruptible runtime. s.mu is held.
func (s *server) runtime(interruptible bool) (*runtime.Runtime, error) {
	i := 0
	if interruptible {
		i = 1
	}
	if s.runtimes[i] == nil {
		rt, err := runtime.New(s.ctx, runtime.Config{Interruptible: interruptible, Logger: s.log})
		if err != nil {
			return nil, err
		}
		s.runtimes[i] = rt
	}
	return s.runtimes[i], nil
}

// instance finds instance id, which must be in state want (-1: any but
// still being instantiated). s.mu is held.
func (s *server) instance(id uint32, want int) (*instance, error) {
	inst, ok := s.instances[id]
	if !ok || inst.inst == nil {
		return nil, fmt.Errorf("%w: no instance %d", proto.ErrProtocol, id)
	}
	if want >= 0 && inst.state != want {
		return nil, fmt.Errorf("%w: instance %d is in state %d, not %d", proto.ErrProtocol, id, inst.state, want)
	}
	return inst, nil
}

// streams finds instance id, even while it is being instantiated, for
// its streams. s.mu is held.
func (s *server) streams(id uint32) (*instance, error) {
	inst, ok := s.instances[id]
	if !ok {
		return nil, fmt.Errorf("%w: no instance %d", proto.ErrProtocol, id)
	}
	return inst, nil
}

// late tells whether a frame for instance id is an answer (input, or
// credit for output written out) that crossed the instance's Close: the
// parent answers reads and output that were under way when it closed
// it. s.mu is held.
func (s *server) late(id uint32, inst *instance) bool {
	return inst == nil && id != 0 && id <= s.highest
}

// newInstance registers a new instance id, not yet instantiated, with
// the flags of its Instantiate or Resume. s.mu is held.
func (s *server) newInstance(id uint32, flags uint8) (*instance, error) {
	if _, dup := s.instances[id]; dup {
		return nil, fmt.Errorf("%w: instance %d exists", proto.ErrProtocol, id)
	}
	s.highest = max(s.highest, id)
	inst := &instance{id: id}
	inst.stdin = newStdinPipe(s.w, id, flags&proto.FlagStdinDeadlines != 0)
	inst.stdout = newOutput(s.w, id, 1)
	inst.stderr = newOutput(s.w, id, 2)
	if flags&proto.FlagMemoryGrown != 0 {
		inst.memory = newMemoryReport(s.w, id)
	}
	s.instances[id] = inst
	return inst, nil
}

func (s *server) compile(id uint32, rt *runtime.Runtime, binary []byte, c proto.Load) {
	var m *runtime.Module
	var err error
	if c.Flags&proto.FlagSuspendable != 0 {
		m, err = rt.CompileSuspendable(s.ctx, binary, c.MemoryLimit)
	} else {
		m, err = rt.Compile(s.ctx, binary, c.MemoryLimit)
	}
	if err != nil {
		s.reply(proto.Compiled, id, resultOf(0, err))
		return
	}
	s.mu.Lock()
	s.modules[id] = loaded{m: m, rt: rt}
	s.mu.Unlock()
	s.reply(proto.Compiled, id, proto.Result{})
}

func (s *server) instantiate(inst *instance, create func(runtime.Options) (*runtime.Instance, error)) {
	opts := runtime.Options{Stdin: inst.stdin, Stdout: inst.stdout, Stderr: inst.stderr}
	if inst.memory != nil {
		opts.MemoryGrown = inst.memory.grown
	}
	ri, err := create(opts)
	s.mu.Lock()
	if err != nil {
		// Kept until the parent closes it, so that its answers to
		// reads under way still find it.
		inst.state = ended
		inst.close()
	} else {
		inst.inst = ri
	}
	s.mu.Unlock()
	if err == nil && inst.memory != nil {
		// The first size (the snapshot's, for a resumed instance)
		// before the reply: the parent has it when Instantiate or
		// Resume returns.
		inst.memory.flush()
	}
	s.reply(proto.Instantiated, inst.id, resultOf(0, err))
}

func (s *server) run(inst *instance, ctx context.Context, timeout time.Duration) {
	code, err := inst.inst.Run(ctx, timeout)
	if context.Cause(ctx) == errKilled && !errors.Is(err, runtime.ErrSuspended) {
		err = errKilled
	}
	inst.cancel(nil)
	s.mu.Lock()
	inst.state = ended
	killedAt := inst.killedAt
	s.mu.Unlock()
	result := resultOf(code, err)
	if errors.Is(err, errKilled) && time.Since(killedAt) >= abandonAfter {
		// The runtime gives a program this long to stop, then
		// abandons it, still running (runtime.Instance.Run).
		result = proto.Result{Kind: proto.Abandoned, Reason: "killed, but the program did not stop: code without stop checks that does not call the host keeps running and would hold up every other instance of the executor at its next garbage collection"}
	}
	// An abandoned program (see runtime.Instance.Run) may still be
	// blocked in a write: release it, so no output follows the exit.
	inst.stdout.close()
	inst.stderr.close()
	if inst.memory != nil {
		// The sender may lag behind the program: the final size
		// goes now, before the exit, so that the parent has it when
		// Run returns; and no size follows the exit, though an
		// abandoned program may still grow its memory.
		inst.memory.end()
	}
	// Output is written synchronously: all of it has been sent before
	// this, on the same socket.
	s.reply(proto.Exit, inst.id, result)
}

// snapshot streams the instance's snapshot to the parent as Chunks,
// straight from its memory, then says how it went and how many bytes it
// sent: the executor holds at most one chunk of it. Chunks already sent
// of a snapshot that fails are discarded by the parent at the failed
// SnapshotDone.
func (s *server) snapshot(inst *instance) {
	cw := &chunkWriter{w: s.w, id: inst.id}
	_, err := inst.inst.WriteSnapshot(cw)
	if err == nil {
		err = cw.flush()
	}
	s.snapshotDone(inst.id, err, cw.sent)
}

// snapshotFile handles SnapshotFile: the snapshot is written into the
// descriptor that came with the frame, on a goroutine of its own, which
// closes it before answering. s.mu is held.
func (s *server) snapshotFile(f proto.Frame) error {
	fd := f.FD
	err := proto.Empty(f)
	var inst *instance
	if err == nil {
		inst, err = s.instance(f.ID, ended)
	}
	if err != nil {
		closeFD(fd)
		return err
	}
	go func() {
		w := &fdWriter{fd: fd}
		_, err := inst.inst.WriteSnapshot(w)
		if cerr := closeFD(fd); cerr != nil && err == nil {
			err = fmt.Errorf("closing the snapshot file: %w", cerr)
		}
		s.snapshotDone(inst.id, err, w.n)
	}()
	return nil
}

// snapshotDone says how instance id's snapshot went, and how many bytes
// of it were sent or written.
func (s *server) snapshotDone(id uint32, err error, size int64) {
	s.replyPayload(proto.SnapshotDone, id, proto.SnapshotEnd{Result: resultOf(0, err), Size: uint64(size)}.Encode())
}

// fdWriter writes to a descriptor the parent passed, with plain
// write(2) from its offset (shared with the parent's file), and counts
// what it wrote.
type fdWriter struct {
	fd int
	n  int64
}

func (w *fdWriter) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k, err := unix.Write(w.fd, p[n:])
		if err == unix.EINTR {
			continue
		}
		if k > 0 {
			n += k
			w.n += int64(k)
		}
		if err != nil {
			return n, fmt.Errorf("writing the snapshot file: %w", err)
		}
		if k == 0 {
			return n, fmt.Errorf("writing the snapshot file: %w", io.ErrShortWrite)
		}
	}
	return n, nil
}

// chunkWriter writes what it is given as Chunk frames of blob id, each
// of MaxChunk bytes but the last; sent counts the bytes sent.
type chunkWriter struct {
	w    *proto.Writer
	id   uint32
	buf  []byte
	sent int64
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		if len(c.buf) == 0 && len(p) >= proto.MaxChunk {
			// A whole chunk: no need to copy it here first.
			if err := c.w.Write(proto.Chunk, c.id, p[:proto.MaxChunk]); err != nil {
				return n, err
			}
			c.sent += proto.MaxChunk
			p, n = p[proto.MaxChunk:], n+proto.MaxChunk
			continue
		}
		if c.buf == nil {
			c.buf = make([]byte, 0, proto.MaxChunk)
		}
		k := min(proto.MaxChunk-len(c.buf), len(p))
		c.buf = append(c.buf, p[:k]...)
		p, n = p[k:], n+k
		if len(c.buf) == proto.MaxChunk {
			if err := c.flush(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// flush sends what is buffered.
func (c *chunkWriter) flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	err := c.w.Write(proto.Chunk, c.id, c.buf)
	if err == nil {
		c.sent += int64(len(c.buf))
	}
	c.buf = c.buf[:0]
	return err
}

// reply sends a result; a failed write means the parent is gone, which
// the reading loop finds out too.
func (s *server) reply(t proto.Type, id uint32, r proto.Result) {
	s.replyPayload(t, id, r.Encode())
}

func (s *server) replyPayload(t proto.Type, id uint32, payload []byte) {
	if err := s.w.Write(t, id, payload); err != nil {
		s.log.Warn("writing to the parent", "err", err)
	}
}

// resultOf turns what the runtime returned into a Result.
func resultOf(code uint32, err error) proto.Result {
	var trap *runtime.TrapError
	var limit *runtime.LimitError
	var module *runtime.ModuleError
	switch {
	case err == nil:
		return proto.Result{Kind: proto.OK, Code: code}
	case errors.Is(err, runtime.ErrSuspended):
		return proto.Result{Kind: proto.Suspended}
	case errors.Is(err, errKilled):
		return proto.Result{Kind: proto.Killed, Reason: "killed"}
	case errors.As(err, &trap):
		return proto.Result{Kind: proto.Trap, Reason: trap.Reason, Stack: trap.Stack}
	case errors.As(err, &limit):
		return proto.Result{Kind: proto.Limit, Limit: limit.Limit, Reason: limit.Detail}
	case errors.As(err, &module):
		return proto.Result{Kind: proto.Refused, Reason: module.Reason}
	}
	return failed(err)
}

func failed(err error) proto.Result {
	return proto.Result{Kind: proto.Failed, Reason: err.Error()}
}

// close ends the instance's streams and memory reports, so that nothing
// stays blocked on them and no goroutine of theirs is left.
func (i *instance) close() {
	i.stdin.close()
	i.stdout.close()
	i.stderr.close()
	if i.memory != nil {
		i.memory.close() // ends its sender
	}
}

// Limits are the executor's rlimits (docs/SECURITY.md says how they
// were chosen).
type Limits = sandbox.Limits

// DefaultLimits returns the rlimits gate's executor sets.
func DefaultLimits() Limits {
	return Limits{
		AddressSpace: 64 << 30,
		// Its 4, the poller's 2, those its parent passes it (at most
		// maxPassed at once), and room.
		Files: 16,
		// The largest snapshot, a 4 GiB memory and its module, from
		// the start of its file, with room: a bound on what a
		// compromised executor could write into a file passed to it.
		FileSize: 8 << 30,
		Threads:  maxThreads,
	}
}

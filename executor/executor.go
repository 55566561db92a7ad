//go:build linux

// Package executor runs WebAssembly programs in a sandboxed child
// process: the gate binary started again as a hidden subcommand (Serve)
// in new namespaces, with an empty root, no capabilities, rlimits, a
// cgroup where the host lets it and a seccomp allowlist (docs/SECURITY.md).
// The parent talks to it over a socketpair with the framed protocol of
// internal/proto.
//
// An Executor is the parent's side: it starts the process, compiles
// modules and runs instances in it, and when the process dies, reports
// its instances as failed with the reason (a *CrashError) and starts
// another at the next request. Its Instance has the methods of
// runtime.Instance, and its errors are runtime's: *runtime.TrapError,
// *runtime.LimitError, *runtime.ModuleError and runtime.ErrSuspended.
package executor

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gate-wasm/gate/executor/internal/proto"
	"github.com/gate-wasm/gate/executor/internal/sandbox"
	"github.com/gate-wasm/gate/runtime"
)

// Config configures an Executor.
type Config struct {
	// Path is the binary to start; by default the running one
	// (/proc/self/exe), which must be gate or call Serve the same way.
	Path string
	// Args are the arguments after Path; by default CommandName.
	Args []string
	// Memory bounds the memory of the whole executor through its cgroup
	// (default 4 GiB).
	Memory uint64
	// CPU bounds its CPU time in cores through its cgroup; 0 means no
	// bound.
	CPU float64
	// Logger receives what the executor logs and what happens to it;
	// nil discards it.
	Logger *slog.Logger
}

// SandboxError reports that the sandbox could not be built on this host;
// it says what is missing.
type SandboxError struct{ Err error }

func (e *SandboxError) Error() string { return "cannot build the sandbox: " + e.Err.Error() }
func (e *SandboxError) Unwrap() error { return e.Err }

// CrashError reports an instance that ended because its executor died.
type CrashError struct {
	// Reason says how, e.g. "executor killed by signal SIGSYS".
	Reason string
}

func (e *CrashError) Error() string { return e.Reason }

// Executor is the parent's side of executor processes. Its methods may
// be called from several goroutines at once.
type Executor struct {
	cfg Config
	log *slog.Logger

	spawn chan spawnRequest // see spawner

	mu     sync.Mutex
	proc   *process
	nextID uint32
	closed bool
}

// New returns an Executor and starts its process, so that a host that
// cannot build the sandbox is found out at once (a *SandboxError).
func New(ctx context.Context, cfg Config) (*Executor, error) {
	if cfg.Path == "" {
		cfg.Path = "/proc/self/exe"
	}
	if cfg.Args == nil {
		cfg.Args = []string{CommandName}
	}
	if cfg.Memory == 0 {
		cfg.Memory = 4 << 30
	}
	e := &Executor{cfg: cfg, log: cfg.Logger, spawn: make(chan spawnRequest)}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	go e.spawner()
	if _, err := e.process(ctx); err != nil {
		close(e.spawn)
		return nil, err
	}
	return e, nil
}

// spawnRequest asks the spawner to start cmd.
type spawnRequest struct {
	cmd   *exec.Cmd
	reply chan error
}

// spawner starts the executor processes, from one OS thread that no
// other goroutine uses and that lives as long as the Executor. The
// kernel sends an executor its parent-death signal when the thread that
// started it ends (go.dev/issue/27505), and Go ends a thread when a
// goroutine locked to it returns: any other thread could end under it
// and kill a healthy executor. When the Executor is closed, the thread
// ends, and any executor still alive gets its SIGKILL.
func (e *Executor) spawner() {
	goruntime.LockOSThread() // never unlocked: the thread ends with this goroutine
	for req := range e.spawn {
		req.reply <- req.cmd.Start()
	}
}

// PID is the host pid of the current executor process, 0 if none runs
// (the next request starts one).
func (e *Executor) PID() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.proc == nil || e.proc.stopping.Load() {
		return 0
	}
	return e.proc.cmd.Process.Pid
}

// Close stops the executor process; its instances fail.
func (e *Executor) Close() error {
	e.mu.Lock()
	p := e.proc
	wasClosed := e.closed
	e.closed = true
	e.mu.Unlock()
	if p != nil {
		p.close()
	}
	if !wasClosed {
		close(e.spawn)
	}
	return nil
}

// Kill stops the executor process at once, with SIGKILL, rather than
// let it finish what it is doing as Close does; its instances fail. It
// returns once the process has been reaped and its cgroup removed. For
// a caller that gave up on a request (a compile cannot be interrupted)
// and is about to exit.
func (e *Executor) Kill() error {
	e.mu.Lock()
	p := e.proc
	e.mu.Unlock()
	if p != nil {
		p.stop(errors.New("killed by its parent"))
		<-p.dead
	}
	return e.Close()
}

// closeTimeout bounds how long a closed executor may take to exit.
const closeTimeout = 5 * time.Second

// close asks the process to end by closing the parent's side of the
// socket for writing (it exits at the end of its input), and kills it
// if it has not within closeTimeout.
func (p *process) close() {
	unix.Shutdown(p.fd, unix.SHUT_WR)
	select {
	case <-p.dead:
	case <-time.After(closeTimeout):
		p.stop(errors.New("it did not exit when closed"))
		<-p.dead
	}
}

func (e *Executor) id() uint32 {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.nextID++
	return e.nextID
}

// process returns the running executor process, starting one if none
// runs.
func (e *Executor) process(ctx context.Context) (*process, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, errors.New("executor closed")
	}
	if e.proc != nil {
		if !e.proc.stopping.Load() {
			return e.proc, nil
		}
		// Dead or dying: its reading loop fails what it held.
		e.proc = nil
	}
	p, err := start(ctx, e.cfg, e.log, e.spawn)
	if err != nil {
		return nil, err
	}
	e.proc = p
	return p, nil
}

// startTimeout bounds how long a new executor may take to say it is
// ready.
const startTimeout = 30 * time.Second

// process is one executor process.
type process struct {
	cmd    *exec.Cmd
	conn   *os.File
	fd     int // conn's descriptor
	w      *proto.Writer
	log    *slog.Logger
	cgroup *sandbox.Cgroup

	// passed has a token for each descriptor the executor may hold
	// (see sendFD).
	passed chan struct{}

	mu        sync.Mutex
	pending   map[uint32]chan reply // Compiled and Instantiated
	instances map[uint32]*Instance
	// holding are the ids of frames that passed a descriptor not yet
	// answered (Instantiated, SnapshotDone): the executor may hold it.
	holding map[uint32]bool
	failure error // why it died, once dead is closed
	// tail is the last lines the executor wrote on fd 2, and first its
	// first line that says why it ends (a panic, a fatal error, the
	// sandbox's failure), which a long traceback would push out.
	tail     []string
	first    string
	dead     chan struct{}
	stopOnce sync.Once
	// stopping is set once the process is being stopped or has ended:
	// no new request goes to it.
	stopping atomic.Bool
}

func start(ctx context.Context, cfg Config, log *slog.Logger, spawn chan<- spawnRequest) (*process, error) {
	began := time.Now()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socketpair: %w", err)
	}
	parentEnd := os.NewFile(uintptr(fds[0]), "executor")
	childEnd := os.NewFile(uintptr(fds[1]), "executor-child")
	// A blocking pipe (os.Pipe's is non-blocking, a flag the child
	// would share): the executor's Go runtime would otherwise put its
	// stderr in a poller, which takes system calls and descriptors.
	var pipe [2]int
	if err := unix.Pipe2(pipe[:], unix.O_CLOEXEC); err != nil {
		parentEnd.Close()
		childEnd.Close()
		return nil, fmt.Errorf("pipe: %w", err)
	}
	logr, logw := os.NewFile(uintptr(pipe[0]), "executor-log"), os.NewFile(uintptr(pipe[1]), "executor-log-w")
	cmd := sandbox.Command(cfg.Path, cfg.Args, childEnd, logw)
	started := make(chan error)
	spawn <- spawnRequest{cmd, started}
	err = <-started
	childEnd.Close()
	logw.Close()
	if err != nil {
		parentEnd.Close()
		logr.Close()
		return nil, &SandboxError{sandbox.Missing(err)}
	}
	p := &process{
		cmd:       cmd,
		conn:      parentEnd,
		fd:        fds[0],
		w:         proto.NewWriter(parentEnd),
		log:       log.With("executor", cmd.Process.Pid),
		pending:   make(map[uint32]chan reply),
		instances: make(map[uint32]*Instance),
		holding:   make(map[uint32]bool),
		passed:    make(chan struct{}, maxPassed),
		dead:      make(chan struct{}),
	}
	limits := sandbox.CgroupLimits{Memory: cfg.Memory, Pids: maxThreads, CPU: cfg.CPU}
	if cg, err := sandbox.JoinCgroup(cmd.Process.Pid, sandbox.CgroupPrefix+strconv.Itoa(cmd.Process.Pid), limits); err != nil {
		p.log.Info("executor runs without a cgroup of its own: its memory, threads and CPU are bounded only by its rlimits and its parent's cgroup", "err", err)
	} else {
		p.cgroup = cg
		p.log.Debug("executor cgroup", "version", cg.Version, "dirs", cg.Dirs)
	}
	logDone := make(chan struct{})
	go p.readLog(logr, logDone)
	ready := make(chan error, 1)
	go p.read(ready, logDone)
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case err = <-ready:
	case <-timer.C:
		err = fmt.Errorf("the executor did not start within %v", startTimeout)
	case <-ctx.Done():
		err = context.Cause(ctx)
	}
	if err != nil {
		if !peerGone(err) {
			p.stop(err)
		}
		<-p.dead
		return nil, &SandboxError{p.failure}
	}
	p.log.Debug("executor ready", "after", time.Since(began))
	return p, nil
}

// maxThreads bounds the executor's threads (cgroup pids.max): the Go
// runtime's few, one per instance blocked in compiled code, and room.
const maxThreads = 1024

// readLog passes what the executor writes on fd 2 to the log, and keeps
// the last lines: a Go runtime crash or a failed sandbox says why there.
func (p *process) readLog(r *os.File, done chan<- struct{}) {
	defer close(done)
	defer r.Close()
	s := bufio.NewScanner(io.LimitReader(r, 16<<20))
	s.Buffer(make([]byte, 4096), 64<<10)
	for s.Scan() {
		line := s.Text()
		p.log.Debug("executor says", "line", line)
		p.mu.Lock()
		if p.first == "" && meaningful(line) {
			p.first = line
		}
		p.tail = append(p.tail, line)
		if len(p.tail) > 20 {
			p.tail = p.tail[1:]
		}
		p.mu.Unlock()
	}
	io.Copy(io.Discard, r) // past the limit: drain, so the executor never blocks on its log
}

// read is the process's reading loop: it dispatches frames until the
// connection ends, then reaps the process and fails what it held.
func (p *process) read(ready chan<- error, logDone <-chan struct{}) {
	r := proto.NewReader(p.conn)
	err := p.greeting(r)
	ready <- err
	for err == nil {
		var f proto.Frame
		if f, err = r.Read(); err == nil {
			err = p.dispatch(f)
		}
	}
	if !peerGone(err) && !errors.Is(err, os.ErrClosed) {
		// A protocol error: stop it.
		p.stop(err)
	}
	p.conn.Close()
	waitErr := p.cmd.Wait()
	<-logDone
	if p.cgroup != nil {
		if err := p.cgroup.Remove(); err != nil {
			p.log.Warn("removing the executor's cgroup", "err", err)
		}
	}
	reason := p.deathReason(err, waitErr)
	p.stopping.Store(true)
	p.log.Debug("executor ended", "reason", reason)
	p.mu.Lock()
	p.failure = reason
	pending, instances := p.pending, p.instances
	p.pending, p.instances = nil, nil
	p.mu.Unlock()
	for _, c := range pending {
		c <- reply{crash: &CrashError{Reason: reason.Error()}}
	}
	for _, inst := range instances {
		inst.crashed(&CrashError{Reason: reason.Error()})
	}
	close(p.dead)
}

func (p *process) greeting(r *proto.Reader) error {
	f, err := r.Read()
	if err != nil {
		return err
	}
	if f.Type != proto.TReady {
		return fmt.Errorf("%w: first frame of type %d, not ready", proto.ErrProtocol, f.Type)
	}
	ready, err := proto.DecodeReady(f.Payload)
	if err != nil {
		return err
	}
	if ready.Version != proto.Version {
		return fmt.Errorf("executor speaks protocol version %d, not %d", ready.Version, proto.Version)
	}
	return nil
}

// deathReason says why the executor ended, as precisely as it can.
func (p *process) deathReason(readErr, waitErr error) error {
	p.mu.Lock()
	stopped, tail, first := p.failure, p.tail, p.first
	p.mu.Unlock()
	var reason string
	if st, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && st.Signaled() {
		reason = "executor killed by signal " + unix.SignalName(st.Signal())
		if st.Signal() == unix.SIGSYS {
			reason += " (a system call outside its seccomp allowlist)"
		}
	} else if ok && st.Exited() {
		reason = fmt.Sprintf("executor exited with status %d", st.ExitStatus())
	} else {
		reason = fmt.Sprintf("executor ended: %v", waitErr)
	}
	if stopped != nil {
		reason += " (stopped: " + stopped.Error() + ")"
	}
	if readErr != nil && !peerGone(readErr) && stopped == nil {
		reason += ": " + readErr.Error()
	}
	if first != "" {
		reason += ": " + first
	} else if len(tail) > 0 {
		reason += ": " + tail[len(tail)-1]
	}
	return errors.New(reason)
}

// peerGone tells whether a read error means only that the executor's
// end of the socket closed (it exited or was killed, with or without
// frames of ours unread).
func peerGone(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// meaningful tells whether a line the executor wrote says why it ends:
// a Go runtime panic or fatal error, or the sandbox's failure.
func meaningful(line string) bool {
	return strings.HasPrefix(line, "fatal error:") || strings.HasPrefix(line, "panic:") || strings.HasPrefix(line, "sandbox:")
}

// stop kills the process, once, recording why.
func (p *process) stop(why error) {
	p.stopping.Store(true)
	p.stopOnce.Do(func() {
		p.mu.Lock()
		if p.failure == nil {
			p.failure = why
		}
		p.mu.Unlock()
		p.cmd.Process.Kill()
		// Ends the reading loop, which reaps the process.
		p.conn.Close()
	})
}

// dispatch handles one frame from the executor, which is not trusted:
// anything unexpected is a protocol error, and the executor is killed.
func (p *process) dispatch(f proto.Frame) error {
	if f.Type == proto.Instantiated || f.Type == proto.SnapshotDone {
		// The answer to a frame that may have passed a descriptor,
		// which the executor closes before answering. Even for an
		// instance being closed, whose frames are dropped.
		p.released(f.ID)
	}
	switch f.Type {
	case proto.Compiled, proto.Instantiated:
		r, err := proto.DecodeResult(f.Payload)
		if err != nil {
			return err
		}
		p.mu.Lock()
		c, ok := p.pending[f.ID]
		delete(p.pending, f.ID)
		p.mu.Unlock()
		if !ok {
			return fmt.Errorf("%w: unexpected reply of type %d for %d", proto.ErrProtocol, f.Type, f.ID)
		}
		c <- reply{r: r}
		return nil
	}
	p.mu.Lock()
	inst := p.instances[f.ID]
	p.mu.Unlock()
	if inst == nil {
		return fmt.Errorf("%w: frame of type %d for unknown instance %d", proto.ErrProtocol, f.Type, f.ID)
	}
	return inst.dispatch(f)
}

// reply is the answer to a request: a result, or the executor's death.
type reply struct {
	r     proto.Result
	crash error
}

// request sends a request, with file's descriptor if file is not nil,
// and waits for its reply.
func (p *process) request(ctx context.Context, t proto.Type, id uint32, payload []byte, file *os.File) (proto.Result, error) {
	c := make(chan reply, 1)
	p.mu.Lock()
	if p.pending == nil {
		p.mu.Unlock()
		return proto.Result{}, &CrashError{Reason: p.failure.Error()}
	}
	p.pending[id] = c
	p.mu.Unlock()
	if file != nil {
		if err := p.sendFD(ctx, t, id, file, payload); err != nil {
			// Not sent (or the executor is lost): nothing will
			// answer, nor come for the instance the request makes.
			p.mu.Lock()
			if p.pending != nil {
				delete(p.pending, id)
				delete(p.instances, id)
			}
			p.mu.Unlock()
			return proto.Result{}, err
		}
	} else if err := p.w.Write(t, id, payload); err != nil {
		return proto.Result{}, p.lost(err)
	}
	select {
	case r := <-c:
		return r.r, r.crash
	case <-ctx.Done():
		go p.abandoned(t, id, c)
		return proto.Result{}, context.Cause(ctx)
	}
}

// abandoned frees, once the executor answers, what it made for request
// t of id, whose caller gave up waiting (its ctx ended): the executor
// cannot interrupt a compile, nor an instantiation under way, and would
// otherwise keep the module or the instance as long as it lives.
func (p *process) abandoned(t proto.Type, id uint32, c <-chan reply) {
	r := <-c
	if r.crash != nil {
		return // nothing is left of it
	}
	if t == proto.TCompile {
		if r.r.Kind == proto.OK {
			p.w.Write(proto.Unload, id)
		}
		return
	}
	// An instance, which the executor keeps until it is closed, made
	// or not.
	p.mu.Lock()
	inst := p.instances[id]
	p.mu.Unlock()
	if inst != nil {
		inst.mu.Lock()
		inst.closing = true
		inst.mu.Unlock()
	}
	p.w.Write(proto.Close, id)
}

// maxPassed bounds the descriptors passed to the executor and not yet
// answered (it closes each before it answers): more than its
// RLIMIT_NOFILE leaves room for, and the kernel would drop the next
// (MSG_CTRUNC), which the executor takes as a protocol error.
const maxPassed = 8

// sendFD sends frame t for id with file's descriptor, once the executor
// holds fewer than maxPassed. Its answer, Instantiated or SnapshotDone,
// releases the descriptor's place (released). An error of the file or
// of ctx leaves the executor as it was; a failed write means it is
// lost.
func (p *process) sendFD(ctx context.Context, t proto.Type, id uint32, file *os.File, payload []byte) error {
	select {
	case p.passed <- struct{}{}:
	case <-p.dead:
		return &CrashError{Reason: p.failure.Error()}
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	p.mu.Lock()
	p.holding[id] = true
	p.mu.Unlock()
	rc, err := file.SyscallConn()
	var werr error
	if err == nil {
		// Control keeps file open while its descriptor is passed.
		err = rc.Control(func(fd uintptr) { werr = p.w.WriteFD(t, id, int(fd), payload) })
	}
	if err != nil {
		p.released(id)
		return fmt.Errorf("passing %s to the executor: %w", file.Name(), err)
	}
	if werr != nil {
		return p.lost(werr)
	}
	return nil
}

// released gives back the place of a descriptor passed with frame id,
// which the executor has answered.
func (p *process) released(id uint32) {
	p.mu.Lock()
	held := p.holding[id]
	delete(p.holding, id)
	p.mu.Unlock()
	if held {
		<-p.passed
	}
}

// lost turns a failed write into the executor's death, waiting for its
// reason.
func (p *process) lost(err error) error {
	p.stop(fmt.Errorf("writing to the executor: %w", err))
	<-p.dead
	return &CrashError{Reason: p.failure.Error()}
}

// sendBlob sends data as Chunks of blob id.
func (p *process) sendBlob(id uint32, data []byte) error {
	for off := 0; off < len(data); off += proto.MaxChunk {
		if err := p.w.Write(proto.Chunk, id, data[off:min(off+proto.MaxChunk, len(data))]); err != nil {
			return p.lost(err)
		}
	}
	return nil
}

// errorOf turns a Result into runtime's errors.
func errorOf(r proto.Result) (uint32, error) {
	switch r.Kind {
	case proto.OK:
		return r.Code, nil
	case proto.Trap:
		return 0, &runtime.TrapError{Reason: r.Reason, Stack: r.Stack}
	case proto.Limit:
		return 0, &runtime.LimitError{Limit: r.Limit, Detail: r.Reason}
	case proto.Suspended:
		return 0, runtime.ErrSuspended
	case proto.Refused:
		return 0, &runtime.ModuleError{Reason: r.Reason}
	case proto.Killed:
		return 0, ErrKilled
	case proto.Abandoned:
		return 0, fmt.Errorf("%w (%s; its executor was replaced)", ErrKilled, r.Reason)
	}
	return 0, errors.New(r.Reason)
}

// ErrKilled is returned by Run for an instance stopped by Kill.
var ErrKilled = errors.New("killed")

// Package proto is the framed protocol between a parent (gate run, later
// the server) and its executor process, on their socketpair.
//
// A frame is a 4-byte little-endian length n, then n bytes: a 1-byte
// type, a 4-byte id (a module's, a blob's or an instance's, chosen by the
// parent) and the payload. n is at most MaxFrame. Both sides validate
// every frame they read: a type one side may not send, a payload of the
// wrong shape, a count past its bound or bytes left over is a protocol
// error, and the side that reads it ends the connection (the parent then
// kills the executor). The parent is trusted by the executor, but it is
// still validated, so that a bug shows as an error rather than as memory
// corruption; the executor is not trusted by the parent at all.
//
// Bulk data (modules, snapshots) travels in Chunk frames of at most
// MaxChunk bytes, each with the id of the blob it belongs to; or, for a
// snapshot in a file, not through the socket at all: the parent passes
// the executor a descriptor of the file (SCM_RIGHTS) with a SnapshotFile
// or TResumeFile frame, and the executor writes or reads it and closes
// it. Only those two types carry a descriptor (Type.TakesFD), exactly
// one each; only the parent passes descriptors, and it never accepts
// one (it reads the socket with read(2), which drops them). Output and
// standard input are flow-controlled (see Window): the memory that a
// flooding program can make either side hold is bounded.
package proto

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Type is a frame's type.
type Type uint8

// Frames the parent sends.
const (
	// Chunk (either way): a piece of blob id. Payload: the bytes.
	Chunk Type = 1 + iota
	// TCompile: compile module id from a blob. Payload: Load.
	TCompile
	// Unload module id. No payload.
	Unload
	// Instantiate: payload Instantiate.
	TInstantiate
	// TResume: make instance id from the snapshot in a blob. Payload:
	// Load.
	TResume
	// Run instance id. Payload: timeout in nanoseconds (u64).
	Run
	// Stdin: data for instance id's standard input, at most what the
	// executor asked for. Payload: the bytes; empty means end of input.
	Stdin
	// Credit returns output credit to instance id. Payload: stream (u8,
	// 1 or 2) and bytes (u32).
	Credit
	// Suspend instance id. No payload.
	Suspend
	// Snapshot: send instance id's snapshot. No payload.
	Snapshot
	// Kill instance id. No payload.
	Kill
	// Close instance id and free it. No payload.
	Close
	// StdinInterrupted answers a StdinCancel when the read under way
	// was interrupted and returned nothing: the request is void. No
	// payload.
	StdinInterrupted
	// Attack exists only for the tests of the sandbox: an executor
	// built with the gate_attack tag makes the named forbidden system
	// call, or sends its parent the frame it names, as a compromised
	// executor could. The release executor refuses it as an unknown
	// frame.
	Attack
	// SnapshotFile: write instance id's snapshot into the descriptor
	// that comes with this frame, from its offset, close it, and say
	// how it went with SnapshotDone (no Chunks). No payload.
	SnapshotFile
	// TResumeFile: make instance id from the snapshot in the
	// descriptor that comes with this frame: ResumeFile.Size bytes from
	// its offset, read then closed. Payload: ResumeFile.
	TResumeFile
)

// TakesFD tells whether a frame of type t comes with a descriptor
// (exactly one), passed with its bytes: SnapshotFile and TResumeFile.
func (t Type) TakesFD() bool { return t == SnapshotFile || t == TResumeFile }

// Frames the executor sends.
const (
	// Ready: the sandbox is up. Payload: Ready.
	TReady Type = 64 + iota
	// Compiled: module id compiled, or not. Payload: Result.
	Compiled
	// Instantiated: instance id exists, or not. Payload: Result.
	Instantiated
	// StdinRequest: instance id's program reads; send at most n bytes.
	// Payload: n (u32).
	StdinRequest
	// Output of instance id. Payload: stream (u8, 1 or 2) and the bytes.
	Output
	// Exit: instance id's run ended. Payload: Result.
	Exit
	// SnapshotDone: instance id's snapshot has been sent as Chunks with
	// the instance's id (Snapshot) or written into the descriptor that
	// came with SnapshotFile, which is closed, or could not be made.
	// Payload: SnapshotEnd.
	SnapshotDone
	// Closed: instance id is closed; no frame for it follows. No
	// payload.
	Closed
	// StdinCancel: instance id's reader gave up on its read (its
	// deadline passed, as when a snapshot is taken): interrupt the read
	// under way, and answer with its data, the end of input, or
	// StdinInterrupted. Only for instances made with FlagStdinDeadlines.
	// No payload.
	StdinCancel
	// MemoryGrown: instance id's linear memory has this size, when first
	// allocated (a resumed instance's: the snapshot's) or after growing.
	// Only for instances made with FlagMemoryGrown. A burst of growth
	// may be sent as its last size only; a size is never smaller than
	// the one before. The size at instantiation comes before the
	// Instantiated reply, the last size before the run's Exit, and none
	// after it. Payload: the size in bytes (u64), a whole number of
	// pages.
	MemoryGrown
)

const (
	// MaxFrame bounds a frame's length (after its 4-byte length).
	MaxFrame = 1<<20 + 64<<10
	// MaxChunk bounds a Chunk's payload.
	MaxChunk = 1 << 20
	// Window is the output credit of each stream of an instance: the
	// executor sends no more than this much of a stream that the parent
	// has not yet written out and returned as Credit. Each Output frame
	// costs its bytes and OutputCost, so that a program writing a byte
	// at a time makes the parent hold at most Window/OutputCost frames,
	// not Window.
	Window = 256 << 10
	// OutputCost is what an Output frame costs beyond its bytes.
	OutputCost = 64
	// MaxStrings bounds the number of arguments and of environment
	// variables; their bytes are bounded by MaxFrame. It is the bound
	// runtime.CheckArgs puts on both together, which the parent checks
	// before it sends them.
	MaxStrings = 1 << 16
	// MaxStack bounds the frames of a trap's stack that are sent.
	MaxStack = 256
)

// Frame is one decoded frame.
type Frame struct {
	Type    Type
	ID      uint32
	Payload []byte
	// FD is the descriptor that came with a frame whose type takes one,
	// read by a Reader made by NewSocketReader; the frame's handler
	// owns it and must close it. -1 for any other frame.
	FD int
}

// ErrProtocol is wrapped by every error about a frame's shape.
var ErrProtocol = errors.New("protocol error")

func protocolErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, args...))
}

// Writer writes frames; its methods may be called from several
// goroutines at once, and each frame is written whole.
type Writer struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write writes one frame whose payload is the concatenation of parts.
// A type that takes a descriptor is refused: see WriteFD.
func (w *Writer) Write(t Type, id uint32, parts ...[]byte) error {
	if t.TakesFD() {
		return fmt.Errorf("frame of type %d needs a descriptor (WriteFD)", t)
	}
	if err := checkSize(t, parts); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	_, err := w.w.Write(w.frame(t, id, parts))
	return err
}

func checkSize(t Type, parts [][]byte) error {
	n := 5
	for _, p := range parts {
		n += len(p)
	}
	if n > MaxFrame {
		return fmt.Errorf("frame of type %d is %d bytes, more than %d", t, n, MaxFrame)
	}
	return nil
}

// frame encodes a frame into w's buffer, which it returns. w.mu is
// held; the size has been checked.
func (w *Writer) frame(t Type, id uint32, parts [][]byte) []byte {
	n := 5
	for _, p := range parts {
		n += len(p)
	}
	b := w.buf[:0]
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	b = append(b, byte(t))
	b = binary.LittleEndian.AppendUint32(b, id)
	for _, p := range parts {
		b = append(b, p...)
	}
	// Kept whatever its size (at most MaxFrame and its length): a
	// snapshot or module sent in chunks would otherwise allocate a
	// fresh MiB per frame, and fresh pages are what costs on a VM that
	// returns free memory to its host.
	w.buf = b
	return b
}

// Reader reads frames.
type Reader struct {
	r   io.Reader
	hdr [4]byte
	// fds, if set, holds the descriptors received with the frames'
	// bytes (NewSocketReader).
	fds fdQueue
}

// fdQueue is the descriptors a socket reader received.
type fdQueue interface {
	// attach gives f the one descriptor received with it if its type
	// takes one; any other descriptor, or one missing, or a control
	// message refused, is a protocol error, and every descriptor
	// received is closed.
	attach(f *Frame) error
	// closeAll closes every descriptor received and not yet attached.
	closeAll()
}

// NewReader returns a Reader on r, which receives no descriptors: a
// frame whose type takes one is read with none (FD -1).
func NewReader(r io.Reader) *Reader { return &Reader{r: r} }

// Read reads the next frame. Its payload is freshly allocated, so that
// it may be kept.
func (r *Reader) Read() (Frame, error) {
	f, err := r.read()
	if r.fds != nil {
		if err == nil {
			err = r.fds.attach(&f)
		} else {
			r.fds.closeAll()
		}
	}
	if err != nil {
		return Frame{}, err
	}
	return f, nil
}

func (r *Reader) read() (Frame, error) {
	if _, err := io.ReadFull(r.r, r.hdr[:]); err != nil {
		return Frame{}, err // io.EOF at a frame boundary
	}
	n := binary.LittleEndian.Uint32(r.hdr[:])
	if n < 5 || n > MaxFrame {
		return Frame{}, protocolErrorf("frame length %d outside [5, %d]", n, MaxFrame)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r.r, b); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Frame{}, fmt.Errorf("reading a frame: %w", err)
	}
	return Frame{Type: Type(b[0]), ID: binary.LittleEndian.Uint32(b[1:5]), Payload: b[5:], FD: -1}, nil
}

// Flags of Compile, Instantiate and Resume.
const (
	FlagSuspendable = 1 << iota
	FlagInterruptible
	// FlagStdinDeadlines (Instantiate, Resume): the parent can interrupt
	// a read of the instance's input, so the executor may send
	// StdinCancel.
	FlagStdinDeadlines
	// FlagMemoryGrown (Instantiate, Resume): the parent wants the
	// instance's memory size, so the executor sends MemoryGrown.
	FlagMemoryGrown
	flagsKnown = FlagSuspendable | FlagInterruptible
	// flagsInstance are the flags of a new instance.
	flagsInstance = FlagStdinDeadlines | FlagMemoryGrown
	// flagsResume are those of a resume, from a blob or a file: a
	// snapshot is suspendable already; it is an instance.
	flagsResume = FlagInterruptible | flagsInstance
)

// Load asks for a module to be compiled from a blob (TCompile), or for
// an instance to be made from the snapshot in a blob (TResume).
type Load struct {
	Blob uint32
	// Flags: FlagInterruptible; to compile, FlagSuspendable; to
	// resume, FlagStdinDeadlines and FlagMemoryGrown.
	Flags       uint8
	MemoryLimit uint64
}

// ResumeFile asks for an instance to be made from a snapshot in the
// descriptor that comes with a TResumeFile frame.
type ResumeFile struct {
	// Flags: FlagInterruptible, FlagStdinDeadlines, FlagMemoryGrown.
	Flags       uint8
	MemoryLimit uint64
	// Size is how many bytes of the snapshot to read, from the
	// descriptor's offset: the parent's file's size less its offset.
	// Fewer is an error.
	Size uint64
}

// SnapshotEnd is the payload of SnapshotDone: how the snapshot went,
// and how many bytes of it were sent as Chunks (which the parent checks
// against what it received) or written into the descriptor (also when
// it failed).
type SnapshotEnd struct {
	Result Result
	Size   uint64
}

// Instantiate asks for an instance of a compiled module.
type Instantiate struct {
	Module uint32
	Flags  uint8 // FlagStdinDeadlines, FlagMemoryGrown
	Args   []string
	Env    []string
}

// Ready is the executor's first frame.
type Ready struct {
	// Version of the protocol; the parent refuses any other.
	Version uint32
}

// Version is the protocol's version.
const Version = 2

// Kind tells how something ended.
type Kind uint8

// Kinds of Result.
const (
	OK        Kind = iota // Compiled, Instantiated or exited with Code
	Trap                  // Reason, Stack
	Limit                 // Limit (name), Reason (detail)
	Suspended             // unwound: a snapshot can be taken
	Refused               // a *runtime.ModuleError: Reason
	Failed                // anything else: Reason
	Killed                // stopped by Kill
	// Abandoned: killed, but the program did not stop (compiled code
	// without stop checks that does not call the host): it keeps a
	// thread and will hold up the executor's garbage collector, so the
	// parent must replace the executor.
	Abandoned
	kindEnd
)

// Result is how a request or a run ended.
type Result struct {
	Kind   Kind
	Code   uint32
	Limit  string
	Reason string
	Stack  []string
}

// Encoder builds a payload.
type Encoder struct{ b []byte }

func (e *Encoder) U8(v uint8)      { e.b = append(e.b, v) }
func (e *Encoder) U32(v uint32)    { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *Encoder) U64(v uint64)    { e.b = binary.LittleEndian.AppendUint64(e.b, v) }
func (e *Encoder) Bytes() []byte   { return e.b }
func (e *Encoder) String(s string) { e.U32(uint32(len(s))); e.b = append(e.b, s...) }
func (e *Encoder) Strings(ss []string) {
	e.U32(uint32(len(ss)))
	for _, s := range ss {
		e.String(s)
	}
}

// Decoder reads a payload; the first error sticks, and Done reports it
// or bytes left over.
type Decoder struct {
	b   []byte
	err error
}

// NewDecoder returns a Decoder of payload.
func NewDecoder(payload []byte) *Decoder { return &Decoder{b: payload} }

func (d *Decoder) need(n int, what string) bool {
	if d.err != nil {
		return false
	}
	if len(d.b) < n {
		d.err = protocolErrorf("payload ends in %s", what)
		return false
	}
	return true
}

func (d *Decoder) U8(what string) uint8 {
	if !d.need(1, what) {
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *Decoder) U32(what string) uint32 {
	if !d.need(4, what) {
		return 0
	}
	v := binary.LittleEndian.Uint32(d.b)
	d.b = d.b[4:]
	return v
}

func (d *Decoder) U64(what string) uint64 {
	if !d.need(8, what) {
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *Decoder) String(what string) string {
	n := d.U32(what)
	if !d.need(int(min(n, 1<<31)), what) {
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *Decoder) Strings(what string, max int) []string {
	n := d.U32(what)
	if d.err != nil {
		return nil
	}
	// Each string takes at least its 4-byte length: a count that the
	// payload cannot hold is refused before anything is allocated.
	if int64(n) > int64(max) || int64(n)*4 > int64(len(d.b)) {
		d.err = protocolErrorf("%d %s: more than %d or than the payload holds", n, what, max)
		return nil
	}
	ss := make([]string, 0, n)
	for range n {
		ss = append(ss, d.String(what))
	}
	return ss
}

// Rest returns what is left of the payload.
func (d *Decoder) Rest() []byte {
	b := d.b
	d.b = nil
	return b
}

// Done returns the first error, or an error if bytes are left over.
func (d *Decoder) Done(what string) error {
	if d.err == nil && len(d.b) != 0 {
		d.err = protocolErrorf("%d bytes left over after %s", len(d.b), what)
	}
	if d.err != nil {
		return fmt.Errorf("%s: %w", what, d.err)
	}
	return nil
}

func (l Load) Encode() []byte {
	var e Encoder
	e.U32(l.Blob)
	e.U8(l.Flags)
	e.U64(l.MemoryLimit)
	return e.Bytes()
}

// DecodeLoad decodes and validates the payload of a frame of type t,
// TCompile or TResume.
func DecodeLoad(t Type, p []byte) (Load, error) {
	d := NewDecoder(p)
	l := Load{Blob: d.U32("blob"), Flags: d.U8("flags"), MemoryLimit: d.U64("memory limit")}
	if err := d.Done("load"); err != nil {
		return Load{}, err
	}
	known := uint8(flagsKnown)
	if t == TResume {
		known = flagsResume
	}
	if l.Flags&^known != 0 {
		return Load{}, protocolErrorf("frame of type %d: unknown flags %#x", t, l.Flags)
	}
	return l, nil
}

func (r ResumeFile) Encode() []byte {
	var e Encoder
	e.U8(r.Flags)
	e.U64(r.MemoryLimit)
	e.U64(r.Size)
	return e.Bytes()
}

// DecodeResumeFile decodes and validates a ResumeFile payload; the
// executor checks Size against what it may hold.
func DecodeResumeFile(p []byte) (ResumeFile, error) {
	d := NewDecoder(p)
	r := ResumeFile{Flags: d.U8("flags"), MemoryLimit: d.U64("memory limit"), Size: d.U64("size")}
	if err := d.Done("resume file"); err != nil {
		return ResumeFile{}, err
	}
	if r.Flags&^flagsResume != 0 {
		return ResumeFile{}, protocolErrorf("resume file: unknown flags %#x", r.Flags)
	}
	return r, nil
}

func (s SnapshotEnd) Encode() []byte {
	var e Encoder
	e.b = s.Result.Encode()
	e.U64(s.Size)
	return e.Bytes()
}

// DecodeSnapshotEnd decodes and validates a SnapshotEnd payload: a
// Result, then the size. The parent checks the size against what it
// received and what the instance may write.
func DecodeSnapshotEnd(p []byte) (SnapshotEnd, error) {
	if len(p) < 8 {
		return SnapshotEnd{}, protocolErrorf("snapshot done: payload of %d bytes, less than its size field", len(p))
	}
	r, err := DecodeResult(p[:len(p)-8])
	if err != nil {
		return SnapshotEnd{}, fmt.Errorf("snapshot done: %w", err)
	}
	return SnapshotEnd{Result: r, Size: binary.LittleEndian.Uint64(p[len(p)-8:])}, nil
}

func (m Instantiate) Encode() []byte {
	var e Encoder
	e.U32(m.Module)
	e.U8(m.Flags)
	e.Strings(m.Args)
	e.Strings(m.Env)
	return e.Bytes()
}

// DecodeInstantiate decodes and validates an Instantiate payload.
func DecodeInstantiate(p []byte) (Instantiate, error) {
	d := NewDecoder(p)
	m := Instantiate{Module: d.U32("module"), Flags: d.U8("flags"), Args: d.Strings("arguments", MaxStrings), Env: d.Strings("environment", MaxStrings)}
	if err := d.Done("instantiate"); err != nil {
		return Instantiate{}, err
	}
	if m.Flags&^flagsInstance != 0 {
		return Instantiate{}, protocolErrorf("instantiate: unknown flags %#x", m.Flags)
	}
	return m, nil
}

func (r Ready) Encode() []byte {
	var e Encoder
	e.U32(r.Version)
	return e.Bytes()
}

// DecodeReady decodes a Ready payload.
func DecodeReady(p []byte) (Ready, error) {
	d := NewDecoder(p)
	r := Ready{Version: d.U32("version")}
	return r, d.Done("ready")
}

func (r Result) Encode() []byte {
	var e Encoder
	e.U8(uint8(r.Kind))
	e.U32(r.Code)
	e.String(r.Limit)
	e.String(r.Reason)
	e.Strings(r.Stack[:min(len(r.Stack), MaxStack)])
	return e.Bytes()
}

// DecodeResult decodes and validates a Result payload.
func DecodeResult(p []byte) (Result, error) {
	d := NewDecoder(p)
	r := Result{Kind: Kind(d.U8("kind")), Code: d.U32("code"), Limit: d.String("limit"), Reason: d.String("reason"), Stack: d.Strings("stack", MaxStack)}
	if err := d.Done("result"); err != nil {
		return Result{}, err
	}
	if r.Kind >= kindEnd {
		return Result{}, protocolErrorf("result: unknown kind %d", r.Kind)
	}
	return r, nil
}

// EncodeCredit encodes a Credit payload.
func EncodeCredit(stream uint8, n uint32) []byte {
	var e Encoder
	e.U8(stream)
	e.U32(n)
	return e.Bytes()
}

// DecodeCredit decodes and validates a Credit payload.
func DecodeCredit(p []byte) (stream uint8, n uint32, err error) {
	d := NewDecoder(p)
	stream, n = d.U8("stream"), d.U32("bytes")
	if err := d.Done("credit"); err != nil {
		return 0, 0, err
	}
	if stream != 1 && stream != 2 {
		return 0, 0, protocolErrorf("credit: stream %d", stream)
	}
	if n == 0 || n > Window {
		return 0, 0, protocolErrorf("credit: %d bytes outside [1, %d]", n, Window)
	}
	return stream, n, nil
}

// DecodeOutput decodes and validates an Output payload; data aliases p.
func DecodeOutput(p []byte) (stream uint8, data []byte, err error) {
	d := NewDecoder(p)
	stream = d.U8("stream")
	data = d.Rest()
	if err := d.Done("output"); err != nil {
		return 0, nil, err
	}
	if stream != 1 && stream != 2 {
		return 0, nil, protocolErrorf("output: stream %d", stream)
	}
	if len(data) == 0 || len(data) > Window-OutputCost {
		return 0, nil, protocolErrorf("output: %d bytes outside [1, %d]", len(data), Window-OutputCost)
	}
	return stream, data, nil
}

// PageSize is the unit of a linear memory's size, 64 KiB.
const PageSize = 64 << 10

// MaxMemory is the largest linear memory (wasm32's 65536 pages).
const MaxMemory = 1 << 32

// DecodeMemoryGrown decodes and validates a MemoryGrown payload: a
// memory's size, a whole number of pages, at most MaxMemory. The
// parent checks it further against the instance's limit and the last
// size reported.
func DecodeMemoryGrown(p []byte) (uint64, error) {
	size, err := DecodeU64(p, "memory grown")
	if err != nil {
		return 0, err
	}
	if size%PageSize != 0 || size > MaxMemory {
		return 0, protocolErrorf("memory grown: %d bytes, not a whole number of 64 KiB pages up to %d", size, uint64(MaxMemory))
	}
	return size, nil
}

// EncodeU32 and EncodeU64 encode one-number payloads.
func EncodeU32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func EncodeU64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// DecodeU32 decodes a one-number payload.
func DecodeU32(p []byte, what string) (uint32, error) {
	d := NewDecoder(p)
	v := d.U32(what)
	return v, d.Done(what)
}

// DecodeU64 decodes a one-number payload.
func DecodeU64(p []byte, what string) (uint64, error) {
	d := NewDecoder(p)
	v := d.U64(what)
	return v, d.Done(what)
}

// Empty checks that a frame that takes no payload has none.
func Empty(f Frame) error {
	if len(f.Payload) != 0 {
		return protocolErrorf("frame of type %d takes no payload, has %d bytes", f.Type, len(f.Payload))
	}
	return nil
}

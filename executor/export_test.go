//go:build linux

package executor

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gate-wasm/gate/executor/internal/proto"
)

// Attack asks the current executor process to make a forbidden system
// call (only a binary built with the gate_attack tag does), and returns
// once the process has died, with the reason its instances get.
func (e *Executor) Attack(ctx context.Context, what string) error {
	p, err := e.attack(ctx, what)
	if err != nil {
		return err
	}
	select {
	case <-p.dead:
		return p.failure
	case <-time.After(10 * time.Second):
		return errors.New("the executor did not die within 10 s")
	}
}

// Stall has the current executor process (a gate_attack build) start a
// garbage collection, and returns at once.
func (e *Executor) Stall(ctx context.Context) error {
	_, err := e.attack(ctx, "gc")
	return err
}

// Forge has the current executor process (a gate_attack build) send
// its parent a frame of type t for id with payload, as a compromised
// executor could, and returns at once; the executor goes on unless the
// parent stops it.
func (e *Executor) Forge(ctx context.Context, t proto.Type, id uint32, payload []byte) error {
	_, err := e.attack(ctx, ForgedFrame(t, id, payload))
	return err
}

// ForgedFrame is the attack that has the executor send a frame of type
// t for id with payload; Attack with it waits for the executor to die.
func ForgedFrame(t proto.Type, id uint32, payload []byte) string {
	return fmt.Sprintf("frame %d %d %x", t, id, payload)
}

// attack sends an Attack frame to the current executor process.
func (e *Executor) attack(ctx context.Context, what string) (*process, error) {
	p, err := e.process(ctx)
	if err != nil {
		return nil, err
	}
	var enc proto.Encoder
	enc.String(what)
	if err := p.w.Write(proto.Attack, 0, enc.Bytes()); err != nil {
		return nil, err
	}
	return p, nil
}

// ID is the instance's id, which the frames about it carry.
func (i *Instance) ID() uint32 { return i.id }

// SendFrame writes a frame of type t for id with payload to the current
// executor process, passing the descriptors of files with it
// (SCM_RIGHTS) if any, past the checks of proto.Writer, as a faulty
// parent could; it then waits for the process to die and returns the
// reason its instances get. Nothing else may write to the executor
// meanwhile.
func (e *Executor) SendFrame(ctx context.Context, t proto.Type, id uint32, payload []byte, files ...*os.File) error {
	p, err := e.process(ctx)
	if err != nil {
		return err
	}
	b := binary.LittleEndian.AppendUint32(nil, uint32(5+len(payload)))
	b = append(b, byte(t))
	b = binary.LittleEndian.AppendUint32(b, id)
	b = append(b, payload...)
	var fds []int
	for _, f := range files {
		fds = append(fds, int(f.Fd()))
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	if err := unix.Sendmsg(p.fd, b, oob, nil, unix.MSG_NOSIGNAL); err != nil {
		return err
	}
	select {
	case <-p.dead:
		return p.failure
	case <-time.After(10 * time.Second):
		return errors.New("the executor did not die within 10 s")
	}
}

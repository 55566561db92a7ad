//go:build linux

package executor

import (
	"context"
	"errors"
	"time"

	"github.com/gate-wasm/gate/executor/internal/proto"
)

// Attack asks the current executor process to make a forbidden system
// call (only a binary built with the gate_attack tag does), and returns
// once the process has died, with the reason its instances get.
func (e *Executor) Attack(ctx context.Context, what string) error {
	p, err := e.process(ctx)
	if err != nil {
		return err
	}
	var enc proto.Encoder
	enc.String(what)
	if err := p.w.Write(proto.Attack, 0, enc.Bytes()); err != nil {
		return err
	}
	select {
	case <-p.dead:
		return p.failure
	case <-time.After(10 * time.Second):
		return errors.New("the executor did not die within 10 s")
	}
}

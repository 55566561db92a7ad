//go:build linux

package executor

import (
	"strings"
	"testing"

	"github.com/gate-wasm/gate/executor/internal/proto"
	"github.com/gate-wasm/gate/runtime"
)

// TestArgsFitOneFrame checks that arguments and environment at
// runtime.CheckArgs's bounds cross to the executor in one frame that it
// decodes, so that what the parent accepts the executor never takes as
// a protocol error.
func TestArgsFitOneFrame(t *testing.T) {
	long := strings.Repeat("a", runtime.MaxArgString)
	var bytes []string // as many bytes as allowed, in few strings
	for total := 0; total+len(long)+5 <= runtime.MaxArgBytes; total += len(long) + 5 {
		bytes = append(bytes, long)
	}
	many := make([]string, runtime.MaxArgStrings) // as many strings as allowed
	for _, c := range []struct {
		name      string
		args, env []string
	}{
		{"bytes in arguments", bytes, nil},
		{"bytes in environment", nil, bytes},
		{"strings in arguments", many, nil},
		{"strings in environment", nil, many},
	} {
		if err := runtime.CheckArgs(c.args, c.env); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		payload := proto.Instantiate{Module: 1, Flags: proto.FlagMemoryGrown, Args: c.args, Env: c.env}.Encode()
		if n := 5 + len(payload); n > proto.MaxFrame {
			t.Errorf("%s: a frame of %d bytes, more than %d", c.name, n, proto.MaxFrame)
		}
		m, err := proto.DecodeInstantiate(payload)
		if err != nil || len(m.Args) != len(c.args) || len(m.Env) != len(c.env) {
			t.Errorf("%s: decoded %d arguments and %d variables, %v", c.name, len(m.Args), len(m.Env), err)
		}
	}
}

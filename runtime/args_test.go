package runtime_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gate-wasm/gate/internal/testprog"
	"github.com/gate-wasm/gate/runtime"
)

// TestArgsLimits refuses arguments and environment past each bound, in
// CheckArgs and in Instantiate, naming the bound; at the bounds they
// are accepted.
func TestArgsLimits(t *testing.T) {
	// cost is what one string counts: its bytes, a NUL, a pointer.
	cost := func(s string) int { return len(s) + 5 }
	// At every bound at once: as many strings as allowed, one of the
	// longest, and as many bytes as allowed, in k environment variables
	// and empty arguments.
	atBounds := func() (args, env []string) {
		args = []string{"prog", strings.Repeat("a", runtime.MaxArgString)}
		fixed := cost(args[0]) + cost(args[1])
		for k := 1; ; k++ {
			empty := runtime.MaxArgStrings - len(args) - k
			budget := runtime.MaxArgBytes - fixed - empty*cost("")
			if budget > k*cost(strings.Repeat("e", runtime.MaxArgString)) {
				continue
			}
			for i := range k {
				size := budget/k - 5
				if i == 0 {
					size += budget % k
				}
				env = append(env, "E="+strings.Repeat("e", size-2))
			}
			for range empty {
				args = append(args, "")
			}
			return args, env
		}
	}
	args, env := atBounds()
	if err := runtime.CheckArgs(args, env); err != nil {
		t.Fatalf("at the bounds: %v", err)
	}
	tooMany := append(append([]string(nil), args...), "")
	tooLong := []string{"prog", strings.Repeat("a", runtime.MaxArgString+1)}
	tooLarge := append(append([]string(nil), env...), "X=")
	for _, c := range []struct {
		name      string
		args, env []string
		want      string
	}{
		{"count", tooMany, env, "65537 arguments and environment variables, more than the limit of 65536"},
		{"string", tooLong, nil, "argument 1 is 131073 bytes, more than the limit of 131072 (128 KiB) per string"},
		{"env string", nil, []string{strings.Repeat("e", runtime.MaxArgString+1)}, "environment variable 0 is 131073 bytes"},
		{"total", args[:len(args)-1], tooLarge, "arguments and environment take 1048578 bytes (each string counted with a NUL and a 4-byte pointer), more than the limit of 1048576 (1 MiB)"},
	} {
		err := runtime.CheckArgs(c.args, c.env)
		if !errors.Is(err, runtime.ErrArgs) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want ErrArgs saying %q", c.name, err, c.want)
		}
	}

	rt := newRuntime(t, runtime.Config{})
	m := compile(t, rt, testprog.C(t, "internal/testprog/src/c/exit.c"))
	if _, err := rt.Instantiate(context.Background(), m, runtime.Options{Args: tooMany, Env: env}); !errors.Is(err, runtime.ErrArgs) {
		t.Errorf("Instantiate with %d strings: %v; want ErrArgs", len(tooMany)+len(env), err)
	}
	inst, err := rt.Instantiate(context.Background(), m, runtime.Options{Args: args, Env: env})
	if err != nil {
		t.Fatalf("Instantiate at the bounds: %v", err)
	}
	inst.Close(context.Background())
}

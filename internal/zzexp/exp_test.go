package zzexp

import (
	"fmt"
	"os"
	"testing"

	"github.com/gate-wasm/gate/internal/hostile"
)

func TestWriteGrid(t *testing.T) {
	for _, l := range []int{50, 200, 1000, 5000} {
		for _, p := range []int{20, 200, 1000, 5000} {
			os.WriteFile(fmt.Sprintf("/tmp/hx/calls_%d_%d.wasm", l, p), hostile.LocalsCalls(uint32(l), p), 0o644)
			os.WriteFile(fmt.Sprintf("/tmp/hx/loops_%d_%d.wasm", l, p), hostile.LocalsLoops(uint32(l), p), 0o644)
		}
	}
}

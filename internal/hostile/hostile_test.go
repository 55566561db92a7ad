package hostile

import (
	"testing"

	"github.com/gate-wasm/gate/wasm"
)

// TestValid checks that every shape, small, is a valid module: what
// Gate refuses of them must be refused for its size, not its form.
func TestValid(t *testing.T) {
	for name, bin := range map[string][]byte{
		"LocalsLoops":      LocalsLoops(10, 10),
		"LocalsCalls":      LocalsCalls(10, 10),
		"NestedLoops":      NestedLoops(10, true, 10),
		"NestedBlocks":     NestedBlocks(10, true),
		"BrTable":          BrTable(10),
		"Functions":        Functions(10),
		"TableGrow":        TableGrow(10, false),
		"TableGrowLoop":    TableGrow(10, true),
		"ImportingNope":    ImportingNope(10),
		"SequentialIfs":    SequentialIfs(10),
		"CallsInFunctions": CallsInFunctions(10, 10),
	} {
		m, err := wasm.Decode(bin)
		if err == nil {
			err = wasm.Validate(m)
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

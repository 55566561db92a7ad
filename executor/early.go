//go:build linux

package executor

import (
	"os"

	"github.com/gate-wasm/gate/executor/internal/sandbox"
)

// init closes, in the executor process only, the file descriptors it
// inherited beyond its four (see sandbox.CloseInherited): as early as
// Go allows, before the Go runtime opens its own (its poller's, on the
// first timer), which must stay.
func init() {
	if len(os.Args) > 1 && os.Args[1] == CommandName {
		sandbox.CloseInherited()
	}
}

package runtime

import (
	"errors"
	"fmt"
	"strings"
)

// TrapError reports a program that trapped: the WebAssembly semantics
// stopped it because it did something undefined.
type TrapError struct {
	// Reason names the trap, e.g. "integer divide by zero".
	Reason string
	// Stack is the wasm call stack where the trap happened, innermost
	// first, as far as the engine reports it.
	Stack []string
}

func (e *TrapError) Error() string { return "trap: " + e.Reason }

// LimitError reports an instance stopped by a limit.
type LimitError struct {
	Limit  string // "timeout"
	Detail string // e.g. "wall-clock time limit of 2s reached"
}

func (e *LimitError) Error() string { return "limit: " + e.Detail }

// trapReasons maps the engine's trap messages to Gate's names for them.
var trapReasons = map[string]string{
	"stack overflow":                "stack exhausted",
	"invalid conversion to integer": "invalid conversion to integer",
	"integer overflow":              "integer overflow",
	"integer divide by zero":        "integer divide by zero",
	"unreachable":                   "unreachable executed",
	"out of bounds memory access":   "out-of-bounds memory access",
	"invalid table access":          "out-of-bounds table access",
	"indirect call type mismatch":   "indirect call type mismatch",
	"null reference":                "null reference",
	"unaligned atomic":              "unaligned atomic access",
}

// engineTrapType is the dynamic type of the errors with which the engine
// reports traps. The type is internal to wazero, so it is recognized by
// name; TestTraps checks that every trap Gate names is still recognized.
const engineTrapType = "*wasmruntime.Error"

// trapOf finds the engine's trap in err's chain. The engine wraps it in a
// report with the wasm stack trace ("wasm error: ...") and that report may
// itself be wrapped, as when a start function traps during instantiation;
// a stack overflow comes back bare.
func trapOf(err error) *TrapError {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if fmt.Sprintf("%T", e) != engineTrapType {
			continue
		}
		reason, ok := trapReasons[e.Error()]
		if !ok {
			reason = e.Error()
		}
		return &TrapError{Reason: reason, Stack: stackOf(err.Error())}
	}
	return nil
}

// stackOf extracts the frames from the engine's "wasm stack trace:" text.
func stackOf(msg string) []string {
	_, trace, ok := strings.Cut(msg, "\nwasm stack trace:\n")
	if !ok {
		return nil
	}
	var frames []string
	for _, line := range strings.Split(trace, "\n") {
		if strings.HasPrefix(line, "\t") && !strings.HasPrefix(line, "\t\t") {
			frames = append(frames, strings.TrimPrefix(line, "\t"))
		}
	}
	return frames
}

//go:build !gate_attack

// Package attack makes the forbidden system calls with which the tests
// check the executor's seccomp filter. Its calls exist only in a binary
// built with the gate_attack tag; the release binary has none of them.
package attack

import "errors"

// Built tells whether this binary can attack its own sandbox.
const Built = false

// Do is not built into the release binary.
func Do(string) error { return errors.New("not built with the gate_attack tag") }

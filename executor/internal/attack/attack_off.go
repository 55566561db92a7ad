//go:build !gate_attack

// Package attack makes the forbidden system calls with which the tests
// check the executor's seccomp filter, and forges the frames with which
// they check its parent's validation. Its calls exist only in a binary
// built with the gate_attack tag; the release binary has none of them.
package attack

import "errors"

// Built tells whether this binary can attack its own sandbox.
const Built = false

// Do is not built into the release binary.
func Do(string) error { return errors.New("not built with the gate_attack tag") }

// Frame is not built into the release binary.
func Frame(string) (typ uint8, id uint32, payload []byte, ok bool) { return 0, 0, nil, false }

// Stall is not built into the release binary.
func Stall(string) bool { return false }

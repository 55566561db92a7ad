package runtime

import (
	"errors"
	"fmt"
)

// Bounds on a program's arguments and environment (Options.Args and
// Env together), in line with Linux's own (MAX_ARG_STRLEN is 128 KiB per
// string; ARG_MAX is a quarter of the stack limit, 2 MiB by default) and
// small enough that they cross to the sandboxed executor in one frame of
// its protocol (at most 1 MiB + 64 KiB).
const (
	// MaxArgStrings bounds how many strings there are.
	MaxArgStrings = 1 << 16
	// MaxArgString bounds each string's bytes.
	MaxArgString = 128 << 10
	// MaxArgBytes bounds their size in all, each string counted as a
	// wasm32 program holds it: its bytes, a NUL and a 4-byte pointer.
	MaxArgBytes = 1 << 20
)

// ErrArgs is wrapped by the error of arguments and environment beyond
// MaxArgStrings, MaxArgString or MaxArgBytes.
var ErrArgs = errors.New("arguments and environment over the limit")

// argsError names the limit that args or env went past.
type argsError struct{ msg string }

func (e *argsError) Error() string { return e.msg }
func (e *argsError) Unwrap() error { return ErrArgs }

// CheckArgs refuses arguments and environment beyond the bounds above,
// with an error (wrapping ErrArgs) that names the bound. Instantiate
// checks them too; a caller that starts something costly first (a
// compile, a process) checks them before.
func CheckArgs(args, env []string) error {
	if n := len(args) + len(env); n > MaxArgStrings {
		return &argsError{fmt.Sprintf("%d arguments and environment variables, more than the limit of %d", n, MaxArgStrings)}
	}
	total := 0
	for _, list := range []struct {
		what string
		strs []string
	}{{"argument", args}, {"environment variable", env}} {
		for i, s := range list.strs {
			if len(s) > MaxArgString {
				return &argsError{fmt.Sprintf("%s %d is %d bytes, more than the limit of %d (128 KiB) per string", list.what, i, len(s), MaxArgString)}
			}
			total += len(s) + 1 + 4
		}
	}
	if total > MaxArgBytes {
		return &argsError{fmt.Sprintf("arguments and environment take %d bytes (each string counted with a NUL and a 4-byte pointer), more than the limit of %d (1 MiB)", total, MaxArgBytes)}
	}
	return nil
}

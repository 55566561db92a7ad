//go:build gate_attack

// Package attack makes the forbidden system calls with which the tests
// check the executor's seccomp filter, and forges the frames with which
// they check its parent's validation. Its calls exist only in a binary
// built with the gate_attack tag; the release binary has none of them.
package attack

import (
	"encoding/hex"
	"fmt"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Built tells whether this binary can attack its own sandbox.
const Built = true

// attacks names the attacks Do knows.
var attacks = []string{"open", "socket", "execve", "ptrace", "mount", "kill", "fork", "crash"}

// Do makes the system call that what names, with raw system calls so
// that no other call comes first. "kill PID" signals PID, the parent's
// pid as the parent sees it. It returns only if the call was let
// through, with its error.
func Do(what string) error {
	name, arg, _ := strings.Cut(what, " ")
	var errno unix.Errno
	switch name {
	case "open":
		path, _ := unix.BytePtrFromString("/etc/passwd")
		dirfd := unix.AT_FDCWD
		_, _, errno = unix.Syscall6(unix.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(path)), unix.O_RDONLY, 0, 0, 0)
	case "socket":
		_, _, errno = unix.Syscall(unix.SYS_SOCKET, unix.AF_INET, unix.SOCK_STREAM, 0)
	case "execve":
		path, _ := unix.BytePtrFromString("/bin/sh")
		argv := []*byte{path, nil}
		_, _, errno = unix.Syscall(unix.SYS_EXECVE, uintptr(unsafe.Pointer(path)), uintptr(unsafe.Pointer(&argv[0])), 0)
	case "ptrace":
		_, _, errno = unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_ATTACH, 1, 0, 0, 0, 0)
	case "mount":
		src, _ := unix.BytePtrFromString("none")
		dst, _ := unix.BytePtrFromString("/")
		fs, _ := unix.BytePtrFromString("tmpfs")
		_, _, errno = unix.Syscall6(unix.SYS_MOUNT, uintptr(unsafe.Pointer(src)), uintptr(unsafe.Pointer(dst)), uintptr(unsafe.Pointer(fs)), 0, 0, 0)
	case "kill":
		pid, err := strconv.Atoi(arg)
		if err != nil {
			return fmt.Errorf("kill: want a pid: %w", err)
		}
		_, _, errno = unix.Syscall(unix.SYS_KILL, uintptr(pid), uintptr(unix.SIGKILL), 0)
	case "fork":
		_, _, errno = unix.Syscall(unix.SYS_CLONE, uintptr(unix.SIGCHLD), 0, 0)
	case "crash":
		// Not an attack: the executor crashing as a Go program does
		// with GOTRACEBACK=crash, by raising SIGABRT on itself.
		debug.SetTraceback("crash")
		panic("the test asked the executor to crash")
	default:
		return fmt.Errorf("unknown attack %q (known: %v)", name, attacks)
	}
	if errno != 0 {
		return errno
	}
	return nil
}

// Frame parses "frame TYPE ID PAYLOAD" (type and id in decimal, the
// payload in hex, possibly empty): a frame for the executor to send its
// parent, as a compromised executor could, for the tests of the
// parent's validation. ok is false if what is not such an attack.
func Frame(what string) (typ uint8, id uint32, payload []byte, ok bool) {
	var hexPayload string
	n, _ := fmt.Sscanf(what, "frame %d %d %s", &typ, &id, &hexPayload)
	if n < 2 {
		return 0, 0, nil, false
	}
	payload, err := hex.DecodeString(hexPayload)
	if err != nil {
		return 0, 0, nil, false
	}
	return typ, id, payload, true
}

// Stall, for "gc", starts a garbage collection on a goroutine of its
// own and returns true. With a program running code that cannot be
// preempted (without stop checks, not calling the host), the collection
// waits for it to stop, and every other goroutine of the executor with
// it: what the executor's own collections do, at a time of the test's
// choosing.
func Stall(name string) bool {
	if name != "gc" {
		return false
	}
	go runtime.GC()
	return true
}

//go:build linux

package sandbox

import (
	"fmt"
	"os"
	"runtime"

	seccomp "github.com/elastic/go-seccomp-bpf"
	"golang.org/x/sys/unix"
)

// Allowed is the executor's system call allowlist: what the Go runtime
// and wazero call once the sandbox is up, found by running the C and Go
// test programs under strace (docs/SECURITY.md gives the reason for each
// and how the list was found). Every other call kills the process with
// SIGSYS.
var Allowed = []string{
	// Its own descriptors: the control socket, the log pipe, the
	// poller's eventfd; and the snapshot files whose descriptors its
	// parent passes it (written or read, never opened).
	"read", "write",
	// The control socket is read with recvmsg, so that the descriptors
	// the parent passes (SCM_RIGHTS) are received, not dropped; close
	// lets it give each back as soon as it has written or read it.
	// Neither opens anything: a descriptor can only come from the
	// parent.
	"recvmsg", "close",
	// Memory: the Go heap and stacks, wazero's linear memories and
	// compiled code (mapped writable, then made executable), returned
	// to the kernel by the scavenger.
	"mmap", "munmap", "mprotect", "madvise",
	// Threads: sleeping, waking, yielding; a new thread blocks its
	// signals and sets its signal stack; a thread that ends exits.
	"futex", "nanosleep", "sched_yield", "gettid", "rt_sigprocmask", "sigaltstack", "exit",
	// The poller, which the Go runtime sleeps in while timers run.
	"epoll_pwait",
	// The program ABI's random_get and the runtime's hash seeds.
	"getrandom",
	// Not seen in the traces but on paths that must not kill the
	// executor: returning from a signal handler, the clock where the
	// vDSO does not serve it, the end of the process, and the Go
	// runtime's death by a crash (it restores a signal's default
	// action and raises it on itself, then exits: without
	// rt_sigaction the filter would kill it first, and the parent
	// would blame SIGSYS instead of reporting the panic).
	"rt_sigreturn", "clock_gettime", "exit_group", "getpid", "rt_sigaction",
}

// goThreadFlags are the flags with which the Go runtime's newosproc
// clones a thread (runtime/os_linux.go); amd64's assembly adds
// CLONE_SETTLS. clone with any other flags, such as a new process, is
// refused.
const goThreadFlags = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND | unix.CLONE_SYSVSEM | unix.CLONE_THREAD

// Policy is the executor's seccomp policy.
func Policy() seccomp.Policy {
	return seccomp.Policy{
		DefaultAction: seccomp.ActionKillProcess,
		Syscalls: []seccomp.SyscallGroup{{
			Action: seccomp.ActionAllow,
			Names:  Allowed,
			NamesWithCondtions: []seccomp.NameWithConditions{
				// New threads, never new processes.
				{Name: "clone", Conditions: seccomp.ArgumentConditions{
					{Argument: 0, Operation: seccomp.Equal, Value: goThreadFlags},
				}},
				{Name: "clone", Conditions: seccomp.ArgumentConditions{
					{Argument: 0, Operation: seccomp.Equal, Value: goThreadFlags | unix.CLONE_SETTLS},
				}},
				// Signals to its own threads only (the Go
				// runtime's preemption and crash reports).
				{Name: "tgkill", Conditions: seccomp.ArgumentConditions{
					{Argument: 0, Operation: seccomp.Equal, Value: uint64(os.Getpid())},
				}},
			},
		}},
	}
}

// installSeccomp sets no_new_privs and installs the policy on every
// thread of the process (SECCOMP_FILTER_FLAG_TSYNC), so that no thread
// the Go runtime started before escapes it.
func installSeccomp() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	err := seccomp.LoadFilter(seccomp.Filter{
		NoNewPrivs: true,
		Flag:       seccomp.FilterFlagTSync,
		Policy:     Policy(),
	})
	if err != nil {
		return fmt.Errorf("installing the seccomp filter: %w", err)
	}
	return nil
}

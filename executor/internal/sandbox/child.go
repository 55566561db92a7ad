//go:build linux

package sandbox

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The executor's file descriptors (see docs/SECURITY.md): 0 and 1 are
// /dev/null, 2 is a pipe whose reader is the parent (the Go runtime
// writes a crash's reason there, and the executor its log), 3 is the
// control socket. Nothing else is open once Enter has run.
const (
	LogFD     = 2
	ControlFD = 3
)

// Unprivileged is the uid and gid the executor takes when it starts as
// root: nobody's, which owns no files and holds no rights.
const Unprivileged = 65534

// Limits are the rlimits the executor sets on itself.
type Limits struct {
	// AddressSpace bounds the executor's virtual memory (RLIMIT_AS).
	AddressSpace uint64
	// Files bounds its open file descriptors (RLIMIT_NOFILE).
	Files uint64
	// FileSize bounds the offset up to which it may write a regular
	// file (RLIMIT_FSIZE): it opens none, but writes snapshots into
	// the files whose descriptors its parent passes it.
	FileSize uint64
	// Threads bounds the processes and threads of its uid (RLIMIT_NPROC).
	Threads uint64
}

// Enter locks the calling process (the executor, just started by
// Command) into its sandbox, in this order, each step needing the
// privileges that the later ones take away: it closes every inherited
// file descriptor but 0-3; makes its root an empty read-only tmpfs; sets
// its rlimits; takes an unprivileged uid where it can; drops every
// capability; sets no_new_privs; installs the seccomp allowlist on every
// thread. It must run before the executor reads anything from its
// parent. From its return on, a forbidden system call kills the
// process with SIGSYS.
func Enter(limits Limits) error {
	// Some lazily opened files must be opened now, while there is a
	// file system: the local time zone (log timestamps).
	_ = time.Now().Local()
	if err := checkControl(); err != nil {
		return err
	}
	if cgo {
		// C's threads are out of the Go runtime's reach: capabilities,
		// being per thread, could not be dropped from all of them.
		return errors.New("gate was built with cgo: build it with CGO_ENABLED=0 (a static binary) so that the sandbox holds every thread")
	}
	// What /proc says must be read while it is there.
	last, err := lastCap()
	if err != nil {
		return err
	}
	realRoot := uidMappedToRoot()
	if err := checkDescriptors(); err != nil {
		return fmt.Errorf("inherited file descriptors: %w", err)
	}
	if err := emptyRoot(); err != nil {
		return fmt.Errorf("emptying the root: %w", err)
	}
	// A name that says what it is to whoever looks from inside.
	_ = unix.Sethostname([]byte("gate-executor"))
	if err := setLimits(limits); err != nil {
		return err
	}
	if err := dropPrivileges(last, realRoot); err != nil {
		return err
	}
	// A change of credentials clears the parent-death signal: set it
	// again, so that the executor dies with the thread that started it
	// even if its socket stays open somewhere.
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0); err != nil {
		return fmt.Errorf("setting the parent-death signal: %w", err)
	}
	return installSeccomp()
}

// checkControl checks that fd 3 is the control socket, so that a gate
// started by hand with the hidden command fails clearly.
func checkControl() error {
	var st unix.Stat_t
	if err := unix.Fstat(ControlFD, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return errors.New("file descriptor 3 is not a control socket: the executor is started by gate, not by hand")
	}
	return nil
}

// CloseInherited closes every descriptor above 3, if fd 3 is a control
// socket (this is an executor). exec closes only those marked
// close-on-exec, and gate's own parent may have left others open. It
// runs from a package init, before the Go runtime opens descriptors of
// its own; Enter then checks that only the runtime's are left.
func CloseInherited() {
	if checkControl() != nil {
		return
	}
	// close_range(2) exists since Linux 5.9; on older kernels, Enter's
	// check finds what is left and refuses.
	unix.CloseRange(ControlFD+1, ^uint(0), 0)
}

// checkDescriptors checks that the executor holds no descriptor above 3
// but the Go runtime's poller (an epoll instance and its eventfd, opened
// since CloseInherited ran: they reach nothing outside).
func checkDescriptors() error {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return err
	}
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd <= ControlFD {
			continue
		}
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil {
			continue // the directory's own descriptor, closed by now
		}
		if target != "anon_inode:[eventpoll]" && target != "anon_inode:[eventfd]" {
			return fmt.Errorf("file descriptor %d (%s) is open", fd, target)
		}
	}
	return nil
}

// emptyRoot makes the root of the executor's mount namespace an empty,
// read-only tmpfs, and leaves no way back to the host's file system: the
// old root is detached, the working directory is the new root.
func emptyRoot() error {
	// Nothing done here may reach the host's mounts.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making mounts private: %w", err)
	}
	// Any existing directory serves as a mount point; in this private
	// namespace the tmpfs hides it from no one else.
	const newRoot = "/tmp"
	if err := unix.Mount("gate-executor", newRoot, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=16k,nr_inodes=4,mode=0555"); err != nil {
		return fmt.Errorf("mounting a tmpfs on %s: %w", newRoot, err)
	}
	if err := unix.Mkdir(newRoot+"/old", 0); err != nil {
		return err
	}
	if err := unix.PivotRoot(newRoot, newRoot+"/old"); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return err
	}
	if err := unix.Unmount("/old", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detaching the old root: %w", err)
	}
	if err := unix.Rmdir("/old"); err != nil {
		return err
	}
	if err := unix.Mount("", "/", "", unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("making the root read-only: %w", err)
	}
	return nil
}

func setLimits(l Limits) error {
	for _, r := range []struct {
		name     string
		resource int
		value    uint64
	}{
		{"RLIMIT_CORE", unix.RLIMIT_CORE, 0}, // a crash dumps no memory anywhere
		{"RLIMIT_FSIZE", unix.RLIMIT_FSIZE, l.FileSize},
		{"RLIMIT_NOFILE", unix.RLIMIT_NOFILE, l.Files},
		{"RLIMIT_NPROC", unix.RLIMIT_NPROC, l.Threads},
		{"RLIMIT_AS", unix.RLIMIT_AS, l.AddressSpace},
		{"RLIMIT_MEMLOCK", unix.RLIMIT_MEMLOCK, 0}, // nothing to pin
		{"RLIMIT_MSGQUEUE", unix.RLIMIT_MSGQUEUE, 0},
	} {
		lim := unix.Rlimit{Cur: r.value, Max: r.value}
		if err := unix.Setrlimit(r.resource, &lim); err != nil {
			return fmt.Errorf("setting %s to %d: %w", r.name, r.value, err)
		}
	}
	return nil
}

// dropPrivileges takes the unprivileged uid and gid when the executor
// runs as real root (without a user namespace), and drops every
// capability from every thread: capabilities are per thread, so each
// step is made on all of the Go runtime's threads.
func dropPrivileges(last uintptr, realRoot bool) error {
	// The bounding set first: dropping from it needs CAP_SETPCAP, which
	// goes with the uid.
	for c := uintptr(0); c <= last; c++ {
		if _, _, e := syscall.AllThreadsSyscall(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, c, 0); e != 0 {
			return fmt.Errorf("dropping capability %d from the bounding set: %w", c, e)
		}
	}
	if _, _, e := syscall.AllThreadsSyscall(unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0); e != 0 {
		return fmt.Errorf("clearing ambient capabilities: %w", e)
	}
	if realRoot {
		// A real root: become nobody. Go's Set* act on all threads.
		if err := syscall.Setgroups(nil); err != nil {
			return fmt.Errorf("setgroups: %w", err)
		}
		if err := syscall.Setresgid(Unprivileged, Unprivileged, Unprivileged); err != nil {
			return fmt.Errorf("setresgid(%d): %w", Unprivileged, err)
		}
		if err := syscall.Setresuid(Unprivileged, Unprivileged, Unprivileged); err != nil {
			return fmt.Errorf("setresuid(%d): %w", Unprivileged, err)
		}
	}
	// In a user namespace the executor stays uid 0 of that namespace
	// (its only mapped uid), so its capabilities must be cleared by
	// hand; as nobody, this clears nothing more but costs nothing.
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if _, _, e := syscall.AllThreadsSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0); e != 0 {
		return fmt.Errorf("capset: %w", e)
	}
	runtime.KeepAlive(&hdr)
	runtime.KeepAlive(&data)
	return nil
}

// uidMappedToRoot tells whether the executor is the host's root, rather
// than root of a user namespace that maps only the caller's uid.
func uidMappedToRoot() bool {
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return false
	}
	var inside, outside, count uint64
	if _, err := fmt.Sscan(string(b), &inside, &outside, &count); err != nil {
		return false
	}
	// The initial namespace maps everything: "0 0 4294967295".
	return os.Getuid() == 0 && outside == 0 && count == 1<<32-1
}

// lastCap is the highest capability this kernel knows.
func lastCap() (uintptr, error) {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return 0, fmt.Errorf("reading the last capability: %w", err)
	}
	n, err := strconv.Atoi(string(trimNewline(b)))
	if err != nil || n < 0 || n > 63 {
		return 0, fmt.Errorf("last capability %q", b)
	}
	return uintptr(n), nil
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}

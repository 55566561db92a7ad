//go:build linux

// Package sandbox builds the executor's sandbox: the parent's half
// starts the process in new namespaces and puts it in a cgroup; the
// child's half (Enter) takes its root, file descriptors, privileges and
// system calls away. docs/SECURITY.md describes each layer.
package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// Env is the executor's whole environment: nothing of gate's. Its
// GODEBUG turns off, in the Go runtime, asynchronous preemption (a
// signal to a thread stuck in compiled WebAssembly every 10 ms, which
// costs system time and cannot interrupt it anyway, docs/PERFORMANCE.md)
// and the GOMAXPROCS updater, which would keep a cgroup file open and
// read it (and sched_getaffinity) every second: calls the allowlist does
// not need to have.
func Env() []string {
	return []string{"GODEBUG=asyncpreemptoff=1,updatemaxprocs=0,containermaxprocs=0"}
}

// Command returns the executor's command: path with args, in new pid,
// net, mount, ipc and uts namespaces, and a new user namespace when gate
// is not root (a root gate instead makes the executor take nobody's uid,
// which a user namespace could only map to the caller's own). socket
// becomes fd 3, logw fd 2; 0 and 1 are /dev/null.
func Command(path string, args []string, socket, logw *os.File) *exec.Cmd {
	cmd := exec.Command(path, args...)
	cmd.Env = Env()
	cmd.Stdin, cmd.Stdout = nil, nil // /dev/null
	cmd.Stderr = logw
	cmd.ExtraFiles = []*os.File{socket}
	attr := &syscall.SysProcAttr{
		Cloneflags: unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWNS | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS,
		// A session of its own: no terminal's signals (^C) reach it;
		// gate decides what a signal means for its programs.
		Setsid:    true,
		Pdeathsig: syscall.SIGKILL,
	}
	if uid, gid := os.Getuid(), os.Getgid(); uid != 0 {
		attr.Cloneflags |= unix.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: uid, Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: gid, Size: 1}}
		attr.GidMappingsEnableSetgroups = false
	}
	cmd.SysProcAttr = attr
	return cmd
}

// Missing turns the error of starting the executor's command into what
// the host lacks, when it can tell.
func Missing(err error) error {
	switch {
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		if os.Getuid() != 0 {
			return fmt.Errorf("unprivileged user namespaces are not permitted on this host (kernel.unprivileged_userns_clone, user.max_user_namespaces or an AppArmor policy): %w", err)
		}
		return fmt.Errorf("creating namespaces is not permitted here (a container without CAP_SYS_ADMIN?): %w", err)
	case errors.Is(err, unix.EINVAL):
		return fmt.Errorf("this kernel lacks a namespace the sandbox needs (user, pid, net, mount, ipc, uts): %w", err)
	case errors.Is(err, unix.ENOSPC), errors.Is(err, unix.EUSERS):
		return fmt.Errorf("the host's limit on namespaces is reached: %w", err)
	}
	return err
}

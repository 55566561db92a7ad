//go:build linux

package sandbox

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// CgroupLimits bound what the executor and everything in it use.
type CgroupLimits struct {
	Memory uint64  // bytes
	Pids   uint64  // processes and threads
	CPU    float64 // cores; 0 means no bound
}

// Cgroup is the executor's cgroup: one directory in cgroup v2, one per
// controller (memory, pids, cpu) in v1.
type Cgroup struct {
	Version int
	Dirs    []string
}

const cgroupRoot = "/sys/fs/cgroup"

// cpuPeriod is the cpu controller's accounting period, in microseconds
// (the kernel's default).
const cpuPeriod = 100000

// JoinCgroup creates a cgroup named name below gate's own, sets limits
// and moves pid into it. It uses cgroup v2 where /sys/fs/cgroup is the
// unified hierarchy, else the v1 memory, pids and cpu hierarchies. An
// error says what the host did not allow; the caller logs it and goes
// on without (the other layers still bound the executor).
func JoinCgroup(pid int, name string, limits CgroupLimits) (*Cgroup, error) {
	own, err := ownCgroups()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(cgroupRoot, "cgroup.controllers")); err == nil {
		parent := filepath.Join(cgroupRoot, own[""])
		removeStale(parent)
		return joinV2(pid, parent, name, limits)
	}
	for _, controller := range []string{"memory", "pids", "cpu"} {
		if path, ok := own[controller]; ok {
			removeStale(filepath.Join(cgroupRoot, controller, path))
		}
	}
	return joinV1(pid, own, name, limits)
}

// CgroupPrefix begins the name of an executor's cgroup, which its pid
// ends: gate-executor-PID.
const CgroupPrefix = "gate-executor-"

// removeStale removes the executors' cgroups in dir whose executor no
// longer exists: those of a gate that died without removing them (a
// SIGKILL, a crash), which the kernel keeps, empty, until someone does.
// Only empty cgroups can be removed (rmdir fails on one with
// processes), and an executor is alive from before its cgroup is made
// until after it leaves it, so a cgroup in use is never removed.
func removeStale(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(strings.TrimPrefix(e.Name(), CgroupPrefix))
		if !e.IsDir() || !strings.HasPrefix(e.Name(), CgroupPrefix) || err != nil || pid <= 0 {
			continue
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

func joinV2(pid int, parent, name string, limits CgroupLimits) (*Cgroup, error) {
	// The controllers must be enabled for the parent's children; this
	// fails where the parent holds processes itself (cgroup v2's
	// no-internal-processes rule), which is then the host's to arrange.
	if err := os.WriteFile(filepath.Join(parent, "cgroup.subtree_control"), []byte("+memory +pids +cpu"), 0); err != nil {
		return nil, fmt.Errorf("cgroup v2: enabling memory, pids and cpu in %s: %w", parent, err)
	}
	dir := filepath.Join(parent, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cgroup v2: %w", err)
	}
	cg := &Cgroup{Version: 2, Dirs: []string{dir}}
	cpu := "max"
	if limits.CPU > 0 {
		cpu = fmt.Sprintf("%d %d", int(limits.CPU*cpuPeriod), cpuPeriod)
	}
	err := errors.Join(
		write(dir, "memory.max", strconv.FormatUint(limits.Memory, 10)),
		write(dir, "pids.max", strconv.FormatUint(limits.Pids, 10)),
		write(dir, "cpu.max", cpu),
	)
	// No swap either, where swap is accounted (the file exists only
	// then): its memory would otherwise spill to disk beyond memory.max.
	if werr := write(dir, "memory.swap.max", "0"); werr != nil && !errors.Is(werr, os.ErrNotExist) {
		err = errors.Join(err, werr)
	}
	if err == nil {
		err = write(dir, "cgroup.procs", strconv.Itoa(pid))
	}
	if err != nil {
		cg.Remove()
		return nil, fmt.Errorf("cgroup v2: %w", err)
	}
	return cg, nil
}

func joinV1(pid int, own map[string]string, name string, limits CgroupLimits) (*Cgroup, error) {
	cg := &Cgroup{Version: 1}
	settings := map[string][][2]string{
		"memory": {{"memory.limit_in_bytes", strconv.FormatUint(limits.Memory, 10)}},
		"pids":   {{"pids.max", strconv.FormatUint(limits.Pids, 10)}},
		"cpu":    {{"cpu.cfs_period_us", strconv.Itoa(cpuPeriod)}, {"cpu.cfs_quota_us", "-1"}},
	}
	if limits.CPU > 0 {
		settings["cpu"][1][1] = strconv.Itoa(int(limits.CPU * cpuPeriod))
	}
	for _, controller := range []string{"memory", "pids", "cpu"} {
		path, ok := own[controller]
		if !ok {
			cg.Remove()
			return nil, fmt.Errorf("cgroup v1: no %s hierarchy is mounted", controller)
		}
		dir := filepath.Join(cgroupRoot, controller, path, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			cg.Remove()
			return nil, fmt.Errorf("cgroup v1: %w", err)
		}
		cg.Dirs = append(cg.Dirs, dir)
		for _, s := range settings[controller] {
			if err := write(dir, s[0], s[1]); err != nil {
				cg.Remove()
				return nil, fmt.Errorf("cgroup v1: %w", err)
			}
		}
		if controller == "memory" {
			// No swap either, where swap is accounted (the file
			// exists only then; it must not be below the memory
			// limit, which is set first).
			err := write(dir, "memory.memsw.limit_in_bytes", strconv.FormatUint(limits.Memory, 10))
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				cg.Remove()
				return nil, fmt.Errorf("cgroup v1: %w", err)
			}
		}
		if err := write(dir, "cgroup.procs", strconv.Itoa(pid)); err != nil {
			cg.Remove()
			return nil, fmt.Errorf("cgroup v1: %w", err)
		}
	}
	return cg, nil
}

func write(dir, file, value string) error {
	return os.WriteFile(filepath.Join(dir, file), []byte(value), 0)
}

// ownCgroups reads /proc/self/cgroup: the path of gate's cgroup in each
// v1 controller's hierarchy, and in v2's under "".
func ownCgroups() (map[string]string, error) {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("reading gate's own cgroup: %w", err)
	}
	defer f.Close()
	own := make(map[string]string)
	s := bufio.NewScanner(f)
	for s.Scan() {
		// hierarchy-ID:controller-list:path
		parts := strings.SplitN(s.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			own[c] = parts[2]
		}
	}
	return own, s.Err()
}

// Remove removes the cgroup's directories; its processes must have
// ended.
func (c *Cgroup) Remove() error {
	var errs []error
	for _, dir := range c.Dirs {
		if err := os.Remove(dir); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

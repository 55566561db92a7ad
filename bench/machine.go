package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
)

// machine describes where the benchmark ran.
type machine struct {
	cpu, kernel, goVersion, nodeVersion, gccVersion, clangVersion, wazeroVersion string
	cores                                                                        int
}

func machineInfo(root string) machine {
	m := machine{
		cpu:           cpuModel(),
		cores:         goruntime.NumCPU(),
		goVersion:     goruntime.Version() + " " + goruntime.GOOS + "/" + goruntime.GOARCH,
		nodeVersion:   firstLine(command("node", "--version")),
		gccVersion:    firstLine(command("gcc", "--version")),
		clangVersion:  firstLine(command("clang", "--version")),
		wazeroVersion: requirement(filepath.Join(root, "go.mod"), "github.com/tetratelabs/wazero"),
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = "Linux " + strings.TrimSpace(string(b))
	} else {
		m.kernel = goruntime.GOOS
	}
	return m
}

// cpuModel describes the first processor in /proc/cpuinfo: its model
// name, family and model numbers, clock, and whether it is virtual.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	fields := make(map[string]string)
	s := bufio.NewScanner(f)
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), ":")
		if !ok {
			if len(fields) > 0 {
				break // end of the first processor
			}
			continue
		}
		fields[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	desc := fields["model name"]
	if desc == "" {
		return "unknown CPU"
	}
	if fields["cpu family"] != "" {
		desc += fmt.Sprintf(" (family %s model %s)", fields["cpu family"], fields["model"])
	}
	if mhz := fields["cpu MHz"]; mhz != "" {
		desc += " at " + strings.TrimSuffix(strings.TrimRight(mhz, "0"), ".") + " MHz"
	}
	if slices.Contains(strings.Fields(fields["flags"]), "hypervisor") {
		desc += ", virtual machine"
	}
	return desc
}

func command(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// requirement is the version of module path that go.mod requires.
func requirement(gomod, path string) string {
	b, err := os.ReadFile(gomod)
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require "))
		if len(f) >= 2 && f[0] == path {
			return f[1]
		}
	}
	return "unknown"
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

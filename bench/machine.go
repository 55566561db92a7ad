package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
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

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
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

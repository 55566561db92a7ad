package main

import (
	"fmt"
	"strings"
	"time"
)

// report formats the results as markdown.
func report(m machine, b *builds, engines []*engine, size, n int, micro []microResult) string {
	var w strings.Builder
	fmt.Fprintf(&w, "## Gate benchmark, %s\n\n", time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(&w, "Machine: %s, %d cores, %s\n\n", m.cpu, m.cores, m.kernel)
	fmt.Fprintf(&w, "- Go: %s\n- wazero: %s (from go.mod)\n- Node.js: %s\n- gcc: %s\n- clang: %s\n\n",
		m.goVersion, m.wazeroVersion, m.nodeVersion, m.gccVersion, m.clangVersion)

	fmt.Fprintf(&w, "### CPU-bound program\n\n")
	fmt.Fprintf(&w, "`%s %d` (integer hashing, a sieve, n-body; %s as WebAssembly). "+
		"Wall time of the whole process, %d runs each after a warm-up run, median; all engines printed the same checksums.\n\n",
		cpuSource, size, formatBytes(fileSize(b.cpuWasm)), n)
	fmt.Fprintf(&w, "| Engine | Runs (s) | Median | vs native | CPU user + sys (median) |\n|---|---|---|---|---|\n")
	native := median(engines[0].times)
	var gate, gateInProcess, gateTimeout, plain time.Duration
	for _, e := range engines {
		runs := make([]string, len(e.times))
		for i, d := range e.times {
			runs[i] = fmt.Sprintf("%.2f", d.Seconds())
		}
		med := median(e.times)
		switch e.name {
		case "gate run":
			gate = med
		case "gate run --sandbox=off":
			gateInProcess = med
		case "gate run --sandbox=off --timeout 1h":
			gateTimeout = med
		case "plain wazero":
			plain = med
		}
		fmt.Fprintf(&w, "| %s | %s | %.3f s | %.2fx | %.2f + %.2f s |\n", e.name, strings.Join(runs, " "), med.Seconds(), ratio(med, native),
			median(e.user).Seconds(), median(e.sys).Seconds())
	}
	fmt.Fprintf(&w, "\n- gate run / plain wazero: **%.2fx** (median over median; the target is at most 1.2x)\n", ratio(gate, plain))
	fmt.Fprintf(&w, "- gate run --sandbox=off / plain wazero: **%.2fx** (median over median)\n", ratio(gateInProcess, plain))
	fmt.Fprintf(&w, "- gate run --sandbox=off --timeout 1h / plain wazero: **%.2fx** (median over median)\n\n", ratio(gateTimeout, plain))
	for _, e := range engines {
		fmt.Fprintf(&w, "- %s: %s\n", e.name, e.note)
	}

	if len(micro) > 0 {
		fmt.Fprintf(&w, "\n### Compile and instantiate (package runtime, testing.Benchmark)\n\n")
		fmt.Fprintf(&w, "| Operation | Module | Iterations | Time/op |\n|---|---|---|---|\n")
		for _, r := range micro {
			fmt.Fprintf(&w, "| %s | %s | %d | %s |\n", r.name, r.module, r.n, formatDuration(r.perOp))
		}
		fmt.Fprintf(&w, "\n- Compile: `runtime.Compile` in a fresh `runtime.New` (CacheDir \"\", so no cached code; not Interruptible, as for gate run without --timeout) each iteration; creating and closing the runtime are not timed.\n")
		fmt.Fprintf(&w, "- Instantiate: `runtime.Instantiate` of a module already compiled by the same runtime, then `Instance.Close`; the program is not run.\n")
	}
	return w.String()
}

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func formatDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
	}
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d B", n)
	}
}

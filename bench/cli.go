package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// cliResult is gate's own suspend and resume of the mem program, as a
// user sees them, with one --sandbox setting.
type cliResult struct {
	sandbox string
	// From SIGTERM to gate's "suspended: snapshot written" line (the
	// snapshot synced and renamed), of gate run and of gate resume.
	suspendRun, suspendResumed []time.Duration
	// From starting gate resume to the program's first line.
	resume []time.Duration
}

// cliBenchmark runs gate run --snapshot of mem.c mib, runs times per
// --sandbox setting: it waits for the program's first line, sends
// SIGTERM and times the snapshot; then it times gate resume of that
// snapshot to the program's first line, and suspends it again the same
// way.
func cliBenchmark(tmp, gate, memWasm string, mib, runs int) ([]*cliResult, error) {
	var results []*cliResult
	for _, sandbox := range []string{"on", "off"} {
		r := &cliResult{sandbox: sandbox}
		cacheDir := filepath.Join(tmp, "cli-cache-"+sandbox)
		file := filepath.Join(tmp, fmt.Sprintf("cli-%d-%s.snapshot", mib, sandbox))
		for i := range runs {
			wait := time.Duration(5+7*i%20) * time.Millisecond
			run := exec.Command(gate, "run", "--sandbox="+sandbox, "--cache-dir", cacheDir, "--snapshot", file, memWasm, fmt.Sprint(mib), "1000000")
			_, suspend, err := suspendCLI(run, wait)
			if err != nil {
				return nil, fmt.Errorf("gate run --sandbox=%s: %w", sandbox, err)
			}
			resume := exec.Command(gate, "resume", "--sandbox="+sandbox, "--cache-dir", cacheDir, file)
			first, again, err := suspendCLI(resume, wait)
			if err != nil {
				return nil, fmt.Errorf("gate resume --sandbox=%s: %w", sandbox, err)
			}
			r.suspendRun, r.resume, r.suspendResumed = append(r.suspendRun, suspend), append(r.resume, first), append(r.suspendResumed, again)
		}
		results = append(results, r)
	}
	return results, nil
}

// suspendCLI starts cmd, a gate run or resume with --snapshot, waits for
// its first line of output, then wait, sends it SIGTERM and waits for
// gate's line saying that the snapshot is written; gate must then exit
// with status 75. It returns the time from the start to the first line
// and from SIGTERM to gate's line.
func suspendCLI(cmd *exec.Cmd, wait time.Duration) (first, suspend time.Duration, err error) {
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer cmd.Process.Kill() // after an error; a no-op after Wait
	firstLine := make(chan time.Time, 1)
	go func() {
		r := bufio.NewReader(stdout)
		if _, err := r.ReadString('\n'); err == nil {
			firstLine <- time.Now()
		}
		io.Copy(io.Discard, r) // the program must never block on its output
	}()
	suspended := make(chan time.Time, 1)
	var said strings.Builder // for errors; read only after suspended or Wait
	stderrDone := make(chan struct{})
	go func() {
		defer close(stderrDone)
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			said.WriteString(s.Text() + "\n")
			if strings.HasPrefix(s.Text(), "gate: suspended: snapshot written") {
				suspended <- time.Now()
			}
		}
	}()
	fail := func(format string, args ...any) (time.Duration, time.Duration, error) {
		cmd.Process.Kill()
		<-stderrDone
		return 0, 0, fmt.Errorf("%s; gate said: %q", fmt.Sprintf(format, args...), said.String())
	}
	select {
	case t := <-firstLine:
		first = t.Sub(start)
	case <-time.After(time.Minute):
		return fail("no output within a minute")
	}
	time.Sleep(wait)
	signalled := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fail("SIGTERM: %v", err)
	}
	select {
	case t := <-suspended:
		suspend = t.Sub(signalled)
	case <-time.After(time.Minute):
		return fail("no snapshot within a minute of SIGTERM")
	}
	<-stderrDone
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 75 {
		return 0, 0, fmt.Errorf("gate exited with %v after its snapshot, not status 75; it said: %q", err, said.String())
	}
	return first, suspend, nil
}

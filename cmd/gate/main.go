// Command gate runs WebAssembly programs: locally with "gate run", and
// (later) as a server and its client.
//
// It turns every outcome into an exit status and at most one line on
// standard error: the program's own status, 134 for a trap, 137 for a
// limit, 128 + the signal when SIGINT, SIGTERM or SIGHUP stopped it, 1 for a
// refusal, 2 for a usage error. It must never show a Go
// panic for anything a program or a file can do.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// Exit statuses of gate itself.
const (
	exitRefused = 1
	exitUsage   = 2
	exitTrap    = 134 // 128 + SIGABRT, as a native program that aborts
	exitLimit   = 137 // 128 + SIGKILL, as a native program that is killed
	// exitSuspended is EX_TEMPFAIL of sysexits.h: not finished, resume
	// it later.
	exitSuspended = 75
)

// exitError ends gate with status code after printing message, if any.
type exitError struct {
	code    int
	message string
}

func (e *exitError) Error() string { return e.message }

func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, message: fmt.Sprintf(format, args...)}
}

func main() {
	os.Exit(execute(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// execute runs gate with args and returns its exit status.
func execute(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCommand(stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var exit *exitError
	if !errors.As(err, &exit) {
		// Cobra's own errors (unknown command, bad flag) are usage errors.
		exit = &exitError{code: exitUsage, message: err.Error()}
	}
	if exit.message != "" {
		fmt.Fprintln(stderr, "gate: "+exit.message)
	}
	return exit.code
}

func newRootCommand(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "gate",
		Short:         "Run untrusted WebAssembly programs safely",
		Long:          "Gate runs WebAssembly programs (WASI commands) safely, with bounded resources.",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErrorf("%v (see %s --help)", err, c.CommandPath())
	})
	root.AddCommand(newRunCommand(stdin, stdout, stderr))
	root.AddCommand(newResumeCommand(stdin, stdout, stderr))
	root.AddCommand(newInspectCommand(stdout))
	if c := newExecutorCommand(); c != nil {
		root.AddCommand(c)
	}
	return root
}

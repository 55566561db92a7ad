//go:build !linux

package main

import "io"

// interruptibleStdin returns stdin: only Linux's /proc gives a pollable
// copy of a blocking standard input (see stdin_linux.go).
func interruptibleStdin(stdin io.Reader) io.Reader { return stdin }

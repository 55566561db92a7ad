//go:build !linux

package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/spf13/cobra"
)

func newSandboxed(context.Context, *slog.Logger, uint64, bool) (engine, error) {
	return nil, errors.New("cannot build the sandbox: it needs Linux (namespaces, seccomp)")
}

func newExecutorCommand() *cobra.Command { return nil }

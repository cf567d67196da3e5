// Command app-token gives CI jobs and people short-lived, narrowly scoped
// GitHub credentials.
//
// Usage:
//
//	app-token <command> [flags]
//
// Run "app-token help" for the list of commands and "app-token <command> -h"
// for the flags of one.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is stamped by the release build (-ldflags "-X main.version=v1.2.3").
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	c := newCLI(os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	// The action lists the step's environment to catch misspelt
	// permission-* inputs, which getenv alone cannot enumerate.
	c.environ = os.Environ
	err := c.run(ctx, os.Args[1:])
	stop() // os.Exit skips deferred calls
	if err != nil {
		if msg := err.Error(); msg != "" { // errSilent prints nothing
			fmt.Fprintf(os.Stderr, "app-token: %s\n", msg)
		}
		os.Exit(exitCode(err))
	}
}

// run is the whole program behind main, with its world passed in so that
// tests can drive it. (main also hands the CLI the environment's list.)
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	return newCLI(getenv, stdin, stdout, stderr).run(ctx, args)
}

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
	exitAuth  = 4
)

// errSilent ends the program with a failure after the command has already
// told the user everything (for example as an ::error:: line).
var errSilent = errors.New("")

// usageError is a mistake in the command line: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// authError marks a failure to authenticate (bad key, unknown app, signed
// out): exit code 4.
type authError struct{ err error }

func (e *authError) Error() string { return e.err.Error() }
func (e *authError) Unwrap() error { return e.err }

func exitCode(err error) int {
	var ue *usageError
	var ae *authError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &ae):
		return exitAuth
	case errors.Is(err, errSilentAuth):
		return exitAuth
	default:
		return exitError
	}
}

// errSilentAuth is errSilent for authentication failures.
var errSilentAuth = fmt.Errorf("%w", errSilent)

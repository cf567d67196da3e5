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
	// The action lists the step's environment to catch misspelt
	// permission-* inputs, which getenv alone cannot enumerate.
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr, withEnviron(os.Environ))
	stop() // os.Exit skips deferred calls
	if err != nil {
		if msg := err.Error(); msg != "" { // errSilent prints nothing
			fmt.Fprintf(os.Stderr, "app-token: %s\n", msg)
		}
		os.Exit(exitCode(err))
	}
}

// run is the whole program behind main, with its world passed in so that
// tests can drive it.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer, opts ...func(*cli)) error {
	c := newCLI(getenv, stdin, stdout, stderr)
	for _, o := range opts {
		o(c)
	}
	return c.run(ctx, args)
}

// withEnviron hands run the environment's list (NAME=value lines).
func withEnviron(environ func() []string) func(*cli) {
	return func(c *cli) { c.environ = environ }
}

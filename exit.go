package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/cliflag"
	"github.com/org/app-token/internal/gitcred"
	"github.com/org/app-token/internal/oauth"
	"github.com/org/app-token/internal/signer"
	"github.com/org/app-token/internal/signin"
	"github.com/org/app-token/internal/stsclient"
)

// Exit codes: the README's table.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
	exitAuth  = 4
	// exitInterrupted is the shell's code for a process ended by SIGINT
	// (128 + 2): Ctrl-C, which cancels the command's context.
	exitInterrupted = 130
)

// errSilent ends the program with a failure after the command has already
// told the user everything (for example as an ::error:: line).
var errSilent = errors.New("")

// errSilentAuth is errSilent for authentication failures.
var errSilentAuth = fmt.Errorf("%w", errSilent)

// usagef is a mistake in the command line or the settings: exit code 2
// (cliflag.UsageError).
func usagef(format string, args ...any) error { return cliflag.Usagef(format, args...) }

// authError marks a failure to authenticate that only the command can
// recognise (signed out, a refused sign-in): exit code 4.
type authError struct{ err error }

func (e *authError) Error() string { return e.err.Error() }
func (e *authError) Unwrap() error { return e.err }

// exitCode is the one classifier of failures: every command's errors get
// their exit code here, from the markers above or from what failed.
func exitCode(err error) int {
	var ue *cliflag.UsageError
	var ae *authError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, &ue), errors.Is(err, signin.ErrSetting), errors.Is(err, stsclient.ErrNoIDTokenRequest):
		return exitUsage
	case signerFailure(err) != 0:
		return signerFailure(err)
	case errors.As(err, &ae), errors.Is(err, errSilentAuth), isAuthFailure(err):
		return exitAuth
	default:
		return exitError
	}
}

// isAuthFailure reports the failures to authenticate that packages return:
// GitHub refusing the App's credentials (401; a missing installation, 404,
// is not one), a private key that is not one, a token exchange refusing
// the job's ID token (401), the job's token expired,
// nobody usable signed in, and GitHub refusing a person's sign-in or its
// renewal.
func isAuthFailure(err error) bool {
	var ae *appauth.APIError
	var ke *appauth.KeyError
	var oe *oauth.Error
	var se *stsclient.Error
	return errors.As(err, &ae) && ae.IsAuth() || errors.As(err, &ke) || errors.As(err, &oe) || errors.As(err, &se) && se.IsAuth() ||
		errors.Is(err, gitcred.ErrTokenExpired) || errors.Is(err, oauth.ErrSignInAgain) || errors.Is(err, signin.ErrSignedOut)
}

// signerFailure is the exit code of a signer's failure (0 when err is not
// one): a malformed URI is a usage error; a key the KMS or HSM refuses,
// does not have, or holds of the wrong kind is an authentication failure;
// a signer that cannot be reached, or fails otherwise, is an error.
func signerFailure(err error) int {
	var se *signer.Error
	if !errors.As(err, &se) {
		return 0
	}
	switch se.Kind {
	case signer.Invalid:
		return exitUsage
	case signer.Refused, signer.NotFound, signer.WrongKey:
		return exitAuth
	default:
		return exitError
	}
}

// oneLine keeps err's meaning (and exit code) with its message on one line,
// for git, which shows a helper's stderr as it is.
func oneLine(err error) error {
	if err == nil || !strings.Contains(err.Error(), "\n") {
		return err
	}
	return &oneLineError{err}
}

type oneLineError struct{ err error }

func (e *oneLineError) Error() string {
	return strings.ReplaceAll(strings.TrimSpace(e.err.Error()), "\n", "; ")
}
func (e *oneLineError) Unwrap() error { return e.err }

package main

import (
	"context"
	"errors"
	"time"
)

// Placeholder until the sign-in work lands (issue 4).
var errNotYet = errors.New("not built yet")

func (c *cli) cmdLogin(ctx context.Context, args []string) error     { return errNotYet }
func (c *cli) cmdStatus(ctx context.Context, args []string) error    { return errNotYet }
func (c *cli) cmdUserToken(ctx context.Context, args []string) error { return errNotYet }
func (c *cli) cmdLogout(ctx context.Context, args []string) error    { return errNotYet }

// signedInToken returns the signed-in user's access token for the GitHub
// host at githubURL, refreshing it first if it expires soon.
func (c *cli) signedInToken(ctx context.Context, githubURL string) (token string, expiresAt time.Time, err error) {
	return "", time.Time{}, errNotYet
}

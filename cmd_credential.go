package main

import "context"

// Placeholder until the credential helper lands (issue 3).
func (c *cli) cmdCredential(ctx context.Context, args []string) error { return errNotYet }
func (c *cli) cmdSetupGit(ctx context.Context, args []string) error   { return errNotYet }

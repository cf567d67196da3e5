package main

import "context"

func (c *cli) cmdToken(ctx context.Context, args []string) error         { return errNotYet }
func (c *cli) cmdJWT(ctx context.Context, args []string) error           { return errNotYet }
func (c *cli) cmdInstallations(ctx context.Context, args []string) error { return errNotYet }
func (c *cli) cmdRevoke(ctx context.Context, args []string) error        { return errNotYet }
func (c *cli) cmdAction(ctx context.Context, args []string) error        { return errNotYet }
func (c *cli) cmdActionPost(ctx context.Context, args []string) error    { return errNotYet }
func (c *cli) cmdEmulator(ctx context.Context, args []string) error      { return errNotYet }
func (c *cli) cmdDemo(ctx context.Context, args []string) error          { return errNotYet }

//go:build noschemacheck

package main

func init() { schemaCheck = "off" }

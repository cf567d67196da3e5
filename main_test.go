package main

import (
	"os"
	"testing"
)

// runAsAppToken, set in a child's environment, makes this test binary run
// as app-token: tests that run the program as git's credential helper
// through the cli's executable (the demo's git step) get the code under
// test, not a second run of the tests (the os/exec tests' helper-process
// pattern).
const runAsAppToken = "APP_TOKEN_TEST_BINARY_IS_APP_TOKEN"

func TestMain(m *testing.M) {
	if os.Getenv(runAsAppToken) == "1" {
		main()
		os.Exit(0)
	}
	// Children this binary starts (git, which starts its helper) inherit it.
	os.Setenv(runAsAppToken, "1")
	os.Exit(m.Run())
}

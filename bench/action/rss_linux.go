package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// peakRSS runs cmd under GNU time and returns the child's peak resident set.
// It cannot read the rusage of a child it starts itself: Go starts children
// with clone(CLONE_VM), and Linux carries the memory's high-water mark across
// exec into ru_maxrss, so that figure would be this benchmark's own RSS.
// GNU time forks from a process of a few megabytes.
func peakRSS(cmd *exec.Cmd) (int64, error) {
	gnuTime, err := exec.LookPath("/usr/bin/time")
	if err != nil {
		return 0, fmt.Errorf("peak RSS needs GNU time (apt-get install time): %w", err)
	}
	out := filepath.Join(os.TempDir(), fmt.Sprintf("app-token-bench-rss-%d", os.Getpid()))
	defer os.Remove(out)
	c := exec.Command(gnuTime, append([]string{"-f", "%M", "-o", out, cmd.Path}, cmd.Args[1:]...)...)
	c.Env = cmd.Env
	if b, err := c.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("%s: %v\n%s", strings.Join(c.Args, " "), err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return 0, err
	}
	kb, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return kb * 1024, err
}

package main

import (
	"os"
	"syscall"
)

// peakRSS is the finished process's peak resident set; Linux reports
// ru_maxrss in kilobytes.
func peakRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss * 1024
	}
	return 0
}

//go:build !linux

package main

import (
	"errors"
	"time"
)

// peakRSS is measured on Linux only.
func peakRSS(int) (int64, error) { return 0, errors.New("peak RSS is measured on Linux only") }

// cpuTime is measured on Linux only.
func cpuTime(int) (time.Duration, error) { return 0, errors.New("CPU time is measured on Linux only") }

//go:build !linux

package main

import "os"

// peakRSS is not measured outside Linux (ru_maxrss differs in unit or is
// missing); the benchmark reports 0 there.
func peakRSS(*os.ProcessState) int64 { return 0 }

//go:build !linux

package main

import "syscall"

// maxRSSBytes: macOS reports ru_maxrss in bytes.
func maxRSSBytes(ru *syscall.Rusage) int64 { return int64(ru.Maxrss) }

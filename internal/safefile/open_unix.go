//go:build unix

package safefile

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

const noFollow = syscall.O_NOFOLLOW | syscall.O_NONBLOCK

// isLoop reports whether open failed because O_NOFOLLOW met a link (ELOOP;
// FreeBSD says EMLINK).
func isLoop(err error) bool {
	return errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EMLINK)
}

// blocking turns O_NONBLOCK off again once f is known to be a regular file,
// for which it means nothing anyway; Go's file then reads as usual.
func blocking(f *os.File) error {
	return syscall.SetNonblock(int(f.Fd()), false)
}

// owners returns fi's owner and this process's effective user.
func owners(fi fs.FileInfo) (uid, me int, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(st.Uid), os.Geteuid(), true
}

// Package safefile writes files that hold secrets: atomically (a reader
// sees the old file or the new one, never half of one) and readable by
// their owner only; and it locks files across processes.
package safefile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// WriteFile replaces path with data, mode 0600, atomically: it writes a
// temporary file in the same folder, syncs it and renames it over path. On
// failure path is left as it was and no temporary file remains.
func WriteFile(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	// CreateTemp already makes the file 0600 on Unix; Chmod makes it so
	// whatever the umask. (On Windows it only clears the read-only bit: the
	// file's ACL, inherited from the user's folder, keeps it private.)
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Lock takes an exclusive lock on path (created, mode 0600, if missing),
// waiting until it is free, ctx ends or timeout passes. The lock belongs to
// an open file, so the operating system releases it when its process dies:
// a crashed holder never leaves a stale lock behind. Call unlock to release.
func Lock(ctx context.Context, path string, timeout time.Duration) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	// A FIFO or link put in the lock's place is refused rather than
	// followed or waited on.
	f, err := openRegular(path, os.O_RDWR|os.O_CREATE)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(timeout)
	wait := time.Millisecond
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if ok {
			return func() {
				unlockFile(f)
				f.Close()
			}, nil
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("lock %s: still held by another process after %s", path, timeout)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 50*time.Millisecond)
	}
}

// ErrNotRegular means a path names something other than a regular file: a
// FIFO, device, folder or (on Unix) a symbolic link.
var ErrNotRegular = errors.New("not a regular file")

// ReadFile reads at most max bytes of path, which must be a regular file.
// On Unix it opens with O_NOFOLLOW (a link put in its place is refused) and
// O_NONBLOCK (a FIFO put in its place cannot hang the open; it is then
// refused as not regular).
func ReadFile(path string, max int64) ([]byte, error) {
	f, err := openRegular(path, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, max))
}

// openRegular opens path with flag (plus O_NOFOLLOW and O_NONBLOCK where
// there are such flags) and fails with ErrNotRegular unless it is a
// regular file.
func openRegular(path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag|noFollow, 0o600)
	if err != nil {
		if isLoop(err) {
			return nil, &os.PathError{Op: "open", Path: path, Err: ErrNotRegular}
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, &os.PathError{Op: "open", Path: path, Err: ErrNotRegular}
	}
	if err := blocking(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// PrivateDir makes dir (mode 0700) if it is missing, and checks that it is
// a folder this user owns, tightening its mode to 0700 if others could
// read or enter it. A folder of another user's is refused: its owner could
// read or replace what is written there. what names the folder in errors.
func PrivateDir(dir, what string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s: %s is not a folder", what, dir)
	}
	if uid, me, ok := owners(fi); ok && uid != me {
		return fmt.Errorf("%s: %s belongs to another user (uid %d, not %d): remove it, or choose a folder of your own", what, dir, uid, me)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("%s: %s is open to other users and cannot be made private: %w", what, dir, err)
		}
	}
	return nil
}

// Package safefile writes files that hold secrets: atomically (a reader
// sees the old file or the new one, never half of one) and readable by
// their owner only; and it locks files across processes.
package safefile

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
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

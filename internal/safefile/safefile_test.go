package safefile

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestWriteFileReplacesAtomicallyWithMode0600(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "secret.json")
	if err := WriteFile(path, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("two")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "two" {
		t.Fatalf("read = %q, %v; want two", got, err)
	}
	if runtime.GOOS != "windows" {
		fi, _ := os.Stat(path)
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries, want only the file (no temporary left)", len(entries))
	}
}

func TestWriteFileFailureLeavesOldFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "secret")
	if err := WriteFile(path, []byte("old")); err != nil {
		t.Fatal(err)
	}
	// A folder where the file should be renamed to makes the rename fail.
	target := filepath.Join(dir, "isdir")
	os.Mkdir(target, 0o700)
	os.WriteFile(filepath.Join(target, "x"), nil, 0o600)
	if err := WriteFile(target, []byte("new")); err == nil {
		t.Fatal("WriteFile over a non-empty folder succeeded")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("old file = %q", got)
	}
}

func TestLockExcludesAndTimesOut(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "lock")
	unlock, err := Lock(t.Context(), path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(t.Context(), path, 20*time.Millisecond); err == nil {
		t.Fatal("second Lock succeeded while the first holds it")
	}
	unlock()
	unlock2, err := Lock(t.Context(), path, time.Second)
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	unlock2()
}

func TestLockHonoursContext(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "lock")
	unlock, err := Lock(t.Context(), path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Lock(ctx, path, time.Minute); err != context.Canceled {
		t.Fatalf("Lock with cancelled ctx = %v, want context.Canceled", err)
	}
}

// TestLockReleasedWhenHolderDies starts a process that takes the lock and is
// killed while holding it: the lock must be free at once afterwards.
func TestLockReleasedWhenHolderDies(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "lock")
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "SAFEFILE_HOLD="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 6)
	if _, err := out.Read(buf); err != nil || string(buf) != "locked" {
		t.Fatalf("helper said %q, %v", buf, err)
	}
	if _, err := Lock(t.Context(), path, 20*time.Millisecond); err == nil {
		t.Fatal("lock was free while the helper held it")
	}
	cmd.Process.Kill()
	cmd.Wait()
	unlock, err := Lock(t.Context(), path, 2*time.Second)
	if err != nil {
		t.Fatalf("lock after the holder died: %v", err)
	}
	unlock()
}

// TestMain doubles as the lock-holding process of
// TestLockReleasedWhenHolderDies when SAFEFILE_HOLD names a lock file.
func TestMain(m *testing.M) {
	if path := os.Getenv("SAFEFILE_HOLD"); path != "" {
		if _, err := Lock(context.Background(), path, time.Second); err != nil {
			os.Exit(3)
		}
		os.Stdout.WriteString("locked")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

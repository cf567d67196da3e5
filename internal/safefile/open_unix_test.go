//go:build unix

package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestReadFileRefusesWhatIsNotARegularFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("0123456789"), 0o600)
	if b, err := ReadFile(file, 4); err != nil || string(b) != "0123" {
		t.Fatalf("ReadFile = %q, %v", b, err)
	}
	fifo := filepath.Join(dir, "fifo")
	syscall.Mkfifo(fifo, 0o600)
	link := filepath.Join(dir, "link")
	os.Symlink(file, link)
	for _, p := range []string{fifo, link, dir} {
		if _, err := ReadFile(p, 10); !errors.Is(err, ErrNotRegular) {
			t.Errorf("ReadFile(%s) = %v, want ErrNotRegular", filepath.Base(p), err)
		}
	}
}

func TestPrivateDirTightensItsMode(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "d")
	os.Mkdir(dir, 0o755)
	os.Chmod(dir, 0o755)
	if err := PrivateDir(dir, "test folder"); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("mode %v, want 0700", fi.Mode().Perm())
	}
	file := filepath.Join(dir, "f")
	os.WriteFile(file, nil, 0o600)
	if err := PrivateDir(file, "test folder"); err == nil {
		t.Error("a file was accepted as a folder")
	}
}

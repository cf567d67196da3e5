package browser

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestIsWebURL(t *testing.T) {
	t.Parallel()
	for u, want := range map[string]bool{
		"https://github.com/login/device": true, "http://127.0.0.1:8080/x": true,
		"file:///etc/passwd": false, "javascript:alert(1)": false, "github.com": false, "": false, "https://": false,
	} {
		if IsWebURL(u) != want {
			t.Errorf("IsWebURL(%q) = %v", u, !want)
		}
	}
}

func TestOpen(t *testing.T) {
	t.Parallel()
	if err := Open("true", "file:///etc/passwd"); err == nil {
		t.Error("Open accepted a file URL")
	}
	if runtime.GOOS == "windows" {
		t.Skip("the fake browser is a shell script")
	}
	dir := t.TempDir()
	got := filepath.Join(dir, "opened")
	script := filepath.Join(dir, "browser")
	os.WriteFile(script, []byte("#!/bin/sh\nprintf '%s' \"$2\" > "+got+"\n"), 0o700)
	const u = "https://github.com/login/device?x=1&y=2"
	// $BROWSER is a command line: its words come first, then the URL.
	if err := Open(script+" --new-window", u); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if b, err := os.ReadFile(got); err == nil && len(b) > 0 {
			if string(b) != u {
				t.Errorf("the browser got %q, want %q", b, u)
			}
			return
		}
	}
	t.Error("the browser was not started")
}

func TestIsTerminal(t *testing.T) {
	t.Parallel()
	if IsTerminal(strings.NewReader("")) {
		t.Error("a strings.Reader is a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Error("a regular file is a terminal")
	}
}

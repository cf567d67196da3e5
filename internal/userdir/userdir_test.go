package userdir

import (
	"runtime"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if d, err := Find(env(map[string]string{"OVERRIDE": "/x", "HOME": "/h"}), false, "OVERRIDE"); err != nil || d != "/x" {
		t.Errorf("override: %q, %v", d, err)
	}
	if _, err := Find(env(nil), true, "OVERRIDE"); err == nil || !strings.Contains(err.Error(), "OVERRIDE") {
		t.Errorf("no folder: %v, want an error naming OVERRIDE", err)
	}
	if runtime.GOOS != "linux" {
		return
	}
	for _, tc := range []struct {
		env    map[string]string
		config bool
		want   string
	}{
		{map[string]string{"XDG_CACHE_HOME": "/xdg", "HOME": "/h"}, false, "/xdg/app-token"},
		{map[string]string{"XDG_CACHE_HOME": "rel", "HOME": "/h"}, false, "/h/.cache/app-token"},
		{map[string]string{"XDG_CONFIG_HOME": "/xdg", "HOME": "/h"}, true, "/xdg/app-token"},
		{map[string]string{"HOME": "/h"}, true, "/h/.config/app-token"},
	} {
		if d, err := Find(env(tc.env), tc.config, "OVERRIDE"); err != nil || d != tc.want {
			t.Errorf("Find(%v, config %v) = %q, %v; want %q", tc.env, tc.config, d, err, tc.want)
		}
	}
}

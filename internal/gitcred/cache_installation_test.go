package gitcred

import "testing"

// A cached lookup must name an installation: an ID of 0 or less (a damaged
// or hand-edited file) is no lookup at all.
func TestCachedInstallationNeedsAnID(t *testing.T) {
	t.Parallel()
	c := openTestCache(t, nil)
	for _, id := range []int64{0, -1} {
		if err := c.PutInstallation("https://api.github.com", "Iv23test", "octo-org", Installation{ID: id, Account: "octo-org"}); err != nil {
			t.Fatal(err)
		}
		if in, ok := c.Installation("https://api.github.com", "Iv23test", "octo-org"); ok {
			t.Errorf("ID %d: cached installation %+v", id, in)
		}
	}
	if err := c.PutInstallation("https://api.github.com", "Iv23test", "octo-org", Installation{ID: 1, Account: "octo-org"}); err != nil {
		t.Fatal(err)
	}
	if in, ok := c.Installation("https://api.github.com", "Iv23test", "octo-org"); !ok || in.ID != 1 {
		t.Errorf("ID 1: %+v, %v", in, ok)
	}
}

//go:build windows

package safefile

import (
	"io/fs"
	"os"
)

// Windows has neither O_NOFOLLOW nor FIFOs in the file system; the type
// check after opening still refuses what is not a regular file.
const noFollow = 0

func isLoop(error) bool { return false }

func blocking(*os.File) error { return nil }

// owners reports no owner: the folder's ACL, inherited from the user's
// profile, is what keeps it private on Windows.
func owners(fs.FileInfo) (uid, me int, ok bool) { return 0, 0, false }

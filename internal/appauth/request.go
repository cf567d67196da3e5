package appauth

import (
	"errors"
	"fmt"
	"strings"
)

// Selection is what a user said about which installation to mint for, as
// given: the action's owner, repositories and installation-id inputs, or
// the token command's flags.
type Selection struct {
	Owner          string // may be empty
	Repositories   string // comma- or newline-separated names or owner/name
	InstallationID int64
	// Enterprise is an enterprise's slug: its installation, which excludes
	// owner, repositories and an installation ID.
	Enterprise  string
	Permissions map[string]string
	// CurrentRepository is the workflow's repository (GITHUB_REPOSITORY,
	// owner/name) and CurrentOwner its owner (GITHUB_REPOSITORY_OWNER);
	// either may be empty.
	CurrentRepository, CurrentOwner string
}

// Resolve turns a selection into a Request as actions/create-github-app-token
// resolves its inputs (README, "Which installation and repositories"):
//   - an installation ID names the installation, narrowed to repositories
//     when given; an owner with it is refused, since the installation may be
//     another account's and GitHub's token response would not say so;
//   - neither owner nor repositories: the current repository alone;
//   - repositories: the installation holding the first of them, owned by
//     owner, else the owner they name, else the current owner;
//   - owner alone: the owner's installation, all its repositories.
//
// current reports the current-repository case. names maps "owner",
// "repositories" and "installation-id" to what the user calls them; every
// problem is reported at once.
func (s Selection) Resolve(names func(string) string) (req Request, current bool, err error) {
	var errs []error
	if s.Owner != "" && !ValidOwner(s.Owner) {
		errs = append(errs, fmt.Errorf("%s: %q is not a GitHub account name", names("owner"), s.Owner))
	}
	if s.InstallationID < 0 {
		errs = append(errs, fmt.Errorf("%s: %d is not an installation ID (a positive number)", names("installation-id"), s.InstallationID))
	}
	repos, qualified, rerr := ParseRepositories(s.Repositories, s.Owner, names("repositories"))
	if rerr != nil {
		errs = append(errs, rerr)
	}
	req = Request{Repositories: repos, Permissions: s.Permissions, InstallationID: s.InstallationID}
	if len(req.Permissions) == 0 {
		req.Permissions = nil
	}
	if s.Enterprise != "" && !ValidOwner(s.Enterprise) {
		errs = append(errs, fmt.Errorf("%s: %q is not an enterprise slug (the name in https://github.com/enterprises/SLUG)", names("enterprise"), s.Enterprise))
	}
	curOwner, curName, curOK := strings.Cut(s.CurrentRepository, "/")
	switch {
	case s.Enterprise != "" && (s.Owner != "" || s.Repositories != ""):
		errs = append(errs, fmt.Errorf("%s: cannot be combined with %s or %s: an enterprise installation's token reaches no repository; remove %s and %s, or %s",
			names("enterprise"), names("owner"), names("repositories"), names("owner"), names("repositories"), names("enterprise")))
	case s.Enterprise != "" && s.InstallationID != 0:
		errs = append(errs, fmt.Errorf("%s: cannot be combined with %s: both name the installation; set one", names("enterprise"), names("installation-id")))
	case s.Enterprise != "":
		req.Enterprise = s.Enterprise
	case s.InstallationID != 0 && s.Owner != "":
		errs = append(errs, fmt.Errorf("%s and %s exclude each other: the installation already belongs to one account (app-token installations lists whose); drop %s",
			names("owner"), names("installation-id"), names("owner")))
	case s.InstallationID != 0:
		// The installation names the account; only qualified repositories
		// say which (for advice), never the workflow's owner.
		req.Owner = qualified
	case s.Owner == "" && len(repos) == 0 && rerr == nil:
		if !curOK || curOwner == "" || curName == "" {
			errs = append(errs, fmt.Errorf("say which installation: pass %s, %s owner/name or %s (GITHUB_REPOSITORY, the current repository, is not owner/name)",
				names("owner"), names("repositories"), names("installation-id")))
		}
		req.Owner, req.Repositories, current = curOwner, []string{curName}, true
	case s.Owner != "":
		req.Owner = s.Owner
	case qualified != "":
		req.Owner = qualified
	default:
		req.Owner = s.CurrentOwner
		if req.Owner == "" {
			req.Owner = curOwner
		}
		if req.Owner == "" && len(repos) > 0 {
			errs = append(errs, fmt.Errorf("%s: not set, and GITHUB_REPOSITORY_OWNER is empty: set %s", names("owner"), names("owner")))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Request{}, false, err
	}
	return req, current, nil
}

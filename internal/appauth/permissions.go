package appauth

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/agnivade/levenshtein"

	"github.com/org/app-token/internal/openapi"
)

// Permissions returns, sorted, the name of every permission an installation
// token can be asked for: GitHub's REST description's app-permissions
// (vendored in internal/openapi) and the official action's deprecated
// extras.
func Permissions() []string { return openapi.Names() }

// Levels returns the access levels permission accepts, as GitHub's
// description gives them (some are read-only, some write-only, some take
// admin); nil for an unknown permission.
func Levels(permission string) []string { return openapi.Permissions()[permission] }

// IsPermission reports whether name (in snake_case) is a known permission.
func IsPermission(name string) bool {
	_, ok := slices.BinarySearch(Permissions(), name)
	return ok
}

// PermissionError is an unknown permission name or level.
type PermissionError struct {
	Name, Level string
	// Input is how the user wrote the name (an action input or a flag).
	Input string
}

func (e *PermissionError) Error() string {
	if !IsPermission(e.Name) {
		msg := fmt.Sprintf("%s: %q is not a permission GitHub knows", e.Input, e.Name)
		if near := nearest(e.Name, Permissions()); near != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", near)
		}
		return msg + "; valid names are listed at https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app"
	}
	return fmt.Sprintf("%s: %q is not a valid level for %s: use %s", e.Input, e.Level, e.Name, orList(Levels(e.Name)))
}

// CheckPermission validates one permission; input names it in the error.
func CheckPermission(name, level, input string) error {
	if !IsPermission(name) || !slices.Contains(Levels(name), level) {
		return &PermissionError{Name: name, Level: level, Input: input}
	}
	return nil
}

func orList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// nearest returns the candidate closest to s by edit distance, if close.
func nearest(s string, candidates []string) string {
	best, bestD := "", 4
	for _, c := range candidates {
		if d := levenshtein.ComputeDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// ParseRepositories splits a repositories setting on commas and newlines,
// trims each entry and drops empty ones. An entry may be "name" or
// "owner/name". When owner is empty, qualified entries give it (they must
// agree); otherwise every qualified entry must name owner. It returns the
// bare names and the owner they belong to ("" when nothing named one).
func ParseRepositories(list, owner, input string) (names []string, resolvedOwner string, err error) {
	var errs []error
	fields := strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' })
	for _, f := range fields {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		o, name, qualified := strings.Cut(f, "/")
		if !qualified {
			name, o = o, ""
		}
		name = strings.TrimSuffix(name, ".git")
		switch {
		case name == "" || strings.Contains(name, "/") || !validName(name):
			errs = append(errs, fmt.Errorf("%s: %q is not a repository name (write name or owner/name)", input, f))
			continue
		case qualified && !validName(o):
			errs = append(errs, fmt.Errorf("%s: %q is not a repository name (write name or owner/name)", input, f))
			continue
		case qualified && owner == "":
			owner = o
		case qualified && !strings.EqualFold(o, owner):
			errs = append(errs, fmt.Errorf("%s: %q belongs to %q, not to owner %q: one token serves one owner; list only %s's repositories, or mint one token per owner", input, f, o, owner, owner))
			continue
		}
		if !slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, name) }) {
			names = append(names, name)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, "", err
	}
	return names, owner, nil
}

// validName accepts GitHub account and repository names: letters, digits,
// '-', '_' and '.'.
func validName(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 100 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// ValidOwner reports whether s can be a GitHub account name.
func ValidOwner(s string) bool { return validName(s) && !strings.Contains(s, ".") }

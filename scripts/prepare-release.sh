#!/usr/bin/env bash
# prepare-release.sh vX.Y.Z
#
# Step 1 of a release (see RELEASING.md). On a clean checkout of the commit
# to release (normally the tip of main), it builds the release binaries with
# scripts/release-build.sh, writes their checksums and the version into
# launcher/checksums.txt on a new "release vX.Y.Z" commit whose parent is that
# commit, and tags the release commit vX.Y.Z (annotated; signed when git's
# tag.gpgSign is set). The branch you are on does not move: only the tag holds
# the release commit. Pushing the tag (step 2) starts the release workflow,
# which rebuilds the binaries and publishes them only if they are identical.
set -euo pipefail

tag=${1:?usage: scripts/prepare-release.sh vX.Y.Z}
die() { echo "prepare-release.sh: $*" >&2; exit 1; }

[[ $tag =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || die "\"$tag\" is not vMAJOR.MINOR.PATCH[-PRERELEASE]"
cd "$(git rev-parse --show-toplevel)"
[[ -z $(git status --porcelain --untracked-files=no) ]] || die "the tree has uncommitted changes: commit or stash them"
! git rev-parse -q --verify "refs/tags/$tag" >/dev/null || die "tag $tag exists already"
! grep -Eq '^(version |[0-9a-f]{64} )' launcher/checksums.txt ||
  die "HEAD is already a release commit (launcher/checksums.txt lists binaries): check out main"

base=$(git rev-parse HEAD)
out=$(mktemp -d "${TMPDIR:-/tmp}/app-token-release.XXXXXX")
trap 'rm -rf "$out"' EXIT
bash scripts/release-build.sh "$tag" "$out/dist"

# Write the list on a detached HEAD so that no branch moves, then come back.
back=$(git symbolic-ref -q --short HEAD || echo "$base")
git checkout -q --detach "$base"
{
  sed -n '/^#/p' launcher/checksums.txt
  echo "version $tag"
  cat "$out/dist/checksums.txt"
} >"$out/list"
cp "$out/list" launcher/checksums.txt
git commit -q -m "release $tag" -m "Checksums of the app-token $tag binaries, built from $base." -- launcher/checksums.txt
git tag -a "$tag" -m "app-token $tag"
git checkout -q "$back"

echo
echo "Tagged $tag on release commit $(git rev-parse --short "$tag^{commit}") (parent $(git rev-parse --short "$base"))."
echo "Check it with:  git show $tag"
echo "Then publish:   git push origin $tag"

#!/usr/bin/env bash
# regen-openapi.sh regenerates app-token's trimmed copies of GitHub's REST
# description (internal/openapi/app-permissions.json and responses.json) from
# the npm package @octokit/openapi, then action.yml's permission-* inputs.
#
#   scripts/regen-openapi.sh [VERSION]     (default: the version vendored now)
#
# The package is installed into a temporary directory, never into the
# repository. Review the diff: a permission added or removed changes the
# action's inputs and the CLI's --permission validation.
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:-$(sed -n 's/^  "version": "\(.*\)",$/\1/p' internal/openapi/app-permissions.json)}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
npm install --prefix "$tmp" --no-save --no-audit --no-fund --ignore-scripts "@octokit/openapi@$version" >/dev/null
node scripts/trim-openapi.mjs "$tmp/node_modules/@octokit/openapi" internal/openapi
go test -run 'TestActionYAMLPermissionInputs' -update . >/dev/null
echo "vendored @octokit/openapi@$version; review: git diff --stat"

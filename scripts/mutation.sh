#!/usr/bin/env bash
# mutation.sh [PACKAGE...]
#
# Mutation testing of the security core: gremlins (pinned in
# .ci/install-tools.sh, installed when missing) changes the code of each
# package one operator at a time and runs that package's own tests; a mutant
# the tests do not notice "lived". Prints one table row per package (test
# efficacy = killed / (killed + lived); mutator coverage = mutants the tests
# reach / all mutants) and exits 1 when a package is below 95% efficacy or
# 90% coverage.
#
# PACKAGE names a folder under internal/ (default: the whole core, below);
# a folder that does not exist yet is skipped, and every package under a
# folder is measured, so new packages of the core count without an edit.
#
# Left out of the figures, and said so in the output:
#   - the mutants listed in scripts/mutation-equivalent.txt, which no test
#     can kill (each line gives the reason); a listed mutant that no longer
#     survives, or no longer exists, fails the run, so the list cannot rot;
#   - mutants in files the current platform does not build (lock_windows.go
#     on Linux): go list's IgnoredGoFiles.
# gremlins runs only mutants inside a block of Go's coverage profile, which
# has none for a switch's case expressions or constant declarations: the
# report (scripts/mutation-report.go) tests those itself, with go test
# -overlay.
#
# Environment: MUTATION_WORKERS (default 1: the machines are shared),
# MUTATION_OUT (a folder to keep the JSON reports and logs in).
# Not part of `go test ./...`: a run takes minutes.
set -euo pipefail

core="appauth gitcred oauth store actionenv safefile sts stsclient signer"
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash .ci/install-tools.sh gremlins >&2
bin=$(go env GOBIN)
[[ -n $bin ]] || bin=$(go env GOPATH)/bin
gremlins=$bin/gremlins$(go env GOEXE)

out=${MUTATION_OUT:-}
if [[ -z $out ]]; then
  out=$(mktemp -d "${TMPDIR:-/tmp}/mutation.XXXXXX")
  trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"

[[ $# -gt 0 ]] || set -- $core
reports=()
for name in "$@"; do
  if [[ ! -d internal/$name ]]; then
    echo "mutation.sh: internal/$name does not exist (yet): skipped" >&2
    continue
  fi
  for dir in $(go list -f '{{.Dir}}' "./internal/$name/..."); do
    rel=${dir#"$root"/}
    rel=${rel//\\//} # Windows
    # A test-helper package (named *test, as net/http/httptest: e.g.
    # internal/signer/signertest, which starts local-kms and SoftHSM2 for
    # the signer's tests) is not part of the core and has no tests of its
    # own.
    if [[ $(go list -f '{{.Name}}' "./$rel") == *test ]]; then
      echo "mutation.sh: ./$rel is a test-helper package: left out" >&2
      continue
    fi
    ignored=$(go list -f '{{join .IgnoredGoFiles ","}}' "./$rel")
    file=$out/$(echo "$rel" | tr / _).json
    echo "mutation.sh: gremlins unleash ./$rel" >&2
    start=$SECONDS
    # --timeout-coefficient 20: on a busy machine the default (a few times
    # the coverage run) takes slow tests for timeouts.
    if ! nice -n 10 "$gremlins" unleash --workers "${MUTATION_WORKERS:-1}" --timeout-coefficient 20 \
      -o "$file" "./$rel" >"$file.log" 2>&1; then
      cat "$file.log" >&2
      echo "mutation.sh: gremlins failed on ./$rel" >&2
      exit 1
    fi
    echo "mutation.sh: ./$rel took $((SECONDS - start))s" >&2
    reports+=("$rel=$file=$ignored")
  done
done
[[ ${#reports[@]} -gt 0 ]] || { echo "mutation.sh: no package to measure" >&2; exit 2; }
go run scripts/mutation-report.go -equivalent scripts/mutation-equivalent.txt "${reports[@]}"

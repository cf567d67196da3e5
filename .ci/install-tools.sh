#!/usr/bin/env bash
# install-tools.sh: installs the pinned tools that the tests and CI use into
# $(go env GOPATH)/bin (or GOBIN), from the Go module proxy with `go install`.
# A tool already installed at its pinned version is left alone, so a second
# run costs a second. Usage: bash .ci/install-tools.sh [TOOL...]
#
#   act          github.com/nektos/act: act_e2e_test.go runs the action with it
#                (the default: what `go test ./...` needs)
#   govulncheck  golang.org/x/vuln: the vulnerability check of ci.yml (it
#                reads vuln.go.dev, so it is no use offline)
#   local-kms    github.com/nsmithuk/local-kms: AWS KMS for internal/signer's
#                awskms:// tests
#   softhsm2     Debian's softhsm2 (softhsm2-util and the PKCS#11 module) for
#                internal/signer's pkcs11: tests; installed with apt-get when
#                softhsm2-util is missing (as root, or through sudo)
#   gremlins     github.com/go-gremlins/gremlins: scripts/mutation.sh, the
#                mutation testing of the security core
set -euo pipefail

# Plain case, no associative array: macOS's /bin/bash is 3.2.
spec_of() {
  case $1 in
  act) echo github.com/nektos/act@v0.2.89 ;;
  govulncheck) echo golang.org/x/vuln/cmd/govulncheck@v1.8.0 ;;
  local-kms) echo github.com/nsmithuk/local-kms@v0.0.0-20260228092603-2a5e92d09ab6 ;;
  gremlins) echo github.com/go-gremlins/gremlins/cmd/gremlins@v0.5.0 ;;
  esac
}
bin=$(go env GOBIN)
[[ -n $bin ]] || bin=$(go env GOPATH)/bin
exe=$(go env GOEXE)

[[ $# -gt 0 ]] || set -- act
# apt_install installs a Debian package unless cmd is already on PATH.
apt_install() {
  local tool=$1 cmd=$2 pkg=$3 sudo=
  if command -v "$cmd" >/dev/null 2>&1; then
    echo "install-tools.sh: $tool already installed ($(command -v "$cmd"))"
    return
  fi
  command -v apt-get >/dev/null 2>&1 || { echo "install-tools.sh: $tool: no apt-get here; install the $pkg package (Homebrew: softhsm) by hand" >&2; exit 1; }
  [[ $(id -u) == 0 ]] || sudo=sudo
  start=$SECONDS
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$pkg" >/dev/null
  echo "install-tools.sh: installed $tool ($pkg) with apt-get ($((SECONDS - start))s)"
}

for tool in "$@"; do
  if [[ $tool == softhsm2 ]]; then
    apt_install softhsm2 softhsm2-util softhsm2
    continue
  fi
  spec=$(spec_of "$tool")
  [[ -n $spec ]] || { echo "install-tools.sh: unknown tool \"$tool\" (known: act, govulncheck, local-kms, softhsm2, gremlins)" >&2; exit 2; }
  path=${spec%@*} want=${spec#*@}
  # `go version -m` reads the module version the binary was built from.
  have=$(go version -m "$bin/$tool$exe" 2>/dev/null | awk '$1 == "mod" { print $3 }' || true)
  if [[ $have == "$want" ]]; then
    echo "install-tools.sh: $tool $want already in $bin"
    continue
  fi
  start=$SECONDS
  # Outside any module, with the environment's GOFLAGS ignored: the tool's own
  # go.mod decides its dependencies, and this repository's go.mod is untouched.
  (cd "${TMPDIR:-/tmp}" && GOFLAGS= GOWORK=off go install "$path@$want")
  echo "install-tools.sh: installed $tool $want in $bin ($((SECONDS - start))s)"
done

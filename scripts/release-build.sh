#!/usr/bin/env bash
# release-build.sh VERSION OUTDIR
#
# Builds the app-token release binaries for every supported platform into
# OUTDIR, reproducibly, and writes OUTDIR/checksums.txt (sha256sum format).
# The same tree, VERSION and toolchain give byte-identical files on any
# machine, in any directory: -trimpath drops local paths, -buildid= and
# -buildvcs=false drop build IDs and VCS stamps (a release commit differs from
# its parent only in launcher/checksums.txt, so both must build the same
# bytes), and the toolchain is pinned to the one go.mod names. -tags
# noschemacheck leaves out the offline emulator's check of its answers
# against GitHub's REST description, and with it a JSON Schema validator whose
# package initialiser costs about 4 ms of every start (internal/emulator/
# schemacheck_off.go); tests and `go run .` keep the check. Run from the
# repository root.
set -euo pipefail

version=${1:?usage: scripts/release-build.sh VERSION OUTDIR}
out=${2:?usage: scripts/release-build.sh VERSION OUTDIR}
targets="linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64"

if [[ ! $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
  echo "release-build.sh: version \"$version\" is not vMAJOR.MINOR.PATCH[-PRERELEASE]" >&2
  exit 2
fi
[[ -f go.mod ]] || { echo "release-build.sh: run me from the repository root" >&2; exit 2; }

# The toolchain: go.mod's toolchain line, else its go line (exact, e.g. go1.26.0).
# The go command fetches it from the module proxy when it is not the local one.
modjson=$(GOTOOLCHAIN=local go mod edit -json)
toolchain=$(sed -n 's/^[[:space:]]*"Toolchain": "\(.*\)",*$/\1/p' <<<"$modjson")
[[ -n $toolchain ]] || toolchain=go$(sed -n 's/^[[:space:]]*"Go": "\(.*\)",*$/\1/p' <<<"$modjson")

sha256() {
  if command -v sha256sum >/dev/null; then sha256sum "$@"; else shasum -a 256 "$@"; fi
}

mkdir -p "$out"
# Only what is set here may influence the output.
export GOTOOLCHAIN=$toolchain CGO_ENABLED=0 GOFLAGS= GOWORK=off GOEXPERIMENT= GOAMD64=v1 GOARM64=v8.0
echo "building app-token $version with $(go version | cut -d' ' -f3-)" >&2
names=()
for target in $targets; do
  goos=${target%/*} goarch=${target#*/}
  name=app-token-$goos-$goarch
  [[ $goos == windows ]] && name=$name.exe
  GOOS=$goos GOARCH=$goarch go build -trimpath -buildvcs=false -tags noschemacheck \
    -ldflags="-s -w -buildid= -X main.version=$version" -o "$out/$name" .
  names+=("$name")
done
(cd "$out" && sha256 "${names[@]}" >checksums.txt)
cat "$out/checksums.txt"

#!/usr/bin/env bash
# leashvet's CI, run from the repository root: bash leashvet/ci.sh
#
# gofmt, go vet and staticcheck over the leashvet module, its tests, a build
# of the command, and the dogfood check: leash itself (the main module: its
# packages, examples and tests) passes leashvet with zero findings, run both
# as the command and as go vet's -vettool. The corpus (leashvet/corpus/run.sh)
# is not part of it: it downloads many modules.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
start=$SECONDS
cd "$here"

echo "== gofmt"
unformatted="$(gofmt -l .)"
if [ -n "$unformatted" ]; then
	echo "not gofmt'ed:"
	echo "$unformatted"
	exit 1
fi

echo "== go vet"
go vet ./...

echo "== staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

echo "== tests"
go test -count=1 ./...

echo "== build the command"
bin="$(mktemp -d)/leashvet"
go build -o "$bin" ./cmd/leashvet
"$bin" -V=full

echo "== dogfood: leashvet ./... over leash"
(cd "$root" && "$bin" ./...)

echo "== dogfood: go vet -vettool=leashvet ./... over leash"
(cd "$root" && go vet -vettool="$bin" ./...)

echo "leashvet CI passed in $((SECONDS - start))s"

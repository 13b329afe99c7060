#!/usr/bin/env bash
# Builds a golangci-lint with leashvet in it from the module proxy alone,
# which is what `golangci-lint custom` does with .custom-gcl.yml (custom
# clones golangci-lint's git repository; this script takes the same source
# from the module proxy):
#
#   bash leashvet/gclplugin/build.sh [out]    # default out: /tmp/custom-gcl
#
# then, in a module with the .golangci.yml shown in example.golangci.yml:
#
#   /tmp/custom-gcl run ./...
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-/tmp/custom-gcl}"
work="$(mktemp -d)"
mv=github.com/golangci/golangci-lint/v2@v2.15.0
dir="$(go mod download -json "$mv" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
cp -r "$dir" "$work/src"
chmod -R u+w "$work/src"
cd "$work/src"
cat >cmd/golangci-lint/plugins.go <<'EOP'
package main

import _ "github.com/leash-go/leash/leashvet/gclplugin"
EOP
go mod edit -require=github.com/leash-go/leash/leashvet@v0.0.0-00010101000000-000000000000 \
	-replace=github.com/leash-go/leash/leashvet="$(cd "$here/.." && pwd)"
GOFLAGS=-mod=mod go mod tidy
go build -o "$out" ./cmd/golangci-lint
"$out" version

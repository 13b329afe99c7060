#!/usr/bin/env bash
# Applies LV2's fixes (errgroup -> taskgroup) to real modules and runs their
# own tests afterwards. From the repository root:
#
#   bash leashvet/corpus/lv2-real.sh
#
# Each module is copied out of the module cache into $LEASHVET_LV2
# (default /tmp/leashvet-lv2), made to require leash through a replace
# directive pointing at this checkout, rewritten with `leashvet -fix` (LV2
# only), then built, vetted and tested on the packages the fix touched.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="${LEASHVET_LV2:-/tmp/leashvet-lv2}"
mkdir -p "$work"
bin="$work/leashvet"
(cd "$here/.." && go build -o "$bin" ./cmd/leashvet)

# module@version, then the packages whose tests are run after the fix.
modules=(
	"golang.org/x/telemetry@v0.0.0-20261116191925-e77a43154acb ."
	"golang.org/x/vuln@v1.10.0 ./internal/client/..."
	"golang.org/x/tools@v0.49.0 ./go/packages/internal/linecount/... ./internal/imports/..."
	"github.com/google/go-containerregistry@v0.22.1 ./pkg/v1/layout/... ./pkg/gcrane/..."
)
for line in "${modules[@]}"; do
	read -r mv pkgs <<<"$line"
	if [ $# -gt 0 ] && [[ "$mv" != *"$1"* ]]; then
		continue
	fi
	name="${mv//\//_}"
	dir="$(go mod download -json "$mv" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
	copy="$work/$name"
	rm -rf "$copy"
	cp -r "$dir" "$copy"
	chmod -R u+w "$copy"
	cd "$copy"
	echo "== $mv"
	go mod edit -require=github.com/leash-go/leash@v0.0.0-00010101000000-000000000000 \
		-replace=github.com/leash-go/leash="$root"
	GOFLAGS=-mod=mod go mod download >/dev/null 2>&1 || true
	# leashvet exits non-zero when it has findings; -fix applies LV2's.
	lv2=(-lv1=false -lv3=false -lv4=false -lv5=false -lv6=false)
	found="$(GOFLAGS=-mod=mod "$bin" "${lv2[@]}" ./... 2>&1 | grep ': LV2: ' | sort -u || true)"
	echo "LV2 findings: $(grep -c . <<<"$found"), without a fix: $(grep -c 'no automatic fix' <<<"$found")"
	GOFLAGS=-mod=mod "$bin" "${lv2[@]}" -fix ./... >/dev/null 2>&1 || true
	GOFLAGS=-mod=mod go mod tidy
	echo "files rewritten: $(grep -rl 'leash-go/leash/taskgroup' --include=*.go . | tr '\n' ' ')"
	go build ./...
	go vet $pkgs
	go test -count=1 $pkgs
	# x/tools: go/packages, rewritten too, has slow tests: run them with -short.
	if [[ "$mv" == golang.org/x/tools@* ]]; then
		go test -count=1 -short ./go/packages/
	fi
	cd - >/dev/null
done

#!/usr/bin/env bash
# Runs leashvet over the pinned corpus (corpus/modules.txt) and prints the
# findings per analyzer per module.
#
#   bash leashvet/corpus/run.sh            # from the repository root
#
# Each module is fetched with `go mod download` (the module proxy is the only
# network it needs), copied out of the module cache into $LEASHVET_CORPUS
# (default /tmp/leashvet-corpus) with its dependencies downloaded, and
# analysed with `leashvet ./...` (test files included). Every finding is
# kept in $LEASHVET_CORPUS/findings/<module>.txt, the table in
# $LEASHVET_CORPUS/table.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="${LEASHVET_CORPUS:-/tmp/leashvet-corpus}"
mkdir -p "$work/src" "$work/findings"
bin="$work/leashvet"
(cd "$here/.." && go build -o "$bin" ./cmd/leashvet)

rules=(LV1 LV2 LV3 LV4 LV5 LV6)
table="$work/table.md"
{
	echo "| module | LV1 | LV2 | LV3 | LV4 | LV5 | LV6 | load errors |"
	echo "|---|---|---|---|---|---|---|---|"
} >"$table"
declare -A total
while read -r mv; do
	case "$mv" in '' | '#'*) continue ;; esac
	name="${mv//\//_}"
	dir="$(go mod download -json "$mv" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
	copy="$work/src/$name"
	if [ ! -d "$copy" ]; then
		cp -r "$dir" "$copy"
		chmod -R u+w "$copy"
		# Replacements by a relative path point into the module's own
		# repository, which a module zip does not hold: use the proxy's.
		for old in $(awk '/=> \.\.?\//{ if ($1 == "replace") print $2; else print $1 }' "$copy/go.mod"); do
			(cd "$copy" && go mod edit -dropreplace="$old")
		done
	fi
	(cd "$copy" && GOFLAGS=-mod=mod go mod download >/dev/null 2>&1 || true)
	out="$work/findings/$name.txt"
	# leashvet exits non-zero when it finds something; the counts say what.
	(cd "$copy" && GOFLAGS=-mod=mod "$bin" ./... 2>&1 || true) |
		sed "s|^$copy/||" | sort -u >"$out"
	row="| $mv"
	for r in "${rules[@]}"; do
		n="$(grep -c ": $r: " "$out" || true)"
		total[$r]=$((${total[$r]:-0} + n))
		row="$row | $n"
	done
	errs="$(grep -vc ': LV[1-6]: ' "$out" || true)"
	echo "$row | $errs |" >>"$table"
done <"$here/modules.txt"
row="| total"
for r in "${rules[@]}"; do row="$row | ${total[$r]}"; done
echo "$row | |" >>"$table"
cat "$table"

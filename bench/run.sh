#!/usr/bin/env bash
# The scaling suite of issue 14 (leash beside errgroup, conc and the floor at
# every size and shape): interleaved rounds, benchstat tables of leash against
# each peer, and the fan-out curve as an SVG and a markdown table.
#
#   ./run.sh                         # every family, 8 rounds (about 20 min on 2 cores)
#   QUICK=1 ./run.sh                 # smoke run: 2 rounds, short benchtime, into results/quick/
#   BENCH="FanOut Limit" ./run.sh    # some families only
#   ROUNDS=6 BENCHTIME=2s OUT=/tmp/r ./run.sh
#   REF=HEAD ./run.sh                # measure a commit, not the working tree
#   REPORT_ONLY=1 ./run.sh           # only redo the tables and the plot from OUT/raw.txt
#
# Families: FanOut OneTask Limit Nested Spawn LastFails ErrorString Semaphore
# Streams MapLimit. Needs only Go: benchstat is a tool of this module (go.mod
# pins its version; `go tool benchstat`), the plot is ./cmd/plot.
#
# Each round runs every family once, as one process: the test binary with
# -test.run '^$' -test.bench <families> -test.count=1 -test.benchtime=<t>,
# which is what `go test -run '^$' -bench ... -count=1 -benchtime=...` runs.
# The binary is built once, before the first round, so that every round
# measures the same code even while the library's sources change. Between
# rounds the order of the families is shuffled (-test.shuffle with the
# round's number as the seed) and the order of the implementations within
# each family alternates (BENCH_ORDER=reverse on even rounds), so that no
# implementation always runs first or last. The test binary also warms the
# runtime's goroutine pool (200k goroutines) before the first benchmark.
# With REF set, the binary is built from that commit (git archive into a
# temporary directory), so that what was measured is exactly a commit even
# while the working tree is being edited.
#
# Writes, under OUT (default results/):
#   raw.txt      every round's output, with a header saying what was measured
#   ratios.md    leash's time against each peer, paired by round (cmd/ratios):
#                median ratio, range, exact signed-rank p, allocs/op
#   latest.txt   the header, ratios.md, then benchstat tables: leash against
#                each peer (unpaired: a round's noise widens their ± and p)
#   scaling.svg  FanOut: ns per task against N, one line per implementation
#   scaling.md   the same medians as a markdown table, with leash's ratios
set -euo pipefail
cd "$(dirname "$0")"

all="FanOut OneTask Limit Nested Spawn LastFails ErrorString Semaphore Streams MapLimit"
families=$(echo "${BENCH:-$all}" | tr ',' ' ')
for f in $families; do
	case " $all " in
	*" $f "*) ;;
	*)
		echo "run.sh: unknown family $f (families: $all)" >&2
		exit 2
		;;
	esac
done

if [ "${QUICK:-}" = 1 ]; then
	rounds=${ROUNDS:-2}
	benchtime=${BENCHTIME:-100ms}
	out=${OUT:-results/quick}
else
	rounds=${ROUNDS:-8}
	benchtime=${BENCHTIME:-1.2s}
	out=${OUT:-results}
fi
mkdir -p "$out"
raw="$out/raw.txt"
latest="$out/latest.txt"
pattern="^Benchmark($(echo $families | tr ' ' '|'))\$"

start=$(date +%s)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ "${REPORT_ONLY:-}" = 1 ]; then
	[ -s "$raw" ] || {
		echo "run.sh: REPORT_ONLY=1 needs $raw" >&2
		exit 2
	}
	rounds=$(grep -c '^# round ' "$raw" || true)
else
	# What is measured: the commit, and what in the library differs from it.
	{
		echo "# leash scaling suite (issue 14), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
		echo "# $(go version); $(nproc 2>/dev/null || echo '?') CPUs; GOMAXPROCS=${GOMAXPROCS:-default}"
		if [ -n "${REF:-}" ]; then
			echo "# commit $(git rev-parse "$REF^{commit}") ($REF, built from git archive)"
		elif commit=$(git rev-parse HEAD 2>/dev/null); then
			changed=$(git status --porcelain -- .. ':(exclude)../bench' 2>/dev/null | awk '{print $2}' | tr '\n' ' ')
			echo "# commit $commit (working tree)"
			if [ -n "$changed" ]; then
				echo "# not committed at build time (outside bench/): $changed"
				if ! git diff --quiet HEAD -- .. ':(exclude)../bench'; then
					echo "# sha256 of git diff HEAD outside bench/: $(git diff HEAD -- .. ':(exclude)../bench' | sha256sum | cut -c1-16)"
				fi
			fi
		fi
		echo "# rounds=$rounds benchtime=$benchtime families: $families"
	} >"$tmp/header"

	echo "==> building the benchmark binary"
	if [ -n "${REF:-}" ]; then
		mkdir "$tmp/src"
		(cd "$(git rev-parse --show-toplevel)" && git archive --format=tar "$REF") | tar -x -C "$tmp/src"
		(cd "$tmp/src/$(git rev-parse --show-prefix)" && go test -c -o "$tmp/bench.test" .)
	else
		go test -c -o "$tmp/bench.test" .
	fi
	: >"$raw"
	cat "$tmp/header" >>"$raw"

	for r in $(seq 1 "$rounds"); do
		order=forward
		if [ $((r % 2)) = 0 ]; then
			order=reverse
		fi
		t0=$(date +%s)
		echo "==> round $r of $rounds (implementations $order, family order shuffled with seed $r)"
		echo "# round $r, implementations $order" >>"$raw"
		BENCH_ORDER=$order "$tmp/bench.test" -test.run '^$' -test.bench "$pattern" -test.count=1 \
			-test.benchtime="$benchtime" -test.shuffle="$r" >"$tmp/round.txt" 2>&1 || {
			cat "$tmp/round.txt" >&2
			echo "run.sh: round $r failed" >&2
			exit 1
		}
		cat "$tmp/round.txt" >>"$raw"
		echo "<== round $r: $(($(date +%s) - t0)) s"
	done
fi
# The header: the lines before the first round.
sed -n '/^# round /q;/^# /p' "$raw" >"$tmp/header"
benchtime=$(sed -n 's/^# rounds=[0-9]* benchtime=\([^ ]*\).*/\1/p' "$tmp/header")
if [ "${REPORT_ONLY:-}" = 1 ] && [ -z "${BENCH:-}" ]; then
	families=$(sed -n 's/^# rounds=.* families: //p' "$tmp/header")
fi

# benchstat: one set of tables per peer, over the families (or the rows of
# a family, Family:key=value) that have it, with the peer as the base column,
# so that "vs base" is leash's change against it (+16% = 1.16x the peer's
# time).
peer_rows() {
	case $1 in
	errgroup) echo "FanOut OneTask Limit Nested Spawn LastFails Streams:order=completed MapLimit" ;;
	conc) echo "FanOut OneTask Limit Nested LastFails Streams:order=input" ;;
	conc-map) echo "MapLimit" ;;
	floor) echo "FanOut OneTask Limit Nested Spawn LastFails Semaphore Streams:order=completed MapLimit" ;;
	xsync) echo "Semaphore" ;;
	join) echo "ErrorString" ;;
	esac
}
go run ./cmd/ratios -order "$(echo $all | tr ' ' ',')" "$raw" >"$out/ratios.md"
{
	cat "$tmp/header"
	echo "# raw results: raw.txt; every implementation side by side: go tool benchstat -col /impl raw.txt"
	echo
	echo "################ leash against each peer, paired by round (ratios.md; cmd/ratios)"
	echo
	cat "$out/ratios.md"
	for peer in errgroup conc conc-map floor xsync join; do
		sel=""
		for row in $(peer_rows $peer); do
			f=${row%%:*}
			case " $families " in
			*" $f "*) ;;
			*) continue ;;
			esac
			q=".name:$f"
			if [ "$row" != "$f" ]; then
				kv=${row#*:}
				q="(.name:$f AND /${kv%%=*}:${kv#*=})"
			fi
			sel="${sel:+$sel OR }$q"
		done
		[ -n "$sel" ] || continue
		echo
		echo "################ leash vs $peer: $sel"
		echo
		go tool benchstat -filter "$sel" -col "/impl@($peer leash)" "$raw" 2>&1
	done
} >"$latest"
echo "==> $latest"

case " $families " in
*" FanOut "*)
	note="$(sed -n 's/^# commit \([0-9a-f]\{12\}\).*/commit \1/p' "$tmp/header"), $rounds rounds of $benchtime, $(nproc 2>/dev/null || echo '?') CPUs"
	go run ./cmd/plot -family FanOut -key n -metric ns/task -note "$note" -svg "$out/scaling.svg" -md "$out/scaling.md" "$raw"
	echo "==> $out/scaling.svg, $out/scaling.md"
	cat "$out/scaling.md"
	;;
esac

echo "run.sh: done in $(($(date +%s) - start)) s"

#!/usr/bin/env bash
# CI for the etcdlimit module: installs Debian's etcd-server if it is
# missing, then gofmt, go vet, staticcheck, the tests (the LIM2 tests and the
# LIM3 fault tests start their own etcd servers on loopback ports), and the
# unit tests again under the race detector. Prints the time of every stage.
# Run from anywhere: bash etcdlimit/ci.sh
set -euo pipefail
cd "$(dirname "$0")"

export PATH="$(go env GOPATH)/bin:$PATH"
STATICCHECK_VERSION=v0.8.2

stage() {
	local name=$1
	shift
	local t0=$(date +%s)
	echo "==> $name"
	"$@"
	echo "<== $name: $(($(date +%s) - t0)) s"
}

check_gofmt() {
	local out
	out=$(gofmt -l .)
	if [ -n "$out" ]; then
		echo "gofmt would change:"
		echo "$out"
		return 1
	fi
}

install_staticcheck() {
	if ! staticcheck -version 2>/dev/null | grep -q "(${STATICCHECK_VERSION#v})"; then
		go install "honnef.co/go/tools/cmd/staticcheck@${STATICCHECK_VERSION}"
	fi
}

run_staticcheck() {
	install_staticcheck
	staticcheck ./...
}

# -v for the fault tests' counts (lines with LIM3); go test's own summary
# lines are kept, and its exit status decides.
run_tests() {
	go test -count=1 -v ./... 2>&1 | grep -E '^(--- |ok |FAIL|PASS|panic)|LIM3'
}

start=$(date +%s)
stage "install etcd-server" ./prepare-test.sh
stage "download modules" go mod download
stage "gofmt" check_gofmt
stage "go vet" go vet ./...
stage "staticcheck" run_staticcheck
stage "tests" run_tests
stage "race (unit tests)" go test -race -short -count=1 ./...
echo "etcdlimit CI: $(($(date +%s) - start)) s"

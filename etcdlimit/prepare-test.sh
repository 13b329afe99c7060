#!/usr/bin/env bash
# Installs what this module's tests need: an etcd server (Debian's
# etcd-server; the tests start their own servers from it, on loopback ports).
# Run by the repository's .ci/test before `go test`, and by ci.sh.
set -euo pipefail
if ! command -v etcd >/dev/null && [ -z "${ETCD_BIN:-}" ]; then
	sudo=
	if [ "$(id -u)" != 0 ]; then
		sudo="sudo" # apt needs root; a CI runner's user usually has sudo
	fi
	$sudo apt-get update -qq
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >/dev/null
	# The package starts a system service where systemd runs; the tests need
	# none.
	$sudo systemctl stop etcd 2>/dev/null || true
fi
version=$("${ETCD_BIN:-etcd}" --version)
echo "${version%%$'\n'*}" # the first line; no pipe to head, which pipefail would fail on

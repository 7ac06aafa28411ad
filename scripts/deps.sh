#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# deps.sh - install what xtwamp needs to build, test and demo on Debian 12.
#
# Idempotent: prints nothing and touches nothing when every package is
# already installed and bpffs is mounted.  Runs `apt-get update` only when
# something is missing.  As non-root it only reports what is missing.
#
# Environment: XTWAMP_DEPS_EXTRA="pkg ..." adds packages to the list.
set -euo pipefail

PACKAGES=(
	# build
	clang llvm libbpf-dev bpftool libxdp-dev libelf-dev zlib1g-dev libssl-dev
	pkg-config make gcc libc6-dev
	libmicrohttpd-dev # xtwampd --metrics: the Prometheus exporter's HTTP server
	libinih-dev       # xtwampd --config: INI parser
	# unit tests
	libcmocka-dev openssl # openssl: the CLI computes test_crypto's vectors
	clang-format # tests/run.sh lint: the .clang-format style check
	# end-to-end tests and demo
	iproute2     # ip netns, ip link ... xdp
	ethtool      # ethtool -K <veth> tx off (see docs/platform-notes)
	tshark       # independent TWAMP-Test decoder and checksum checker
	util-linux   # nsenter, mountpoint
	iputils-ping # ping through the XDP interface
	python3      # CSV/JSON checks and a TCP listener in tests/e2e
	prometheus   # tests/e2e/test_metrics.sh: a real server, and promtool
	python3-yaml # tests/e2e/test_packaging.sh: parse the DaemonSet
	systemd      # tests/e2e/test_packaging.sh: systemd-analyze verify of the unit
	# hardening (mk/fuzz.mk): libFuzzer + ASan/UBSan runtimes, valgrind
	libclang-rt-14-dev valgrind
)
# shellcheck disable=SC2206 # word splitting is the point
[[ -n ${XTWAMP_DEPS_EXTRA:-} ]] && PACKAGES+=(${XTWAMP_DEPS_EXTRA})

die() { echo "deps.sh: $*" >&2; exit 1; }

is_installed() {
	dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null | grep -qx installed
}

if ! command -v dpkg-query >/dev/null 2>&1; then
	# Not Debian: accept the machine if the build tools are there.
	for c in clang bpftool cc make ip; do
		command -v "$c" >/dev/null 2>&1 ||
			die "not a Debian system and '$c' is missing; install the equivalents of: ${PACKAGES[*]}"
	done
	echo "deps.sh: not a Debian system; not checking packages" >&2
	exit 0
fi

missing=()
for p in "${PACKAGES[@]}"; do
	is_installed "$p" || missing+=("$p")
done

if ((${#missing[@]})); then
	if ((EUID != 0)); then
		die "missing packages: ${missing[*]} (run as root: sudo scripts/deps.sh)"
	fi
	echo "deps.sh: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	# tshark's postinst asks whether non-root users may capture: answer no.
	if command -v debconf-set-selections >/dev/null 2>&1; then
		echo 'wireshark-common wireshark-common/install-setuid boolean false' |
			debconf-set-selections
	fi
	log=$(mktemp)
	trap 'rm -f "$log"' EXIT
	if ! apt-get update -q </dev/null >"$log" 2>&1; then
		cat "$log" >&2
		die "apt-get update failed"
	fi
	if ! apt-get install -y -q --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		"${missing[@]}" </dev/null >"$log" 2>&1; then
		cat "$log" >&2
		die "apt-get install ${missing[*]} failed"
	fi
	for p in "${missing[@]}"; do
		is_installed "$p" || die "package $p still not installed"
	done
fi

# bpffs: the daemon pins its maps and links under /sys/fs/bpf.
if ! mountpoint -q /sys/fs/bpf 2>/dev/null ||
	[[ $(stat -f -c %T /sys/fs/bpf 2>/dev/null) != bpf_fs ]]; then
	if ((EUID == 0)); then
		mkdir -p /sys/fs/bpf
		mount -t bpf bpf /sys/fs/bpf || die "cannot mount bpffs on /sys/fs/bpf"
	else
		echo "deps.sh: warning: bpffs is not mounted on /sys/fs/bpf (as root: mount -t bpf bpf /sys/fs/bpf)" >&2
	fi
fi
exit 0

#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# gen-vmlinux.sh - regenerate vmlinux/vmlinux.h from the running kernel's BTF.
#
# Usage: scripts/gen-vmlinux.sh [BTF_FILE]   (default /sys/kernel/btf/vmlinux)
#
# The committed header was made on kernel 6.18 with bpftool 7.1.  BPF
# programs are built CO-RE, so the header only has to contain the types we
# use; regenerate it only to pick up new kernel types, and commit the result.
set -euo pipefail

cd "$(dirname "$0")/.."
btf=${1:-/sys/kernel/btf/vmlinux}
out=vmlinux/vmlinux.h
bpftool=${BPFTOOL:-bpftool}

command -v "$bpftool" >/dev/null || { echo "bpftool not found: run scripts/deps.sh" >&2; exit 1; }
[[ -r $btf ]] || { echo "$btf not readable: kernel without CONFIG_DEBUG_INFO_BTF?" >&2; exit 1; }

tmp=$(mktemp "$out.XXXXXX")
trap 'rm -f "$tmp"' EXIT
"$bpftool" btf dump file "$btf" format c >"$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "wrote $out ($(wc -l <"$out") lines) from $btf, kernel $(uname -r), $("$bpftool" version | head -1)"

# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
#
# lib.sh - harness for the end-to-end tests, sourced by tests/e2e/test_*.sh.
#
# Test bed: two network namespaces joined by a veth pair,
#
#     [ $NS_R: veth-r 192.0.2.1/24 2001:db8::1/64 ] <--> [ $NS_S: veth-s 192.0.2.2/24 2001:db8::2/64 ]
#       xtwampd (XDP on veth-r)                           xtwamp ping, ping, tshark
#
# with documentation addresses only (RFC 5737, RFC 3849): nothing is ever
# sent outside the pair.  Namespace names carry the PID, the daemon pins
# under /sys/fs/bpf/xtwamp-test-PID, and xt_cleanup (an EXIT trap) removes
# all of it.
#
# Conventions: each check prints "  ok   WHAT" or "  FAIL WHAT" and the
# script goes on; xt_finish exits 1 if any check failed.  Exit 77 = skipped
# (xt_skip), with the reason on the last line.
#
# The daemon runs through `nsenter --net=`, not `ip netns exec`: the latter
# remounts /sys, which hides the host's bpffs and the pins (platform notes).

set -u -o pipefail

XT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
XT_E2E=$XT_ROOT/tests/e2e
BUILD=${BUILD:-$XT_ROOT/build}
case $BUILD in /*) ;; *) BUILD=$XT_ROOT/$BUILD ;; esac
XTWAMPD=$BUILD/xtwampd
XTWAMP=$BUILD/xtwamp
XT_STUB_SRC=$XT_E2E/xdp_pass.bpf.c
XT_STUB_OBJ=$BUILD/tests/xdp_pass.bpf.o

NS_R=xtw-r-$$
NS_S=xtw-s-$$
IF_R=veth-r
IF_S=veth-s
ADDR4_R=192.0.2.1
ADDR4_S=192.0.2.2
ADDR6_R=2001:db8::1
ADDR6_S=2001:db8::2
PIN_DIR=/sys/fs/bpf/xtwamp-test-$$

XT_READY_TIMEOUT=${XT_READY_TIMEOUT:-10} # seconds to wait for the daemon's "ready"
XT_STOP_TIMEOUT=${XT_STOP_TIMEOUT:-10}   # seconds to wait for it to exit on SIGTERM
XT_CMD_TIMEOUT=${XT_CMD_TIMEOUT:-30}     # bound on any client command

XT_FAILS=0
XT_CHECKS=0
XT_DAEMON_PID=
XT_DAEMON_LOG=
XT_TSHARK_PID=
XT_NS_CREATED=0
XT_WORK=

xt_log() { echo "# $*"; }
xt_section() { echo "== $*"; }

xt_ok() {
	XT_CHECKS=$((XT_CHECKS + 1))
	echo "  ok   $*"
}

xt_fail() {
	XT_CHECKS=$((XT_CHECKS + 1))
	XT_FAILS=$((XT_FAILS + 1))
	echo "  FAIL $*"
}

# xt_quote PREFIX TEXT: show TEXT indented under a check line.
xt_quote() {
	local line
	while IFS= read -r line; do
		printf '       %s %s\n' "$1" "$line"
	done <<<"$2"
}

# xt_indent FILE: show a file (a log, a command's output) under a failure.
xt_indent() {
	[[ -s $1 ]] && sed 's/^/       | /' "$1" | tail -n "${2:-60}"
	return 0
}

# xt_check WHAT CMD...: run CMD (output to a file), ok if it exits 0.
xt_check() {
	local what=$1 out
	shift
	out=$XT_WORK/check.out
	if "$@" >"$out" 2>&1; then
		xt_ok "$what"
	else
		xt_fail "$what (exit $?: $*)"
		xt_indent "$out"
	fi
}

xt_skip() {
	echo "SKIP: $*"
	exit 77
}

# Hard error in the harness itself: report and stop (the EXIT trap cleans up).
xt_die() {
	echo "FAIL: $*"
	exit 1
}

xt_finish() {
	if ((XT_FAILS)); then
		echo "$XT_FAILS of $XT_CHECKS checks failed"
		exit 1
	fi
	echo "all $XT_CHECKS checks passed"
	exit 0
}

# Run a command in one of the namespaces.  nsenter keeps the host's mounts
# (bpffs); the command is bounded unless it is the daemon.
xt_in_r() { timeout -k 5 "$XT_CMD_TIMEOUT" nsenter --net="/run/netns/$NS_R" "$@"; }
xt_in_s() { timeout -k 5 "$XT_CMD_TIMEOUT" nsenter --net="/run/netns/$NS_S" "$@"; }

xt_cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ -n $XT_TSHARK_PID ]]; then
		kill "$XT_TSHARK_PID" 2>/dev/null
		wait "$XT_TSHARK_PID" 2>/dev/null
	fi
	if [[ -n $XT_DAEMON_PID ]] && kill -0 "$XT_DAEMON_PID" 2>/dev/null; then
		kill -TERM "$XT_DAEMON_PID" 2>/dev/null
		local i
		for ((i = 0; i < 50; i++)); do
			kill -0 "$XT_DAEMON_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$XT_DAEMON_PID" 2>/dev/null
		wait "$XT_DAEMON_PID" 2>/dev/null
	fi
	if ((XT_NS_CREATED)); then
		ip netns del "$NS_R" 2>/dev/null
		ip netns del "$NS_S" 2>/dev/null
	fi
	case $PIN_DIR in
	/sys/fs/bpf/xtwamp-test-* | /sys/fs/bpf/xtwamp-demo-*) rm -rf -- "$PIN_DIR" 2>/dev/null ;;
	esac
	if [[ -n $XT_WORK && -d $XT_WORK ]]; then
		if ((rc != 0 && rc != 77)) && [[ -n ${XT_KEEP:-} ]]; then
			echo "# kept $XT_WORK"
		else
			rm -rf -- "$XT_WORK"
		fi
	fi
	exit "$rc"
}

# xt_init: check prerequisites (skip when the machine cannot run the test),
# install the cleanup trap and build the test bed.
xt_init() {
	((EUID == 0)) || xt_skip "needs root (network namespaces, XDP, bpffs)"
	local c
	for c in ip nsenter timeout python3; do
		command -v "$c" >/dev/null 2>&1 || xt_skip "$c not installed (run scripts/deps.sh)"
	done
	[[ -x $XTWAMPD && -x $XTWAMP ]] ||
		xt_die "$XTWAMPD or $XTWAMP not built: run make"

	XT_WORK=$(mktemp -d /tmp/xtwamp-e2e.XXXXXX) || xt_die "mktemp failed"
	trap xt_cleanup EXIT
	# Make a signal (the runner's timeout) run the EXIT trap too.
	trap 'exit 143' TERM
	trap 'exit 130' INT

	if ! [[ $(stat -f -c %T /sys/fs/bpf 2>/dev/null) == bpf_fs ]]; then
		mkdir -p /sys/fs/bpf
		mount -t bpf bpf /sys/fs/bpf 2>/dev/null ||
			xt_skip "bpffs not mounted on /sys/fs/bpf and cannot be mounted"
	fi

	ip netns add "$NS_R" 2>/dev/null || xt_skip "cannot create network namespaces"
	XT_NS_CREATED=1
	ip netns add "$NS_S" 2>/dev/null || xt_skip "cannot create network namespaces"
	ip -n "$NS_R" link add "$IF_R" type veth peer name "$IF_S" netns "$NS_S" 2>/dev/null ||
		xt_skip "cannot create a veth pair (no veth support?)"

	if ! { ip -n "$NS_R" link set lo up &&
		ip -n "$NS_S" link set lo up &&
		ip -n "$NS_R" addr add "$ADDR4_R/24" dev "$IF_R" &&
		ip -n "$NS_S" addr add "$ADDR4_S/24" dev "$IF_S" &&
		ip -n "$NS_R" -6 addr add "$ADDR6_R/64" dev "$IF_R" nodad &&
		ip -n "$NS_S" -6 addr add "$ADDR6_S/64" dev "$IF_S" nodad &&
		ip -n "$NS_R" link set "$IF_R" up &&
		ip -n "$NS_S" link set "$IF_S" up; }; then
		xt_die "cannot configure the veth pair"
	fi

	# Locally generated UDP leaves the sender CHECKSUM_PARTIAL: on a veth
	# nobody ever completes the checksum, so the reflector would patch a
	# partial one.  With tx offload off the sender computes it, as a real
	# NIC would before the wire.
	if command -v ethtool >/dev/null 2>&1; then
		nsenter --net="/run/netns/$NS_S" ethtool -K "$IF_S" tx off >/dev/null 2>&1 ||
			xt_log "warning: ethtool -K $IF_S tx off failed"
	else
		xt_log "warning: ethtool missing: reflected UDP checksums may be wrong (run scripts/deps.sh)"
	fi
	xt_log "test bed: $NS_R/$IF_R $ADDR4_R $ADDR6_R <-> $NS_S/$IF_S $ADDR4_S $ADDR6_S, pins $PIN_DIR"
}

# Build the XDP_PASS stub for the sender's veth (needed by native XDP_TX).
xt_build_stub() {
	if [[ -f $XT_STUB_OBJ && $XT_STUB_OBJ -nt $XT_STUB_SRC ]]; then
		return 0
	fi
	local clang=${CLANG:-clang} ma
	command -v "$clang" >/dev/null 2>&1 || return 1
	ma=$(${CC:-cc} -print-multiarch 2>/dev/null)
	mkdir -p "$(dirname "$XT_STUB_OBJ")" || return 1
	"$clang" -O2 -g -target bpf ${ma:+-I/usr/include/$ma} \
		-c "$XT_STUB_SRC" -o "$XT_STUB_OBJ.tmp.$$" &&
		mv -f "$XT_STUB_OBJ.tmp.$$" "$XT_STUB_OBJ"
}

# Attach (or detach, with "off") the XDP_PASS stub on the sender's veth.
xt_sender_stub() {
	if [[ ${1:-on} == off ]]; then
		ip -n "$NS_S" link set dev "$IF_S" xdpdrv off
		return
	fi
	[[ $(xt_xdp_attached "$NS_S" "$IF_S") == native ]] && return 0
	xt_build_stub || { echo "cannot build $XT_STUB_OBJ"; return 1; }
	ip -n "$NS_S" link set dev "$IF_S" xdpdrv obj "$XT_STUB_OBJ" sec xdp
}

# xt_xdp_attached NS IF: prints "native", "generic", "offload", "multi" or
# "none", from the mode word ip prints after the MTU (its "prog/xdp" line
# reads the same in every mode).
xt_xdp_attached() {
	local first
	first=$(ip -n "$1" link show dev "$2" 2>/dev/null | head -n 1)
	if [[ $first =~ mtu\ [0-9]+\ (xdp[a-z]*)\  ]]; then
		case ${BASH_REMATCH[1]} in
		xdp | xdpdrv) echo native ;;
		xdpgeneric) echo generic ;;
		xdpoffload) echo offload ;;
		*) echo multi ;;
		esac
	else
		echo none
	fi
}

# xt_start_daemon MODE [ARGS...]: start xtwampd on veth-r in MODE (native or
# generic) and wait for its "ready" log line.  For native mode the sender's
# veth gets the XDP_PASS stub first.  Returns 1 (with the log shown) if the
# daemon exits or is not ready in time.
xt_start_daemon() {
	local mode=$1
	shift
	if [[ $mode == native ]]; then
		xt_sender_stub on >"$XT_WORK/stub.out" 2>&1 || {
			xt_fail "attach the XDP_PASS stub to $IF_S"
			xt_indent "$XT_WORK/stub.out"
			return 1
		}
	else
		ip -n "$NS_S" link set dev "$IF_S" xdpdrv off 2>/dev/null
	fi
	XT_DAEMON_LOG=$XT_WORK/xtwampd-$mode.$((++XT_DAEMON_RUNS)).log
	xt_log "nsenter --net=/run/netns/$NS_R $XTWAMPD --iface $IF_R --xdp-mode $mode --pin-path $PIN_DIR -v $*"
	nsenter --net="/run/netns/$NS_R" "$XTWAMPD" --iface "$IF_R" --xdp-mode "$mode" \
		--pin-path "$PIN_DIR" -v "$@" >"$XT_DAEMON_LOG" 2>&1 </dev/null &
	XT_DAEMON_PID=$!
	xt_wait_ready "xtwampd ($mode)" grep -qw ready "$XT_DAEMON_LOG"
}
XT_DAEMON_RUNS=0

# xt_wait_ready LABEL CMD...: a daemon was started in the background
# (XT_DAEMON_PID, its log in XT_DAEMON_LOG); wait until CMD succeeds.  Fails
# (and shows the log) when the daemon exits first or is not ready within
# XT_READY_TIMEOUT seconds.
xt_wait_ready() {
	local label=$1 i
	shift
	for ((i = 0; i < XT_READY_TIMEOUT * 10; i++)); do
		if "$@" >/dev/null 2>&1; then
			xt_ok "$label ready after $((i / 10)).$((i % 10)) s"
			return 0
		fi
		if ! kill -0 "$XT_DAEMON_PID" 2>/dev/null; then
			wait "$XT_DAEMON_PID"
			xt_fail "$label exited with status $? before it was ready"
			XT_DAEMON_PID=
			xt_indent "$XT_DAEMON_LOG"
			return 1
		fi
		sleep 0.1
	done
	xt_fail "$label not ready after $XT_READY_TIMEOUT s"
	xt_indent "$XT_DAEMON_LOG"
	xt_stop_daemon quiet
	return 1
}

# xt_stop_daemon [quiet]: SIGTERM (or $XT_STOP_SIGNAL); assert a clean exit,
# no pins left and no XDP program left on veth-r (unless "quiet": just make
# it go away).
xt_stop_daemon() {
	local quiet=${1:-} sig=${XT_STOP_SIGNAL:-TERM} i rc left mode
	[[ -n $XT_DAEMON_PID ]] || return 0
	[[ -n $quiet ]] && sig=TERM
	kill -"$sig" "$XT_DAEMON_PID" 2>/dev/null
	for ((i = 0; i < XT_STOP_TIMEOUT * 10; i++)); do
		kill -0 "$XT_DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$XT_DAEMON_PID" 2>/dev/null; then
		[[ -n $quiet ]] || xt_fail "xtwampd still running $XT_STOP_TIMEOUT s after SIG$sig (killed)"
		kill -KILL "$XT_DAEMON_PID" 2>/dev/null
	fi
	wait "$XT_DAEMON_PID"
	rc=$?
	XT_DAEMON_PID=
	if [[ -n $quiet ]]; then
		rm -rf -- "$PIN_DIR" 2>/dev/null
		return 0
	fi
	if ((rc == 0)); then
		xt_ok "xtwampd exited with status 0 on SIG$sig"
	else
		xt_fail "xtwampd exited with status $rc on SIG$sig"
		xt_indent "$XT_DAEMON_LOG" 20
	fi
	if [[ ! -e $PIN_DIR ]]; then
		xt_ok "pin directory $PIN_DIR removed"
	elif [[ -d $PIN_DIR && -z $(ls -A "$PIN_DIR" 2>/dev/null) ]]; then
		xt_ok "pin directory $PIN_DIR left empty"
		rmdir "$PIN_DIR" 2>/dev/null
	else
		left=$(find "$PIN_DIR" -mindepth 1 2>/dev/null | tr '\n' ' ')
		xt_fail "pins left after exit: $left"
		rm -rf -- "$PIN_DIR"
	fi
	mode=$(xt_xdp_attached "$NS_R" "$IF_R")
	if [[ $mode == none ]]; then
		xt_ok "no XDP program left on $IF_R"
	else
		xt_fail "an XDP program ($mode) is still attached to $IF_R"
		ip -n "$NS_R" -d link show dev "$IF_R" | sed 's/^/       | /'
		ip -n "$NS_R" link set dev "$IF_R" xdp off 2>/dev/null
		ip -n "$NS_R" link set dev "$IF_R" xdpgeneric off 2>/dev/null
	fi
}

# xt_check_attached MODE: the daemon's program is on veth-r in MODE.
xt_check_attached() {
	local got
	got=$(xt_xdp_attached "$NS_R" "$IF_R")
	if [[ $got == "$1" ]]; then
		xt_ok "XDP program attached to $IF_R in $1 mode"
	else
		xt_fail "XDP program on $IF_R: $got, expected $1"
		ip -n "$NS_R" -d link show dev "$IF_R" | sed 's/^/       | /'
	fi
}

# xt_twamp_ping WHAT COUNT CHECK_ARGS -- PING_ARGS...: run
# `xtwamp ping --raw PING_ARGS` in the sender namespace and check its CSV
# with xt_check.py csv --count COUNT CHECK_ARGS.  Sets XT_REPLIES to the
# number of replies seen (for the counter checks).
XT_REPLIES=0
XT_REPLIES_TOTAL=0
xt_twamp_ping() {
	local what=$1 count=$2 check=() out rc res
	shift 2
	while (($#)) && [[ $1 != -- ]]; do
		check+=("$1")
		shift
	done
	shift
	out=$XT_WORK/ping.$((++XT_PINGS)).out
	xt_in_s "$XTWAMP" ping "$@" --raw >"$out" 2>&1
	rc=$?
	XT_REPLIES=$(grep -cE '^[0-9]+,' "$out")
	XT_REPLIES_TOTAL=$((XT_REPLIES_TOTAL + XT_REPLIES))
	if res=$(python3 "$XT_E2E/xt_check.py" csv "$out" --count "$count" "${check[@]}" 2>&1) &&
		((rc == 0)); then
		xt_ok "$what: ${res%%$'\n'*}"
	else
		xt_fail "$what (xtwamp ping $* --raw: exit $rc)"
		xt_quote '>' "$res"
		xt_indent "$out" 30
	fi
}
XT_PINGS=0

# xt_count_replies OUT PING_ARGS...: run `xtwamp ping --raw PING_ARGS` in the
# sender namespace, output to OUT, whatever its exit status (lossy runs);
# print the number of CSV rows.
xt_count_replies() {
	local out=$1
	shift
	xt_in_s "$XTWAMP" ping "$@" --raw >"$out" 2>&1
	grep -cE '^[0-9]+,' "$out"
}

# xt_stats_json FILE: xtwamp stats --json into FILE.
xt_stats_json() {
	timeout -k 5 "$XT_CMD_TIMEOUT" "$XTWAMP" stats --json --pin-path "$PIN_DIR" >"$1" 2>"$1.err"
}

# xt_counter FILE NAME: print a counter from a stats JSON file.
xt_counter() {
	python3 "$XT_E2E/xt_check.py" counter "$1" "$2"
}

# xt_check_counters REPLIES: reflected_total >= REPLIES, rx_frames_total >= reflected_total.
xt_check_counters() {
	local f=$XT_WORK/stats.json rx refl
	if ! xt_stats_json "$f"; then
		xt_fail "xtwamp stats --json --pin-path $PIN_DIR failed"
		xt_indent "$f.err"
		return
	fi
	refl=$(xt_counter "$f" reflected_total) || { xt_fail "stats: $refl"; xt_indent "$f"; return; }
	rx=$(xt_counter "$f" rx_frames_total) || { xt_fail "stats: $rx"; xt_indent "$f"; return; }
	if ((refl >= $1)); then
		xt_ok "stats: reflected_total $refl >= $1 replies received"
	else
		xt_fail "stats: reflected_total $refl < $1 replies received"
		xt_indent "$f"
	fi
	if ((rx >= refl)); then
		xt_ok "stats: rx_frames_total $rx >= reflected_total $refl"
	else
		xt_fail "stats: rx_frames_total $rx < reflected_total $refl"
	fi
}

# ---- tshark: an independent decoder of what went over the wire ----------

xt_have_tshark() { command -v tshark >/dev/null 2>&1; }

# xt_capture_start FILE: capture UDP on the sender's veth until xt_capture_stop.
xt_capture_start() {
	local i
	XT_CAPTURE=$1
	nsenter --net="/run/netns/$NS_S" tshark -q -n -i "$IF_S" -f udp -w "$XT_CAPTURE" \
		-a duration:120 >"$XT_CAPTURE.log" 2>&1 </dev/null &
	XT_TSHARK_PID=$!
	for ((i = 0; i < 100; i++)); do
		if grep -q "Capturing on" "$XT_CAPTURE.log"; then
			# libpcap still drains and sets its filter after it says so
			sleep 0.5
			return 0
		fi
		kill -0 "$XT_TSHARK_PID" 2>/dev/null || break
		sleep 0.1
	done
	xt_fail "tshark capture on $IF_S did not start"
	xt_indent "$XT_CAPTURE.log"
	kill "$XT_TSHARK_PID" 2>/dev/null
	wait "$XT_TSHARK_PID" 2>/dev/null
	XT_TSHARK_PID=
	return 1
}

xt_capture_stop() {
	[[ -n $XT_TSHARK_PID ]] || return 1
	sleep 0.3 # let the last replies reach the capture
	kill -INT "$XT_TSHARK_PID" 2>/dev/null
	wait "$XT_TSHARK_PID" 2>/dev/null
	XT_TSHARK_PID=
	[[ -s $XT_CAPTURE ]]
}

# xt_tshark_check FILE MIN_REPLIES: decode the capture as TWAMP-Test on
# ports 862 and 863 and check every reflected packet: decoded, not
# malformed, UDP (and IPv4 header) checksums good, Sender TTL 255, same UDP
# length as its request.
xt_tshark_check() {
	local cap=$1 min=$2 fields=$XT_WORK/tshark.fields res malformed
	local opts=(-n -r "$cap" -d 'udp.port==862,twamp.test' -d 'udp.port==863,twamp.test'
		-o udp.check_checksum:TRUE -o ip.check_checksum:TRUE)
	if ! tshark "${opts[@]}" -T fields \
		-e frame.number -e ip.src -e ipv6.src -e udp.srcport -e udp.dstport \
		-e udp.length -e udp.checksum.status -e ip.checksum.status \
		-e twamp.test.seq_number -e twamp.test.sender_seq_number \
		-e twamp.test.sender_ttl -e frame.protocols >"$fields" 2>"$fields.err"; then
		xt_fail "tshark -r $cap failed"
		xt_indent "$fields.err"
		return
	fi
	malformed=$(tshark "${opts[@]}" -Y '_ws.malformed || _ws.expert.severity >= error' \
		-T fields -e frame.number -e ip.src -e ipv6.src -e udp.srcport \
		-e _ws.expert.message 2>/dev/null)
	if [[ -z $malformed ]]; then
		xt_ok "tshark: no malformed packets or expert errors"
	else
		xt_fail "tshark: malformed packets or expert errors:"
		xt_quote '|' "$(head -n 20 <<<"$malformed")"
	fi
	if res=$(python3 "$XT_E2E/xt_check.py" tshark "$fields" --replies "$min" --ttl 255 2>&1); then
		xt_ok "tshark: ${res%%$'\n'*}, all TWAMP-Test, checksums good, lengths = requests'"
		[[ $res == *$'\n'* ]] && xt_quote '>' "${res#*$'\n'}"
	else
		xt_fail "tshark check of the reflected packets"
		xt_quote '>' "$res"
	fi
}

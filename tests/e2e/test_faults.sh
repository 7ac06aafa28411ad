#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# test_faults.sh - xtwampd when the ground moves under it (issue 7), bounded
# to about a minute.  Each fault must give a clear log line while the rest
# keeps working:
#
#   - an interface deleted while attached (software timestamps: the program
#     is not device-bound, so deleting the veth is safe): the daemon logs it
#     and keeps reflecting on the other interface; when the only interface
#     goes it stops cleanly with exit status 1;
#   - the bpffs of --pin-path unmounted, inside a private mount namespace
#     (never the host's /sys/fs/bpf, where other daemons pin): logged,
#     reflection goes on, shutdown is clean;
#   - AF_XDP socket setup failing: XTWAMPD_NO_AF_XDP, and for real with
#     RLIMIT_MEMLOCK at 64 KiB and neither CAP_IPC_LOCK nor
#     CAP_SYS_RESOURCE (UMEM registration fails): encrypted sessions fall
#     back to the UDP socket path and still work;
#   - logs on a full disk: stderr on /dev/full, and a log file on a full
#     16 KiB tmpfs in a private mount namespace: reflection goes on and the
#     daemon does not spin.
#
# The system clock is never stepped here (the machine is shared); clock
# steps are injected in unit tests instead: test_clock (the offset published
# to the XDP program), test_auth_reflect test_clock_step (T2/T3 of the
# AF_XDP/socket path, NTP era 1) and test_session_table test_clock_step
# (stop deadlines and REFWAIT).  See README "Hardening".

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

IF_R2=veth-r2
IF_S2=veth-s2
ADDR4_R2=198.51.100.1
ADDR4_S2=198.51.100.2

xt_init
command -v unshare >/dev/null 2>&1 || xt_skip "unshare not installed (util-linux)"

SECRET=0123456789abcdef0123456789abcdef
KEYS=$XT_WORK/keys
(
	umask 077
	printf 'alice %s\n' "$SECRET" >"$KEYS"
)

# A second veth pair, 198.51.100.0/24 (RFC 5737).
add_pair() {
	ip -n "$NS_R" link add "$1" type veth peer name "$2" netns "$NS_S" &&
		ip -n "$NS_R" addr add "$3/24" dev "$1" &&
		ip -n "$NS_S" addr add "$4/24" dev "$2" &&
		ip -n "$NS_R" link set "$1" up &&
		ip -n "$NS_S" link set "$2" up &&
		{ nsenter --net="/run/netns/$NS_S" ethtool -K "$2" tx off >/dev/null 2>&1 || true; }
}

# cpu_ticks: user+system clock ticks the daemon has used so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$XT_DAEMON_PID/stat" 2>/dev/null; }

# idle_cpu WHAT: the daemon, idle for 3 s, uses less than 0.3 s of CPU.
idle_cpu() {
	local c0 c1 hz
	hz=$(getconf CLK_TCK)
	c0=$(cpu_ticks)
	sleep 3
	c1=$(cpu_ticks)
	if [[ -n $c0 && -n $c1 ]] && ((c1 - c0 < hz * 3 / 10)); then
		xt_ok "$1: $((c1 - c0)) CPU ticks in 3 s (no spinning)"
	else
		xt_fail "$1: ${c0:-?} -> ${c1:-?} CPU ticks in 3 s (spinning?)"
	fi
}

# ping_ok WHAT ADDR [ARGS...]: a short session (negotiated, or --light) answers.
ping_ok() {
	local what=$1 addr=$2 out short=(--session-timeout 1)
	shift 2
	[[ " $* " == *" --light "* ]] && short=()
	out=$XT_WORK/ping.$((++NPING)).out
	if xt_in_s "$XTWAMP" ping "$addr" -c 3 -i 0.05 -W 1 "${short[@]}" "$@" >"$out" 2>&1; then
		xt_ok "$what"
	else
		xt_fail "$what (exit $?)"
		xt_indent "$out" 15
	fi
}
NPING=0

# log_has WHAT REGEX: the daemon's log has a line matching REGEX; shows it.
log_has() {
	local line
	line=$(grep -m1 -E "$2" "$XT_DAEMON_LOG")
	if [[ -n $line ]]; then
		xt_ok "$1: ${line#xtwampd: }"
	else
		xt_fail "$1: no log line matching '$2'"
		xt_indent "$XT_DAEMON_LOG" 20
	fi
}

# wait_exit SECONDS: wait for the daemon to exit; EXIT_RC = its status, or
# "killed" if it was still running (not in a subshell: wait needs the child).
wait_exit() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		kill -0 "$XT_DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$XT_DAEMON_PID" 2>/dev/null; then
		kill -KILL "$XT_DAEMON_PID"
		wait "$XT_DAEMON_PID"
		XT_DAEMON_PID=
		EXIT_RC=killed
		return
	fi
	wait "$XT_DAEMON_PID"
	EXIT_RC=$?
	XT_DAEMON_PID=
}

# ---- an interface deleted while attached ---------------------------------
xt_section "interface deleted while attached"
add_pair "$IF_R2" "$IF_S2" "$ADDR4_R2" "$ADDR4_S2" || xt_die "cannot add $IF_R2"
xt_start_daemon generic --iface "$IF_R2" --keys "$KEYS" || xt_finish
ping_ok "session over $IF_R2 before" "$ADDR4_R2" -A encrypted -u alice -k "$KEYS"
ip -n "$NS_R" link del "$IF_R2"
sleep 1.5 # the daemon looks once a second
log_has "deletion logged" "$IF_R2: interface deleted while attached"
log_has "its AF_XDP queues closed" "AF_XDP queues of the deleted interface"
kill -0 "$XT_DAEMON_PID" 2>/dev/null && xt_ok "xtwampd still running" ||
	xt_fail "xtwampd exited after $IF_R2 went"
ping_ok "$IF_R still reflects (unauthenticated)" "$ADDR4_R"
ping_ok "$IF_R still reflects (encrypted)" "$ADDR4_R" -A encrypted -u alice -k "$KEYS"
ping_ok "$IF_R still reflects (TWAMP Light)" "$ADDR4_R" --light
idle_cpu "after the deletion"
xt_stop_daemon
log_has "shutdown says so" "$IF_R2: was deleted while attached"

xt_section "the only interface deleted"
add_pair "$IF_R2" "$IF_S2" "$ADDR4_R2" "$ADDR4_S2" || xt_die "cannot add $IF_R2"
# xt_start_daemon attaches to $IF_R: here the second pair only.
IF_R=$IF_R2 xt_start_daemon generic || xt_finish
ping_ok "session over $IF_R2" "$ADDR4_R2"
ip -n "$NS_R" link del "$IF_R2"
wait_exit 5
if [[ $EXIT_RC == 1 ]]; then
	xt_ok "xtwampd stopped by itself with status 1"
else
	xt_fail "xtwampd with no interface left: status '$EXIT_RC' (expected 1 within 5 s)"
fi
log_has "and said why" "no --iface left"
if [[ ! -e $PIN_DIR ]]; then
	xt_ok "pins removed"
else
	xt_fail "pins left: $(ls "$PIN_DIR" | tr '\n' ' ')"
	rm -rf -- "$PIN_DIR"
fi

# ---- bpffs unmounted (a private mount namespace) -------------------------
xt_section "bpffs of --pin-path unmounted"
MNT=$XT_WORK/bpffs
PRIV_PIN=$MNT/xtwamp-fault-$$
mkdir -p "$MNT"
XT_DAEMON_LOG=$XT_WORK/xtwampd-bpffs.log
# The namespace lives as long as the daemon; nothing is mounted outside it.
unshare --mount --propagation private sh -c \
	'mount -t bpf bpf "$1" && exec nsenter --net="$2" "$3" --iface "$4" --xdp-mode generic --pin-path "$5" -v' \
	sh "$MNT" "/run/netns/$NS_R" "$XTWAMPD" "$IF_R" "$PRIV_PIN" >"$XT_DAEMON_LOG" 2>&1 </dev/null &
XT_DAEMON_PID=$!
in_daemon_mnt() { timeout -k 5 "$XT_CMD_TIMEOUT" nsenter --mount="/proc/$XT_DAEMON_PID/ns/mnt" "$@"; }
if xt_wait_ready "private bpffs: xtwampd" grep -qw ready "$XT_DAEMON_LOG"; then
	if in_daemon_mnt "$XTWAMP" stats --pin-path "$PRIV_PIN" >"$XT_WORK/st.out" 2>&1; then
		xt_ok "xtwamp stats reads the pins in the private bpffs"
	else
		xt_fail "xtwamp stats in the private mount namespace"
		xt_indent "$XT_WORK/st.out"
	fi
	# Lazy: the daemon's lock on the pin directory keeps a plain umount busy.
	if in_daemon_mnt umount -l "$MNT"; then
		xt_ok "bpffs unmounted under the running daemon"
	else
		xt_fail "umount -l $MNT in the daemon's mount namespace"
	fi
	sleep 1.5
	log_has "unmount logged" "pin directory .* no longer on a bpf"
	ping_ok "still reflecting (unauthenticated)" "$ADDR4_R"
	ping_ok "still reflecting (TWAMP Light)" "$ADDR4_R" --light
	in_daemon_mnt "$XTWAMP" stats --pin-path "$PRIV_PIN" >"$XT_WORK/st2.out" 2>&1
	xt_log "xtwamp stats now: $(head -n 1 "$XT_WORK/st2.out")"
	idle_cpu "after the unmount"
	kill -TERM "$XT_DAEMON_PID"
	wait_exit 10
	[[ $EXIT_RC == 0 ]] && xt_ok "clean exit (status 0) after SIGTERM" ||
		xt_fail "exit status '$EXIT_RC' after SIGTERM"
	mode=$(xt_xdp_attached "$NS_R" "$IF_R")
	[[ $mode == none ]] && xt_ok "no XDP program left on $IF_R" ||
		xt_fail "XDP program ($mode) left on $IF_R"
fi

# ---- AF_XDP setup failing ------------------------------------------------
xt_section "AF_XDP unavailable"
export XTWAMPD_NO_AF_XDP=1
xt_start_daemon generic --keys "$KEYS" || xt_finish
unset XTWAMPD_NO_AF_XDP
log_has "XTWAMPD_NO_AF_XDP logged" "served by a UDP socket"
ping_ok "encrypted session over the UDP socket path" "$ADDR4_R" -A encrypted -u alice -k "$KEYS"
ping_ok "authenticated session over the UDP socket path" "$ADDR4_R" -A authenticated -u alice -k "$KEYS"
xt_stop_daemon

xt_section "AF_XDP UMEM refused (RLIMIT_MEMLOCK 64 KiB, no CAP_IPC_LOCK/CAP_SYS_RESOURCE)"
XT_DAEMON_LOG=$XT_WORK/xtwampd-memlock.log
nsenter --net="/run/netns/$NS_R" prlimit --memlock=65536:65536 \
	setpriv --inh-caps=-ipc_lock,-sys_resource --bounding-set=-ipc_lock,-sys_resource \
	"$XTWAMPD" --iface "$IF_R" --xdp-mode generic --pin-path "$PIN_DIR" -v --keys "$KEYS" \
	>"$XT_DAEMON_LOG" 2>&1 </dev/null &
XT_DAEMON_PID=$!
if xt_wait_ready "no memlock: xtwampd" grep -qw ready "$XT_DAEMON_LOG"; then
	log_has "the failure and the fallback logged" "AF_XDP.*(UDP socket|fall)|UDP socket.*AF_XDP"
	ping_ok "encrypted session after the AF_XDP failure" "$ADDR4_R" -A encrypted -u alice -k "$KEYS"
	ping_ok "unauthenticated session (XDP path) unaffected" "$ADDR4_R"
	xt_stop_daemon
fi

# ---- logs on a full disk ------------------------------------------------
xt_section "stderr on /dev/full"
XT_DAEMON_LOG=/dev/null
nsenter --net="/run/netns/$NS_R" "$XTWAMPD" --iface "$IF_R" --xdp-mode generic \
	--pin-path "$PIN_DIR" -v --keys "$KEYS" >/dev/full 2>&1 </dev/null &
XT_DAEMON_PID=$!
if xt_wait_ready "/dev/full: xtwampd" xt_stats_json "$XT_WORK/full.json"; then
	ping_ok "unauthenticated session" "$ADDR4_R"
	ping_ok "encrypted session" "$ADDR4_R" -A encrypted -u alice -k "$KEYS"
	ping_ok "TWAMP Light" "$ADDR4_R" --light
	idle_cpu "logging into /dev/full"
	xt_stop_daemon
fi

xt_section "log file on a full tmpfs (private mount namespace)"
LOGMNT=$XT_WORK/fulllog
mkdir -p "$LOGMNT"
unshare --mount --propagation private sh -c \
	'mount -t tmpfs -o size=16k tmpfs "$1" && { dd if=/dev/zero of="$1/fill" bs=4k count=64 2>/dev/null; true; } && exec nsenter --net="$2" "$3" --iface "$4" --xdp-mode generic --pin-path "$5" -v --keys "$6" 2>>"$1/xtwampd.log" >&2' \
	sh "$LOGMNT" "/run/netns/$NS_R" "$XTWAMPD" "$IF_R" "$PIN_DIR" "$KEYS" \
	>"$XT_WORK/fulllog.out" 2>&1 </dev/null &
XT_DAEMON_PID=$!
if xt_wait_ready "full tmpfs: xtwampd" xt_stats_json "$XT_WORK/full2.json"; then
	df=$(nsenter --mount="/proc/$XT_DAEMON_PID/ns/mnt" df -k --output=avail "$LOGMNT" | tail -n 1)
	xt_log "log tmpfs: ${df// /} kB available"
	ping_ok "unauthenticated session" "$ADDR4_R"
	ping_ok "encrypted session" "$ADDR4_R" -A encrypted -u alice -k "$KEYS"
	idle_cpu "logging into a full file system"
	xt_stop_daemon
fi

xt_finish

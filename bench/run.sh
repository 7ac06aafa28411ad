#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# run.sh - `make bench`: every configuration of bench/README.md in one run,
# alternated where it matters, into one table and bench/results/latest.json.
#
#     [ $NS_R: veth-r 192.0.2.1 ] <--> [ $NS_S: veth-s 192.0.2.2 ]
#       reflector under test             xtbench flood (generator, CPU 0)
#       NAPI thread (FIFO) + daemon,     sink + NAPI thread (FIFO) on CPU 0
#       CPU 1
#
# Bounded: each step has a time limit; the whole run takes about 5 minutes
# (mk/bench.mk stops it after 15).  Order: BPF_PROG_TEST_RUN cost, saturation
# (configurations alternated), loss-free rate (bisection), scaling (sessions,
# allow-list), latency, control plane.  bench/README.md explains each step.
# Environment: BENCH_REPS (3), BENCH_SECONDS (2 per saturation/scaling step),
# BENCH_LAT_COUNT (10000), BENCH_KEEP=1 (keep the raw files).

set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
XTWAMPD=$BUILD/xtwampd
XTWAMP=$BUILD/xtwamp
XTBENCH=$BUILD/bench/xtbench
OUT=$ROOT/bench/results/latest.json
REPS=${BENCH_REPS:-3}
SECS=${BENCH_SECONDS:-2}
LAT_COUNT=${BENCH_LAT_COUNT:-10000}

NS_R=xtb-r-$$
NS_S=xtb-s-$$
IF_R=veth-r
IF_S=veth-s
A_R=192.0.2.1
A_S=192.0.2.2
PIN=/sys/fs/bpf/xtwamp-bench-$$
WORK=$(mktemp -d /tmp/xtwamp-bench.XXXXXX)
SECRET=62656e63682d7365637265742d6f662d786477616d70 # "bench-secret-of-xdwamp"
DAEMON_PID=
SERVE_PID=
STATS_OLD=

log() { echo "# $*" >&2; }

LIVE=
stop_reflector() {
	local pid
	for pid in $DAEMON_PID $SERVE_PID; do
		kill -TERM "$pid" 2>/dev/null || continue
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		for _ in $(seq 20); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		# (no bare `wait`: a task stuck in the kernel would block us for good)
		if kill -0 "$pid" 2>/dev/null; then
			LIVE+=" $pid"
		else
			wait "$pid" 2>/dev/null
		fi
	done
	DAEMON_PID=
	SERVE_PID=
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_reflector
	if [[ -n $STATS_OLD && $(sysctl -n kernel.bpf_stats_enabled) != "$STATS_OLD" ]]; then
		log "kernel.bpf_stats_enabled changed during the run (not by us)"
	fi
	# Never delete a namespace under a live reflector: Linux 6.18 oopses in
	# cleanup_net (bpf_dev_bound_netdev_unregister) when a device-bound XDP
	# program outlives its veth, and the oops leaves RTNL held for good.
	if [[ -n $LIVE ]]; then
		log "reflector $LIVE did not exit: namespaces $NS_R $NS_S left in place"
	else
		ip netns del "$NS_R" 2>/dev/null
		ip netns del "$NS_S" 2>/dev/null
	fi
	rm -rf -- "$PIN"
	if [[ -n ${BENCH_KEEP:-} ]]; then echo "# kept $WORK" >&2; else rm -rf -- "$WORK"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

in_r() { nsenter --net="/run/netns/$NS_R" "$@"; }
in_s() { timeout -k 5 "${T:-60}" nsenter --net="/run/netns/$NS_S" "$@"; }

((EUID == 0)) || { echo "make bench needs root"; exit 1; }
[[ -x $XTBENCH && -x $XTWAMPD ]] || { echo "not built: make bench-build"; exit 1; }
if ! [[ $(stat -f -c %T /sys/fs/bpf 2>/dev/null) == bpf_fs ]]; then
	mount -t bpf bpf /sys/fs/bpf || exit 1
fi
T_START=$SECONDS
# ---- 1. per-packet cost, BPF_PROG_TEST_RUN (needs no namespace) ---------------
log "per-packet cost and scaling (BPF_PROG_TEST_RUN)"
timeout 120 "$XTBENCH" testrun >"$WORK/testrun.json" || { log "testrun failed"; exit 1; }

NCPU=$(nproc)
CPU_GEN=0
CPU_REFL=$((NCPU > 1 ? 1 : 0))

ip netns add "$NS_R" && ip netns add "$NS_S" || exit 1
ip -n "$NS_R" link add "$IF_R" type veth peer name "$IF_S" netns "$NS_S" || exit 1
ip -n "$NS_R" link set lo up
ip -n "$NS_S" link set lo up
ip -n "$NS_R" addr add "$A_R/24" dev "$IF_R"
ip -n "$NS_S" addr add "$A_S/24" dev "$IF_S"
ip -n "$NS_R" link set "$IF_R" up
ip -n "$NS_S" link set "$IF_S" up
# Locally generated UDP is CHECKSUM_PARTIAL on veth: complete it at the sender.
in_s ethtool -K "$IF_S" tx off >/dev/null 2>&1 || log "warning: ethtool -K tx off failed"
# ... and at the reflector, whose socket path sends its replies through the stack
timeout 10 nsenter --net="/run/netns/$NS_R" ethtool -K "$IF_R" tx off >/dev/null 2>&1 ||
	log "warning: ethtool -K $IF_R tx off failed"
MAC_R=$(ip -n "$NS_R" -br link show dev "$IF_R" | awk '{print $3}')
printf 'bench %s\n' "$SECRET" >"$WORK/keys"
chmod 600 "$WORK/keys"

# (ip netns exec where /sys/class/net must be the namespace's: it remounts /sys.)
# The sender's veth: a program (XDP_TX into veth needs one on the peer),
# threaded NAPI pinned to the generator's CPU so the reflector's CPU only
# reflects.
in_s "$XTBENCH" stub "$IF_S" || exit 1

napi_pids() { ps -eo pid,comm | awk 'index($2, "napi/") == 1 {print $1}' | sort; }

# threaded NS IF CPU: threaded NAPI on IF, its new thread(s) pinned to CPU.
# Other namespaces have veths of the same name: take only the threads that
# appeared just now.
threaded() {
	local before pid
	before=$(napi_pids)
	ip netns exec "$1" sh -c "echo 0 > /sys/class/net/$2/threaded; echo 1 > /sys/class/net/$2/threaded" ||
		log "warning: no threaded NAPI on $2"
	for pid in $(comm -13 <(echo "$before") <(napi_pids)); do
		taskset -pc "$3" "$pid" >/dev/null 2>&1
		# Real-time priority: other processes on this shared machine must
		# not make the reflector (or the sink) wait its turn for
		# milliseconds while its 256-frame veth ring overflows.
		chrt -f -p 50 "$pid" >/dev/null 2>&1 || log "warning: no SCHED_FIFO for $pid"
		# what the report shows: which thread ended up where
		echo "$2 $(ps -o comm= -p "$pid") cpu=$(taskset -pc "$pid" 2>/dev/null | awk '{print $NF}') $(chrt -p "$pid" | awk -F': ' 'NR==1 {print $2}' | tr -d ' ')" >>"$WORK/napi.txt"
	done
}
threaded "$NS_S" "$IF_S" "$CPU_GEN"

# Threaded NAPI on the reflector's veth, its thread and the daemon on CPU_REFL.
reflector_ready() {
	threaded "$NS_R" "$IF_R" "$CPU_REFL"
	if [[ -n $DAEMON_PID ]]; then
		taskset -apc "$CPU_REFL" "$DAEMON_PID" >/dev/null 2>&1
		# AF_XDP and socket paths: ahead of other processes, behind the NAPI thread
		renice -n -10 -p $(ls "/proc/$DAEMON_PID/task") >/dev/null 2>&1
	fi
	PROG_ID=$(ip -n "$NS_R" -d link show dev "$IF_R" | grep -o 'prog/xdp id [0-9]*' | awk '{print $3}' | head -n1)
}

wait_ready() { # LOG
	for _ in $(seq 100); do
		grep -qw ready "$1" 2>/dev/null && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	log "xtwampd not ready:"
	tail -n 20 "$1" >&2
	return 1
}

# start CONFIG: a (xtwampd XDP), b (bare), f (floor), d (AF_XDP), c (socket).
start() {
	stop_reflector
	[[ -z $LIVE ]] || return 1
	case $1 in
	b | f)
		# nsenter itself, not a function: $! must be the process to stop
		nsenter --net="/run/netns/$NS_R" "$XTBENCH" serve \
			"$([[ $1 == b ]] && echo bare || echo floor)" "$IF_R" 862 >"$WORK/serve.out" 2>&1 &
		SERVE_PID=$!
		sleep 0.5
		kill -0 "$SERVE_PID" 2>/dev/null || { cat "$WORK/serve.out" >&2; return 1; }
		;;
	a | d | c)
		local env=()
		[[ $1 == c ]] && env=(env XTWAMPD_NO_AF_XDP=1)
		nsenter --net="/run/netns/$NS_R" "${env[@]}" "$XTWAMPD" --iface "$IF_R" --xdp-mode native --pin-path "$PIN" \
			--rx-timestamp sw --rate-limit 0 --keys "$WORK/keys" --light-port 862 \
			--max-connections 2000 --max-connections-per-client 2000 \
			--max-sessions 20000 --max-sessions-per-connection 64 "${@:2}" \
			>"$WORK/daemon.log" 2>&1 &
		DAEMON_PID=$!
		wait_ready "$WORK/daemon.log" || return 1
		;;
	esac
	reflector_ready
}

# flood CONFIG ARGS... > json: the generator against the running reflector,
# each reply sampled and checked (headers swapped, checksums, the
# reflector's fields; keyed replies' HMAC verified), xtwamp's XDP counters
# read from its pinned map where xtwampd runs.
flood() {
	local c=$1 extra=()
	shift
	case $c in
	a) extra=(--check light --counters "$PIN/xtwamp_counters") ;;
	b) extra=(--check bare) ;;
	f) extra=(--check floor) ;;
	d | c) extra=(--check keyed --counters "$PIN/xtwamp_counters" --mode authenticated
		--user bench --secret "$SECRET" --sport 5000 --dport 5001) ;;
	esac
	local rc
	veth_stats >"$WORK/veth.before"
	# (niced: a generator preempted for milliseconds falls short of its rate)
	T=120 in_s nice -n -10 "$XTBENCH" flood --iface "$IF_S" --dst-mac "$MAC_R" --src "$A_S" --dst "$A_R" \
		--cpu "$CPU_GEN" --prog-id "${PROG_ID:-0}" "${extra[@]}" "$@"
	rc=$?
	# Where frames went missing, for BENCH_KEEP=1 post-mortems: the veths'
	# nonzero counter deltas over this flood.
	veth_stats | awk -v what="${NAME[$c]} $*" 'NR == FNR {b[$1] = $2; next}
		$2 - b[$1] {d = d " " $1 "=" $2 - b[$1]} END {print what ":" d}' "$WORK/veth.before" - \
		>>"$WORK/veth-deltas.txt"
	return $rc
}

veth_stats() { # "veth:counter value" lines of both veths
	timeout 10 nsenter --net="/run/netns/$NS_S" ethtool -S "$IF_S" 2>/dev/null | awk -v i="$IF_S" 'NF == 2 {sub(":", "", $1); print i ":" $1, $2}'
	timeout 10 nsenter --net="/run/netns/$NS_R" ethtool -S "$IF_R" 2>/dev/null | awk -v i="$IF_R" 'NF == 2 {sub(":", "", $1); print i ":" $1, $2}'
}

# Live ns per packet: xtbench flood holds a BPF_ENABLE_STATS descriptor
# while it runs (the same accounting as kernel.bpf_stats_enabled=1, ended by
# the kernel when xtbench exits), so the sysctl is never written; we only
# record that it is what it was.
STATS_OLD=$(sysctl -n kernel.bpf_stats_enabled)

CONFIGS="a b f d c"
declare -A NAME=([a]=xdp [b]=bare [f]=floor [d]=af_xdp [c]=socket)


# ---- 2. throughput at saturation, configurations alternated ------------------
for r in $(seq "$REPS"); do
	for c in $CONFIGS; do
		log "saturation, repetition $r, ${NAME[$c]}"
		start "$c" || { log "cannot start ${NAME[$c]}: skipped"; continue; }
		flood "$c" --rates 0 --seconds "$SECS" >"$WORK/sat-$c-$r.json" || log "flood ${NAME[$c]} failed"
	done
done
stop_reflector

# ---- 2b. highest offered rate with <= 0.1% loss ------------------------------
# Bisection in xtbench (7 steps of 1 s), from twice the median saturation
# figure down (a reflector that collapses under overload can take more when
# paced than it returns flat out).
for c in $CONFIGS; do
	hi=$(python3 - "$WORK" "$c" "$REPS" <<'EOF2'
import json, sys, statistics
w, c, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
v = []
for r in range(1, n + 1):
    try:
        v.append(json.load(open(f"{w}/sat-{c}-{r}.json"))["steps"][0]["reflected_pps"])
    except (OSError, ValueError, KeyError, IndexError):
        pass
print(int(max(2 * statistics.median(v), 2000)) if v else 0)
EOF2
)
	[[ $hi == 0 ]] && continue
	log "loss search ${NAME[$c]}: bisection below $hi pps"
	start "$c" || { log "cannot start ${NAME[$c]}: skipped"; continue; }
	flood "$c" --search "$hi" --steps 7 --seconds 1 >"$WORK/loss-$c.json" ||
		log "loss search ${NAME[$c]} failed"
done
stop_reflector

# ---- 2c. scaling: sessions in the map, allow-list size (live, flat out) ------
# One negotiated unauthenticated session carries the flood; filler sessions
# are added to xtwampd's pinned map between steps.  XT_MAX_SESSIONS (65,536)
# is the map's size: the "100,000" step holds what fits.
echo "allow = $A_S/32" >"$WORK/allow.conf"
for r in $(seq "$REPS"); do
	log "scaling, repetition $r: sessions 1..65,536"
	if start a; then
		T=180 flood a --mode unauthenticated --sport 5002 --dport 5003 \
			--sessions-map "$PIN/xtwamp_sessions" --sessions 1,100,10000,100000 \
			--seconds "$SECS" >"$WORK/scale-sessions-$r.json" || log "sessions scaling failed"
	fi
	for n in 1 10000; do
		log "scaling, repetition $r: allow-list of $n"
		start a --config "$WORK/allow.conf" || continue
		flood a --rates 0 --seconds "$SECS" --allow-map "$PIN/xtwamp_allow" --allow-prefixes "$n" \
			>"$WORK/scale-allow-$n-$r.json" || log "allow-list $n failed"
	done
done
stop_reflector

# ---- 3. latency: xtwamp ping --json at 1,000 pps -----------------------------
lat() { # NAME CONFIG PING-ARGS...
	local name=$1 c=$2
	shift 2
	log "latency $name ($LAT_COUNT packets at 1,000 pps)"
	start "$c" || return
	T=$((LAT_COUNT / 1000 + 30)) in_s "$XTWAMP" ping "$@" -c "$LAT_COUNT" -i 0.001 -W 1 --json \
		>"$WORK/lat-$name.json" 2>"$WORK/lat-$name.err" || log "ping $name: $(tail -n 2 "$WORK/lat-$name.err")"
}
# xtwamp ping rejects bare's replies (it echoes the request, no reflector
# fields): `xtbench rtt` times those the same way (T1 before send, T4 from
# SO_TIMESTAMPNS), and times xdp light too so the two tools can be compared.
rtt() { # NAME CONFIG
	log "latency $1 with xtbench rtt ($LAT_COUNT packets at 1,000 pps)"
	start "$2" || return
	T=$((LAT_COUNT / 1000 + 30)) in_s "$XTBENCH" rtt --dst "$A_R" --count "$LAT_COUNT" \
		--interval 0.001 >"$WORK/lat-$1.json" 2>"$WORK/lat-$1.err" || log "rtt $1 failed"
}
lat xdp_light a --light "$A_R"
rtt bare b
rtt xdp_light_rtt a
lat xdp_twamp a "$A_R"
lat af_xdp d "$A_R" -A authenticated -u bench -k "$WORK/keys"
lat socket c "$A_R" -A authenticated -u bench -k "$WORK/keys"
stop_reflector

# ---- 4. control plane ----------------------------------------------------------
ctrl() { # NAME CTRL-ARGS...
	local name=$1
	shift
	log "control plane: $name"
	start a || return
	T=240 in_s "$XTBENCH" ctrl --server "$A_R" --src "$A_S" "$@" >"$WORK/ctrl-$name.json" ||
		log "ctrl $name: failures (see JSON)"
	grep VmHWM "/proc/$DAEMON_PID/status" | awk '{print $2}' >"$WORK/ctrl-$name.hwm"
	stop_reflector
}
ctrl unauthenticated --conns 1000 --sessions 10
ctrl encrypted --conns 100 --sessions 10 --mode encrypted --user bench --secret "$SECRET"

# ---- report ----------------------------------------------------------------------
mkdir -p "$(dirname "$OUT")"
echo $((SECONDS - T_START)) >"$WORK/duration"
python3 "$ROOT/bench/report.py" "$WORK" "$REPS" "$OUT"

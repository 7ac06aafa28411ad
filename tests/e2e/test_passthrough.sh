#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# test_passthrough.sh - traffic that is not TWAMP-Test for us still works
# through an interface running xtwampd's XDP program: ICMP echo and TCP over
# both families, and UDP to a port the reflector does not own.  Native and
# generic mode.

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

xt_init

# A one-shot TCP or UDP echo server in the reflector namespace (python3:
# nothing else to install).  It answers one client and exits, bounded.
serve() { # serve tcp|udp ADDR PORT
	local ready=$XT_WORK/server.ready i
	rm -f "$ready"
	xt_in_r python3 - "$@" "$ready" <<'PY' &
import socket, sys
kind, addr, port, ready = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.settimeout(15)
if kind == "tcp":
    s.listen(1)
open(ready, "w").close()  # bound (and listening): the client may go
if kind == "tcp":
    c, _ = s.accept()
    c.settimeout(5)
    data = c.recv(4096)
    c.sendall(b"echo " + data + b"x" * 100000)  # big enough for several segments
    c.close()
else:
    data, peer = s.recvfrom(4096)
    s.sendto(b"echo " + data, peer)
PY
	SERVER_PID=$!
	# Wait until it is bound: a fixed sleep lost the race on a loaded machine.
	for ((i = 0; i < 100; i++)); do
		[[ -e $ready ]] && return 0
		kill -0 "$SERVER_PID" 2>/dev/null || return 1
		sleep 0.05
	done
}

client() { # client tcp|udp ADDR PORT: prints what came back
	xt_in_s python3 - "$@" <<'PY'
import socket, sys
kind, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
s.settimeout(5)
s.connect((addr, port))
s.send(b"hello")
got = b""
while True:
    d = s.recv(65536)
    got += d
    if not d or kind == "udp":
        break
print(got[:10].decode(), len(got))
PY
}

echo_check() { # echo_check tcp|udp ADDR PORT
	local got want
	serve "$@"
	got=$(client "$@" 2>&1)
	wait "$SERVER_PID"
	if [[ $1 == tcp ]]; then want="echo hello 100010"; else want="echo hello 10"; fi
	if [[ $got == "$want" ]]; then
		xt_ok "${1^^} to $2 port $3 passes ($got)"
	else
		xt_fail "${1^^} to $2 port $3: got '$got', expected '$want'"
	fi
}

for mode in ${XT_MODES:-native generic}; do
	xt_section "$mode mode"
	xt_start_daemon "$mode" || continue
	xt_check_attached "$mode"

	xt_check "ping $ADDR4_R" xt_in_s ping -n -c 3 -i 0.2 -W 2 "$ADDR4_R"
	xt_check "ping $ADDR6_R" xt_in_s ping -6 -n -c 3 -i 0.2 -W 2 "$ADDR6_R"
	echo_check tcp "$ADDR4_R" 8080
	echo_check tcp "$ADDR6_R" 8080
	echo_check udp "$ADDR4_R" 7777
	echo_check udp "$ADDR6_R" 7777

	f=$XT_WORK/stats.json
	if xt_stats_json "$f" && passed=$(xt_counter "$f" passed_total) && ((passed > 0)); then
		xt_ok "stats: passed_total $passed > 0"
	else
		xt_fail "stats: passed_total should be > 0 (${passed:-no stats})"
		xt_indent "$f"
		xt_indent "$f.err"
	fi

	xt_stop_daemon
	if [[ $mode == native ]]; then
		xt_sender_stub off
	fi
done

xt_finish

#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# test_packaging.sh - what can be checked of the deployment files without a
# cluster: the DaemonSet and scrape configs parse (promtool check config for
# the one Debian's Prometheus can load), the Grafana dashboard is JSON whose
# every PromQL expression promtool accepts and names only metrics xtwampd
# exports, the example config parses with xtwampd's own parser, `make
# install DESTDIR=...` puts exactly the expected files in place, the unit's
# capabilities are each documented and `systemd-analyze verify` accepts it,
# and `make uninstall` keeps only the configuration.
# Needs no namespaces and no root.
set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
P=$ROOT/packaging
fails=0
checks=0
ok() { checks=$((checks + 1)); echo "  ok   $*"; }
fail() { checks=$((checks + 1)); fails=$((fails + 1)); echo "  FAIL $*"; }
command -v promtool >/dev/null 2>&1 || { echo "SKIP: promtool not installed (scripts/deps.sh: prometheus)"; exit 77; }
WORK=$(mktemp -d /tmp/xtwamp-pkg.XXXXXX) || exit 1
trap 'rm -rf -- "$WORK"' EXIT

if python3 - "$P" <<'PY'; then
import json, sys, yaml
p = sys.argv[1]
docs = list(yaml.safe_load_all(open(p + "/kubernetes/xtwampd-daemonset.yaml")))
ds = [d for d in docs if d and d["kind"] == "DaemonSet"][0]
spec = ds["spec"]["template"]["spec"]
assert spec["hostNetwork"] is True
caps = spec["containers"][0]["securityContext"]["capabilities"]
assert caps["drop"] == ["ALL"] and "SYS_ADMIN" not in caps["add"] and "BPF" in caps["add"], caps
assert any(v.get("hostPath", {}).get("path") == "/sys/fs/bpf" for v in spec["volumes"])
yaml.safe_load(open(p + "/prometheus/prometheus-scrape-kubernetes.yml"))
json.load(open(p + "/grafana/xtwamp-dashboard.json"))
PY
	ok "DaemonSet (hostNetwork, capabilities, bpffs), k8s scrape fragment, dashboard parse"
else
	fail "packaging YAML/JSON"
fi
if promtool check config "$P/prometheus/prometheus-scrape.yml" >"$WORK/pc.out" 2>&1; then
	ok "promtool check config prometheus-scrape.yml"
else
	fail "promtool check config"; sed 's/^/       | /' "$WORK/pc.out"
fi

# Every dashboard expression as a recording rule: promtool parses the PromQL.
python3 - "$P/grafana/xtwamp-dashboard.json" "$WORK/rules.yml" "$WORK/names" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
exprs = [t["expr"] for p in d["panels"] for t in p["targets"]]
with open(sys.argv[2], "w") as f:
    f.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, e in enumerate(exprs):
        e = e.replace("$__rate_interval", "1m").replace("$instance", ".*")
        f.write("      - record: xtwamp:dashboard_%d\n        expr: %s\n" % (i, json.dumps(e)))
names = set(re.findall(r"\b(xtwamp_[a-z_]+)", " ".join(exprs)))
open(sys.argv[3], "w").write("\n".join(sorted(names)) + "\n")
PY
if promtool check rules "$WORK/rules.yml" >"$WORK/pr.out" 2>&1; then
	ok "promtool accepts the dashboard's $(grep -c record: "$WORK/rules.yml") PromQL expressions"
else
	fail "dashboard PromQL"; sed 's/^/       | /' "$WORK/pr.out"
fi
# The names must be ones xtwampd exports (from the counter X-macro and metrics.c).
missing=
while read -r n; do
	[[ $n == xtwamp_drop_ ]] && continue
	base=${n#xtwamp_}
	base=${base%_bucket}; base=${base%_sum}; base=${base%_count}
	grep -rqF "\"$base" "$ROOT/include/xtwamp_maps.h" "$ROOT/user/metrics.c" "$ROOT/user/daemon_state.c" ||
		missing+=" $n"
done <"$WORK/names"
[[ -z $missing ]] && ok "dashboard uses only exported metric names" || fail "dashboard names not exported:$missing"

if [[ -x $BUILD/xtwampd ]]; then
	st=$WORK/stage
	if "$BUILD/xtwampd" --config "$P/xtwampd.conf" --help >/dev/null 2>&1 &&
		make -s -C "$ROOT" install DESTDIR="$st" PREFIX=/usr >"$WORK/inst.out" 2>&1; then
		ok "make install DESTDIR=... PREFIX=/usr"
	else
		fail "make install"; sed 's/^/       | /' "$WORK/inst.out"
	fi
	# The layout, exactly: nothing missing, nothing unexpected.
	(cd "$st" && find . -type f -printf '%m %p\n' | sort) >"$WORK/layout"
	cat >"$WORK/layout.want" <<'LAYOUT'
644 ./etc/xtwamp/xtwampd.conf
644 ./lib/systemd/system/xtwampd.service
644 ./usr/share/doc/xtwamp/README.md
644 ./usr/share/doc/xtwamp/prometheus-scrape-kubernetes.yml
644 ./usr/share/doc/xtwamp/prometheus-scrape.yml
644 ./usr/share/doc/xtwamp/xtwamp-dashboard.json
644 ./usr/share/doc/xtwamp/xtwampd-daemonset.yaml
644 ./usr/share/doc/xtwamp/xtwampd.conf
755 ./usr/bin/xtwamp
755 ./usr/sbin/xtwampd
LAYOUT
	if diff "$WORK/layout.want" "$WORK/layout" >"$WORK/layout.diff"; then
		ok "install layout: $(wc -l <"$WORK/layout") files, modes as expected"
	else
		fail "install layout"; sed 's/^/       | /' "$WORK/layout.diff"
	fi
	unit=$st/lib/systemd/system/xtwampd.service
	if grep -q '^ExecStart=/usr/sbin/xtwampd --config /etc/xtwamp/xtwampd.conf$' "$unit" &&
		grep -q '^Documentation=file:/usr/share/doc/xtwamp/README.md ' "$unit" && ! grep -q '@[A-Z]*@' "$unit"; then
		ok "unit: ExecStart, Documentation and every @VAR@ substituted"
	else
		fail "unit substitutions"; grep -E '^(Exec|Doc)|@' "$unit" | sed 's/^/       | /'
	fi
	# Capabilities: bounding = ambient, each one explained in a comment, no SYS_ADMIN.
	if res=$(python3 - "$unit" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def caps(key):
    return re.search(r"^%s=(.*)$" % key, text, re.M).group(1).split()
b, a = caps("CapabilityBoundingSet"), caps("AmbientCapabilities")
assert b == a, f"bounding {b} != ambient {a}"
assert "CAP_SYS_ADMIN" not in b, "CAP_SYS_ADMIN"
for c in b:
    assert re.search(r"^#\s+%s\s+\S" % c, text, re.M), f"{c} has no comment saying why"
print(" ".join(b))
PY
	); then
		ok "unit capabilities, each documented: $res"
	else
		fail "unit capabilities: $res"
	fi
	if command -v systemd-analyze >/dev/null 2>&1; then
		# verify checks that ExecStart exists: point it at the staged binary.
		sed -e "s|^ExecStart=/usr/sbin/|ExecStart=$st/usr/sbin/|" "$unit" >"$WORK/xtwampd.service"
		if systemd-analyze verify "$WORK/xtwampd.service" >"$WORK/verify.out" 2>&1 &&
			! [[ -s $WORK/verify.out ]]; then
			ok "systemd-analyze verify: no warnings"
		else
			fail "systemd-analyze verify"; sed 's/^/       | /' "$WORK/verify.out"
		fi
	else
		echo "  (systemd-analyze not installed: unit not verified)"
	fi
	make -s -C "$ROOT" uninstall DESTDIR="$st" PREFIX=/usr >"$WORK/uninst.out" 2>&1
	left=$(cd "$st" && find . -type f | sort | tr '\n' ' ')
	if [[ $left == './etc/xtwamp/xtwampd.conf ' ]]; then
		ok "make uninstall: only the configuration kept"
	else
		fail "make uninstall left: $left"
	fi
fi
if ((fails)); then
	echo "$fails of $checks checks failed"
	exit 1
fi
echo "all $checks checks passed"

#!/bin/bash
# What the identity firewall costs: single-stream TCP through q2q from
# alice to bob with no policy and with 100 rules, alternating ROUNDS times
# in one run between the same two namespaces (netns-lib.sh), so the
# machine's load falls on both alike. The rules go in by `q2qctl reload`
# at the authority, which reaches bob within seconds over the link he
# keeps: the tunnel and its session stay up throughout. Of the 100 rules
# bob enforces, the one letting alice in (tcp/5201, icmp) is the last, so
# the first packet of each connection walks all of them; later packets
# are judged by the flow table.
#
#     q2q-$$-a                                   q2q-$$-b
#   authority example.com (192.0.2.1:8700)
#   alice@example.com  q2q0  <== UDP 8789 ==>  q2q0  bob@example.com
#   eth0 192.0.2.1  <-------- veth -------->   eth0 192.0.2.2
#
# Usage: sudo bench/policy.sh [BUILD_DIR]   (SECS=5 per iperf3 run, ROUNDS=3)
# Figures only; no pass/fail thresholds. Needs root, iperf3.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SECS=${SECS:-5}
ROUNDS=${ROUNDS:-3}
. "$HERE/netns-lib.sh"
. "$HERE/q2q-lib.sh"

[ "$(id -u)" = 0 ] || { echo "bench: needs root (network namespaces)" >&2; exit 1; }
q2q_bin "${1:-${O:-build}}"
command -v iperf3 >/dev/null || { echo "bench: needs iperf3 (apt-get install iperf3)" >&2; exit 1; }
q2q_scratch policy

# auth_rules N: the authority's config with N rules naming bob (0: no
# policy at all); 99 of them for identities and ports alice is not.
auth_rules() {
	local n=$1 i
	{
		echo "state_dir = \"$QT/auth/state\";"
		echo "control_socket = \"$QT/auth/q2qd.sock\";"
		echo 'log_level = "info";'
		echo 'port = 8790;'
		echo 'authority = { domain = "example.com"; listen = "192.0.2.1:8700"; };'
		if [ "$n" -gt 0 ]; then
			echo 'policy = ('
			for ((i = 1; i < n; i++)); do
				echo "  { from = \"user$i@example.com\"; to = \"bob@example.com\"; allow = [\"tcp/$((10000 + i))\", \"udp/$((20000 + i))-$((20010 + i))\"]; },"
			done
			echo '  { from = "alice@example.com"; to = "bob@example.com"; allow = ["tcp/5201", "icmp"]; }'
			echo ');'
		fi
	} > "$QT/auth/q2qd.conf"
}
# bob_rules: how many rules bob enforces now ("none" without a policy).
bob_rules() {
	qctl bob policy --json | python3 -c 'import json,sys
l = json.load(sys.stdin)["layers"][0]
print(len(l["rules"]) if l["present"] else "none")'
}
bob_has() { [ "$(bob_rules)" = "$1" ]; }
set_rules() {	# set_rules N: in force at bob within 10 s, or return 1
	local want=$1
	[ "$want" = 0 ] && want=none
	auth_rules "$1"
	qctl auth reload >/dev/null || return 1
	bench_wait 10 bob_has "$want"
}

echo "q2q policy bench $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); iperf3 -t $SECS, $ROUNDS rounds"
bench_ns_up || { echo "bench: could not create namespaces" >&2; exit 1; }
q2q_pair || exit 1
qctl alice up >/dev/null && qctl bob up >/dev/null || { echo "bench: q2qctl up failed"; exit 1; }
first_reply "$Q2Q_B4" 20 || { echo "bench: no ping reply from bob"; exit 1; }
hs0=$(qctl bob metrics | awk '$1 == "q2q_handshakes_completed_total" { print $2 }')
declare -a G0 G100
for ((r = 0; r < ROUNDS; r++)); do
	set_rules 0 || { echo "bench: the policy did not leave bob"; exit 1; }
	G0[r]=$(iperf_gbps "$Q2Q_B4" "$SECS")
	set_rules 100 || { echo "bench: 100 rules did not reach bob"; exit 1; }
	G100[r]=$(iperf_gbps "$Q2Q_B4" "$SECS")
	echo "round $((r + 1)): no policy ${G0[r]} Gbit/s, 100 rules ${G100[r]} Gbit/s"
done
hits=$(qctl bob policy --json | python3 -c 'import json,sys
l = json.load(sys.stdin)["layers"][0]; print(l["rules"][-1]["hits"])')
echo "bob's last rule let in $hits packets in the final 100-rule run; handshakes on bob: $hs0 before, $(qctl bob metrics | awk '$1 == "q2q_handshakes_completed_total" { print $2 }') after"
python3 - "${G0[*]}" "${G100[*]}" <<'PY'
import statistics, sys
a = [float(x) for x in sys.argv[1].split() if x != "fail"]
b = [float(x) for x in sys.argv[2].split() if x != "fail"]
if not a or not b:
    print("bench: iperf3 failed"); sys.exit(1)
ma, mb = statistics.median(a), statistics.median(b)
print("%-28s %10s %10s" % ("", "no policy", "100 rules"))
print("%-28s %10.3f %10.3f" % ("TCP 1 stream, median Gbit/s", ma, mb))
print("%-28s %10.3f %10.3f" % ("best run, Gbit/s", max(a), max(b)))
print("100 rules / no policy: %.3f (median), %.3f (best)" % (mb / ma, max(b) / max(a)))
PY

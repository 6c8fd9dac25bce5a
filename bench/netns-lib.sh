#!/bin/bash
# Shared helpers for q2q's benchmarks: two hosts "a" and "b", each in its
# own network namespace, joined by one veth pair (192.0.2.1 <-> 192.0.2.2).
# Every overlay under test runs between the same two namespaces, one after
# the other, so the figures are comparable. Traffic never leaves the
# namespaces; only TEST-NET and shared-address ranges are used.
#
#     q2q-$$-a                        q2q-$$-b
#   +-------------+    veth pair    +-------------+
#   | eth0        |-----------------| eth0        |
#   | 192.0.2.1   |                 | 192.0.2.2   |
#   +-------------+                 +-------------+
#
# Source it, then call bench_ns_up; bench_ns_down runs from the EXIT trap.

BENCH_PFX=${BENCH_PFX:-q2q-$$}
A=$BENCH_PFX-a
B=$BENCH_PFX-b
BENCH_PIDS=()

# bench_ns_up: creates both namespaces and the veth pair between them.
bench_ns_up() {
	ip netns add "$A" || return 1
	ip netns add "$B" || return 1
	# Created directly inside the namespaces, so the name "eth0" cannot
	# clash with anything on the host.
	ip link add eth0 netns "$A" type veth peer name eth0 netns "$B" || return 1
	ip -n "$A" addr add 192.0.2.1/24 dev eth0
	ip -n "$B" addr add 192.0.2.2/24 dev eth0
	local n
	for n in "$A" "$B"; do
		ip -n "$n" link set lo up
		ip -n "$n" link set eth0 up
	done
}

# bench_ns_down: ends every process in both namespaces (ours only: nothing
# else runs there), then deletes them. Safe to call twice.
bench_ns_down() {
	local n pid
	for n in "$A" "$B"; do
		for pid in $(ip netns pids "$n" 2>/dev/null); do kill "$pid" 2>/dev/null; done
	done
	for pid in "${BENCH_PIDS[@]}"; do
		for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	done
	for n in "$A" "$B"; do
		for pid in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
		ip netns del "$n" 2>/dev/null
	done
	BENCH_PIDS=()
}

# bench_wait SECONDS command...: polls until the command succeeds.
bench_wait() {
	local secs=$1 i; shift
	for ((i = 0; i < secs * 20; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

# now_ms: a monotonic-enough wall clock in milliseconds.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# tcp_listening NS PORT: true once something listens on TCP PORT in NS.
tcp_listening() { ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q .; }

# iperf_gbps SERVER_IP SECONDS [iperf3 client args]: TCP from a to b;
# prints the receiver's Gbit/s, or "fail".
iperf_gbps() {
	local ip=$1 secs=${2:-5} out
	shift 2
	ip netns exec "$B" iperf3 -s -1 -D -B "$ip" -p 5201 >/dev/null 2>&1
	bench_wait 5 tcp_listening "$B" 5201 || { echo fail; return; }
	out=$(timeout $((secs + 20)) ip netns exec "$A" iperf3 -c "$ip" -p 5201 -t "$secs" -J "$@" 2>/dev/null)
	python3 -c 'import json,sys
try:
    d = json.loads(sys.argv[1])
    print("%.3f" % (d["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception:
    print("fail")' "$out"
	# the one-off server ends by itself; make sure before the next run
	bench_wait 5 bash -c "! ip netns exec '$B' ss -Hltn 'sport = :5201' | grep -q ."
}

# udp_loss SERVER_IP SECONDS RATE: UDP from a to b at a fixed RATE (iperf3
# -b, e.g. 200M) with 1200-byte datagrams (they fit every tunnel's MTU, so
# no system is measured fragmenting); prints the percentage the receiver
# lost, or "fail".
udp_loss() {
	local ip=$1 secs=${2:-5} rate=$3 out
	ip netns exec "$B" iperf3 -s -1 -D -B "$ip" -p 5201 >/dev/null 2>&1
	bench_wait 5 tcp_listening "$B" 5201 || { echo fail; return; }
	out=$(timeout $((secs + 20)) ip netns exec "$A" iperf3 -c "$ip" -p 5201 -u -b "$rate" -l 1200 -t "$secs" -J 2>/dev/null)
	python3 -c 'import json,sys
try:
    d = json.loads(sys.argv[1])
    print("%.2f" % d["end"]["sum"]["lost_percent"])
except Exception:
    print("fail")' "$out"
	bench_wait 5 bash -c "! ip netns exec '$B' ss -Hltn 'sport = :5201' | grep -q ."
}

# drop_counters: where datagrams were dropped so far, as
# "A_TUN_TXDROP B_UDP_RCVBUF B_DAEMON_DROPS B_UDP_SNDBUF A_UDP_SNDBUF":
# packets q2q0 in a dropped for a full queue before the daemon read them,
# UDP receive-buffer overflows in b (all sockets), the drops of the data
# socket in b alone (the rest of the overflows are iperf3's), and the
# send-buffer overflows in b and a.
drop_counters() {
	local t
	t=$(ip netns exec "$A" cat /sys/class/net/q2q0/statistics/tx_dropped 2>/dev/null || echo 0)
	echo "$t $(snmp_udp "$B" RcvbufErrors) $(sock_drops "$B" 8789) $(snmp_udp "$B" SndbufErrors) $(snmp_udp "$A" SndbufErrors)"
}
# sock_drops NS PORT: datagrams the UDP sockets bound to PORT in NS dropped
# (ss's skmem d), whatever the reason.
sock_drops() {
	ip netns exec "$1" ss -H -uanm "sport = :$2" 2>/dev/null |
		sed -n 's/.*skmem:(.*,d\([0-9]*\)).*/\1/p' | awk '{ s += $1 } END { print s + 0 }'
}
# snmp_udp NS FIELD: Udp FIELD plus Udp6 FIELD in NS.
snmp_udp() {
	ip netns exec "$1" awk -v f="$2" '
		$1 == "Udp:" && !h { for (i = 2; i <= NF; i++) c[i] = $i; h = 1; next }
		$1 == "Udp:" && h { for (i = 2; i <= NF; i++) if (c[i] == f) s += $i }
		$1 == "Udp6"f { s += $2 }
		END { print s + 0 }' /proc/net/snmp /proc/net/snmp6
}

# ping_rtt IP [COUNT]: mean RTT in ms from a, or "fail".
ping_rtt() {
	local r
	r=$(ip netns exec "$A" ping -c "${2:-20}" -i 0.05 -W 2 -q "$1" 2>/dev/null | awk -F/ '/^rtt|^round-trip/{print $5}')
	echo "${r:-fail}"
}

# first_reply IP DEADLINE_S: returns once a sends a ping to IP and gets a
# reply (pinging every 10 ms), 1 if none came before the deadline.
first_reply() {
	local ip=$1 deadline=${2:-20} end
	end=$(($(date +%s) + deadline))
	while [ "$(date +%s)" -lt "$end" ]; do
		# ping gives up at once while no route exists yet; loop for that.
		ip netns exec "$A" ping -n -q -c 1 -i 0.01 -w 1 "$ip" >/dev/null 2>&1 && return 0
	done
	return 1
}

# rss_kib PID: resident set size of PID in KiB, or "n/a".
rss_kib() {
	local r
	r=$(ps -o rss= -p "$1" 2>/dev/null | tr -d ' ')
	echo "${r:-n/a}"
}

# rss_tree_kib PID: resident memory of PID and its children added up (q2qd
# runs as a privileged part with an engine, and a CA process on an
# authority); shared pages count once per process, so this overstates.
rss_tree_kib() {
	local sum=0 r p
	for p in "$1" $(pgrep -P "$1"); do
		r=$(ps -o rss= -p "$p" 2>/dev/null | tr -d ' ')
		[ -n "$r" ] && sum=$((sum + r))
	done
	echo "$sum"
}

# cpu_threads PID: "NAME user U s system S s" for each of PID's threads
# that used 0.1 s or more so far, separated by "; ".
cpu_threads() {
	local t hz
	hz=$(getconf CLK_TCK)
	for t in /proc/"$1"/task/*; do
		awk -v hz="$hz" -v comm="$(cat "$t/comm" 2>/dev/null)" '{ sub(/^.*\) /, "");
			if (($12 + $13) / hz >= 0.1) printf "%s user %.1f s system %.1f s\n", comm, $12 / hz, $13 / hz }' \
			"$t/stat" 2>/dev/null
	done | paste -sd';' | sed 's/;/; /g'
}

# udp_kpps SERVER_IP SECONDS: UDP from a to b as fast as iperf3 sends
# (-b 0) with 64-byte payloads; prints the thousands of datagrams per
# second the receiver got, or "fail".
udp_kpps() {
	local ip=$1 secs=${2:-5} out
	ip netns exec "$B" iperf3 -s -1 -D -B "$ip" -p 5201 >/dev/null 2>&1
	bench_wait 5 tcp_listening "$B" 5201 || { echo fail; return; }
	out=$(timeout $((secs + 20)) ip netns exec "$A" iperf3 -c "$ip" -p 5201 -u -b 0 -l 64 -t "$secs" -J 2>/dev/null)
	python3 -c 'import json,sys
try:
    s = json.loads(sys.argv[1])["end"]["sum"]
    print("%.1f" % ((s["packets"] - s["lost_packets"]) / s["seconds"] / 1e3))
except Exception:
    print("fail")' "$out"
	bench_wait 5 bash -c "! ip netns exec '$B' ss -Hltn 'sport = :5201' | grep -q ."
}

# cpu_ticks PID...: user + system clock ticks the processes (all their
# threads) have used so far, added up.
cpu_ticks() {
	local p t=0 v
	for p in "$@"; do
		v=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null) && t=$((t + v))
	done
	echo "$t"
}

# tcp_cpu SYS ADDR PID...: one TCP stream a -> b at ADDR (R[SYS.tcp_gbps])
# and the CPU seconds the daemons PID... spent per gigabit it carried
# (R[SYS.cpu_s_per_gbit]; "-" without daemons).
tcp_cpu() {
	local sys=$1 ip=$2 c0 c1
	shift 2
	c0=$(cpu_ticks "$@")
	R[$sys.tcp_gbps]=$(iperf_gbps "$ip" "$SECS")
	c1=$(cpu_ticks "$@")
	R[$sys.cpu_s_per_gbit]=$(python3 -c 'import sys
try:
    ticks, hz, gbps, secs, n = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
    print("%.2f" % (ticks / hz / (gbps * secs)) if n and gbps > 0 else "-")
except ValueError:
    print("-")' "$((c1 - c0))" "$(getconf CLK_TCK)" "${R[$sys.tcp_gbps]}" "$SECS" "$#")
}

# cpu_times PID: "user U s, system S s" the process has used so far.
cpu_times() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "user %.1f s, system %.1f s", $12 / hz, $13 / hz }' \
		"/proc/$1/stat" 2>/dev/null || echo "n/a"
}

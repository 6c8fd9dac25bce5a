#!/bin/bash
# Side-by-side benchmark, all in one run between the same two namespaces
# (see netns-lib.sh): plain veth (the ceiling), wireguard-go (userspace
# WireGuard on TUN: the yardstick), nebula (userspace, TUN, certificate
# identities: the design closest to q2q's; see nebula-lib.sh) and q2q.
# For each: ping RTT, iperf3 single-stream and 4-stream TCP throughput,
# UDP loss at 200 Mbit/s and 1 Gbit/s, the daemon's resident memory and
# CPU time after the traffic, and the time from bringing the overlay up on both
# hosts to the first ping reply (for q2q: `q2qctl up` on both, which
# includes creating q2q0, registering with the authority and the TLS 1.3
# handshake). q2q runs with its defaults (the path's MTU, found by
# probing; `workers` threads for the data path's crypto), then with
# workers = 1 (the event loop alone), the two alternating WROUNDS times
# (default 1), and last with q2q0 at 1280, the MTU it had before. Prints
# a table with q2q/wireguard-go and q2q/nebula ratios, and each daemon
# thread's CPU time. Without nebula (the Debian
# package cannot be installed) it says so and measures the rest.
#
#     q2q-$$-a                                   q2q-$$-b
#   authority example.com (192.0.2.1:8700, UDP 8700+8701)
#   alice@example.com  q2q0  <== UDP 8789 ==>  q2q0  bob@example.com
#   wga 198.18.0.1         <== UDP 51820 ==>   wgb 198.18.0.2
#   neba 198.18.1.1        <== UDP 4242 ==>    nebb 198.18.1.2
#   eth0 192.0.2.1  <-------- veth -------->   eth0 192.0.2.2
#
# Usage: sudo bench/q2q.sh [BUILD_DIR]     (default build; SECS=5 iperf3 time;
#        WROUNDS=2 for default/workers=1/default/workers=1; scratch
#        directories go under $TMPDIR, default /tmp)
# Figures only; no pass/fail thresholds. Needs root.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SECS=${SECS:-5}
WROUNDS=${WROUNDS:-1}
. "$HERE/netns-lib.sh"
. "$HERE/wireguard-go.sh"
. "$HERE/nebula-lib.sh"
. "$HERE/q2q-lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "bench: needs root (network namespaces)" >&2; exit 1
fi
q2q_bin "${1:-${O:-build}}"
missing=""
for t in wireguard-go:wireguard-go wg:wireguard-tools iperf3:iperf3 ping:iputils-ping ss:iproute2; do
	command -v "${t%%:*}" >/dev/null || missing="$missing ${t#*:}"
done
if [ -n "$missing" ]; then
	echo "bench: installing$missing"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
		{ echo "bench: could not install$missing" >&2; exit 1; }
fi
# nebula is optional: without it the rest is still measured.
HAVE_NEBULA=""
nebula_check && HAVE_NEBULA=1

# peers_down: the peers' teardown, for the EXIT trap.
peers_down() { wggo_down; nebula_down; }
q2q_scratch q2q peers_down

declare -A R	# R[system.metric] = value

# --- q2q helpers -----------------------------------------------------------
# drop_delta BEFORE AFTER: the drop_counters that moved, in words.
drop_delta() {
	python3 -c 'import sys
a, b = (list(map(int, x.split())) for x in sys.argv[1:3])
d = [y - x for x, y in zip(a, b)]
print("q2q0 queue full on a %d, UDP receive buffers full on b %d (q2qd data socket %d, so iperf3 %d),"
      " UDP send buffers full on b %d, on a %d" % (d[0], d[1], d[2], d[1] - d[2], d[3], d[4]))' "$1" "$2"
}

# q2q_bench SYS: brings the overlay up on alice and bob, then measures;
# fills R[SYS.*].
q2q_bench() {
	local sys=$1 b4 t0 a b d0
	b4=$(qctl bob status --json | jfield ipv4)
	[ -n "$b4" ] || { echo "bench: bob has no overlay IPv4"; return 1; }

	t0=$(now_ms)
	qctl alice up >"$QT/alice/up.out" 2>&1 & a=$!
	qctl bob up >"$QT/bob/up.out" 2>&1 & b=$!
	wait $a || { echo "bench: q2qctl up on alice failed:"; cat "$QT/alice/up.out"; return 1; }
	wait $b || { echo "bench: q2qctl up on bob failed:"; cat "$QT/bob/up.out"; return 1; }
	R[$sys.up_ms]=$(($(now_ms) - t0))
	if first_reply "$b4" 20; then
		R[$sys.first_reply_ms]=$(($(now_ms) - t0))
	else
		R[$sys.first_reply_ms]=fail
		echo "bench: no ping reply from bob ($b4) through q2q within 20 s"
	fi
	a=$(rss_tree_kib "$(cat "$QT/alice/pid")"); b=$(rss_tree_kib "$(cat "$QT/bob/pid")")
	R[$sys.rss_idle_kib]=$(printf '%s\n%s\n' "$a" "$b" | grep -E '^[0-9]+$' | sort -n | tail -1)
	R[$sys.rtt_ms]=$(ping_rtt "$b4")
	tcp_cpu "$sys" "$b4" "$(q2q_engine alice)" "$(q2q_engine bob)"
	R[$sys.tcp_gbps_P4]=$(iperf_gbps "$b4" "$SECS" -P 4)
	R[$sys.udp_kpps_64]=$(udp_kpps "$b4" "$SECS")
	d0=$(drop_counters)
	R[$sys.udp_loss_200]=$(udp_loss "$b4" "$SECS" 200M)
	R[$sys.drops_200]=$(drop_delta "$d0" "$(drop_counters)")
	R[$sys.udp_loss_1000]=$(udp_loss "$b4" "$SECS" 1G)
	a=$(rss_tree_kib "$(cat "$QT/alice/pid")"); b=$(rss_tree_kib "$(cat "$QT/bob/pid")")
	R[$sys.rss_kib]=$(printf '%s\n%s\n' "$a" "$b" | grep -E '^[0-9]+$' | sort -n | tail -1)
	R[$sys.rss_kib_sender]=$a
	R[$sys.rss_kib_receiver]=$b
	R[$sys.cpu]="a: $(cpu_times "$(q2q_engine alice)"); b: $(cpu_times "$(q2q_engine bob)")"
	R[$sys.threads]="a: $(cpu_threads "$(q2q_engine alice)") | b: $(cpu_threads "$(q2q_engine bob)")"
	R[$sys.workers]=$(qctl alice status --json | jfield workers)
	# proof the traffic went through the tunnel, not around it, and at
	# which MTU
	qctl alice peers --json > "$QT/peers.json" 2>/dev/null
	R[$sys.path]=$(python3 -c 'import json,sys
p = json.load(open(sys.argv[1]))["peers"][0]
print("%s via %s, path MTU %s, inner %s, q2q0 %s; alice sent %.0f MB in %d packets" % (p["path"], p["endpoint"],
      p.get("path_mtu"), p.get("mtu"), sys.argv[2], p["tx_bytes"] / 1e6, p["tx_packets"]))' \
		"$QT/peers.json" "$(ip netns exec "$A" cat /sys/class/net/q2q0/mtu 2>/dev/null)" 2>/dev/null || echo unknown)
	qctl alice down >/dev/null 2>&1
	qctl bob down >/dev/null 2>&1
}

# --- run -------------------------------------------------------------------
echo "q2q bench $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), kernel $(uname -r)"
echo "iperf3 -t $SECS; wireguard-go $(wireguard-go --version 2>/dev/null | sed -n 's/^wireguard-go //p' | head -1);" \
	"nebula $([ -n "$HAVE_NEBULA" ] && nebula_version || echo not installed); q2q from $BIN"
echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"
bench_ns_up || { echo "bench: could not create namespaces" >&2; exit 1; }

# measure SYS ADDR [PID...]: the traffic figures every system gets,
# towards b at ADDR, with the CPU per gigabit of its daemons PID...
measure() {
	local sys=$1 ip=$2
	shift 2
	R[$sys.rtt_ms]=$(ping_rtt "$ip")
	tcp_cpu "$sys" "$ip" "$@"
	R[$sys.tcp_gbps_P4]=$(iperf_gbps "$ip" "$SECS" -P 4)
	R[$sys.udp_kpps_64]=$(udp_kpps "$ip" "$SECS")
	R[$sys.udp_loss_200]=$(udp_loss "$ip" "$SECS" 200M)
	R[$sys.udp_loss_1000]=$(udp_loss "$ip" "$SECS" 1G)
}

echo "measuring plain veth..."
measure veth 192.0.2.2

echo "measuring wireguard-go..."
if wggo_up; then
	R[wg.first_reply_ms]=$WG_UP_MS
	R[wg.rss_idle_kib]=$(wggo_rss)
	measure wg "$WG_B_IP" "${WG_PIDS[@]}"
	R[wg.rss_kib]=$(wggo_rss)
	R[wg.cpu]=$(wggo_cpu)
else
	echo "bench: wireguard-go did not come up"
fi
wggo_down

if [ -n "$HAVE_NEBULA" ]; then
	echo "measuring nebula..."
	if nebula_up; then
		R[neb.first_reply_ms]=$NEB_UP_MS
		R[neb.rss_idle_kib]=$(nebula_rss)
		measure neb "$NEB_B_IP" "${NEB_PIDS[@]}"
		R[neb.rss_kib]=$(nebula_rss)
		R[neb.cpu]=$(nebula_cpu)
	else
		echo "bench: nebula did not come up"
	fi
	nebula_down
else
	echo "skipping nebula (not installed)"
fi

echo "measuring q2q..."
if q2q_pair; then
	q2q_bench q2q || echo "bench: q2q run incomplete (logs: KEEP=1 keeps $QT)"
	# The data path on the event loop alone against the default threads,
	# alternating, so a change in the machine's load falls on both.
	for ((r = 1; r <= WROUNDS; r++)); do
		sfx=$([ "$r" = 1 ] || echo "_r$r")
		if [ "$r" -gt 1 ]; then
			echo "measuring q2q (defaults), round $r..."
			{ q2q_restart && q2q_bench "q2q$sfx"; } || echo "bench: q2q round $r incomplete"
		fi
		echo "measuring q2q with workers = 1, round $r..."
		{ q2q_restart "workers = 1;" && q2q_bench "q2qw1$sfx"; } || echo "bench: q2q (workers 1) run incomplete"
	done
	# The same with q2q0 at 1280, the MTU before path MTU probing: the
	# effect of the larger MTU, in the same run.
	echo "measuring q2q with mtu = 1280..."
	{ q2q_restart "mtu = 1280;" && q2q_bench q2q1280; } || echo "bench: q2q (mtu 1280) run incomplete"
else
	echo "bench: q2q could not enroll (logs: KEEP=1 keeps $QT)"
fi

# --- table -----------------------------------------------------------------
echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
for k in "${!R[@]}"; do echo "$k=${R[$k]}"; done | python3 -c '
import sys
r = dict(l.rstrip("\n").split("=", 1) for l in sys.stdin if "=" in l)
rows = [
    ("ping RTT, ms (lower is better)", "rtt_ms"),
    ("TCP 1 stream, Gbit/s", "tcp_gbps"),
    ("TCP 4 streams, Gbit/s", "tcp_gbps_P4"),
    ("UDP 64-byte datagrams, thousand/s", "udp_kpps_64"),
    ("UDP loss at 200 Mbit/s, %", "udp_loss_200"),
    ("UDP loss at 1 Gbit/s, %", "udp_loss_1000"),
    ("CPU s per Gbit (1 stream, both)", "cpu_s_per_gbit"),
    ("daemon RSS idle (tunnel up), KiB", "rss_idle_kib"),
    ("daemon RSS after test, KiB", "rss_kib"),
    ("start to first ping reply, ms", "first_reply_ms"),
]
def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None
def ratio(q, p):
    return "%.2fx" % (num(q) / num(p)) if num(q) is not None and num(p) else "-"
fmt = "%-32s %11s %13s %9s %9s %10s %11s %9s %9s %9s"
print(fmt % ("", "plain veth", "wireguard-go", "nebula", "q2q", "q2q/wg-go", "q2q/nebula", "q2q w=1", "q2q/w=1",
             "q2q@1280"))
for label, key in rows:
    v, w, n, q, q1, qw = (r.get(s + "." + key, "-") for s in ("veth", "wg", "neb", "q2q", "q2q1280", "q2qw1"))
    print(fmt % (label, v, w, n, q, ratio(q, w), ratio(q, n), qw, ratio(q, qw), q1))
rounds = sorted({k.split(".")[0][len("q2q_r"):] for k in r if k.startswith("q2q_r")}, key=int)
if rounds:
    print("\nq2q, default threads against workers = 1, alternating (TCP Gbit/s, 1 stream / 4 streams):")
    for sfx in [""] + ["_r" + x for x in rounds]:
        print("  round %-3s defaults %s / %s   workers = 1 %s / %s" % (sfx[2:] or "1",
              r.get("q2q%s.tcp_gbps" % sfx, "-"), r.get("q2q%s.tcp_gbps_P4" % sfx, "-"),
              r.get("q2qw1%s.tcp_gbps" % sfx, "-"), r.get("q2qw1%s.tcp_gbps_P4" % sfx, "-")))
if "q2q.up_ms" in r:
    print("\nq2q: both `q2qctl up` returned after %s ms; RSS sender %s KiB, receiver %s KiB" %
          (r["q2q.up_ms"], r.get("q2q.rss_kib_sender", "-"), r.get("q2q.rss_kib_receiver", "-")))
    print("q2q: tunnel %s" % r.get("q2q.path", "unknown"))
    print("q2q@1280 (q2q0 at the old fixed MTU, same daemons restarted): tunnel %s" % r.get("q2q1280.path", "unknown"))
    print("q2q: datagrams dropped during the 200 Mbit/s UDP run: %s" % r.get("q2q.drops_200", "-"))
print("CPU used by the daemons over the whole run (a sends, b receives):")
print("  wireguard-go  %s" % r.get("wg.cpu", "-"))
print("  nebula        %s" % r.get("neb.cpu", "-"))
print("  q2qd          %s" % r.get("q2q.cpu", "-"))
print("  q2qd w=1      %s" % r.get("q2qw1.cpu", "-"))
print("  q2qd at 1280  %s" % r.get("q2q1280.cpu", "-"))
print("q2qd engine threads (q2qd-dpN: the data-path workers), a | b:")
for s, name in (("q2q", "defaults (%s threads)" % r.get("q2q.workers", "?")), ("q2qw1", "workers = 1")):
    print("  %-22s %s" % (name, r.get(s + ".threads", "-")))
print("RSS is the larger of the two daemons (q2q: all its processes added up). wireguard-go: start both daemons,"
      " configure, first reply; nebula: start both daemons (certificates made before), first reply; q2q: `q2qctl up` on both (TUN, authority, TLS 1.3), first reply.")
'

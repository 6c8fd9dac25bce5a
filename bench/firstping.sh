#!/bin/bash
# Where the time from `q2qctl up` to the first ping reply goes, as
# bench/q2q.sh measures it ("start to first ping reply"): the same two
# namespaces, authority and nodes, ROUNDS times (fresh daemons first, then
# restarted ones, as q2q.sh's q2q@1280 run), with packet captures on both
# hosts and `ip monitor` on a giving each step's time from the moment both
# `up` requests went out. Prints one line per round and the medians. With
# a second build, the restarts alternate between the two (same state
# directories), so both are measured in one run, under the same load.
#
#     q2q-$$-a                                   q2q-$$-b
#   authority example.com (192.0.2.1:8700)
#   alice@example.com  q2q0  <== UDP 8789 ==>  q2q0  bob@example.com
#   eth0 192.0.2.1  <-------- veth -------->   eth0 192.0.2.2
#
# Usage: sudo bench/firstping.sh [BUILD_DIR [OTHER_BUILD_DIR]]
#        (ROUNDS=10; needs tcpdump)
# Figures only; the captures cost a little time themselves.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROUNDS=${ROUNDS:-10}
. "$HERE/netns-lib.sh"
. "$HERE/q2q-lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "bench: needs root (network namespaces)" >&2; exit 1
fi
command -v tcpdump >/dev/null || { echo "bench: needs tcpdump" >&2; exit 1; }
BINS=()
for b in "${1:-${O:-build}}" ${2:+"$2"}; do q2q_bin "$b"; BINS+=("$BIN"); done
BIN=${BINS[0]}
q2q_scratch firstping true
echo "q2q first-ping timeline $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, q2q from ${BINS[*]}, load average $(cut -d' ' -f1-3 /proc/loadavg)"
bench_ns_up || { echo "bench: could not create namespaces" >&2; exit 1; }
q2q_pair || { echo "bench: q2q could not enroll (KEEP=1 keeps $QT)"; exit 1; }

# capture NS FILE: tcpdump on every interface of NS (q2q0 too, once it
# exists); returns once it captures. Its pid goes to FILE.pid.
capture() {
	ip netns exec "$1" tcpdump -Z root -U --immediate-mode -n -i any -s 128 -w "$2" 'tcp port 8700 or udp port 8789 or icmp' \
		2>"$2.err" &
	echo $! > "$2.pid"
	bench_wait 5 grep -q 'listening on' "$2.err"
}
stop() { kill -INT "$(cat "$1.pid")" 2>/dev/null; wait "$(cat "$1.pid")" 2>/dev/null; }

for ((round = 1; round <= ROUNDS; round++)); do
	r=$QT/r$round
	capture "$A" "$r.a.pcap" && capture "$B" "$r.b.pcap" || { echo "bench: tcpdump did not start"; exit 1; }
	ip netns exec "$A" ip -ts monitor link address route rule > "$r.mon" 2>&1 & mon=$!
	sleep 0.2
	t0=$(date +%s.%N)
	qctl alice up >/dev/null 2>&1 & a=$!
	qctl bob up >/dev/null 2>&1 & b=$!
	wait $a; ta=$(date +%s.%N)
	wait $b; tb=$(date +%s.%N)
	first_reply "$Q2Q_B4" 20
	t1=$(date +%s.%N)
	sleep 0.2
	kill $mon 2>/dev/null; wait $mon 2>/dev/null
	stop "$r.b.pcap"; stop "$r.a.pcap"
	echo "$t0 $ta $tb $t1 $BIN" > "$r.times"
	qctl alice down >/dev/null 2>&1
	qctl bob down >/dev/null 2>&1
	# From the second round on, the bench's restart (as q2q.sh's
	# q2q@1280), with the builds in turn.
	BIN=${BINS[round % ${#BINS[@]}]}
	q2q_restart "mtu = 1280;" || exit 1
done
echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$QT" "$ROUNDS" <<'EOF'
import re, socket, struct, sys, datetime, statistics
qt, rounds = sys.argv[1], int(sys.argv[2])

def packets(path):
    """(time, src, sport, dst, dport, proto, payload) of each IPv4 packet
    in a pcap of tcpdump -i any (Linux cooked v1 or v2)."""
    out = []
    data = open(path, "rb").read()
    if len(data) < 24:
        return out
    e = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    nano = data[:4] in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    link = struct.unpack(e + "I", data[20:24])[0]
    hl = {113: 16, 276: 20}.get(link)
    off = 24
    while hl and off + 16 <= len(data):
        sec, frac, incl = struct.unpack(e + "III", data[off:off + 12])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        proto = pkt[0:2] if link == 276 else pkt[14:16]
        if proto != b"\x08\x00" or len(pkt) < hl + 20:
            continue
        ip = pkt[hl:]
        ihl = (ip[0] & 15) * 4
        t = sec + frac / (1e9 if nano else 1e6)
        src, dst, p = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20]), ip[9]
        sp = dp = 0
        body = ip[ihl:]
        if p == 6 and len(body) >= 20:
            sp, dp = struct.unpack(">HH", body[:4])
            flags = body[13]
            body = body[(body[12] >> 4) * 4:]
            out.append((t, src, sp, dst, dp, "tcp", body, flags))
        elif p == 17 and len(body) >= 8:
            sp, dp = struct.unpack(">HH", body[:4])
            out.append((t, src, sp, dst, dp, "udp", body[8:], 0))
        elif p == 1:
            out.append((t, src, 0, dst, 0, "icmp", body, 0))
    return out

def monitor(path, t0):
    """Seconds after t0 of q2q0's creation, its first address, its first
    route, the policy rule (the nftables guard follows it)."""
    ev = {}
    for l in open(path, errors="replace"):
        m = re.match(r"\[(\d+-\d+-\d+T\d+:\d+:\d+\.\d+)\]\s*(.*)", l)
        if not m:
            continue
        line = m[2]
        if re.match(r"\d+:\s", line) and "lookup" in line:
            kind = "rule"
        elif "q2q0" not in line:
            continue
        else:
            kind = "addr" if " inet" in line else "route" if "proto static" in line or "table" in line else "link"
        ev.setdefault(kind, datetime.datetime.fromisoformat(m[1]).timestamp() - t0)
    return ev

steps = ["q2q0 made", "q2q0 addr", "q2q0 route", "rule", "alice SYN", "bob SYN", "alice up", "bob up",
         "echo out", "LOOKUP", "BROKER", "BROKER_OK", "PEER", "HELLO", "COOKIE", "HS first", "HS last",
         "DATA", "echo reply", "first reply"]
rows = []
for r in range(1, rounds + 1):
    base = "%s/r%d" % (qt, r)
    try:
        f = open(base + ".times").read().split()
        t0, ta, tb, t1 = map(float, f[:4])
        build = f[4]
        pa, pb = packets(base + ".a.pcap"), packets(base + ".b.pcap")
    except (OSError, ValueError):
        continue
    at = {}
    mon = monitor(base + ".mon", t0)
    at["q2q0 made"], at["q2q0 addr"], at["q2q0 route"] = mon.get("link"), mon.get("addr"), mon.get("route")
    at["rule"] = mon.get("rule")
    first = lambda ps, f: next((p[0] - t0 for p in ps if f(p)), None)
    at["alice SYN"] = first(pa, lambda p: p[5] == "tcp" and p[4] == 8700 and p[1] == "192.0.2.1" and p[7] & 0x12 == 0x02)
    at["bob SYN"] = first(pb, lambda p: p[5] == "tcp" and p[4] == 8700 and p[7] & 0x12 == 0x02)
    at["alice up"], at["bob up"] = ta - t0, tb - t0
    echo = first(pa, lambda p: p[5] == "icmp" and p[3].startswith("100.64.") and p[6][:1] == b"\x08")
    at["echo out"] = echo
    after = lambda ps, f, t: next((p[0] - t0 for p in ps if p[0] - t0 >= t and f(p)), None) if t is not None else None
    # The authority's side of alice's link (loopback in a): payload only.
    data_to_auth = lambda p: p[5] == "tcp" and p[4] == 8700 and p[2] != 0 and len(p[6]) > 0
    at["LOOKUP"] = after(pa, lambda p: data_to_auth(p) and p[1] == p[3] == "192.0.2.1", echo)
    at["BROKER"] = after(pb, lambda p: p[5] == "tcp" and p[2] == 8700 and len(p[6]) > 0, at["LOOKUP"])
    at["BROKER_OK"] = after(pb, lambda p: data_to_auth(p), at["BROKER"])
    at["PEER"] = after(pa, lambda p: p[5] == "tcp" and p[2] == 8700 and p[3] == "192.0.2.1" and len(p[6]) > 0,
        at["BROKER_OK"])
    udp = lambda ty: (lambda p: p[5] == "udp" and p[4] == 8789 and p[2] == 8789 and p[6][:1] == bytes([ty]))
    at["HELLO"] = after(pa, lambda p: udp(1)(p) and p[1] == "192.0.2.1", at["PEER"] or 0)
    at["COOKIE"] = after(pa, lambda p: udp(2)(p) and p[1] == "192.0.2.2", at["HELLO"])
    at["HS first"] = after(pa, udp(3), at["COOKIE"])
    hs = [p[0] - t0 for p in pa if udp(3)(p)]
    at["HS last"] = hs[-1] if hs else None
    at["DATA"] = after(pa, lambda p: udp(4)(p) and p[1] == "192.0.2.1", at["HS first"])
    at["echo reply"] = after(pa, lambda p: p[5] == "icmp" and p[1].startswith("100.64.") and p[6][:1] == b"\x00", echo)
    at["first reply"] = t1 - t0
    if r > 1:
        rows.append((build, at))
    print("round %2d %s%s:" % (r, build, " (fresh daemons)" if r == 1 else ""), " ".join(
        "%s %s" % (s.replace(" ", "_"), "-" if at.get(s) is None else "%.0f" % (at[s] * 1000)) for s in steps))
for build in sorted(set(b for b, _ in rows)):
    mine = [a for b, a in rows if b == build]
    print("\n%s, restarted daemons: median ms after both `q2qctl up` were sent (%d rounds;"
          " step: time, and since the step before):" % (build, len(mine)))
    prev = 0.0
    for s in steps:
        v = [a[s] for a in mine if a.get(s) is not None]
        if not v:
            print("  %-12s -" % s)
            continue
        m = statistics.median(v) * 1000
        print("  %-12s %6.1f  (+%.1f)" % (s, m, m - prev))
        prev = m
EOF

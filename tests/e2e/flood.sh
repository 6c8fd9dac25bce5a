#!/bin/bash
# An established tunnel under a flood of its data port. mallory floods
# bob's UDP 8789 at a bounded rate, from spoofed sources (198.18.0.0/15
# for IPv4, one /64 2001:db8:66::/64 for IPv6), with (a) random bytes,
# (b) HELLOs and HS datagrams with a valid mac1 for bob, (c) replays of
# the datagrams carol sent bob in a real handshake (HS, PUNCH_ACK, DATA),
# every 8th from carol's own address. Bob routes the spoofed ranges to
# sink, so whatever bob answers to them is seen there. During each flood:
# alice's iperf3 goodput to bob against a baseline (a figure; the test
# asserts only a floor), a peer bob has never seen completes a handshake
# within 5 s, mallory's own addresses receive nothing from bob, bob's
# COOKIEs to spoofed sources stay within their cap, no spoofed address
# becomes a candidate, RSS stays bounded and `q2qctl status` answers;
# under the replays bob answers none of carol's old handshake (a cookie
# opens one). After each goodput run, with the flood still on and no
# tunnel traffic, the engine's CPU time and wakeups per datagram received
# are figures, and under random bytes bob's data port rests (its reads put
# off while only strays come: tund/overlay/rxrest.c). Bob's UDP receive
# buffer overflows during each goodput run are a figure.
#
#                 wan bridge (192.0.2.0/24, 2001:db8::/64)
#   +--------+--------+--------+--------+--------+--------+---------+
#   |        |        |        |        |        |        |         |
#  auth     alice    bob      carol    new1..3  mallory   sink
#  .10      .11      .12 ::12 .13      .21-     .66 ::66  .99 ::99
#           iperf3   q2q0              (one per  floodgen (bob routes
#           client   iperf3 server      flood)            198.18/15 and
#                                                         2001:db8:66::/64 here)
#
# FLOOD_SECS (default 8) per kind, RATE datagrams/s (default 4000: the
# flooder shares the CPUs with the tunnel; bench/flood.sh uses 10,000),
# KINDS (default "replay random hello"), ROUNDS (default 1): every kind
# that many times, each flood between two baselines, its ratio taken
# against their mean, so a load that drifts during the run weighs on both.
# PULSE (seconds, default 0: off; bench/flood.sh uses 2): after the rest,
# one more iperf3 run of 2 x FLOOD_SECS while the flood is stopped and let
# on every PULSE s, bob's q2q0 receive rate compared between the two: a
# baseline interleaved with the flood at that grain, against the drift
# of a shared machine's load that 20 s baselines cannot follow.
. "$(dirname "$0")/lib.sh"
e2e_init flood
SECS=${FLOOD_SECS:-8}
RATE=${RATE:-4000}
# Replays first: carol's cookie (good for 120-240 s) must still be
# valid when her first segment comes again, or bob would refuse it anyway.
KINDS=${KINDS:-replay random hello}
ROUNDS=${ROUNDS:-1}
PULSE=${PULSE:-0}
CPU_SECS=4			# the engine's CPU per datagram, measured so long
RTT_SECS=3			# pings every 0.1 s: more than rxrest.c's quiet spell apart
FLOOD_LEN=$((SECS + CPU_SECS + RTT_SECS + 10))	# goodput, CPU window, pings, a new peer's handshake
read -ra KIND_LIST <<<"$KINDS"
NNEW=$((${#KIND_LIST[@]} * ROUNDS))
GEN=$(cd "$(dirname "$0")" && pwd)/floodgen.py

wan_up
host_add auth 192.0.2.10/24
host_add alice 192.0.2.11/24
host_add bob 192.0.2.12/24
host_add carol 192.0.2.13/24
NEWS=""
for ((i = 1; i <= NNEW; i++)); do host_add new$i 192.0.2.$((20 + i))/24; NEWS="$NEWS new$i"; done
host_add mallory 192.0.2.66/24
host_add sink 192.0.2.99/24
for n in bob mallory sink; do
	nsx $n sysctl -qw net.ipv6.conf.eth0.accept_dad=0
	nsx $n sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0
done
nsx bob ip addr add 2001:db8::12/64 dev eth0 nodad
nsx mallory ip addr add 2001:db8::66/64 dev eth0 nodad
nsx sink ip addr add 2001:db8::99/64 dev eth0 nodad
nsx bob ip route add 198.18.0.0/15 via 192.0.2.99
nsx bob ip -6 route add 2001:db8:66::/64 via 2001:db8::99
# sink takes whatever comes (it does not forward, so nothing goes further).
nsx sink ip route add local 198.18.0.0/15 dev lo
nsx sink ip -6 route add local 2001:db8:66::/64 dev lo

q2qd_conf auth 'authority = { domain = "example.com"; listen = "0.0.0.0:8788"; };'
NODES="alice bob carol$NEWS"
for n in $NODES; do q2qd_conf $n 'port = 8789;'; done
for n in auth $NODES; do q2qd_start $n || exit 1; done
for n in $NODES; do check "$n enrolls" ovl_enroll $n $n@example.com auth 192.0.2.10:8788; done
check "alice up" ctl alice up
check "bob up" ctl bob up
wait_for 15 ctl alice resolve bob@example.com
B4=$(ctl alice resolve bob@example.com 2>/dev/null)
[ -n "$B4" ] || { echo "cannot continue without bob's address"; e2e_finish; exit 1; }
check "alice pings bob" wait_for 15 ovl_ping alice "$B4"

# carol's first handshake with bob, captured on bob's side: what (c) replays.
cap_start bob eth0 "$T/hs.pcap" udp port 8789
check "carol up" ctl carol up
check "carol pings bob (first handshake)" wait_for 15 ovl_ping carol "$B4"
nsx carol ping -c3 -i0.2 -W1 "$B4" >/dev/null
cap_stop "$T/hs.pcap"
pcap_udp "$T/hs.pcap" | awk '$1 == "192.0.2.13:8789" && $2 == "192.0.2.12:8789"' > "$T/replay.txt"
check "the capture holds carol's HS datagrams to replay" grep -q ' 03' "$T/replay.txt"
check "the capture holds carol's PUNCH_ACKs (or PUNCHes) to replay" grep -qE ' 0[9a]000000' "$T/replay.txt"

nsx bob iperf3 -s -D -B "$B4" -p 5201 >/dev/null 2>&1
check "iperf3 server on bob" wait_for 5 ovl_listening bob 5201
# goodput SECONDS: alice -> bob, bits per second received.
goodput() {
	nsx alice timeout $(($1 + 20)) iperf3 -c "$B4" -p 5201 -t "$1" -J 2>/dev/null |
		jq_get end.sum_received.bits_per_second 2>/dev/null | cut -d. -f1
}
# mean_of N...: their mean, two decimals.
mean_of() { python3 -c 'import sys; v = [float(x) for x in sys.argv[1:]]; print("%.2f" % (sum(v) / len(v)) if v else "none")' "$@"; }
# pcap_types FILE: how many UDP datagrams (IPv4 and IPv6) of each q2q type
# (the payload's first byte) FILE holds, "type=count" sorted.
pcap_types() {
	python3 -c 'import struct,sys,collections
d = open(sys.argv[1], "rb").read(); c = collections.Counter()
e = "<" if d[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
off = 24
while off + 16 <= len(d):
    n = struct.unpack(e + "I", d[off + 8:off + 12])[0]; pkt = d[off + 16:off + 16 + n]; off += 16 + n
    et = pkt[12:14]; ip = pkt[14:]
    if et == b"\x08\x00" and len(ip) > 28 and ip[9] == 17:
        u = ip[(ip[0] & 15) * 4 + 8:]
    elif et == b"\x86\xdd" and len(ip) > 48 and ip[6] == 17:
        u = ip[48:]
    else:
        continue
    c[u[0] if u else -1] += 1
print(" ".join("%d=%d" % kv for kv in sorted(c.items())))' "$1"
}
rss_kb() { proc_field "$(q2qd_engine bob)" VmRSS; }
# engine_cpu_ns: CPU time bob's engine has used, all its threads, in ns.
engine_cpu_ns() { cat /proc/"$(q2qd_engine bob)"/task/*/schedstat | awk '{n += $1} END {printf "%.0f\n", n}'; }
# engine_sleeps: times bob's engine (all threads) went to sleep: one per
# wakeup of its event loop.
engine_sleeps() { cat /proc/"$(q2qd_engine bob)"/task/*/status | awk '$1 == "voluntary_ctxt_switches:" {n += $2} END {print n + 0}'; }
# udp_in: UDP datagrams bob's kernel delivered to sockets (IPv4 and IPv6).
udp_in() {
	nsx bob cat /proc/net/snmp /proc/net/snmp6 | awk '$1 == "Udp:" && $2 ~ /^[0-9]+$/ {n += $2}
		$1 == "Udp6InDatagrams" {n += $2} END {print n + 0}'
}
# udp_rcvbuf_errs: datagrams bob's kernel dropped for a full receive buffer.
udp_rcvbuf_errs() {
	nsx bob cat /proc/net/snmp /proc/net/snmp6 | awk '$1 == "Udp:" && $6 ~ /^[0-9]+$/ {n += $6}
		$1 == "Udp6RcvbufErrors" {n += $2} END {print n + 0}'
}
# udp_rests: times bob's data port rested (q2qctl status).
udp_rests() { local v; v=$(ctl bob status --json | jq_get udp_rests); echo "${v:-none}"; }
# cpu_window SECONDS: "NS DATAGRAMS SLEEPS RESTS", the engine's CPU, what
# bob received, the engine's sleeps and its data port's rests.
cpu_window() {
	local c0 d0 s0 r0 r1
	c0=$(engine_cpu_ns); d0=$(udp_in); s0=$(engine_sleeps); r0=$(udp_rests)
	sleep "$1"
	r1=$(udp_rests)
	echo "$(($(engine_cpu_ns) - c0)) $(($(udp_in) - d0)) $(($(engine_sleeps) - s0))" \
		"$( [ "$r0" != none ] && [ "$r1" != none ] && echo $((r1 - r0)) || echo none)"
}
read -r IDLE_NS IDLE_N _ _ < <(cpu_window $CPU_SECS)
# rtt: alice's pings to bob, "average/max" ms.
rtt() { nsx alice ping -q -c $((RTT_SECS * 10)) -i 0.1 -W1 "$B4" | awk -F/ '/^rtt/ {print $5 "/" $6}'; }
echo "# figure: ping RTT alice -> bob without flood, avg/max: $(rtt) ms"
echo "# figure: bob's engine without traffic: $((IDLE_NS / 1000)) us CPU in $CPU_SECS s ($IDLE_N datagrams)"
BASE0=$(goodput "$SECS")
check "baseline goodput alice->bob: ${BASE0:-0} bit/s" test "${BASE0:-0}" -gt 0
echo "# figure: baseline goodput $BASE0 bit/s over $SECS s"
RSS0=$(rss_kb)
# Handshake indices of carol's first flight (HS, receiver index 0) in the
# capture: what bob must never answer again.
OLD_IDX=$(awk 'substr($3, 1, 2) == "03" && substr($3, 17, 8) == "00000000" {print substr($3, 9, 8)}' \
	"$T/replay.txt" | sort -u | tr '\n' ' ')
check "the capture holds the first segment of carol's handshake ($OLD_IDX)" test -n "$OLD_IDX"

# status_watch SECONDS OUT: `q2qctl status` on bob every 0.3 s; one line
# per call, "rc milliseconds".
status_watch() {
	local end=$((SECONDS + $1)) t0 rc
	while [ $SECONDS -lt $end ]; do
		t0=$(date +%s%N)
		timeout 5 "$BIN/q2qctl" -s "$T/bob/q2qd.sock" status >/dev/null 2>&1; rc=$?
		echo "$rc $((($(date +%s%N) - t0) / 1000000))"
		sleep 0.3
	done > "$2"
}

# q2q0_rx: bytes bob's q2q0 has taken from the engine.
q2q0_rx() { nsx bob cat /sys/class/net/q2q0/statistics/rx_bytes; }
# pulse_goodput PID: an iperf3 stream alice -> bob while the flooder PID
# is let on and stopped, PULSE s each, SECS s of each in all; prints "ON
# OFF", q2q0's receive rates (bit/s), each phase's first 0.3 s left out.
pulse_goodput() {
	local gp=$1 k b0 b1 t0 t1 ip on_b=0 on_ns=0 off_b=0 off_ns=0
	local rest; rest=$(python3 -c "print($PULSE - 0.3)")
	nsx alice timeout $((2 * SECS + 30)) iperf3 -c "$B4" -p 5201 -t $((2 * SECS + 3)) >/dev/null 2>&1 &
	ip=$!
	sleep 1
	for ((k = 0; k < 2 * SECS / PULSE; k++)); do
		if ((k % 2)); then kill -STOP "$gp"; else kill -CONT "$gp"; fi
		sleep 0.3
		b0=$(q2q0_rx); t0=$(date +%s%N)
		sleep "$rest"
		b1=$(q2q0_rx); t1=$(date +%s%N)
		if ((k % 2)); then
			off_b=$((off_b + b1 - b0)); off_ns=$((off_ns + t1 - t0))
		else
			on_b=$((on_b + b1 - b0)); on_ns=$((on_ns + t1 - t0))
		fi
	done
	kill -CONT "$gp"
	wait "$ip"
	echo "$((on_b * 8000 / (on_ns / 1000000))) $((off_b * 8000 / (off_ns / 1000000)))"
}

declare -A RATIOS HSMS CPUS PRATIOS
i=0
BEFORE=$BASE0
for ((round = 1; round <= ROUNDS; round++)); do
for kind in "${KIND_LIST[@]}"; do
	i=$((i + 1)); new=new$i
	cap_start mallory eth0 "$T/m-$i.pcap" "udp and (src host 192.0.2.12 or src host 2001:db8::12)"
	cap_start sink eth0 "$T/s-$i.pcap" "udp and (src host 192.0.2.12 or src host 2001:db8::12)"
	cap_start carol eth0 "$T/c-$i.pcap" "udp and src host 192.0.2.12"
	ip netns exec "$PFX-mallory" python3 "$GEN" --kind $kind --dst4 192.0.2.12 --dst6 2001:db8::12 \
		--port 8789 --rate "$RATE" --secs $((FLOOD_LEN + (PULSE > 0 ? 2 * SECS + 60 : 0))) --identity bob@example.com \
		--replay "$T/replay.txt" --orig 192.0.2.13:8789 > "$T/gen-$i.out" 2>&1 &
	GP=$!
	wait_for 30 grep -q '^flooding' "$T/gen-$i.out"
	FLOOD_T0=$SECONDS
	sleep 1
	status_watch $((FLOOD_LEN - 2)) "$T/status-$i.txt" &
	SW=$!
	E0=$(udp_rcvbuf_errs)
	G=$(goodput "$SECS")
	echo "# figure: [$kind] bob's UDP receive buffer overflowed $(($(udp_rcvbuf_errs) - E0)) times during the goodput run"
	# The flood alone: what each of its datagrams costs the engine.
	read -r CPU_NS CPU_N SLEEPS RESTS < <(cpu_window $CPU_SECS)
	CPU_US=$(python3 -c "print('%.2f' % ($CPU_NS / 1000 / max(1, $CPU_N)))")
	echo "# figure: [$kind] flood alone: engine $(python3 -c "print('%.3f' % ($SLEEPS / max(1, $CPU_N)))") wakeups per datagram ($SLEEPS for $CPU_N), data port rested $RESTS times in $CPU_SECS s"
	echo "# figure: [$kind] ping RTT alice -> bob under the flood, avg/max: $(rtt) ms"
	if [ $kind = random ]; then
		# Nothing but strays and no tunnel traffic: the port rests
		# rather than wake the engine for each one.
		check "[$kind] bob's data port rested under the flood ($RESTS times in $CPU_SECS s)" test "${RESTS/none/0}" -gt 0
	fi
	# A peer bob has never seen: up, registered, then a handshake.
	ctl $new up >/dev/null
	wait_for 10 ctl $new resolve bob@example.com
	t0=$(date +%s%N)
	if wait_for 5 ovl_ping $new "$B4"; then HS_MS=$((($(date +%s%N) - t0) / 1000000)); else HS_MS=""; fi
	check "[$kind] $new's first handshake with bob during the flood: ${HS_MS:-none} ms (<= 5 s)" test -n "$HS_MS"
	if [ "$PULSE" -gt 0 ]; then
		read -r PON POFF < <(pulse_goodput "$GP")
		PRATIO=$(python3 -c "print('%.2f' % ($PON / max(1, $POFF)))")
		echo "# figure: [$kind] interleaved every $PULSE s, $SECS s of flood: goodput ratio $PRATIO ($PON / $POFF bit/s into bob's q2q0)"
		PRATIOS[$kind]="${PRATIOS[$kind]} $PRATIO"
		kill -TERM "$GP"
	fi
	wait "$SW"
	wait "$GP"
	ON_SECS=$((SECONDS - FLOOD_T0 - (PULSE > 0 ? SECS : 0)))
	cap_stop "$T/m-$i.pcap"
	cap_stop "$T/s-$i.pcap"
	cap_stop "$T/c-$i.pcap"
	SENT=$(awk '/^sent/ {print $2}' "$T/gen-$i.out")
	check "[$kind] the flood ran (${SENT:-0} datagrams sent)" test "${SENT:-0}" -gt $((RATE * SECS / 4))
	check_eq "[$kind] mallory's addresses received nothing from bob" "$(cap_count "$T/m-$i.pcap")" 0
	# Counted from the pcap, not tcpdump's lines: its dissectors take some
	# COOKIEs for other protocols and print several lines.
	TYPES=$(pcap_types "$T/s-$i.pcap")
	TO_SPOOF=$(tr ' ' '\n' <<<"$TYPES" | awk -F= '{n += $2} END {print n + 0}')
	echo "# figure: [$kind] bob sent $TO_SPOOF datagrams to spoofed sources ($SENT sent to him)"
	COOKIES=$(grep -oE '(^| )2=[0-9]+' <<<"$TYPES" | cut -d= -f2)
	echo "# figure: [$kind] to spoofed sources by type: ${TYPES:-none}; COOKIEs $((${COOKIES:-0} / ON_SECS))/s"
	# A valid mac1 (a made-up HELLO, or a replayed one) may earn a COOKIE,
	# within the cap; nothing else may go to a source that proved nothing.
	check_eq "[$kind] bob sent spoofed sources nothing but COOKIEs" "$((TO_SPOOF - ${COOKIES:-0}))" 0
	# The bucket refills to its burst while PULSE holds the flood, and
	# SECONDS counts whole seconds: hence the starts and the extra second.
	check "[$kind] COOKIEs to spoofed sources within the cap (2000/s + 400 a start): ${COOKIES:-0}" \
		test "${COOKIES:-0}" -le $((2000 * (ON_SECS + 1) + 400 * (1 + (PULSE > 0 ? SECS / PULSE : 0))))
	if [ $kind = random ]; then
		check_eq "[$kind] random bytes got no answer at all" "$TO_SPOOF" 0
	fi
	if [ $kind = hello ]; then
		V6=$(tcpdump -n -r "$T/s-$i.pcap" ip6 2>/dev/null | grep -c '^[0-9]')
		# Each start of the flood (PULSE lets it on SECS/PULSE times
		# more) may take the global burst before "under load" is seen.
		check "[$kind] COOKIEs to the one spoofed /64 rationed (5/s under load): $V6" \
			test "$V6" -le $((5 * (ON_SECS + 1) + 400 * (1 + (PULSE > 0 ? SECS / PULSE : 0))))
		check "[$kind] control: the /64's HELLOs reached bob (some COOKIEs)" test "$V6" -gt 0
	fi
	if [ $kind = replay ]; then
		# carol's own address sends her old first segment again, its
		# cookie still valid: bob opens no handshake for it (no TLS
		# server, no flight sent to carol under that index).
		ANS=$(pcap_udp "$T/c-$i.pcap" | awk -v old="$OLD_IDX" '
			BEGIN {n = split(old, o, " "); for (k = 1; k <= n; k++) seen[o[k]] = 1}
			$2 == "192.0.2.13:8789" && substr($3, 1, 2) == "03" && (substr($3, 17, 8) in seen) {c++}
			END {print c + 0}')
		check_eq "[$kind] bob answered none of the replays of carol's first segment (HS datagrams to her old index)" "$ANS" 0
	fi
	CANDS=$(ovl_peer bob carol@example.com candidates)
	check "[$kind] no spoofed address among bob's candidates for carol ($CANDS)" \
		bash -c "! grep -qE '198\.1[89]\.|2001:db8:66:' <<<'$CANDS'"
	NSTAT=$(wc -l < "$T/status-$i.txt")
	NBAD=$(awk '$1 != 0' "$T/status-$i.txt" | wc -l)
	MAXMS=$(awk 'BEGIN {m = 0} $2 > m {m = $2} END {print m}' "$T/status-$i.txt")
	check_eq "[$kind] q2qctl status answered all $NSTAT times (slowest $MAXMS ms)" "$NBAD" 0
	check "[$kind] q2qctl status within 2 s" test "$MAXMS" -lt 2000
	RSS=$(rss_kb)
	check "[$kind] bob's engine RSS bounded: $RSS0 -> $RSS kB" test "$RSS" -lt $((RSS0 + 32768))
	# The baseline after this flood, also the one before the next.
	AFTER=$(goodput "$SECS")
	[ "${AFTER:-0}" -gt 0 ] || AFTER=$BEFORE
	RATIO=$(python3 -c "print('%.2f' % (${G:-0} * 2 / ($BEFORE + $AFTER)))")
	check "[$kind] goodput under flood ${G:-0} bit/s, ratio $RATIO >= 0.5 (baselines $BEFORE, $AFTER)" \
		python3 -c "import sys; sys.exit(0 if ${G:-0} * 2 >= 0.5 * ($BEFORE + $AFTER) else 1)"
	echo "# figure: [$kind] goodput ratio $RATIO (${G:-0} against $BEFORE and $AFTER bit/s), handshake ${HS_MS:-none} ms, engine $CPU_US us CPU per datagram ($((CPU_NS / 1000)) us for $CPU_N in $CPU_SECS s), status max $MAXMS ms, RSS $RSS kB"
	RATIOS[$kind]="${RATIOS[$kind]} $RATIO"
	HSMS[$kind]="${HSMS[$kind]} ${HS_MS:-none}"
	CPUS[$kind]="${CPUS[$kind]} $CPU_US"
	BEFORE=$AFTER
done
done
for kind in "${KIND_LIST[@]}"; do
	echo "# figure: [$kind] over $ROUNDS round(s): goodput ratio mean $(mean_of ${RATIOS[$kind]}) (${RATIOS[$kind]# }), handshake ms ${HSMS[$kind]# }, engine us CPU per datagram mean $(mean_of ${CPUS[$kind]}) (${CPUS[$kind]# })${PRATIOS[$kind]:+, interleaved goodput ratio mean $(mean_of ${PRATIOS[$kind]}) (${PRATIOS[$kind]# })}"
done
check "alice still pings bob" wait_for 5 ovl_ping alice "$B4"
check "bob's daemon kept running" kill -0 "$(cat "$T/bob/pid")"
e2e_finish

#!/bin/bash
# The overlay end to end, as a user sees it: q2q0 carries ping, TCP and
# files between two nodes, encrypts what it carries, routes a subnet behind
# a node, answers unroutable destinations, survives down/up, and runs the way
# the systemd unit runs it (a root part with CAP_NET_ADMIN only, the engine
# as user q2q), with /dev/net/tun root-only and world-writable.
#
#                     wan bridge (192.0.2.0/24)
#     +---------------+---------------+---------------+
#     |               |               |               |
#  auth .10        alice .11        bob .12         dave .15
#  example.com     q2q0             q2q0            q2q0, tun 0600
#  (authority,                      | ip_forward    and 0666
#   grants bob                      | lan-lan 203.0.113.1
#   203.0.113.0/24)                 |
#                                 lan 203.0.113.5 (default via bob)
#
# The faults (replay, spoofing, foreign CA, revocation, crash, loss) are in
# overlay-faults.sh.
. "$(dirname "$0")/lib.sh"
e2e_init overlay

# failed_saying RC OUTPUT REGEX: a command exited non-zero and its output
# matches REGEX (case-insensitive).
failed_saying() { echo "exit $1: $2"; [ "$1" != 0 ] && grep -Eqi "$3" <<<"$2"; }

wan_up
host_add auth 192.0.2.10/24
host_add alice 192.0.2.11/24
host_add bob 192.0.2.12/24
host_add dave 192.0.2.15/24
lan_add lan bob 203.0.113.5/24 203.0.113.1/24

q2qd_conf auth 'authority = { domain = "example.com"; listen = "0.0.0.0:8788";
  grants = ( { identity = "bob@example.com"; subnets = [ "203.0.113.0/24" ]; } ); };'
q2qd_conf alice 'port = 8789;'
q2qd_conf bob 'port = 8789;'
for n in auth alice bob; do q2qd_start $n || exit 1; done

check "alice enrolls" ovl_enroll alice alice@example.com auth 192.0.2.10:8788
check "bob enrolls" ovl_enroll bob bob@example.com auth 192.0.2.10:8788

# ---------------------------------------------------------------- up
check "alice: q2qctl up" ctl alice up
check "bob: q2qctl up" ctl bob up
check "q2qctl up is idempotent" ctl alice up
check_eq "alice status says up" "$(ctl alice status --json | jq_get up)" True
check_eq "alice status shows the data port" "$(ctl alice status --json | jq_get port)" 8789
check "alice has a q2q0 link that is up" bash -c "nsx alice ip -o link show q2q0 | grep -q '[<,]UP[,>]'"
check_eq "q2q0 MTU is 1440 (the default)" "$(nsx alice cat /sys/class/net/q2q0/mtu 2>/dev/null)" 1440

A4=$(ctl bob resolve alice@example.com 2>/dev/null)
A6=$(ctl bob resolve -6 alice@example.com 2>/dev/null)
B4=$(ctl alice resolve bob@example.com 2>/dev/null)
B6=$(ctl alice resolve -6 bob@example.com 2>/dev/null)
check_eq "resolve gives alice's certificate IPv4" "$A4" "$(ctl alice status --json | jq_get ipv4)"
check_eq "resolve -6 gives alice's certificate IPv6" "$A6" "$(ctl alice status --json | jq_get ipv6)"
check_eq "resolve gives bob's certificate IPv4" "$B4" "$(ctl bob status --json | jq_get ipv4)"
check_eq "resolve -6 gives bob's certificate IPv6" "$B6" "$(ctl bob status --json | jq_get ipv6)"
check_eq "resolve --json has bob's identity" "$(ctl alice resolve bob@example.com --json | jq_get identity)" bob@example.com
# The address may carry the pool prefix (/10) or be a /32 plus a pool route:
# either way the whole pool must lead into q2q0.
check "alice's q2q0 holds her IPv4" bash -c "nsx alice ip -o -4 addr show dev q2q0 | grep -F ' $A4/'"
check "the IPv4 pool 100.64.0.0/10 is routed into q2q0" bash -c "nsx alice ip route get 100.127.1.1 | grep 'dev q2q0'"
check "alice's q2q0 holds her IPv6" bash -c "nsx alice ip -o -6 addr show dev q2q0 | grep -F ' $A6/'"
check "fd00::/8 is routed into q2q0" bash -c "nsx alice ip -6 route get fd12::1 | grep 'dev q2q0'"
check_fails "resolving an unknown identity fails" ctl alice resolve nobody@example.com
[ -n "$A4" ] && [ -n "$B4" ] && [ -n "$A6" ] && [ -n "$B6" ] || { echo "cannot continue without overlay addresses"; e2e_finish; exit 1; }

# ---------------------------------------------------------------- ping
check "alice pings bob over IPv4" wait_for 10 ovl_ping alice "$B4"
check "bob pings alice over IPv4" wait_for 10 ovl_ping bob "$A4"
check "alice pings bob over IPv6" wait_for 10 ovl_ping alice "$B6"
check "bob pings alice over IPv6" wait_for 10 ovl_ping bob "$A6"
check "5 pings alice->bob, none lost" nsx alice ping -c5 -i0.2 -W2 "$B4"
check_eq "alice's peers: bob's path is direct" "$(ovl_peer alice bob@example.com path)" direct
check_eq "alice's peers: bob's endpoint" "$(ovl_peer alice bob@example.com endpoint)" 192.0.2.12:8789
check_eq "bob's peers: alice's endpoint" "$(ovl_peer bob alice@example.com endpoint)" 192.0.2.11:8789
check_eq "alice's peers: session with bob" "$(ovl_peer alice bob@example.com session)" true
check "alice's peers: bob rx_packets > 0" test "$(ovl_peer alice bob@example.com rx_packets)" -gt 0 2>/dev/null
check "q2qctl ping bob@example.com" bash -c "ctl alice ping bob@example.com -c 2 | grep -q 'reply from bob@example.com: time=.* path=direct endpoint=192.0.2.12:8789'"
check_eq "q2qctl ping --json counts replies" "$(ctl alice ping bob@example.com -c 2 --json | jq_get received)" 2
check_eq "whois bob's IPv4 names bob" "$(ctl alice whois "$B4" 2>/dev/null | head -1)" bob@example.com
check_eq "whois --json lists bob's granted subnet" "$(ctl alice whois "$B4" --json | jq_get routes.0)" 203.0.113.0/24

# ---------------------------------------------------------------- iperf3
nsx bob iperf3 -s -1 -D -B "$B4" -p 5201 >/dev/null 2>&1
if wait_for 5 ovl_listening bob 5201; then
	nsx alice timeout 30 iperf3 -c "$B4" -p 5201 -t 3 -J > "$T/iperf.json" 2>&1
	IB=$(jq_get end.sum_received.bytes < "$T/iperf.json" 2>/dev/null)
	check "iperf3 TCP alice->bob for 3 s: bob received ${IB:-0} bytes" test "${IB%.*}" -gt 0 2>/dev/null
else
	check "iperf3 server listens on bob's overlay address" false
fi

# ---------------------------------------------------------------- file copy
head -c 20M /dev/urandom > "$T/20M"
check "20 MB file alice->bob through q2q0 arrives intact" \
	tcp_copy alice bob "$B4" 5001 "$T/20M" "$T/20M.rx"
check "20 MB file bob->alice over IPv6 arrives intact" \
	tcp_copy bob alice "$A6" 5002 "$T/20M" "$T/20M.rx6"
rm -f "$T/20M" "$T/20M.rx" "$T/20M.rx6"

# ---------------------------------------------------------------- encryption
# A 16-byte marker fills every echo payload. On the underlay it must never
# show; on bob's q2q0 (after decryption) it must, so the grep can fail.
MARK=Q2Q-PLAIN-$$-MK
MARK=${MARK:0:16}
MHEX=$(printf '%s' "$MARK" | od -An -tx1 | tr -d ' \n')
# alice leaves and rejoins first, so the capture also holds a fresh
# handshake: certificates (and so identities) must not show either.
cap_start bob eth0 "$T/wire.pcap" udp port 8789
cap_start bob q2q0 "$T/inner.pcap" icmp
ctl alice down >/dev/null; ctl alice up >/dev/null
check "alice rejoins and reaches bob again" wait_for 10 ovl_ping alice "$B4"
check "20 marked pings alice->bob" nsx alice ping -c20 -i0.05 -W2 -s 400 -p "$MHEX" "$B4"
cap_stop "$T/wire.pcap"; cap_stop "$T/inner.pcap"
check "control: the underlay capture holds >= 20 UDP packets (got $(cap_count "$T/wire.pcap"))" \
	test "$(cap_count "$T/wire.pcap")" -ge 20
check "control: the marker shows in the clear on bob's q2q0" grep -qaF "$MARK" "$T/inner.pcap"
check_fails "the marker never appears on the underlay" grep -qaF "$MARK" "$T/wire.pcap"
HS=$(pcap_udp "$T/wire.pcap" | awk '$3 ~ /^03/' | wc -l)
check "control: the capture holds the new handshake ($HS HS datagrams)" test "$HS" -ge 2
check_fails "no identity (user@example.com) appears on the underlay" grep -qaF "@example.com" "$T/wire.pcap"
check_fails "the CA's name (example.com) does not appear on the underlay" grep -qaF "example.com" "$T/wire.pcap"

# ---------------------------------------------------------------- subnet
check "alice routes 203.0.113.0/24 into q2q0" nsx alice ip route add 203.0.113.0/24 dev q2q0
check "alice pings 203.0.113.5 behind bob" wait_for 10 ovl_ping alice 203.0.113.5
check "the LAN host pings alice back (its source is in bob's grant)" ovl_ping lan "$A4"
check "alice routes 198.51.100.0/24 (granted to nobody) into q2q0" nsx alice ip route add 198.51.100.0/24 dev q2q0
start=$(date +%s%N)
out=$(nsx alice ping -c1 -W2 198.51.100.7 2>&1); rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "ping to an unrouted prefix fails with Unreachable (${ms} ms)" \
	failed_saying "$rc" "$out" unreachable
check "... and quickly, not by timeout" test "$ms" -lt 1500
out=$(nsx alice ping -6 -c1 -W2 fd00:dead:beef::1 2>&1); rc=$?
check "an IPv6 overlay address nobody holds gets Unreachable" \
	failed_saying "$rc" "$out" unreachable

# MTU: q2q0 raised by hand to 1500, the daemon still carries 1440.
nsx alice ip link set q2q0 mtu 1500
out=$(nsx alice ping -c2 -i0.3 -W1 -M "do" -s 1450 "$B4" 2>&1); rc=$?
check "a 1478-byte DF packet gets 'fragmentation needed' (mtu 1440) back" \
	failed_saying "$rc" "$out" 'frag needed|mtu ?= ?1440'
check "after that, normal pings still work" ovl_ping alice "$B4"
nsx alice ip link set q2q0 mtu 1440

# ---------------------------------------------------------------- down/up
for i in 1 2 3; do
	check "down #$i" ctl alice down
	check "down #$i: no q2q0 in alice's namespace" ovl_no_link alice q2q0
	check_eq "down #$i: no routes on q2q0" \
		"$( { nsx alice ip -4 route show; nsx alice ip -6 route show; } | grep -c q2q0)" 0
	check_eq "down #$i: status says not up" "$(ctl alice status --json | jq_get up)" False
	check_fails "down #$i: UDP 8789 is closed" bash -c "nsx alice ss -Hlun | grep -q ':8789 '"
	check "down #$i: down again is fine" ctl alice down
	check "up #$i" ctl alice up
	check "up #$i: alice pings bob" wait_for 10 ovl_ping alice "$B4"
	check "up #$i: bob pings alice over IPv6" wait_for 10 ovl_ping bob "$A6"
done
check "the daemon kept running through down/up" kill -0 "$(cat "$T/alice/pid")"

# ---------------------------------------------------------------- as systemd runs it
# Every daemon here starts the unit's way (lib.sh q2qd_start); dave shows
# the parts and runs with /dev/net/tun both root-only (0600) and 0666: the
# machine's mode first, then the other one, restored on exit.
TUN_MODE=$(stat -c %a /dev/net/tun)
trap 'chmod "$TUN_MODE" /dev/net/tun; e2e_cleanup' EXIT
q2qd_conf dave 'port = 8789;'
dave_round() {
	local mode=$1 DPID EPID D4
	chmod "$mode" /dev/net/tun
	if ! q2qd_start dave; then
		check "dave (tun $mode): q2qd starts as the unit starts it" false
		return
	fi
	DPID=$(cat "$T/dave/pid"); EPID=$(q2qd_engine dave)
	check_eq "dave (tun $mode): the privileged part runs as root" "$(stat -c %U "/proc/$DPID")" root
	check_eq "dave (tun $mode): the privileged part has only CAP_NET_ADMIN (CapEff)" \
		"$(proc_field "$DPID" CapEff)" 0000000000001000
	check_eq "dave (tun $mode): the privileged part has NoNewPrivs" "$(proc_field "$DPID" NoNewPrivs)" 1
	check_eq "dave (tun $mode): the engine runs as user q2q" "$(stat -c %U "/proc/$EPID")" q2q
	check_eq "dave (tun $mode): the engine has no capabilities (CapEff, CapPrm)" \
		"$(proc_field "$EPID" CapEff) $(proc_field "$EPID" CapPrm)" "0000000000000000 0000000000000000"
	check_eq "dave (tun $mode): the engine has NoNewPrivs" "$(proc_field "$EPID" NoNewPrivs)" 1
	if [ ! -e "$T/dave/state/node/cert.der" ]; then
		check "dave enrolls" ovl_enroll dave dave@example.com auth 192.0.2.10:8788
		check "dave's key file belongs to q2q, mode 0600" \
			bash -c "[ \"\$(stat -c '%U %a' '$T/dave/state/node/key.der')\" = 'q2q 600' ]"
	fi
	check "dave (tun $mode): q2qctl up" ctl dave up
	check "dave (tun $mode): dave pings bob" wait_for 10 ovl_ping dave "$B4"
	D4=$(ctl dave status --json | jq_get ipv4)
	check "dave (tun $mode): bob pings dave" wait_for 10 ovl_ping bob "$D4"
	q2qd_stop dave
	check_fails "dave (tun $mode): stopped, no q2q0 is left" nsx dave ip link show q2q0
}
if [ "$TUN_MODE" = 600 ]; then OTHER=666; else OTHER=600; fi
dave_round "$TUN_MODE"
dave_round "$OTHER"
chmod "$TUN_MODE" /dev/net/tun
check_eq "/dev/net/tun has its mode back" "$(stat -c %a /dev/net/tun)" "$TUN_MODE"
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$T/unit"
	sed "s#@SBINDIR@#$BIN#g" "$(dirname "$0")/../../systemd/q2qd.service" > "$T/unit/q2qd.service"
	# Documentation= names our man pages; verify looks them up with man(1),
	# so give it the tree's pages (they need not be installed).
	mkdir -p "$T/man/man5" "$T/man/man8"
	cp "$(dirname "$0")"/../../man/*.5 "$T/man/man5/"
	cp "$(dirname "$0")"/../../man/*.8 "$T/man/man8/"
	check "systemd-analyze verify q2qd.service" env MANPATH="$T/man" systemd-analyze verify "$T/unit/q2qd.service"
	# The exposure score, printed for the record (4.4 as one process with
	# only CAP_NET_ADMIN; the unit must not regress past the split's 2.0).
	systemd-analyze security --offline=yes "$T/unit/q2qd.service" >"$T/unit/security" 2>&1
	grep -E '^✗|Overall' "$T/unit/security" | sed 's/^/    # /'
	score=$(sed -n 's/.*Overall exposure level for q2qd.service: \([0-9.]*\).*/\1/p' "$T/unit/security")
	check "systemd-analyze security rates the unit at most 2.0 (it says ${score:-nothing})" \
		awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 2.0) }'
else
	skip "systemd-analyze verify: systemd-analyze is not installed"
fi

check "no daemon logged a token or key" bash -c "! grep -Eqi 'BEGIN .*PRIVATE|token=' '$T'/*/log"
e2e_finish

#!/bin/bash
# Routing leaks (issue 9): q2q's routes live in their own table (5288),
# chosen by a policy rule ahead of the main table, so a more specific
# route that arrives on the LAN (DHCP option 121, TunnelVision,
# CVE-2024-3661) cannot pull overlay traffic off q2q0; the engine's own
# sockets skip that rule (uid), a user's `ip route add ... dev q2q0` in
# the main table still works, and down, a stopped daemon and a SIGKILLed
# engine each leave rules and routes exactly as they were before up.
# Packets for the overlay arriving on eth0 (CVE-2019-14899 class) are
# dropped by the privileged part's nftables guard: to alice's overlay
# address, or from an overlay source to any socket but the engine's; ARP
# for her overlay address goes unanswered.
#
#                     wan bridge (192.0.2.0/24, 2001:db8::/64)
#     +---------------+---------------+---------------+
#     |               |               |               |
#  auth .10        alice .11        bob .12        gw .1 (the LAN's router,
#  example.com     q2q0             q2q0           pushing routes; tcpdump)
. "$(dirname "$0")/lib.sh"
e2e_init route-leak

ovl_lan_gw
ovl_pair || exit 1

# What alice's routing looks like without q2q: every rule, every route of
# every table (the kernel's local table is where q2q0's addresses would
# show; it must be back too).
routing() { nsx alice sh -c 'ip -4 rule; ip -6 rule; ip -4 route show table all; ip -6 route show table all; nft list ruleset' |
	grep -v -e 'fe80::' -e 'ff00::/8' -e 'multicast ff00' | sort; }
routing > "$T/before"
check "alice's routing has no q2q rule before up" sh -c "! grep -q 5288 '$T/before'"

ovl_pair_up || { e2e_finish; exit 1; }
B6=$(ctl alice resolve -6 bob@example.com 2>/dev/null)
check "alice pings bob (IPv4)" wait_for 15 ovl_ping alice "$B4"
check "alice pings bob (IPv6 $B6)" wait_for 10 ovl_ping alice "$B6"

EU=$(id -u q2q)
check "alice: rule 5288 'not uidrange $EU-$EU lookup 5288' (IPv4)" \
	sh -c "ip netns exec $PFX-alice ip -4 rule | grep -qx '5288:[[:space:]]*not from all uidrange $EU-$EU lookup 5288'"
check "alice: the same rule for IPv6" \
	sh -c "ip netns exec $PFX-alice ip -6 rule | grep -qx '5288:[[:space:]]*not from all uidrange $EU-$EU lookup 5288'"
check "alice: table 5288 routes 100.64.0.0/10 on q2q0" \
	sh -c "ip netns exec $PFX-alice ip -4 route show table 5288 | grep -q '^100.64.0.0/10 dev q2q0'"
check "alice: table 5288 routes fd00::/8 on q2q0" \
	sh -c "ip netns exec $PFX-alice ip -6 route show table 5288 | grep -q '^fd00::/8 dev q2q0'"
check "alice: the main table has no q2q0 route" \
	sh -c "! ip netns exec $PFX-alice ip route show table main | grep -q q2q0"

# ---- TunnelVision: the LAN pushes routes more specific than q2q's.
nsx alice ip route add "$B4/32" via 192.0.2.1 dev eth0
nsx alice ip route add 100.64.0.0/16 via 192.0.2.1 dev eth0
nsx alice ip -6 route add "$B6/128" via 2001:db8::1 dev eth0
check "with a pushed $B4/32 via the LAN, the kernel still picks q2q0" \
	sh -c "ip netns exec $PFX-alice ip route get $B4 | grep -q 'dev q2q0'"
cap_start gw eth0 "$T/lan.pcap"
check "alice pings bob over the overlay (IPv4, 5 echoes)" nsx alice ping -c5 -i0.2 -W2 "$B4"
check "alice pings bob over the overlay (IPv6, 5 echoes)" nsx alice ping -c5 -i0.2 -W2 "$B6"
check "bob pings alice over the overlay" nsx bob ping -c3 -i0.2 -W2 "$A4"
head -c 200000 /dev/urandom > "$T/blob"
check "TCP alice -> bob over the overlay, 200 kB intact" tcp_copy alice bob "$B4" 5001 "$T/blob" "$T/blob.got"
# Control: a socket bound to eth0 does take the pushed route, so the
# capture sees clear overlay packets when they do leak.
nsx alice ping -c2 -i0.2 -W1 -I eth0 "$B4" >/dev/null 2>&1
sleep 0.5
cap_stop "$T/lan.pcap"
check_eq "control: a ping bound to eth0 leaks to the LAN in clear (2 seen)" \
	"$(cap_count "$T/lan.pcap" icmp and dst host "$B4")" 2
check_eq "no other overlay packet reached the LAN in clear (IPv4)" \
	"$(cap_count "$T/lan.pcap" "(" host "$B4" or host "$A4" ")" and not icmp)" 0
check_eq "no overlay packet reached the LAN in clear (IPv6)" \
	"$(cap_count "$T/lan.pcap" ip6 host "$B6")" 0
nsx alice ip route del "$B4/32" via 192.0.2.1 dev eth0
nsx alice ip route del 100.64.0.0/16 via 192.0.2.1 dev eth0
nsx alice ip -6 route del "$B6/128" via 2001:db8::1 dev eth0

# ---- the guard: overlay packets that arrive on eth0.
check "alice: the nftables guard table is in place" nsx alice nft list table inet q2q_guard
udp_sink() {	# udp_sink NODE PORT OUT: prints each datagram's source and text
	ip netns exec "$PFX-$1" timeout 30 python3 -c 'import socket,sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
with open(sys.argv[2], "a", buffering=1) as f:
    f.write("ready\n")
    while True:
        b, a = s.recvfrom(2048)
        f.write("%s %s\n" % (a[0], b.decode(errors="replace")))' "$2" "$3" &
	SINK=$!
	wait_for 5 grep -q ready "$3"
}
udp_from() {	# udp_from NODE SRC DST PORT TEXT
	nsx "$1" python3 -c 'import socket,sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
for _ in range(3):
    s.sendto(sys.argv[4].encode(), (sys.argv[2], int(sys.argv[3])))' "$2" "$3" "$4" "$5"
}
nsx gw ip addr add "$B4/32" dev lo
nsx gw ip route add "$A4/32" via 192.0.2.11 dev eth0
udp_sink alice 7777 "$T/sink"
udp_from gw 192.0.2.1 192.0.2.11 7777 CONTROL
udp_from gw "$B4" "$A4" 7777 SPOOF-TO-OVERLAY
udp_from gw "$B4" 192.0.2.11 7777 SPOOF-TO-UNDERLAY
check "control: a datagram from the LAN's own address reaches alice's socket" \
	wait_for 5 grep -q "^192.0.2.1 CONTROL" "$T/sink"
sleep 0.5
check "a datagram from bob's overlay address via eth0 to alice's overlay address does not reach the socket" \
	sh -c "! grep -q SPOOF-TO-OVERLAY '$T/sink'"
check "a datagram from bob's overlay address via eth0 to alice's eth0 address does not reach the socket" \
	sh -c "! grep -q SPOOF-TO-UNDERLAY '$T/sink'"
check_fails "a ping from the LAN to alice's overlay address via eth0 gets no answer" \
	nsx gw ping -c2 -i0.2 -W1 -I 192.0.2.1 "$A4"
nsx gw ip route replace "$A4/32" dev eth0
nsx gw ping -c1 -W1 "$A4" >/dev/null 2>&1
check "ARP for alice's overlay address goes unanswered on the LAN" \
	sh -c "! ip netns exec $PFX-gw ip neigh show $A4 | grep -q lladdr"
check "bob still pings alice over the overlay" nsx bob ping -c2 -i0.2 -W2 "$A4"
kill "$SINK" 2>/dev/null; wait "$SINK" 2>/dev/null
nsx gw ip route del "$A4/32" dev eth0
nsx gw ip addr del "$B4/32" dev lo

# ---- a user's own route in the main table keeps working.
nsx alice ip route add 203.0.113.0/24 dev q2q0
check "a user's 203.0.113.0/24 dev q2q0 in the main table is used" \
	sh -c "ip netns exec $PFX-alice ip route get 203.0.113.9 | grep -q 'dev q2q0'"
cap_start alice q2q0 "$T/q2q0.pcap"
nsx alice ping -c1 -W1 203.0.113.9 >/dev/null 2>&1
cap_stop "$T/q2q0.pcap"
check_eq "the ping to 203.0.113.9 went into q2q0" "$(cap_count "$T/q2q0.pcap" icmp and dst host 203.0.113.9)" 1
nsx alice ip route del 203.0.113.0/24 dev q2q0

# ---- down, stop and SIGKILL each restore routing exactly.
check "alice: down" ctl alice down
routing > "$T/after-down"
check "after down: alice's rules, routes and nftables ruleset are as before up" diff "$T/before" "$T/after-down"
check "alice: up again" ctl alice up
check "alice pings bob again" wait_for 15 ovl_ping alice "$B4"
E=$(q2qd_engine alice)
kill -9 "$E"
check "SIGKILL of the engine: q2q0 is gone" wait_for 10 ovl_no_link alice q2q0
check "SIGKILL of the engine: the rules are gone" wait_for 10 sh -c "! ip netns exec $PFX-alice ip rule | grep -q 5288"
check "SIGKILL of the engine: the guard is gone" wait_for 10 sh -c "! ip netns exec $PFX-alice nft list tables | grep -q q2q_guard"
routing > "$T/after-kill"
check "after SIGKILL: alice's rules, routes and nftables ruleset are as before up" diff "$T/before" "$T/after-kill"
wait "$(cat "$T/alice/pid")" 2>/dev/null
rm -f "$T/alice/pid"
q2qd_start alice || exit 1
check "alice: up after the restart" ctl alice up
check "alice pings bob after the restart" wait_for 15 ovl_ping alice "$B4"
q2qd_stop alice
routing > "$T/after-stop"
check "after the daemon stopped: alice's rules, routes and nftables ruleset are as before up" diff "$T/before" "$T/after-stop"
e2e_finish

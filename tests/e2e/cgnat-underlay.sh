#!/bin/bash
# An underlay inside the overlay pool (issue 10, the routing half of
# CGNAT): every host's own address is in 100.64.0.0/24, inside the default
# pool 100.64.0.0/10, the authority and the peers are reached over it, and
# the overlay addresses (100.64.0.1, .2) lie in that very LAN prefix. The
# engine's sockets skip q2q's table, so the underlay keeps working while
# ping and TCP over the overlay work both ways, IPv4 and IPv6 (the LAN
# also has ULA addresses inside fd00::/8). A daemon whose engine runs as
# root cannot keep its sockets out of q2q's table: its up is refused with
# a message naming the clashing prefix and the setting that moves the pool.
#
#                     wan bridge (100.64.0.0/24, fd64::/64)
#     +---------------+---------------+---------------+
#     |               |               |               |
#  auth .200       alice .201       bob .202        dave .203
#  example.com     q2q0             q2q0            engine as root
. "$(dirname "$0")/lib.sh"
e2e_init cgnat-underlay

wan_up
host_add auth 100.64.0.200/24
host_add alice 100.64.0.201/24
host_add bob 100.64.0.202/24
host_add dave 100.64.0.203/24
for h in auth:200 alice:201 bob:202 dave:203; do
	nsx "${h%:*}" ip -6 addr add "fd64::${h#*:}/64" dev eth0 nodad
done
q2qd_conf auth 'authority = { domain = "example.com"; listen = "[::]:8788"; };'
for n in alice bob dave; do q2qd_conf $n 'port = 8789;'; done
for n in auth alice bob; do q2qd_start $n || exit 1; done
check "alice enrolls over 100.64.0.200" ovl_enroll alice alice@example.com auth 100.64.0.200:8788
check "bob enrolls over 100.64.0.200" ovl_enroll bob bob@example.com auth 100.64.0.200:8788
check "alice: up" ctl alice up
check "bob: up" ctl bob up
A4=$(ctl bob resolve alice@example.com 2>/dev/null)
B4=$(ctl alice resolve bob@example.com 2>/dev/null)
A6=$(ctl bob resolve -6 alice@example.com 2>/dev/null)
B6=$(ctl alice resolve -6 bob@example.com 2>/dev/null)
[ -n "$A4" ] && [ -n "$B4" ] || { echo "cannot continue without overlay addresses"; e2e_finish; exit 1; }
check "bob's overlay address $B4 lies in alice's LAN prefix 100.64.0.0/24" \
	sh -c "case '$B4' in 100.64.0.*) true;; *) false;; esac"
check "alice pings bob by IPv4 ($B4)" wait_for 15 ovl_ping alice "$B4"
check "bob pings alice by IPv4 ($A4)" wait_for 15 ovl_ping bob "$A4"
check "alice pings bob by IPv6" wait_for 10 ovl_ping alice "$B6"
check "bob pings alice by IPv6" wait_for 10 ovl_ping bob "$A6"
head -c 300000 /dev/urandom > "$T/blob"
check "TCP alice -> bob by IPv4, 300 kB intact" tcp_copy alice bob "$B4" 5001 "$T/blob" "$T/g1"
check "TCP bob -> alice by IPv4, 300 kB intact" tcp_copy bob alice "$A4" 5002 "$T/blob" "$T/g2"
check "TCP bob -> alice by IPv6, 300 kB intact" tcp_copy bob alice "$A6" 5003 "$T/blob" "$T/g3"
# The engine's own traffic stays on the underlay: the overlay packets
# themselves travel as UDP between the LAN addresses.
# Nothing for an overlay address crosses the LAN in clear (bob's kernel
# would answer ARP for its q2q0 address on eth0 too, and a main-table
# route for the LAN prefix would send it there).
cap_start alice eth0 "$T/lan.pcap"
nsx alice ping -c3 -i0.2 -W2 "$B4" >/dev/null
nsx alice ping -c3 -i0.2 -W2 "$B6" >/dev/null
check "TCP alice -> bob by IPv4 during the capture" tcp_copy alice bob "$B4" 5004 "$T/blob" "$T/g4"
cap_stop "$T/lan.pcap"
check "the overlay's UDP goes between 100.64.0.201 and 100.64.0.202 on eth0" \
	test "$(cap_count "$T/lan.pcap" udp port 8789 and src host 100.64.0.201 and dst host 100.64.0.202)" -ge 3
check_eq "no packet to or from an overlay address crossed the LAN in clear" \
	"$(cap_count "$T/lan.pcap" host "$B4" or host "$A4" or host "$B6" or host "$A6")" 0
# The ULA LAN (fd64::/64, inside fd00::/8) stays the LAN's: thrown out of
# q2q's table, let through the guard.
check "alice's table 5288 throws the LAN's fd64::/64 back to the main table" \
	sh -c "ip netns exec $PFX-alice ip -6 route show table 5288 | grep -q '^throw fd64::/64'"
check "alice pings bob's ULA LAN address fd64::202 (not through q2q0)" nsx alice ping -c1 -W2 fd64::202
check "TCP from bob's ULA LAN address to alice's, 300 kB intact" \
	tcp_copy bob alice fd64::201 5005 "$T/blob" "$T/g5"
check "the authority link is up (it runs over 100.64.0.200)" \
	sh -c "ip netns exec $PFX-alice ss -Htn state established dst 100.64.0.200 | grep -q 8788"

check "alice: down" ctl alice down
check "after down: table 5288 is empty (the throw route is gone too)" \
	sh -c "[ -z \"\$(ip netns exec $PFX-alice ip -6 route show table 5288)\" ] && [ -z \"\$(ip netns exec $PFX-alice ip -4 route show table 5288)\" ]"

# dave's engine runs as root (no -u): no rule can single its sockets out.
install -d -m 0700 "$T/dave/state"
ip netns exec "$PFX-dave" "$BIN/q2qd" -c "$T/dave/q2qd.conf" >>"$T/dave/log" 2>&1 &
echo $! > "$T/dave/pid"
wait_for 10 ctl dave status || { echo "q2qd dave did not start"; tail "$T/dave/log"; }
check "dave enrolls" ovl_enroll dave dave@example.com auth 100.64.0.200:8788
check_fails "dave (engine as root): up is refused" ctl dave up
check "the refusal names the clashing prefix and the setting" \
	bash -c "ctl dave up 2>&1 | grep -F '100.64.0.203/24' | grep -F 'authority.pool' | grep -q -- '-u q2q'"
check "dave: no q2q0 and no rule are left" \
	sh -c "! ip netns exec $PFX-dave ip link show q2q0 2>/dev/null && ! ip netns exec $PFX-dave ip rule | grep -q 5288"
check "dave's daemon keeps running" kill -0 "$(cat "$T/dave/pid")"
e2e_finish

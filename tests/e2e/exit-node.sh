#!/bin/bash
# Exit nodes (issue 13): bob's certificate grants 0.0.0.0/0 and ::/0; he
# forwards and masquerades what his peers send to his uplink. alice, with
# `q2qctl up --exit-node bob@example.com`, sends everything through him
# but her engine's own traffic: the web host beyond bob sees bob's address
# (IPv4 and IPv6); routes pushed on alice's LAN for the web's prefixes
# carry nothing in clear; a restart comes back through bob; down restores
# alice's routing and bob's forwarding and nftables exactly.
#
#                     wan bridge (192.0.2.0/24, 2001:db8::/64)
#     +---------------+---------------+---------------+
#     |               |               |               |
#  auth .10        alice .11        bob .12        gw .1 (alice's LAN router,
#  grants bob      q2q0 --exit-     q2q0           pushing routes; tcpdump)
#  0.0.0.0/0,::/0  node bob         eth1 203.0.113.1, 2001:db8:1::1
#                                     |
#                                   web 203.0.113.80, 2001:db8:1::80
. "$(dirname "$0")/lib.sh"
e2e_init exit-node

ovl_lan_gw
ip netns add "$PFX-web"; NSES+=("$PFX-web")
ip -n "$PFX-web" link set lo up
ip link add "qx$$w" netns "$PFX-web" type veth peer name "qx$$b" netns "$PFX-bob"
ip -n "$PFX-web" link set "qx$$w" name eth0
ip -n "$PFX-bob" link set "qx$$b" name eth1
ip -n "$PFX-web" addr add 203.0.113.80/24 dev eth0
ip -n "$PFX-web" addr add 2001:db8:1::80/64 dev eth0 nodad
ip -n "$PFX-bob" addr add 203.0.113.1/24 dev eth1
ip -n "$PFX-bob" addr add 2001:db8:1::1/64 dev eth1 nodad
ip -n "$PFX-web" link set eth0 up
ip -n "$PFX-bob" link set eth1 up
ip -n "$PFX-web" route add default via 203.0.113.1
ip -n "$PFX-web" -6 route add default via 2001:db8:1::1

ovl_pair 'grants = ( { identity = "bob@example.com"; subnets = [ "0.0.0.0/0", "::/0" ]; } );' \
	'allow_exit_node = true;' || exit 1

routing() { nsx "$1" sh -c 'ip -4 rule; ip -6 rule; ip -4 route show table all; ip -6 route show table all;
	nft list ruleset; sysctl -n net.ipv4.ip_forward net.ipv6.conf.all.forwarding' |
	grep -v -e 'fe80::' -e 'ff00::/8' -e 'multicast ff00' | sort; }
routing alice > "$T/alice.before"
routing bob > "$T/bob.before"
check_eq "bob does not forward before up" "$(nsx bob sysctl -n net.ipv4.ip_forward)" 0

# The web host: answers each TCP connection with the address it came from.
nsx web python3 -c 'import socket,threading,sys
def serve(fam, addr):
    s = socket.socket(fam); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 8080)); s.listen(8)
    while True:
        c, a = s.accept(); c.sendall(("from " + a[0] + "\n").encode()); c.close()
threading.Thread(target=serve, args=(socket.AF_INET6, "2001:db8:1::80"), daemon=True).start()
serve(socket.AF_INET, "203.0.113.80")' >/dev/null 2>&1 &
WEB=$!
wait_for 5 sh -c "ip netns exec $PFX-web ss -Hltn | grep -q 8080"
ask() {	# ask NODE ADDR: what the web host says of us
	nsx "$1" timeout 10 python3 -c 'import socket,sys
s = socket.create_connection((sys.argv[1], 8080), timeout=5)
print(s.recv(100).decode().strip())' "$2"
}
check_fails "alice cannot reach the web host before (no route)" ask alice 203.0.113.80

check "bob: up (his certificate grants the default routes)" ctl bob up
check "bob forwards now" sh -c "[ \"\$(ip netns exec $PFX-bob sysctl -n net.ipv4.ip_forward)\" = 1 ]"
check "bob has the masquerade table inet q2q_exit" nsx bob nft list table inet q2q_exit
check "alice: up --exit-node bob@example.com" ctl alice up --exit-node bob@example.com
check "alice: table 5288 has the default route on q2q0" \
	sh -c "ip netns exec $PFX-alice ip -4 route show table 5288 | grep -q '^default dev q2q0'"
check "alice: and the IPv6 one" \
	sh -c "ip netns exec $PFX-alice ip -6 route show table 5288 | grep -q '^default dev q2q0'"
check "alice reaches the web host by IPv4 through bob" wait_for 20 ask alice 203.0.113.80
check_eq "alice's status --json names bob as her exit node" \
	"$(ctl alice status --json | jq_get exit_node.identity)" bob@example.com
check_eq "with a session up" "$(ctl alice status --json | jq_get exit_node.session)" True
check_eq "whose certificate grants the default route" \
	"$(ctl alice status --json | jq_get exit_node.grants_default_route)" True
check "q2qctl status says so" bash -c "ctl alice status | grep -q '^exit node: *bob@example.com (session up)'"
check_eq "bob's status says he serves as an exit node" "$(ctl bob status --json | jq_get serving_as_exit_node)" True
check_eq "the web host sees bob's address (IPv4)" "$(ask alice 203.0.113.80)" "from 203.0.113.1"
check "alice reaches the web host by IPv6 through bob" wait_for 10 ask alice 2001:db8:1::80
check_eq "the web host sees bob's address (IPv6)" "$(ask alice 2001:db8:1::80)" "from 2001:db8:1::1"
check "alice pings the web host" nsx alice ping -c2 -i0.2 -W2 203.0.113.80
B4=$(ctl alice resolve bob@example.com 2>/dev/null)
check "alice still pings bob's overlay address" nsx alice ping -c1 -W2 "$B4"
check "alice's engine keeps its authority link over eth0" \
	sh -c "ip netns exec $PFX-alice ss -Htn state established dst 192.0.2.10 | grep -q 8788"

# ---- TunnelVision against the exit node: the LAN pushes the web's prefixes.
nsx alice ip route add 203.0.113.0/24 via 192.0.2.1 dev eth0
nsx alice ip -6 route add 2001:db8:1::/64 via 2001:db8::1 dev eth0
cap_start gw eth0 "$T/lan.pcap"
check_eq "with the pushed routes, the web host still sees bob (IPv4)" "$(ask alice 203.0.113.80)" "from 203.0.113.1"
check_eq "with the pushed routes, the web host still sees bob (IPv6)" "$(ask alice 2001:db8:1::80)" "from 2001:db8:1::1"
nsx alice ping -c3 -i0.2 -W2 203.0.113.80 >/dev/null 2>&1
nsx alice ping -c1 -W1 -I eth0 203.0.113.80 >/dev/null 2>&1	# the control: bound to eth0
sleep 0.5
cap_stop "$T/lan.pcap"
check_eq "control: a ping bound to eth0 does take the pushed route (1 on the LAN)" \
	"$(cap_count "$T/lan.pcap" icmp and dst host 203.0.113.80)" 1
check_eq "nothing else for the web host crossed alice's LAN in clear" \
	"$(cap_count "$T/lan.pcap" "(" host 203.0.113.80 or ip6 host 2001:db8:1::80 ")" and not icmp)" 0
nsx alice ip route del 203.0.113.0/24 via 192.0.2.1 dev eth0
nsx alice ip -6 route del 2001:db8:1::/64 via 2001:db8::1 dev eth0

# A restart comes back up through the same exit node, never around it.
q2qd_stop alice
q2qd_start alice || exit 1
check "after a restart alice is up again with the default route on q2q0" wait_for 10 \
	sh -c "ip netns exec $PFX-alice ip -4 route show table 5288 | grep -q '^default dev q2q0'"
check "after a restart alice reaches the web host through bob" wait_for 20 ask alice 203.0.113.80
check_eq "after a restart the web host still sees bob's address" "$(ask alice 203.0.113.80)" "from 203.0.113.1"

check "alice: down" ctl alice down
routing alice > "$T/alice.after"
check "after down: alice's rules, routes, nftables as before" diff "$T/alice.before" "$T/alice.after"
check_fails "after down alice cannot reach the web host" ask alice 203.0.113.80
check "up again without --exit-node: alice's status names none" bash -c "ctl alice up && ctl alice status --json |
	python3 -c 'import json,sys; d = json.load(sys.stdin); sys.exit(0 if d[\"up\"] and d[\"exit_node\"] is None else 1)'"
check "and she is down again" ctl alice down
check "bob: down" ctl bob down
routing bob > "$T/bob.after"
check "after down: bob's rules, routes, nftables and forwarding as before" diff "$T/bob.before" "$T/bob.after"
check_fails "bob (no allow_exit_node): up --exit-node is refused" ctl bob up --exit-node alice@example.com
check "the refusal names the setting" bash -c "ctl bob up --exit-node alice@example.com 2>&1 | grep -q 'allow_exit_node = true'"
check "bob: refused, he is left down with no q2q0" ovl_no_link bob q2q0
check "bob: up again" ctl bob up
E=$(q2qd_engine bob)
kill -9 "$E"
check "SIGKILL of bob's engine: forwarding and the masquerade table go" wait_for 10 \
	sh -c "[ \"\$(ip netns exec $PFX-bob sysctl -n net.ipv4.ip_forward)\" = 0 ] && ! ip netns exec $PFX-bob nft list tables | grep -q q2q_exit"
wait "$(cat "$T/bob/pid")" 2>/dev/null; rm -f "$T/bob/pid"
routing bob > "$T/bob.kill"
check "after SIGKILL: bob's routing, nftables and forwarding as before" diff "$T/bob.before" "$T/bob.kill"
kill "$WEB" 2>/dev/null; wait "$WEB" 2>/dev/null
e2e_finish

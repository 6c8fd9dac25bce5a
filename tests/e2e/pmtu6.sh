#!/bin/bash
# The path MTU over an IPv6 underlay, found by probing: the peers reach
# each other only over IPv6 (the router drops IPv4 between them, the
# authority stays on IPv4). Over 1500 bytes q2q0 carries 1420-byte packets
# whole (1500 - 40 - 8 - 32); when bob's link narrows to 1280 and the
# router drops every "packet too big", the probes find it, 1280-byte inner
# IPv6 packets (what IPv6 requires any link to carry) still cross, split
# in the tunnel, and 10 MB of TCP goes through.
#
#            wan bridge (192.0.2.0/24, 2001:db8::/64)
#     +---------------+---------------+
#     |               |               |
#  auth .10 ::10   alice .11 ::11    r .1 ::1 (forwards IPv6; drops IPv4
#  example.com     q2q0               |  alice <-> bob; later every PTB)
#                                     | lan-bob 198.51.100.1 2001:db8:2::1
#                                     |   mtu 1500, then 1280
#                                  bob 198.51.100.2 2001:db8:2::2, q2q0
. "$(dirname "$0")/lib.sh"
e2e_init pmtu6

. "$(dirname "$0")/pmtu-lib.sh"
pmtu_lab
nsx auth ip addr add 2001:db8::10/64 dev eth0 nodad
nsx alice ip addr add 2001:db8::11/64 dev eth0 nodad
nsx r ip addr add 2001:db8::1/64 dev eth0 nodad
nsx r ip addr add 2001:db8:2::1/64 dev lan-bob nodad
nsx bob ip addr add 2001:db8:2::2/64 dev eth0 nodad
for n in auth alice; do nsx $n ip -6 route add 2001:db8:2::/64 via 2001:db8::1; done
nsx bob ip -6 route add default via 2001:db8:2::1
nsx r sysctl -qw net.ipv6.conf.all.forwarding=1
nsx r nft -f - <<'EOF2'
table inet pmtu6 {
	chain through { type filter hook forward priority filter; policy accept;
		ip saddr 192.0.2.11 ip daddr 198.51.100.2 drop; ip saddr 198.51.100.2 ip daddr 192.0.2.11 drop; }
}
EOF2
# The nodes speak to the authority over IPv6 too: it passes on a public
# endpoint only from the network a node connects from.
pmtu_up "[2001:db8::10]:8788" "[::]:8788"
B6=$(ctl alice resolve bob@example.com -6 2>/dev/null)
[ -n "$B4" ] && [ -n "$B6" ] || { echo "cannot continue: resolve gave no addresses"; e2e_finish; exit 1; }
check "alice pings bob" wait_for 15 ovl_ping alice "$B4"
on_v6() { [ "$(ovl_peer alice bob@example.com path)" = direct ] &&
	ovl_peer alice bob@example.com endpoint | grep -q '^\[2001:db8:2::2\]:'; }
check "alice's path to bob is direct, over IPv6 ($(ovl_peer alice bob@example.com endpoint))" wait_for 20 on_v6

# A probe lost twice (a loaded machine) leaves the figure a little short
# until the search upwards, every 30 s (PLPMTU_RAISE_MS), finds the rest.
check "alice: path_mtu 1500 towards bob" wait_for 45 path_mtu_is alice bob@example.com 1500
check_eq "alice: mtu (inner) towards bob is 1420 (IPv6 underlay)" "$(ovl_peer alice bob@example.com mtu)" 1420
check "ping -M do -s 1392 (1420 bytes inner) through q2q0 over IPv6" nsx alice ping -c2 -W2 -M do -s 1392 "$B4"
out=$(nsx alice ping -c2 -W2 -M do -s 1393 "$B4" 2>&1); rc=$?
check "1421 bytes get 'frag needed' (mtu 1420) from q2q0" \
	bash -c "[ $rc != 0 ] && grep -Eqi 'frag needed|mtu ?= ?1420' <<<\"\$1\"" _ "$out"

# ---- bob's link narrows to 1280; the router drops every "packet too big".
nsx r nft add chain inet pmtu6 own '{ type filter hook output priority filter; policy accept; }'
nsx r nft add rule inet pmtu6 own icmpv6 type packet-too-big counter drop
nsx r nft add rule inet pmtu6 through icmpv6 type packet-too-big drop
link_mtu 1280
nsx alice ping -q -i 0.2 -c 150 -W1 "$B4" >/dev/null 2>&1 &
PINGER=$!
check "alice: path_mtu towards bob falls to 1280 within 20 s" wait_for 20 path_mtu_is alice bob@example.com 1280
kill "$PINGER" 2>/dev/null; wait "$PINGER" 2>/dev/null
check_eq "alice: mtu (inner) towards bob is 1200" "$(ovl_peer alice bob@example.com mtu)" 1200
check "a 1280-byte inner IPv6 packet (ping -6 -M do -s 1232) crosses, split in the tunnel" \
	nsx alice ping -6 -c3 -W2 -M do -s 1232 "$B6"
DROPPED=$(nsx r nft list chain inet pmtu6 own | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
check "the router's 'packet too big' messages were dropped ($DROPPED)" test "${DROPPED:-0}" -gt 0
head -c 10M /dev/urandom > "$T/file"
START=$SECONDS
check "10 MB alice -> bob over the IPv6 1280 black hole (TCP), checksum matches" \
	tcp_copy alice bob "$B4" 5001 "$T/file" "$T/file.rx"
check "... within 60 s (took $((SECONDS - START)) s)" test $((SECONDS - START)) -lt 60

e2e_finish

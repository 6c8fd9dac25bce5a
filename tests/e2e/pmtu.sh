#!/bin/bash
# The path MTU, found by probing (RFC 8899 style) with ICMP gone: over a
# 1500-byte path q2q0 carries 1440-byte packets whole; when bob's link
# narrows to 1280 and the router drops ALL ICMP (a black hole), the
# probes find it within a stated time, TCP (offload on) moves 10 MB both
# ways, 1280-byte packets still go through (split inside the tunnel) and
# bigger ones get "frag needed" from q2q0; when the link widens again,
# the periodic upward probe finds it. Underlay datagrams carry DF.
#
#                 wan bridge (192.0.2.0/24)
#     +---------------+---------------+
#     |               |               |
#  auth .10        alice .11       r .1  (forwards; later drops every ICMP)
#  example.com     q2q0               | lan-bob mtu 1500, then 1280
#  (authority)                        | 198.51.100.1
#                                     |
#                                  bob 198.51.100.2, eth0 like lan-bob, q2q0
#                                  (default via r)
. "$(dirname "$0")/lib.sh"
e2e_init pmtu

. "$(dirname "$0")/pmtu-lib.sh"
pmtu_lab
pmtu_up
check "alice pings bob" wait_for 10 ovl_ping alice "$B4"
check "alice's path to bob is direct" test "$(ovl_peer alice bob@example.com path)" = direct
check_eq "q2q0's MTU is 1440 (the default)" "$(nsx alice cat /sys/class/net/q2q0/mtu)" 1440

# ---- a 1500-byte path: found at once, 1440-byte packets go whole.
# A probe lost twice (a loaded machine) leaves the figure a little short
# until the search upwards, every 30 s (PLPMTU_RAISE_MS), finds the rest.
check "alice: peers --json shows path_mtu 1500 towards bob" wait_for 45 path_mtu_is alice bob@example.com 1500
check "bob: peers --json shows path_mtu 1500 towards alice" wait_for 45 path_mtu_is bob alice@example.com 1500
check_eq "alice: peers --json mtu (inner) towards bob is 1440" "$(ovl_peer alice bob@example.com mtu)" 1440
cap_start alice eth0 "$T/df.pcap" udp port 8789
check "ping -M do -s 1392 (1420 bytes inner) through q2q0" nsx alice ping -c2 -W2 -M do -s 1392 "$B4"
check "ping -M do -s 1412 (1440 bytes inner) through q2q0" nsx alice ping -c2 -W2 -M do -s 1412 "$B4"
cap_stop "$T/df.pcap"
ALL=$(cap_count "$T/df.pcap" udp)
NODF=$(tcpdump -v -n -r "$T/df.pcap" udp 2>/dev/null | grep -c '^[0-9].*IP (' | tr -d ' ')
DF=$(tcpdump -v -n -r "$T/df.pcap" udp 2>/dev/null | grep -c 'flags \[DF\]')
check "every underlay datagram alice sent or got has DF set ($DF of $ALL)" \
	test "$ALL" -gt 3 -a "$DF" = "$NODF"

# ---- the link narrows to 1280 and every ICMP is dropped: a black hole.
nsx r nft -f - <<'EOF2'
table inet pmtu_bh {
	chain through { type filter hook forward priority filter; policy accept; meta l4proto { icmp, ipv6-icmp } drop; }
	chain own { type filter hook output priority filter; policy accept; meta l4proto icmp counter drop; }
}
EOF2
link_mtu 1280
# Traffic keeps the probes' confirmations going (they run while data flows).
nsx alice ping -q -i 0.2 -c 150 -W1 "$B4" >/dev/null 2>&1 &
PINGER=$!
START=$SECONDS
check "alice: path_mtu towards bob falls to 1280 within 20 s (stated: 3 s to notice, 6 s to search)" \
	wait_for 20 path_mtu_is alice bob@example.com 1280
echo "# found after $((SECONDS - START)) s"
check_eq "alice: mtu (inner) towards bob is now 1220" "$(ovl_peer alice bob@example.com mtu)" 1220
kill "$PINGER" 2>/dev/null; wait "$PINGER" 2>/dev/null

check "ping -M do -s 1252 (1280 bytes inner, split in the tunnel) still goes through" \
	nsx alice ping -c3 -W2 -M do -s 1252 "$B4"
check "... and from bob to alice" nsx bob ping -c3 -W2 -M do -s 1252 "$A4"
out=$(nsx alice ping -c2 -W2 -M do -s 1300 "$B4" 2>&1); rc=$?
check "a 1328-byte DF packet gets 'fragmentation needed' (mtu 1280) from q2q0" \
	bash -c "[ $rc != 0 ] && grep -Eqi 'frag needed|mtu ?= ?1280' <<<\"\$1\"" _ "$out"
DROPPED=$(nsx r nft list chain inet pmtu_bh own | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
check "the router's 'frag needed' messages were dropped ($DROPPED), so only probing found 1280" \
	test "${DROPPED:-0}" -gt 0

# "Promptly": well under the 180 s tcp_copy allows, on a loaded machine.
head -c 10M /dev/urandom > "$T/file"
for dir in "alice bob $B4 5001" "bob alice $A4 5002"; do
	set -- $dir
	START=$SECONDS
	check "10 MB $1 -> $2 over the 1280 black hole (TCP, offload on), checksum matches" \
		tcp_copy "$1" "$2" "$3" "$4" "$T/file" "$T/file.rx$4"
	check "... within 60 s (took $((SECONDS - START)) s)" test $((SECONDS - START)) -lt 60
done

# ---- the link widens again: the upward probe (every 30 s) finds it.
link_mtu 1500
check "alice: path_mtu towards bob back at 1500 within 40 s" wait_for 40 path_mtu_is alice bob@example.com 1500
# The kernel keeps the 1280 that q2q0's "too big" taught it for its own
# ten minutes; forget it, as it would in time.
nsx alice ip route flush cache
check "ping -M do -s 1412 goes through again" nsx alice ping -c2 -W2 -M do -s 1412 "$B4"

e2e_finish

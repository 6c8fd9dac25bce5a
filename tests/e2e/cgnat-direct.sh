#!/bin/bash
# A node straight on a carrier-grade NAT's inside: its own underlay address
# (and its gateway's) lies in 100.64.0.0/10, the range of q2q's default
# overlay pool. It must still be reached over IPv4 by ping and TCP, keep
# its authority link, and never send underlay traffic into q2q0 (issue 10):
# q2q's routes sit in their own table that the engine's sockets skip
# (tund/overlay/routes.c). Before that, 9 of these checks failed.
#
#                         wan bridge (192.0.2.0/24)
#        +-----------------+----------------------+
#        |                 |                      |
#     auth .10          frank .40              cga .31 restricted CGNAT, hairpin on
#     example.com       (no NAT)               | inside 100.64.0.0/10, gw 100.64.0.1
#                                              |                  |
#                                          alice 100.100.7.2/10   hb 100.64.0.3 home router
#                                          (on the CGNAT inside)  | 198.18.2.0/24
#                                                                 bob .2
#
# frank enrolls first and so gets overlay address 100.64.0.1: the same
# address as alice's underlay gateway, as will happen to real users.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/natlab-lib.sh"
e2e_init cgnatdirect

AUTH=192.0.2.10
wan_up
host_add auth $AUTH/24
host_add frank 192.0.2.40/24
cgnat_router cga restricted on 192.0.2.31/24 &&
	nat_host alice cga 100.100.7.2/10 &&
	nat_router_behind hb restricted cga 100.64.0.3/10 198.18.2.0/24 &&
	nat_host bob hb 198.18.2.2/24 || { check "topology" false; e2e_finish; exit 1; }
check "control: alice reaches the authority over the CGNAT before q2q" nsx alice ping -c1 -W2 $AUTH

# shellcheck disable=SC2034  # read by natlab-lib.sh's nat_join
tag="[direct]"
nat_auth_start auth example.com || { check "authority starts" false; e2e_finish; exit 1; }
for n in frank alice bob; do
	nat_join "$n" "$n@example.com" auth $AUTH || { e2e_finish; exit 1; }
done
link_is() { [ "$(ctl "$1" status --json 2>/dev/null | jq -r .authority_link)" = "$2" ]; }
addr_of() { wait_for 10 ctl "$1" resolve "$2@example.com" && ctl "$1" resolve "$2@example.com"; }
route_dev() { nsx "$1" ip -o route get "$2" | sed -n 's/.* dev \([^ ]*\).*/\1/p'; }

A4=$(ctl alice status --json | jq -r .ipv4)
F4=$(ctl frank status --json | jq -r .ipv4)
B4=$(ctl bob status --json | jq -r .ipv4)
echo "# overlay: frank $F4, alice $A4, bob $B4; alice's underlay 100.100.7.2, gateway 100.64.0.1"
check "alice is registered with her authority" wait_for 15 link_is alice registered
check_eq "alice's underlay route to the authority leaves by eth0" "$(route_dev alice $AUTH)" eth0
check_eq "alice's route to bob's overlay address is q2q0" "$(route_dev alice "$B4")" q2q0

# Replies must come from the peer over q2q0: frank's overlay address is
# also alice's gateway, which answers pings of its own.
echo_replies() { cap_count "$1" "icmp[icmptype] == icmp-echoreply and src host $2"; }
cap_start alice q2q0 "$T/alice-q2q0.pcap" icmp
check "frank pings alice over IPv4" nat_within 30 ovl_ping frank "$A4"
check "alice pings frank over IPv4" nat_within 10 ovl_ping alice "$F4"
check "bob pings alice over IPv4" nat_within 30 ovl_ping bob "$A4"
check "alice pings bob over IPv4" nat_within 10 ovl_ping alice "$B4"
cap_stop "$T/alice-q2q0.pcap"
check "frank's echo replies reached alice on q2q0 ($(echo_replies "$T/alice-q2q0.pcap" "$F4"))" \
	test "$(echo_replies "$T/alice-q2q0.pcap" "$F4")" -ge 1
check "bob's echo replies reached alice on q2q0 ($(echo_replies "$T/alice-q2q0.pcap" "$B4"))" \
	test "$(echo_replies "$T/alice-q2q0.pcap" "$B4")" -ge 1
check "alice is still registered" link_is alice registered
head -c 256K /dev/urandom > "$T/file"
check "256 KB frank->alice over TCP arrive intact" tcp_copy frank alice "$A4" 5001 "$T/file" "$T/f.rx"
check "256 KB alice->frank over TCP arrive intact" tcp_copy alice frank "$F4" 5002 "$T/file" "$T/f.rx2"
check "256 KB bob->alice over TCP arrive intact" tcp_copy bob alice "$A4" 5003 "$T/file" "$T/f.rx3"
check "alice's path to frank is direct" nat_within 15 nat_path_is alice frank@example.com direct
check "bob's path to alice is direct" nat_within 15 nat_path_is bob alice@example.com direct
e2e_finish

#!/bin/bash
# A configured pool works (issue 10): with pool = "198.19.0.0/16" at the
# authority, nodes learn the pool from their authority (T_POOL in
# REGISTERED) and route it on q2q0 in q2q's table; ping and TCP by IPv4
# work both ways with no hand-made route, and 100.64.0.0/10 is not routed.
#
#                     wan bridge (192.0.2.0/24)
#     +---------------+---------------+
#     |               |               |
#  auth .10        alice .11        bob .12
#  example.com     q2q0             q2q0
#  pool 198.19.0.0/16
. "$(dirname "$0")/lib.sh"
e2e_init pool

wan_up
host_add auth 192.0.2.10/24
host_add alice 192.0.2.11/24
host_add bob 192.0.2.12/24
ovl_pair 'pool = "198.19.0.0/16";' || exit 1
ovl_pair_up
check "alice's overlay address $A4 is in 198.19.0.0/16" sh -c "case '$A4' in 198.19.*) true;; *) false;; esac"
check "bob's overlay address $B4 is in 198.19.0.0/16" sh -c "case '$B4' in 198.19.*) true;; *) false;; esac"
for n in alice bob; do
	check "$n routes the learned pool 198.19.0.0/16 on q2q0 (table 5288)" wait_for 10 \
		sh -c "ip netns exec $PFX-$n ip -4 route show table 5288 | grep -q '^198.19.0.0/16 dev q2q0'"
	check "$n does not route 100.64.0.0/10" \
		sh -c "! ip netns exec $PFX-$n ip -4 route show table all | grep -q '^100.64.0.0/10'"
	check "$n's log names the pool" grep -q "routing the domain's pool 198.19.0.0/16" "$T/$n/log"
done
check "alice pings bob by IPv4" wait_for 15 ovl_ping alice "$B4"
check "bob pings alice by IPv4" wait_for 15 ovl_ping bob "$A4"
head -c 300000 /dev/urandom > "$T/blob"
check "TCP alice -> bob by IPv4, 300 kB intact" tcp_copy alice bob "$B4" 5001 "$T/blob" "$T/got1"
check "TCP bob -> alice by IPv4, 300 kB intact" tcp_copy bob alice "$A4" 5002 "$T/blob" "$T/got2"
check "alice: down" ctl alice down
check "alice: up again" ctl alice up
check "alice pings bob after down/up" wait_for 15 ovl_ping alice "$B4"
e2e_finish

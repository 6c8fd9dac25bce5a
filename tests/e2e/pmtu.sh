#!/bin/bash
# Bulk TCP through q2q0 over an underlay with a 1280-byte hop, ICMP "frag
# needed" allowed (the ordinary internet, not a black hole), with offload on
# (the default): UDP GSO sends whose segments exceed the learned path MTU
# are refused by the kernel (EMSGSIZE), and must not be dropped silently.
# Both directions: alice learns bob's 1280 from the router's ICMP, bob has
# the 1280 link at hand.
#
#                 wan bridge (192.0.2.0/24)
#     +---------------+---------------+
#     |               |               |
#  auth .10        alice .11       r .1  (forwards, ICMP allowed)
#  example.com     q2q0               | lan-bob mtu 1280
#  (authority)                        | 198.51.100.1
#                                     |
#                                  bob 198.51.100.2, eth0 mtu 1280, q2q0
#                                  (default via r)
. "$(dirname "$0")/lib.sh"
e2e_init pmtu

wan_up
host_add auth 192.0.2.10/24
host_add alice 192.0.2.11/24
host_add r 192.0.2.1/24
lan_add bob r 198.51.100.2/24 198.51.100.1/24
nsx r ip link set lan-bob mtu 1280
nsx bob ip link set eth0 mtu 1280
for n in auth alice; do nsx $n ip route add 198.51.100.0/24 via 192.0.2.1; done

q2qd_conf auth 'authority = { domain = "example.com"; listen = "0.0.0.0:8788"; };'
q2qd_conf alice 'port = 8789;'
q2qd_conf bob 'port = 8789;'
for n in auth alice bob; do q2qd_start $n || exit 1; done

check "alice enrolls" ovl_enroll alice alice@example.com auth 192.0.2.10:8788
check "bob enrolls" ovl_enroll bob bob@example.com auth 192.0.2.10:8788
for n in alice bob; do check "$n: q2qctl up" ctl $n up; done
A4=$(ctl bob resolve alice@example.com 2>/dev/null)
B4=$(ctl alice resolve bob@example.com 2>/dev/null)
[ -n "$A4" ] && [ -n "$B4" ] || { echo "cannot continue: resolve gave no addresses"; e2e_finish; exit 1; }
check "alice pings bob" wait_for 10 ovl_ping alice "$B4"
check "alice's path to bob is direct" test "$(ovl_peer alice bob@example.com path)" = direct

# Teach alice the path MTU the ordinary way, with a DF packet too big for
# the 1280 hop: r answers "frag needed".
nsx alice ping -c1 -W1 -M do -s 1400 198.51.100.2 >/dev/null 2>&1
check "alice learned mtu 1280 towards bob's underlay address" \
	bash -c "ip netns exec $PFX-alice ip route get 198.51.100.2 | grep -q 'mtu 1280'"

head -c 10M /dev/urandom > "$T/file"
check "10 MB alice -> bob through q2q0 (TCP, offload on), checksum matches" \
	tcp_copy alice bob "$B4" 5001 "$T/file" "$T/file.rx"
check "10 MB bob -> alice through q2q0 (TCP, offload on), checksum matches" \
	tcp_copy bob alice "$A4" 5002 "$T/file" "$T/file.rx2"

# The fallback is counted where the data path's other counters are.
for n in alice bob; do
	G=$(ctl $n status --json | jq_get gso_split)
	check "$n: status --json counts GSO runs sent one by one (gso_split=$G)" test "${G:-0}" -gt 0
done

# The path MTU the kernel learned is fed back: TCP super-packets to bob are
# cut to fit it and go out as whole GSO sends again, so only the first few
# runs of 10 MB (about 280 without it) need sending one by one.
G=$(ctl alice status --json | jq_get gso_split)
check "alice: TCP is cut to the learned MTU, few runs split (gso_split=$G < 50)" test "${G:-999}" -lt 50

e2e_finish

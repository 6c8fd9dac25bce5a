#!/bin/bash
# Self-test of the NAT lab (natlab-lib.sh): each NAT type behaves as its
# label says, so the NAT-traversal tests built on it test what they claim.
#
#                           wan bridge (192.0.2.0/24)
#   +--------+--------+---------+---------+---------+--------+--------+--------+
#   |        |        |         |         |         |        |        |        |
#  obs     third    easy      restr     hard      cgn       tr       th       te
#  .10      .20     .21       .22       .23       .24      .25      .26      .27
#  observer sender  easy      restric.  hard      restric. restric. hard     easy
#  3478-80  (obs    198.18.1  198.18.2  198.18.3  198.18.4 198.18.6 198.18.7 198.18.8
#           :3478)  |    |    |         |         |        timeout  timeout  timeout
#                   he  he2   hr        hh        home .2  2 s      2 s      2 s
#                   .2  .3    .2        .2        easy     |        |        |
#                                                 198.18.5 ht .2    hth .2   hte .2
#                                                 hd .2
#
# The observer answers each UDP datagram with the source ip:port it saw
# (the mapping); it can answer late (delay=S) or from another of its ports
# (via=P), which is how filtering is probed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/natlab-lib.sh"
e2e_init natlab

OBS=192.0.2.10
wan_up
host_add obs $OBS/24
host_add third 192.0.2.20/24
nat_router easy easy 192.0.2.21/24 198.18.1.0/24 || exit 1
nat_host he easy 198.18.1.2/24
nat_host he2 easy 198.18.1.3/24
nat_router restr restricted 192.0.2.22/24 198.18.2.0/24 || exit 1
nat_host hr restr 198.18.2.2/24
nat_router hard hard 192.0.2.23/24 198.18.3.0/24 || exit 1
nat_host hh hard 198.18.3.2/24
nat_router cgn restricted 192.0.2.24/24 198.18.4.0/24 || exit 1
nat_router_behind home easy cgn 198.18.4.2/24 198.18.5.0/24 || exit 1
nat_host hd home 198.18.5.2/24
nat_router tr restricted 192.0.2.25/24 198.18.6.0/24 || exit 1
nat_host ht tr 198.18.6.2/24
nat_router th hard 192.0.2.26/24 198.18.7.0/24 || exit 1
nat_host hth th 198.18.7.2/24
nat_router te easy 192.0.2.27/24 198.18.8.0/24 || exit 1
nat_host hte te 198.18.8.2/24
nat_observer obs $OBS 3478 3479 3480 || exit 1
nat_observer third 192.0.2.20 3478 || exit 1

port() { echo "${1##*:}"; }
ipof() { echo "${1%:*}"; }
received() { grep -q "^from .* $2" "$1"; }
answered() { [ "$(nat_ask "$@")" != - ]; }
# gone CMD...: CMD fails (for waiting until something disappears)
gone() { ! "$@"; }
learned() { nsx "$1" nft list map ip natlab fullcone | grep -qF "$2"; }

# ------------------------------------------------------------ per type
# nat_type_checks ROUTER HOST TYPE
nat_type_checks() {
	local r=$1 h=$2 type=$3 wan m1 m2 ms m out
	wan=$(nat_wan_ip "$r")
	check "$type: LAN host pings the internet" nsx "$h" ping -c1 -W2 $OBS

	mapfile -t ms < <(nat_probe "$h" 40000 $OBS:3478 $OBS:3479)
	m1=${ms[0]:-}; m2=${ms[1]:-}
	check_eq "$type: observer 1 sees the router's WAN address" "$(ipof "$m1")" "$wan"
	check_eq "$type: observer 2 sees the router's WAN address" "$(ipof "$m2")" "$wan"
	if [ "$type" = hard ]; then
		check_ne "$type: endpoint-dependent mapping (new port per destination)" "$(port "$m1")" "$(port "$m2")"
	else
		check_eq "$type: endpoint-independent mapping (same port for both destinations)" "$(port "$m1")" "$(port "$m2")"
		check_eq "$type: source port preserved" "$(port "$m1")" 40000
	fi

	# Filtering: a mapping made towards obs:3478, then datagrams to it from
	# a third host and from obs's other port. The router itself listens on
	# the mapped port too: nothing unsolicited may reach it.
	out=$T/$r.listen
	nat_listen "$h" 40010 8 "$out" $OBS:3478
	m=$(nat_mapped "$out")
	check_eq "$type: listener got a mapping on the WAN address" "$(ipof "$m")" "$wan"
	nat_listen "$r" "$(port "$m")" 8 "$T/$r.router"
	nat_send third 0 "$m" "unsolicited-third" 3
	if [ "$type" = easy ]; then
		check "$type: unsolicited datagram from a third host reaches the LAN host" \
			wait_for 3 received "$out" unsolicited-third
		check_eq "$type: answer from another observer port gets in (EIF)" \
			"$(nat_ask "$h" 40020 2 $OBS:3478 via=3480)" "$wan:40020"
	else
		# A negative needs a bound: the positive cases above arrive in ms.
		sleep 1
		check_fails "$type: unsolicited datagram from a third host is dropped" \
			received "$out" unsolicited-third
		check_eq "$type: answer from an observer port not contacted is dropped" \
			"$(nat_ask "$h" 40020 2 $OBS:3478 via=3480)" "-"
		check_eq "$type: answer from the port contacted gets in" \
			"$(ipof "$(nat_ask "$h" 40021 2 $OBS:3478 via=3478)")" "$wan"
	fi
	check_fails "$type: the router itself got nothing unsolicited" \
		grep -q unsolicited "$T/$r.router"
}

nat_type_checks easy he easy
nat_type_checks restr hr restricted
nat_type_checks hard hh hard

# ------------------------------------------------------------ same LAN
check "same NAT: two hosts behind one router reach each other by LAN address" \
	nsx he ping -c1 -W2 198.18.1.3

# ------------------------------------------------------------ double NAT
check "double NAT: host behind two routers pings the internet" nsx hd ping -c1 -W2 $OBS
mapfile -t ms < <(nat_probe hd 40000 $OBS:3478 $OBS:3479)
check_eq "double NAT: observer sees the outer router's WAN address" "$(ipof "${ms[0]:-}")" 192.0.2.24
check_eq "double NAT of two EIM routers is still endpoint-independent" \
	"$(port "${ms[0]:-}")" "$(port "${ms[1]:-}")"
check "double NAT: the inner router's mapping is on the outer router's LAN" \
	nat_conntrack cgn "src=198.18.4.2 dst=$OBS"

# ------------------------------------------------------------ timeouts
nat_set_timeout tr 2
nat_set_timeout th 2
nat_set_timeout te 2
check_eq "timeout: set in the router namespace" \
	"$(nsx tr sysctl -n net.netfilter.nf_conntrack_udp_timeout)" 2
check_eq "timeout: other namespaces keep theirs" \
	"$(nsx restr sysctl -n net.netfilter.nf_conntrack_udp_timeout)" \
	"$(cat /proc/sys/net/netfilter/nf_conntrack_udp_timeout)"

# restricted: an answer inside the timeout gets in, one after it does not.
check "timeout: answer 1 s later passes a 2 s mapping" answered ht 41000 3 $OBS:3478 delay=1
check_eq "timeout: answer 4 s later finds the mapping gone" \
	"$(nat_ask ht 41001 6 $OBS:3478 delay=4)" "-"

# hard: keepalives hold the mapping; after silence it expires (the
# conntrack entry goes) and the next packet gets a new random port.
first=$(nat_probe hth 41000 $OBS:3478)
held=yes
for i in 1 2 3 4; do
	sleep 1
	[ "$(nat_probe hth 41000 $OBS:3478)" = "$first" ] || held="no (round $i)"
done
check_eq "timeout: keepalives every 1 s hold a 2 s mapping" "$held" yes
check "timeout: the mapping's conntrack entry expires after silence" \
	wait_for 10 gone nat_conntrack th "sport=41000 dport=3478"
check_ne "timeout: after expiry the hard NAT maps to a new port" \
	"$(nat_probe hth 41000 $OBS:3478)" "$first"

# easy: the learned full-cone mapping expires with it.
nat_listen hte 41000 30 "$T/te.listen" $OBS:3478
m=$(nat_mapped "$T/te.listen")
nat_send third 0 "$m" "early-third" 2
check "timeout: easy mapping lets a third host in while fresh" \
	wait_for 3 received "$T/te.listen" early-third
check "timeout: easy mapping expires after silence" \
	wait_for 10 gone learned te "198.18.8.2 . 41000"
nat_send third 0 "$m" "late-third" 3
sleep 1
check_fails "timeout: an expired easy mapping lets nothing in" received "$T/te.listen" late-third

# ------------------------------------------------------------ blackhole
nat_blackhole easy on
check_eq "blackhole on: UDP through the router dies" "$(nat_probe he 42000 $OBS:3478)" "-"
check "blackhole on: ping still passes" nsx he ping -c1 -W2 $OBS
nat_blackhole easy on $OBS
check_eq "blackhole with a spared address: UDP to it passes" \
	"$(ipof "$(nat_probe he 42001 $OBS:3478)")" 192.0.2.21
check_eq "blackhole with a spared address: UDP to others dies" \
	"$(nat_probe he 42002 192.0.2.20:3478)" "-"
nat_blackhole easy off
check_eq "blackhole off: UDP passes again" \
	"$(ipof "$(nat_probe he 42003 192.0.2.20:3478)")" 192.0.2.21

# ------------------------------------------------------------ roaming
nat_move_host he2 restr 198.18.2.3/24
check_eq "roaming: host moved behind restr is seen at restr's address" \
	"$(ipof "$(nat_probe he2 43000 $OBS:3478)")" 192.0.2.22
check_fails "roaming: the old LAN no longer reaches it" nsx he ping -c1 -W1 198.18.1.3
nat_move_host he2 wan 192.0.2.30/24
check_eq "roaming: host moved onto the internet is seen at its own address" \
	"$(nat_probe he2 43001 $OBS:3478)" 192.0.2.30:43001

e2e_finish

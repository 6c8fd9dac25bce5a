#!/bin/bash
# IPv4 across domains (issue 8): three domains, each authority with the
# default pool, so the first node of each, alice@example.com,
# carol@example.org and dave@example.net, is certified the same IPv4
# (100.64.0.1). Nothing but DNS (signed SRV and TLSA, dnslib.sh) is
# between them. Each node shows every other domain's node under a
# node-local IPv4 from its foreign_pool (100.127.0.0/16) and translates
# 1:1 on the way. Every pair: resolve, whois and getent (the names module)
# agree on that local address; pings both ways over IPv4 and IPv6; a
# 256 KB file each way intact (one over IPv4, one over IPv6); carol's
# q2q0 sees alice's pings come from the local address carol shows for
# alice. Then alice restarts and, without resolving any name, reaches
# carol at the local IPv4 and dave at his IPv6 she had before (the
# addresses she gave are kept in her state directory), and whois and
# getent still name carol at hers before any traffic.
#
#                        wan bridge (192.0.2.0/24)
#   +----------+----------+----------+----------+----------+----------+----------+
#   |          |          |          |          |          |          |          |
#  dns .53   authc .10  alice .11  autho .20  carol .21  authn .30  dave .31
#  knotd:    example    alice@     example    carol@     example    dave@
#  . com     .com       example    .org       example    .net       example
#  org net   100.64/10  .com       100.64/10  .org       100.64/10  .net
#                       100.64.0.1            100.64.0.1            100.64.0.1
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dnslib.sh"
e2e_init fed-v4

dns_require

dns_world
nss_setup

dns_authorities || exit 1
for dom in example.com example.org example.net; do
	dns_zone "$dom" signed "$(dns_authority_records "$dom" "${AUTH_IP[$dom]}" "${FP[$dom]}")"
done
check "knotd serves the signed test root" dns_start dns 192.0.2.53

DNSCONF="dns_resolver = \"192.0.2.53\"; dns_anchor = \"$T/dns/root.anchor\";"
# Each authority judges the other domains' nodes by DNSSEC too.
dns_authorities_dns "$DNSCONF" || exit 1
declare -A V4 V6
for n in alice carol dave; do
	q2qd_conf "$n" 'port = 8789;' "$DNSCONF"
	q2qd_start "$n" || exit 1
	check "$n enrolls at ${DOM[$n]}" ovl_enroll "$n" "$n@${DOM[$n]}" "${AUTH_NS[${DOM[$n]}]}" \
		"${AUTH_IP[${DOM[$n]}]}:8788"
	check "$n: q2qctl up" ctl "$n" up
	V4[$n]=$(ctl "$n" status --json | jq_get ipv4)
	V6[$n]=$(ctl "$n" status --json | jq_get ipv6)
done
check_eq "control: alice and carol are certified the same IPv4" "${V4[carol]}" "${V4[alice]}"
check_eq "control: alice and dave too" "${V4[dave]}" "${V4[alice]}"

# in_block ADDR: inside 100.127.0.0/16, the default foreign_pool.
in_block() { [[ $1 == 100.127.* ]]; }
declare -A L4	# L4[a:b]: the IPv4 a shows for b
copy_to() {	# FROM TO ADDR PORT: 256 KB FROM -> TO, sent to ADDR
	local any=0.0.0.0
	[[ $3 == *:* ]] && any=::
	tcp_copy "$1" "$2" "$3" "$4" "$T/file" "$T/got.$1.$2" "$any"
}
head -c 256K /dev/urandom > "$T/file"
port=5000
for pair in alice:carol alice:dave carol:dave; do
	a=${pair%%:*} b=${pair##*:}
	for dir in "$a:$b" "$b:$a"; do
		x=${dir%%:*} y=${dir##*:} idy="${dir##*:}@${DOM[${dir##*:}]}"
		check "$x resolves $idy through DNS" wait_for 20 ctl "$x" resolve "$idy"
		L4[$dir]=$(ctl "$x" resolve "$idy" 2>&1)
		check "$x shows $idy under a local IPv4 (${L4[$dir]}), not her certified ${V4[$y]}" \
			in_block "${L4[$dir]}"
		check_eq "$x: resolve --json gives the certified one as cert_ipv4" \
			"$(ctl "$x" resolve --json "$idy" | jq_get cert_ipv4)" "${V4[$y]}"
		check_eq "$x: $idy's IPv6 is $y's own" "$(ctl "$x" resolve -6 "$idy" 2>&1)" "${V6[$y]}"
		check_eq "$x: whois ${L4[$dir]} is $idy" "$(ctl "$x" whois --json "${L4[$dir]}" | jq_get identity)" "$idy"
		check_eq "$x: getent ahostsv4 $idy (the names module) gives ${L4[$dir]}" \
			"$(nss_run "$x" getent ahostsv4 "$idy" | awk 'NR == 1 { print $1 }')" "${L4[$dir]}"
		check_eq "$x: getent hosts ${L4[$dir]} (reverse) is $idy" \
			"$(nss_run "$x" getent hosts "${L4[$dir]}" | awk '{ print $2 }')" "$idy"
	done
	check "$a pings $b over IPv4 (${L4[$a:$b]})" wait_for 20 ovl_ping "$a" "${L4[$a:$b]}"
	check "$b pings $a over IPv4 (${L4[$b:$a]})" wait_for 10 ovl_ping "$b" "${L4[$b:$a]}"
	check "$a pings $b over IPv6" wait_for 10 ovl_ping "$a" "${V6[$b]}"
	check "$b pings $a over IPv6" wait_for 10 ovl_ping "$b" "${V6[$a]}"
	port=$((port + 1))
	check "256 KB $a->$b over IPv4 arrive intact" copy_to "$a" "$b" "${L4[$a:$b]}" $port
	port=$((port + 1))
	check "256 KB $b->$a over IPv6 arrive intact" copy_to "$b" "$a" "${V6[$a]}" $port
done

# What carol's applications see of alice's pings: they come from the
# address carol shows for alice, to carol's own.
cap_start carol q2q0 "$T/carol.pcap" icmp
nsx alice ping -c3 -i0.2 -W1 "${L4[alice:carol]}" >/dev/null
cap_stop "$T/carol.pcap"
check_eq "carol's q2q0: echo requests from ${L4[carol:alice]} to ${V4[carol]}" \
	"$(cap_count "$T/carol.pcap" "icmp[icmptype] == 8 and src ${L4[carol:alice]} and dst ${V4[carol]}")" 3
check_eq "... and none from alice's certified address" \
	"$(cap_count "$T/carol.pcap" "icmp[icmptype] == 8 and src ${V4[alice]}")" 0
# A UDP port nobody listens on: carol's "port unreachable" must reach
# alice's socket (its quoted packet translated back too).
out=$(nsx alice python3 -c 'import socket,sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
s.connect((sys.argv[1], 9)); s.send(b"x")
try:
    s.recv(10); print("answer")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")' "${L4[alice:carol]}")
check_eq "carol's ICMP port unreachable reaches alice's UDP socket as ECONNREFUSED" "$out" refused

# ---------------------------------------------------------------- restart
check "alice's state keeps the local addresses she gave" \
	grep -q "^carol@example.org ${L4[alice:carol]} " "$T/alice/state/node/foreign-v4"
q2qd_stop alice
q2qd_start alice || exit 1
check "alice: q2qctl up after the restart" ctl alice up
check_fails "alice knows no peer yet" ovl_has_peer alice carol@example.org
check_eq "whois ${L4[alice:carol]} still names carol@example.org (remembered)" \
	"$(ctl alice whois --json "${L4[alice:carol]}" | jq_get identity) $(ctl alice whois --json "${L4[alice:carol]}" | jq_get remembered)" \
	"carol@example.org True"
check_eq "... and so does getent hosts ${L4[alice:carol]} (reverse)" \
	"$(nss_run alice getent hosts "${L4[alice:carol]}" | awk '{ print $2 }')" carol@example.org
check_fails "... without making her a peer" ovl_has_peer alice carol@example.org
check "without resolving: alice pings carol at ${L4[alice:carol]}" wait_for 30 ovl_ping alice "${L4[alice:carol]}"
check_eq "... and carol is still at that address" "$(ctl alice resolve carol@example.org 2>&1)" "${L4[alice:carol]}"
port=$((port + 1))
check "256 KB alice->carol over the kept IPv4 arrive intact" copy_to alice carol "${L4[alice:carol]}" $port
check_fails "alice knows nothing of dave yet" ovl_has_peer alice dave@example.net
check "without resolving: alice pings dave at his IPv6" wait_for 30 ovl_ping alice "${V6[dave]}"
check_eq "... and dave keeps his local IPv4" "$(ctl alice resolve dave@example.net 2>&1)" "${L4[alice:dave]}"

e2e_finish

#!/bin/bash
# Carrier-grade NAT: nodes behind a home router behind an ISP's CGNAT whose
# inside is 100.64.0.0/10 (the range of q2q's default overlay pool). First
# the lab is checked with plain UDP (each CGNAT maps as labelled, hairpins
# or not), then q2q runs through it in one shared world:
#
#   one side     erin (behind hard cgc) <-> frank (no NAT)      direct
#   both sides   alice (cga) <-> carol (cgb), two CGNATs        direct
#                erin (cgc) <-> carol (cgb), hard and restricted direct (birthday)
#   same, hairpin      alice <-> bob, both behind cga           direct, hairpin
#   same, no hairpin   carol <-> dave, both behind cgb          relay
#   same, hard         erin <-> hank, both behind cgc           relay
#                      (it hairpins, but maps each destination anew)
#
# Each pair: ping both ways, a file copied intact, and the path that
# `q2qctl peers --json` reports on both sides ("direct" or "relay", and
# "hairpin" true when the direct path turns in the pair's own CGNAT).
#
#                              wan bridge (192.0.2.0/24)
#   +-----------+----------+-------------------+-------------------+--------+
#   |           |          |                   |                   |        |
# auth .10    third .20   cga .31             cgb .32             cgc .33  frank .40
# example.com (sender)    restricted CGNAT    restricted CGNAT    hard     (no NAT)
# observer                hairpin on          hairpin off         CGNAT, hairpin on
# UDP 3478-79             100.64.0.0/10       100.64.0.0/10       100.64/10
#                         |          |        |          |        |        |
#                         ha .2      hb .3    hc .2      hd .3    he .2    hf .3     home routers
#                         198.18.1   198.18.2 198.18.3   198.18.4 198.18.5 198.18.6  (restricted)
#                         alice .2   bob .2   carol .2   dave .2  erin .2  hank .2
#
# The CGNATs give their home routers the same inside addresses, as two
# ISPs would. For the lab's checks only, cgd .34 (easy, hairpin on) on the
# wan with gina at 100.64.0.9 straight on its inside (no q2q there: a node
# with its own address in the pool is tests/e2e/cgnat-direct.sh's).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/natlab-lib.sh"
e2e_init natcgnat

AUTH=192.0.2.10
FILE_KB=${FILE_KB:-256}
# LAB_ONLY=1 stops after the lab's checks; PAIRS="alice-bob ..." runs
# only those pairs of the q2q part.

# home CGNAT NAME INSIDE_ADDR N NODE: home router NAME (restricted) on
# CGNAT's inside with INSIDE_ADDR, LAN 198.18.N.0/24, NODE at .2 on it.
home() {
	nat_router_behind "$2" restricted "$1" "$3/10" "198.18.$4.0/24" &&
		nat_host "$5" "$2" "198.18.$4.2/24"
}

wan_up
host_add auth $AUTH/24
host_add third 192.0.2.20/24
host_add frank 192.0.2.40/24
cgnat_router cga restricted on 192.0.2.31/24 &&
	cgnat_router cgb restricted off 192.0.2.32/24 &&
	cgnat_router cgc hard on 192.0.2.33/24 &&
	cgnat_router cgd easy on 192.0.2.34/24 && nat_host gina cgd 100.64.0.9/10 &&
	home cga ha 100.64.0.2 1 alice && home cga hb 100.64.0.3 2 bob &&
	home cgb hc 100.64.0.2 3 carol && home cgb hd 100.64.0.3 4 dave &&
	home cgc he 100.64.0.2 5 erin && home cgc hf 100.64.0.3 6 hank || { check "topology" false; e2e_finish; exit 1; }

# ================================================================ the lab
port() { echo "${1##*:}"; }
ipof() { echo "${1%:*}"; }

nat_observer auth $AUTH 3478 3479 || exit 1
nat_observer third 192.0.2.20 3478 || exit 1

check "cga: its inside is 100.64.0.0/10" nsx cga ip -o addr show dev lan to 100.64.0.1/10
check "a home router's WAN address is on the CGNAT's inside" nsx ha ping -c1 -W2 100.64.0.1
check "a node behind home router and CGNAT pings the internet" nsx alice ping -c1 -W2 $AUTH

# lab_mapping CGNAT NODE1 NODE2: both nodes use local port 40000 (as q2q
# nodes use one port): the world sees the CGNAT's address; mapping per
# the CGNAT's type even for the second customer, whose port clashed.
lab_mapping() {
	local cg=$1 wan m1 m2 n1 n2
	wan=$(nat_wan_ip "$cg")
	mapfile -t m1 < <(nat_probe "$2" 40000 $AUTH:3478 192.0.2.20:3478)
	mapfile -t m2 < <(nat_probe "$3" 40000 $AUTH:3478 192.0.2.20:3478)
	n1=${m1[0]:-}; n2=${m2[0]:-}
	check_eq "$cg: the observer sees $2 at the CGNAT's address" "$(ipof "$n1")" "$wan"
	check_eq "$cg: the observer sees $3 at the CGNAT's address" "$(ipof "$n2")" "$wan"
	check_ne "$cg: two customers on one local port get different public ports" "$(port "$n1")" "$(port "$n2")"
	check_eq "$cg: $2's mapping is endpoint-independent" "${m1[1]:-}" "$n1"
	check_eq "$cg: $3's mapping (its port clashed) is endpoint-independent" "${m2[1]:-}" "$n2"
}
lab_mapping cga alice bob
lab_mapping cgb carol dave
mapfile -t ms < <(nat_probe erin 40000 $AUTH:3478 192.0.2.20:3478)
check_eq "cgc: the observer sees erin at the CGNAT's address" "$(ipof "${ms[0]:-}")" 192.0.2.33
check_ne "cgc (hard): endpoint-dependent mapping" "$(port "${ms[0]:-}")" "$(port "${ms[1]:-}")"

# Filtering as labelled: restricted lets in only what answers, easy
# (gina, a host on cgd's inside itself) anything sent to a mapping.
nat_listen alice 40010 6 "$T/alice.listen" $AUTH:3478
nat_listen gina 40010 6 "$T/gina.listen" $AUTH:3478
m=$(nat_mapped "$T/gina.listen")
check_eq "cgd (easy): the observer sees gina at the CGNAT's address, her port kept" "$m" 192.0.2.34:40010
nat_send third 0 "$m" unsolicited-gina 3
check "cgd (easy): an unsolicited datagram from the internet reaches gina" \
	nat_within 3 grep -q unsolicited-gina "$T/gina.listen"
m=$(nat_mapped "$T/alice.listen")
nat_send third 0 "$m" unsolicited 3
sleep 1
check_fails "cga: an unsolicited datagram from the internet is dropped" grep -q unsolicited "$T/alice.listen"

# lab_hairpin CGNAT A B on|off: B's node, then A's, each with a public
# mapping from port 40001 (made towards the observer). B punches A's public
# mapping, then A asks B's: with hairpinning B answers with the source it
# saw, which must be A's public mapping (RFC 4787 REQ-9: the receiver sees
# the sender as the internet does); without, nothing comes back.
lab_hairpin() {
	local cg=$1 a=$2 b=$3 want=$4 ma mb ans
	mb=$(nat_probe "$b" 3478 $AUTH:3478)
	ma=$(nat_probe "$a" 40001 $AUTH:3478)
	nat_ask "$b" 3478 0.3 "$ma" punch > /dev/null
	nat_observer "$b" 0.0.0.0 3478 || { check "$cg: observer in $b" false; return; }
	ans=$(nat_ask "$a" 40001 2 "$mb" probe)
	if [ "$want" = on ]; then
		check_eq "$cg hairpin on: $a reaches $b at $b's public mapping $mb, seen as its own $ma" "$ans" "$ma"
	else
		check_eq "$cg hairpin off: $a gets nothing through $b's public mapping $mb" "$ans" -
	fi
}
lab_hairpin cga alice bob on
lab_hairpin cgb carol dave off
hairpinned() { nat_conntrack "$1" "src=100.64.0.[23] dst=$(nat_wan_ip "$1") .* src=100.64.0.[23] dst=$(nat_wan_ip "$1")"; }
check "cga's conntrack holds the hairpinned flow (inside to inside)" hairpinned cga
check_fails "cgb's conntrack holds no flow from inside to inside" hairpinned cgb

[ "${LAB_ONLY:-}" ] && { e2e_finish; exit; }

# ================================================================ q2q
nat_auth_start auth example.com || { check "authority starts" false; e2e_finish; exit 1; }
for n in alice bob carol dave erin frank hank; do
	nat_join "$n" "$n@example.com" auth $AUTH || { e2e_finish; exit 1; }
done

path_is() { nat_path_is "$1" "$2@example.com" "$3"; }
# addr_of NODE PEER: PEER's overlay IPv4 as NODE resolves it.
addr_of() { wait_for 10 ctl "$1" resolve "$2@example.com" && ctl "$1" resolve "$2@example.com"; }

# wanted A-B: the pair is to run (PAIRS="alice-bob ..." runs a subset).
wanted() { [ -z "${PAIRS:-}" ] || [[ " $PAIRS " == *" $1 "* ]]; }
# own_mappings NODE PEER: the candidates NODE holds for PEER that are
# NODE's own public mappings (behind a shared address, the authority's
# guess at PEER's port can be one; punching it reaches only NODE).
own_mappings() {
	ctl "$1" peers --json | jq -r --arg id "$2@example.com" \
		'.nat.reflexive as $r | .peers[] | select(.identity == $id) | .candidates[] | select(. as $c | $r | index($c))'
}
hairpin_of() { ctl "$1" peers --json | jq -r --arg id "$2@example.com" '.peers[] | select(.identity == $id) | .hairpin'; }
path_column() { ctl "$1" peers | awk -v id="$2@example.com" '$1 == id { print $3 }'; }

# pair A B PATH HAIRPIN [ENDPOINT_GLOB]: A and B ping each other, both
# see PATH (direct|relay) within 30 s and "hairpin" HAIRPIN (true|false),
# A's endpoint for B matches ENDPOINT_GLOB, neither holds its own public
# mapping as a candidate for the other, and a file goes from A to B
# intact (over PATH still).
pair() {
	local a=$1 b=$2 want=$3 hp=$4 glob=${5:-} tag="[$1-$2]" a4 b4 col t0=$SECONDS
	wanted "$a-$b" || return 0
	b4=$(addr_of "$a" "$b"); a4=$(addr_of "$b" "$a")
	if [ -z "$a4" ] || [ -z "$b4" ]; then
		check "$tag both overlay addresses resolve" false
		return
	fi
	check "$tag $a pings $b" nat_within 30 ovl_ping "$a" "$b4"
	check "$tag $b pings $a" nat_within 10 ovl_ping "$b" "$a4"
	check "$tag $a's path to $b becomes $want" nat_within 30 path_is "$a" "$b" "$want"
	check "$tag $b's path to $a becomes $want" nat_within 15 path_is "$b" "$a" "$want"
	[ -n "$glob" ] && check "$tag $a's endpoint for $b ($(ovl_peer "$a" "$b@example.com" endpoint)) is $glob" \
		nat_endpoint_in "$a" "$b@example.com" "$glob"
	check_eq "$tag $a's peers --json: hairpin is $hp" "$(hairpin_of "$a" "$b")" "$hp"
	check_eq "$tag $b's peers --json: hairpin is $hp" "$(hairpin_of "$b" "$a")" "$hp"
	col=$want; [ "$hp" = true ] && col=hairpin
	check_eq "$tag $a's q2qctl peers shows the path as $col" "$(path_column "$a" "$b")" "$col"
	check "$tag $a holds none of its own public mappings as a candidate for $b ($(own_mappings "$a" "$b" | tr '\n' ' '))" \
		test -z "$(own_mappings "$a" "$b")"
	check "$tag $b holds none of its own public mappings as a candidate for $a ($(own_mappings "$b" "$a" | tr '\n' ' '))" \
		test -z "$(own_mappings "$b" "$a")"
	head -c "${FILE_KB}K" /dev/urandom > "$T/file-$a"
	check "$tag ${FILE_KB} KB $a->$b arrive intact" \
		tcp_copy "$a" "$b" "$b4" 5001 "$T/file-$a" "$T/file-$a.rx"
	check_eq "$tag $a's path to $b is still $want" "$(ovl_peer "$a" "$b@example.com" path)" "$want"
	echo "# $tag $((SECONDS - t0)) s"
}

pair erin frank direct false "192.0.2.40:8789"
pair alice carol direct false "192.0.2.32:*"
pair erin carol direct false "192.0.2.32:*"
bday_hit() { [ "$(ovl_peer "$1" "$2@example.com" birthday | jq -r .hit)" = true ]; }
wanted erin-carol && check "[erin-carol] only birthday probing gets a hard CGNAT through a restricted one: it hit" \
	bash -c "$(declare -f bday_hit); bday_hit erin carol || bday_hit carol erin"
pair alice bob direct true "192.0.2.31:*"
pair carol dave relay false relay
pair erin hank relay false relay

e2e_finish

#!/bin/bash
# Two q2q nodes through every pair of NAT types: each case checks that
# ping and a file copy work both ways over q2q0, which path `q2qctl peers
# --json` reports ("direct" for every pair except hard<->hard, which must
# fall back to the authority's "relay"; symmetric against port-restricted
# must get there by a birthday hit), and that each node's `q2qctl netcheck`
# agrees with the lab's label for its NAT.
#
# One case, e.g. hard <-> double:
#
#                        wan bridge (192.0.2.0/24)
#        +-----------------------+-----------------------+
#        |                       |                       |
#     auth .10                 ra .21 hard              cb .22 restricted (CGNAT)
#     example.com              | 198.18.1.0/24          | 198.18.2.0/24
#     TCP+UDP 8788             |                        rb .2 restricted
#                              alice .2                 | 198.18.12.0/24
#                                                       bob .2
#
# Sides: none (node straight on the wan), easy, restricted, hard (one NAT
# router of that type, natlab-lib.sh), double (restricted behind
# restricted); and the pair "same": both nodes behind one restricted router
# (no hairpinning, so only their LAN addresses connect them).
#
# Cases run in parallel, each in its own world (namespaces q2q-PID-N-*,
# files under $T/cN); the output of each is printed when it ends. MATRIX
# ("none-easy hard-hard ...") runs a subset; JOBS sets the parallelism.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/natlab-lib.sh"
e2e_init natmatrix

SIDES="none easy restricted hard double"
JOBS=${JOBS:-6}
FILE_KB=${FILE_KB:-512}

# side NODE SIDE N: put NODE (alice: N=1, bob: N=2) behind SIDE.
side() {
	local node=$1 kind=$2 n=$3 r="r${1:0:1}" c="c${1:0:1}"
	case $kind in
	none)
		host_add "$node" "192.0.2.1$n/24" ;;
	easy|restricted|hard)
		nat_router "$r" "$kind" "192.0.2.2$n/24" "198.18.$n.0/24" &&
			nat_host "$node" "$r" "198.18.$n.2/24" ;;
	double)
		nat_router "$c" restricted "192.0.2.2$n/24" "198.18.$n.0/24" &&
			nat_router_behind "$r" restricted "$c" "198.18.$n.2/24" "198.18.1$n.0/24" &&
			nat_host "$node" "$r" "198.18.1$n.2/24" ;;
	*)
		echo "unknown side '$kind'"; return 1 ;;
	esac
}

netcheck_done() { [ -n "$(ctl "$1" netcheck --json | jq_get behind_nat)" ]; }
# birthday_hit NODE IDENTITY: NODE's birthday probing towards IDENTITY hit.
birthday_hit() { [ "$(ovl_peer "$1" "$2" birthday | jq_get hit)" = True ]; }
either_birthday_hit() { birthday_hit alice bob@example.com || birthday_hit bob alice@example.com; }

# check_netcheck TAG NODE SIDE: what the node learned about its own NAT
# matches the lab's label for it.
check_netcheck() {
	local tag=$1 node=$2 kind=$3 varies=False behind=True
	[ "$kind" = hard ] && varies=True
	[ "$kind" = none ] && behind=False
	if ! wait_for 10 netcheck_done "$node"; then
		check "$tag $node: netcheck answers" false
		return
	fi
	ctl "$node" netcheck --json > "$T/$node.netcheck"
	check_eq "$tag $node: netcheck behind_nat" "$(jq_get behind_nat < "$T/$node.netcheck")" $behind
	check_eq "$tag $node: netcheck mapping_varies_by_destination" \
		"$(jq_get mapping_varies_by_destination < "$T/$node.netcheck")" $varies
}

# run_case NAME: one case (SIDE-SIDE or "same"), in the current
# (sub)shell; prints TAP-ish lines. What happens when the world changes
# under a working tunnel (blackhole, roaming, idle timeouts) is
# nat-paths.sh's job.
run_case() {
	local name=$1 a b want=direct A4 B4
	case $name in
	same) a=same; b=same ;;
	*) a=${name%-*}; b=${name#*-} ;;
	esac
	[ "$a" = hard ] && [ "$b" = hard ] && want=relay

	wan_up
	host_add auth 192.0.2.10/24
	if [ "$name" = same ]; then
		nat_router rs restricted 192.0.2.21/24 198.18.1.0/24 &&
			nat_host alice rs 198.18.1.2/24 && nat_host bob rs 198.18.1.3/24
	else
		side alice "$a" 1 && side bob "$b" 2
	fi || { check "$tag topology" false; return; }

	nat_pair 192.0.2.10 || return
	if [ "$a" != same ]; then
		check_netcheck "$tag" alice "$a"
		check_netcheck "$tag" bob "$b"
	fi

	nat_pair_settles $want 30
	nat_pair_copies $want
	# Only birthday probing gets a symmetric NAT through a port-restricted one.
	case "$a-$b" in
	hard-restricted|restricted-hard|hard-double|double-hard)
		check "$tag the direct path came from a birthday hit" either_birthday_hit ;;
	esac

	if [ "$name" = same ]; then
		check "$tag the direct endpoint is bob's LAN address" \
			nat_endpoint_in alice bob@example.com "198.18.1.3:*"
	fi
}

CASES=()
for a in $SIDES; do
	go=""
	for b in $SIDES; do
		[ "$a" = "$b" ] && go=1
		[ -n "$go" ] && CASES+=("$a-$b")
	done
done
CASES+=(same)
[ -n "${MATRIX:-}" ] && read -ra CASES <<<"$MATRIX"

nat_cases "$JOBS" run_case "${CASES[@]}"
e2e_finish

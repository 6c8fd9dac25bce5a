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

path_is() { [ "$(ovl_peer "$1" "$2" path)" = "$3" ]; }
netcheck_done() { [ -n "$(ctl "$1" netcheck --json | jq_get behind_nat)" ]; }
# birthday_hit NODE IDENTITY: NODE's birthday probing towards IDENTITY hit.
birthday_hit() { [ "$(ovl_peer "$1" "$2" birthday | jq_get hit)" = True ]; }
either_birthday_hit() { birthday_hit alice bob@example.com || birthday_hit bob alice@example.com; }
# ovl_endpoint_in NODE IDENTITY GLOB: the endpoint in use matches GLOB.
# shellcheck disable=SC2053
ovl_endpoint_in() { [[ "$(ovl_peer "$1" "$2" endpoint)" == $3 ]]; }

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
	local name=$1 a b want=direct A4 B4 tag="[$1]"
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

	q2qd_conf auth 'authority = { domain = "example.com"; listen = "0.0.0.0:8788"; };'
	q2qd_conf alice 'port = 8789;'
	q2qd_conf bob 'port = 8789;'
	for n in auth alice bob; do q2qd_start $n || { check "$tag q2qd $n starts" false; return; }; done
	check "$tag alice enrolls" ovl_enroll alice alice@example.com auth 192.0.2.10:8788
	check "$tag bob enrolls" ovl_enroll bob bob@example.com auth 192.0.2.10:8788
	check "$tag alice up" ctl alice up
	check "$tag bob up" ctl bob up
	# up returns before the node has registered with the authority
	wait_for 10 ctl bob resolve alice@example.com
	wait_for 10 ctl alice resolve bob@example.com
	A4=$(ctl bob resolve alice@example.com 2>/dev/null)
	B4=$(ctl alice resolve bob@example.com 2>/dev/null)
	if [ -z "$A4" ] || [ -z "$B4" ]; then
		check "$tag both overlay addresses resolve" false
		return
	fi
	if [ "$a" != same ]; then
		check_netcheck "$tag" alice "$a"
		check_netcheck "$tag" bob "$b"
	fi

	check "$tag alice pings bob" wait_for 30 ovl_ping alice "$B4"
	check "$tag bob pings alice" wait_for 10 ovl_ping bob "$A4"
	# A session may start on the relay and move to direct once a punch
	# lands, so wait for the expected path; then it must hold.
	check "$tag alice's path to bob becomes $want" wait_for 30 path_is alice bob@example.com $want
	check "$tag bob's path to alice becomes $want" wait_for 15 path_is bob alice@example.com $want
	head -c "${FILE_KB}K" /dev/urandom > "$T/file"
	check "$tag ${FILE_KB} KB alice->bob arrives intact" \
		tcp_copy alice bob "$B4" 5001 "$T/file" "$T/file.rx"
	check "$tag ${FILE_KB} KB bob->alice arrives intact" \
		tcp_copy bob alice "$A4" 5002 "$T/file" "$T/file.rx2"
	check_eq "$tag alice's path to bob is still $want" "$(ovl_peer alice bob@example.com path)" $want
	# Only birthday probing gets a symmetric NAT through a port-restricted one.
	case "$a-$b" in
	hard-restricted|restricted-hard|hard-double|double-hard)
		check "$tag the direct path came from a birthday hit" either_birthday_hit ;;
	esac

	if [ "$name" = same ]; then
		check "$tag the direct endpoint is bob's LAN address" \
			ovl_endpoint_in alice bob@example.com "198.18.1.3:*"
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

TOP=$T
i=0
for c in "${CASES[@]}"; do
	i=$((i + 1))
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
	(
		# A world of its own: prefix, files, namespace list, cleanup.
		PFX="$PFX-$i"; T="$TOP/c$i"
		# lib.sh's list of namespaces for e2e_cleanup
		# shellcheck disable=SC2034
		NSES=()
		mkdir -p "$T"; chmod 755 "$T"
		trap e2e_cleanup EXIT
		trap 'exit 130' INT TERM
		start=$(date +%s)
		run_case "$c"
		if [ "$FAIL" -gt 0 ]; then
			for n in auth alice bob; do
				tail -20 "$T/$n/log" 2>/dev/null | sed "s/^/    # $n: /"
			done
		fi
		echo "# [$c] $(( $(date +%s) - start )) s"
	) > "$TOP/c$i.out" 2>&1 &
done
wait

i=0
for c in "${CASES[@]}"; do
	i=$((i + 1))
	cat "$TOP/c$i.out"
	PASS=$((PASS + $(grep -c '^ok - ' "$TOP/c$i.out")))
	FAIL=$((FAIL + $(grep -c '^not ok - ' "$TOP/c$i.out")))
	SKIP=$((SKIP + $(grep -c '^skip - ' "$TOP/c$i.out")))
	grep -q '^# \[' "$TOP/c$i.out" || { FAIL=$((FAIL + 1)); echo "not ok - [$c] case did not finish"; }
done
e2e_finish

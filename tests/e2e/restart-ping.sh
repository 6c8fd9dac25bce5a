#!/bin/bash
# Both daemons restarted the way bench/q2q.sh restarts them (down, stop,
# start with another mtu), then `q2qctl up` on both at once: once both
# have returned, the very first ping from alice to bob gets its reply.
# It did not when bob's registration was still on its way: up returned
# before the node had registered, alice's ping asked the authority for
# bob's address first, and the "unreachable" answer held for 3 s (the
# ~3 s first ping of q2q@1280 in bench/README.md). Bob sits behind a slow
# wire, so his registration always takes longer than alice's lookup.
#
#                    wan bridge (192.0.2.0/24)
#     +---------------+---------------+
#     |               |               |
#  auth .10        alice .11        bob .12 (60 ms each way)
#  example.com     pings bob        restarted with alice, ROUNDS times
. "$(dirname "$0")/lib.sh"
e2e_init restartping
ROUNDS=${ROUNDS:-5}

wan_up
host_add auth 192.0.2.10/24
host_add alice 192.0.2.11/24
host_add bob 192.0.2.12/24
ovl_pair || exit 1
check "bob's wire delays every frame by 60 ms" wire_impair bob 0 60 0
B4=$(ctl bob status --json | jq_get ipv4)
check "bob knows his overlay IPv4" test -n "$B4"

# restart NODE MTU: as bench/q2q.sh's q2q_restart: stop the (down)
# daemon, start it again with mtu = MTU.
restart() {
	q2qd_stop "$1"
	q2qd_conf "$1" 'port = 8789;' "mtu = $2;"
	q2qd_start "$1"
}

replies=0 registered=0
for ((round = 1; round <= ROUNDS; round++)); do
	ctl alice up --json >"$T/alice.up" 2>&1 & a=$!
	ctl bob up --json >"$T/bob.up" 2>&1 & b=$!
	wait $a; wait $b
	# At once, as the bench does, and one echo request, no second try:
	# the first one must get through.
	nsx alice ping -n -c 1 -W 5 "$B4" >"$T/ping.$round" 2>&1 && replies=$((replies + 1))
	for n in alice bob; do
		[ "$(jq_get registered <"$T/$n.up" 2>/dev/null)" = True ] && registered=$((registered + 1))
	done
	ctl alice down >/dev/null 2>&1
	ctl bob down >/dev/null 2>&1
	mtu=$((round % 2 ? 1280 : 1440))
	restart alice $mtu && restart bob $mtu || { check "round $round: both daemons start again" false; break; }
done
check_eq "each of $ROUNDS rounds: q2qctl up returned registered, on both" "$registered" $((2 * ROUNDS))
check_eq "each of $ROUNDS rounds: the first ping after both up gets its reply" "$replies" "$ROUNDS"
check "alice's daemon is still running" kill -0 "$(cat "$T/alice/pid")"
e2e_finish

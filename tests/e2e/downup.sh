#!/bin/bash
# `q2qctl down` and `up`, over and over, while traffic keeps the overlay's
# descriptors busy: datagrams keep its UDP port readable, packets into
# q2q0 keep the TUN device readable, so the down request is handled in the
# middle of a batch of events about the objects it frees. Run it against a
# sanitizer build (O=...) to see use-after-free; any build shows the daemon
# survives and the tunnel comes back every time.
#
#                     wan bridge (192.0.2.0/24)
#     +---------------+---------------+
#     |               |               |
#  auth .10        alice .11        bob .12
#  example.com     q2q0             q2q0
#                  down/up x N      sends to alice's UDP 8789 and over q2q0
. "$(dirname "$0")/lib.sh"
e2e_init downup
ROUNDS=${ROUNDS:-25}

wan_up
host_add auth 192.0.2.10/24
host_add alice 192.0.2.11/24
host_add bob 192.0.2.12/24
ovl_pair || exit 1
ovl_pair_up || { e2e_finish; exit 1; }
check "alice pings bob" wait_for 15 ovl_ping alice "$B4"

# blast NODE DST PORT SECONDS: UDP datagrams in small bursts with short
# gaps, errors (no route while q2q0 is down) ignored. Gaps rather than a
# flood: a descriptor that turns ready while the loop is busy lands behind
# the control request in the next batch, where a freed object is found.
blast() {
	ip netns exec "$PFX-$1" timeout "$4" python3 -c 'import os,socket,sys,time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
dst = (sys.argv[1], int(sys.argv[2])); b = os.urandom(200)
while True:
    for _ in range(8):
        try:
            s.sendto(b, dst)
        except OSError:
            pass
    time.sleep(0.0003)' "$2" "$3" >/dev/null 2>&1 &
}
SECS=$((ROUNDS * 10 + 30))
blast bob 192.0.2.11 8789 "$SECS"; P1=$!	# alice's UDP: junk
blast bob "$A4" 9 "$SECS"; P2=$!		# alice's UDP: sealed data, then her TUN
blast alice "$B4" 9 "$SECS"; P3=$!		# alice's TUN, then her UDP out

ok=0
for ((i = 1; i <= ROUNDS; i++)); do
	ctl alice down >/dev/null 2>&1 || break
	ovl_no_link alice q2q0 >/dev/null 2>&1 || break
	ctl alice up >/dev/null 2>&1 || break
	wait_for 15 ovl_ping alice "$B4" || break
	ok=$i
done
check_eq "under traffic: $ROUNDS rounds of down, up and a ping through" "$ok" "$ROUNDS"
kill "$P1" "$P2" "$P3" 2>/dev/null; wait "$P1" "$P2" "$P3" 2>/dev/null
check "alice's daemon kept running" kill -0 "$(cat "$T/alice/pid")"
check "alice's engine is alive" q2qd_engine alice
check_eq "alice's status answers and says up" "$(ctl alice status --json | jq_get up)" True
check "alice pings bob after the rounds" wait_for 10 ovl_ping alice "$B4"
e2e_finish

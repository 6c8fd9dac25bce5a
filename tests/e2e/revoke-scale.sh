#!/bin/bash
# Revocation lists of any size reach every node (issue 8): with 3000
# revoked certificates in the authority's registry (put there directly,
# as 3000 enrollments would take long; 500 more that have expired and must
# not be sent), a node that comes up learns them all, page by page, so a
# revoked node whose revocation is the 3001st still gets no session with
# it; and a node revoked while the list is that long is cut off within
# seconds. Before paging, the list went in one frame, which past ~1820
# serials exceeded its limit and was never sent: nobody was cut off.
#
#                   wan bridge (192.0.2.0/24)
#     +---------------+---------------+---------------+
#     |               |               |               |
#  auth .10        alice .11        bob .12        carol .13
#  example.com     q2q0             q2q0           q2q0, pins alice's
#  (authority)                      (revoked       endpoint in its config
#                                   live)          (revoked before alice
#                                                  comes up)
. "$(dirname "$0")/lib.sh"
e2e_init revoke-scale

command -v sqlite3 >/dev/null || { skip "sqlite3 not installed (package sqlite3)"; e2e_finish; exit 0; }

wan_up
i=10
for n in auth alice bob carol; do host_add $n 192.0.2.$i/24; i=$((i + 1)); done

q2qd_conf auth 'authority = { domain = "example.com"; listen = "0.0.0.0:8788"; };'
q2qd_conf alice 'port = 8789;'
q2qd_conf bob 'port = 8789;'
q2qd_conf carol 'port = 8789;' \
	'peers = ( { identity = "alice@example.com"; endpoints = [ "192.0.2.11:8789" ]; } );'
for n in auth alice bob carol; do q2qd_start $n || exit 1; done
for n in alice bob carol; do
	check "$n enrolls" ovl_enroll $n $n@example.com auth 192.0.2.10:8788
done
for n in bob carol; do check "$n: q2qctl up" ctl $n up; done

# 3000 revoked certificates, valid another day, and 500 expired an hour
# ago, written into the registry as the engine's user while it runs (WAL).
DB=$T/auth/state/authority/registry.db
now=$(date +%s)
{
	echo "BEGIN;"
	for i in $(seq 1 3000); do
		printf "INSERT INTO revocations (serial, not_after) VALUES ('%040x', %d);\n" $((0xfeed0000 + i)) $((now + 86400))
	done
	for i in $(seq 1 500); do
		printf "INSERT INTO revocations (serial, not_after) VALUES ('%040x', %d);\n" $((0xdead0000 + i)) $((now - 3600))
	done
	echo "COMMIT;"
} > "$T/revoked.sql"
check "3500 revocations go into the registry" \
	setpriv --reuid=q2q --regid=q2q --clear-groups sqlite3 -cmd ".timeout 5000" "$DB" ".read $T/revoked.sql"
check_eq "control: the registry now lists 3500 revocations" \
	"$(sqlite3 -readonly "$DB" 'SELECT count(*) FROM revocations')" 3500

# carol's revocation is the 3501st: alice, not up yet, must page to it.
check "the authority revokes carol" ctl auth revoke carol@example.com
check "alice: q2qctl up" ctl alice up
A4=$(ctl alice status --json | jq_get ipv4)
B4=$(ctl bob status --json | jq_get ipv4)
head=$(sqlite3 -readonly "$DB" "SELECT seq FROM sqlite_sequence WHERE name = 'revocations'")
# rev_field NODE FIELD: FIELD of NODE's own-domain entry in status --json.
rev_field() {
	ctl "$1" status --json | python3 -c 'import json,sys
for a in json.load(sys.stdin).get("authorities", []):
    if a["domain"] == "example.com": print(a[sys.argv[1]]); break' "$2"
}
check "alice catches up with the authority's list (cursor $head)" \
	wait_for 20 bash -c "[ \"\$(ctl alice status --json | python3 -c 'import json,sys
print([a for a in json.load(sys.stdin)[\"authorities\"] if a[\"domain\"] == \"example.com\"][0][\"revocation_cursor\"])')\" = $head ]"
check "alice's status: fresh revocation news from example.com" \
	test "$(rev_field alice revocation_news)" -ge "$now"
check "q2qctl status (text) says when" bash -c "ctl alice status | grep -Eq '^revocations: +example.com: fresh [0-9]+ s ago'"
check "the authority's log: every page of revocations (14 of 256) was sent" \
	bash -c "! grep -q 'cannot list revocations' $T/auth/log"

cap_start alice eth0 "$T/carol.pcap" udp dst port 8789 and src host 192.0.2.13
check_fails "revoked carol (the 3001st) gets no session with alice" \
	timeout 30 ip netns exec "$PFX-carol" "$BIN/q2qctl" -s "$T/carol/q2qd.sock" ping alice@example.com -c 3
cap_stop "$T/carol.pcap"
check "control: carol's handshake datagrams did reach alice" test "$(cap_count "$T/carol.pcap")" -ge 1
check "alice's log: carol refused as revoked" grep -q "refusing carol@example.com: its certificate .* is revoked" "$T/alice/log"
check_fails "alice has no session with carol" ovl_session alice carol@example.com

# bob, revoked while the list is 3000 long, is cut off within seconds.
check "alice pings bob" wait_for 20 ovl_ping alice "$B4"
check "bob pings alice" wait_for 10 ovl_ping bob "$A4"
check "the authority revokes bob" ctl auth revoke bob@example.com
t0=$(date +%s%N)
check "within 5 s alice drops bob's session" wait_for 5 bash -c "! [ \"\$(ctl alice peers --json | python3 -c 'import json,sys
print(any(p[\"identity\"] == \"bob@example.com\" and p[\"session\"] for p in json.load(sys.stdin)[\"peers\"]))')\" = True ]"
echo "  bob cut off after $(( ($(date +%s%N) - t0) / 1000000 )) ms (as polled)"
check "alice's log: bob's certificate revoked by example.com" \
	wait_for 5 grep -q "peer bob@example.com: certificate .* revoked by example.com" "$T/alice/log"
check_fails "bob cannot ping alice any more" nsx bob ping -c3 -i0.5 -W1 "$A4"

e2e_finish

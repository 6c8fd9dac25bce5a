#!/bin/bash
# Rekeying without dropping traffic: sessions are replaced by fresh
# handshakes on WireGuard's timers (here shortened to 10 s with rekey_after)
# while a ping runs through them.
#
#              wan bridge (192.0.2.0/24)
#      +-------------+-------------+
#      |             |             |
#   auth .10      alice .11     bob .12
#
. "$(dirname "$0")/lib.sh"
e2e_init rekey

wan_up
host_add auth 192.0.2.10/24
host_add alice 192.0.2.11/24
host_add bob 192.0.2.12/24
q2qd_conf auth 'authority = { domain = "example.com"; listen = "0.0.0.0:8788"; };'
for n in alice bob; do q2qd_conf $n 'rekey_after = 10;'; done
for n in auth alice bob; do q2qd_start $n || exit 1; done
FP=$(ctl auth status --json | jq_get authority_service.ca_fingerprint)
for n in alice bob; do
	TOK=$(ctl auth invite $n@example.com 2>/dev/null)
	ctl $n enroll $n@example.com --authority 192.0.2.10 --token "$TOK" --ca-fingerprint "$FP" >/dev/null
	ctl $n up >/dev/null
done
check "alice registered with the authority" wait_for 10 bash -c "[ \"\$(ctl alice status --json | jq_get authority_link)\" = registered ]"
B=$(ctl alice resolve bob@example.com)
check "first ping reaches bob" nsx alice ping -c1 -W2 "$B"
SER1=$(grep -c "session with bob@example.com" "$T/alice/log")

# 150 pings over 30 s: three rekey periods.
nsx alice ping -c 150 -i 0.2 -W 1 "$B" > "$T/ping.out" 2>&1
RECV=$(awk '/packets transmitted/ {print $4}' "$T/ping.out")
check_eq "150 of 150 pings answered across rekeys" "$RECV" 150
SER2=$(grep -c "session with bob@example.com" "$T/alice/log")
check "at least two new sessions were made during the pings ($SER1 -> $SER2)" test $((SER2 - SER1)) -ge 2
AGE=$(ctl alice peers --json | jq_get peers.0.handshake_age)
check "the current session is younger than the rekey interval plus a margin (age $AGE s)" test "${AGE:-99}" -le 15

e2e_finish

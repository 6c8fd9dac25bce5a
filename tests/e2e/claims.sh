#!/bin/bash
# What a foreign CA may claim: the example.org authority grants its nodes
# routes, and alice@example.com takes only what her trust entry for
# example.org lists and what covers nobody else's address or an overlay
# range. carol is granted bob@example.com's IPv4 /32 and erin all of
# 100.64.0.0/10: alice refuses both (as the callee of their handshakes and
# when she looks them up), and her traffic for bob still goes to bob.
# frank is granted 203.0.113.0/24, which alice's trust entry lists: he is
# accepted and routes it; grace's 198.51.100.0/24 is not listed: refused.
#
#                          wan bridge (192.0.2.0/24)
#   +-----------+-----------+-----------+-----------+-----------+-----------+-----------+
#   |           |           |           |           |           |           |           |
# auth .10    alice .11   bob .12     auth2 .20   carol .13   erin .14    frank .15   grace .16
# example.com                         example.org granted:    granted:    granted:    granted:
# (authority)                         pool        bob's /32   100.64/10   203.0.113/24 198.51.100/24
#                                     100.100/16  \________ example.org, all pin alice ________/
#
# alice's trust entry: example.org, its CA's fingerprint, auth2's address,
# routes = [ "203.0.113.0/24" ]. carol, erin and grace pin alice's
# endpoint, so they handshake with her directly; alice also resolves each
# of them through auth2 (lookup and broker).
. "$(dirname "$0")/lib.sh"
e2e_init claims

wan_up
host_add auth 192.0.2.10/24
host_add alice 192.0.2.11/24
host_add bob 192.0.2.12/24
host_add auth2 192.0.2.20/24
host_add carol 192.0.2.13/24
host_add erin 192.0.2.14/24
host_add frank 192.0.2.15/24
host_add grace 192.0.2.16/24

# ---------------------------------------------------------------- example.com
q2qd_conf auth 'authority = { domain = "example.com"; listen = "0.0.0.0:8788"; };'
q2qd_conf bob 'port = 8789;'
q2qd_start auth || exit 1
q2qd_start bob || exit 1
FP1=$(ctl auth status --json | jq_get authority_service.ca_fingerprint)
check "bob enrolls" ovl_enroll bob bob@example.com auth 192.0.2.10:8788
check "bob: q2qctl up" ctl bob up
B4=$(ctl bob status --json | jq_get ipv4)
[ -n "$B4" ] || { echo "cannot continue: bob has no overlay IPv4"; e2e_finish; exit 1; }

# ---------------------------------------------------------------- example.org
# Its CA signs whatever its config grants: here, the takeovers too.
q2qd_conf auth2 "authority = { domain = \"example.org\"; listen = \"0.0.0.0:8788\";
  pool = \"100.100.0.0/16\";
  grants = (
    { identity = \"carol@example.org\"; subnets = [ \"$B4/32\" ]; },
    { identity = \"erin@example.org\"; subnets = [ \"100.64.0.0/10\" ]; },
    { identity = \"frank@example.org\"; subnets = [ \"203.0.113.0/24\" ]; },
    { identity = \"grace@example.org\"; subnets = [ \"198.51.100.0/24\" ]; }
  ); };" "trust = ( { domain = \"example.com\"; fingerprint = \"$FP1\"; } );"
q2qd_start auth2 || exit 1
FP2=$(ctl auth2 status --json | jq_get authority_service.ca_fingerprint)
# Each authority takes the other domain's nodes only under a pin its
# operator chose (there is no DNS here): example.com's gets example.org's
# by a reload.
echo "trust = ( { domain = \"example.org\"; fingerprint = \"$FP2\"; } );" >> "$T/auth/q2qd.conf"
check "example.com's authority pins example.org's CA (reload)" ctl auth reload

q2qd_conf alice 'port = 8789;' \
	"trust = ( { domain = \"example.org\"; fingerprint = \"$FP2\"; authority = \"192.0.2.20:8788\";
	  routes = [ \"203.0.113.0/24\" ]; } );"
q2qd_start alice || exit 1
check "alice's configuration with a routes list checks out" \
	nsx alice "$BIN/q2qd" -n -c "$T/alice/q2qd.conf"
check "alice enrolls" ovl_enroll alice alice@example.com auth 192.0.2.10:8788
check "alice: q2qctl up" ctl alice up
check "alice resolves bob" wait_for 10 ctl alice resolve bob@example.com
A4=$(ctl alice status --json | jq_get ipv4)
check_eq "alice resolves bob to bob's address" "$(ctl alice resolve bob@example.com 2>&1)" "$B4"
check "alice pings bob" wait_for 10 ovl_ping alice "$B4"

PIN_ALICE='peers = ( { identity = "alice@example.com"; endpoints = [ "192.0.2.11:8789" ]; } );'
# With example.com's authority named, they accept alice's certificate too.
TRUST_COM="trust = ( { domain = \"example.com\"; fingerprint = \"$FP1\"; authority = \"192.0.2.10:8788\"; } );"
for n in carol erin frank grace; do
	if [ "$n" = frank ]; then
		q2qd_conf $n 'port = 8789;' "$TRUST_COM"
	else
		q2qd_conf $n 'port = 8789;' "$TRUST_COM" "$PIN_ALICE"
	fi
	q2qd_start $n || exit 1
	check "$n enrolls at example.org" ovl_enroll $n $n@example.org auth2 192.0.2.20:8788
done
check_eq "control: carol's certificate binds bob's address as a route" \
	"$(ctl carol status --json | jq_get routes)" "[\"$B4/32\"]"
check_eq "control: erin's certificate binds the overlay pool as a route" \
	"$(ctl erin status --json | jq_get routes)" '["100.64.0.0/10"]'

# ---------------------------------------------------------------- takeover
RX0=$(ovl_peer bob alice@example.com rx_packets)
for n in carol erin grace; do check "$n: q2qctl up (she calls alice at once)" ctl $n up; done
MSG_CAROL="peer carol@example.org: route $B4/32 covers bob@example.com's address; refused"
MSG_ERIN="peer erin@example.org: route 100.64.0.0/10 covers the overlay range 100.64.0.0/10; refused"
MSG_GRACE="peer grace@example.org: route 198.51.100.0/24 is not one example.org may grant (its trust entry's routes); refused"
check "alice refuses carol's handshake: '$MSG_CAROL'" wait_for 20 grep -qF "$MSG_CAROL" "$T/alice/log"
check "alice refuses erin's handshake, naming the range" wait_for 20 grep -qF "$MSG_ERIN" "$T/alice/log"
check "alice refuses grace's unlisted grant" wait_for 20 grep -qF "$MSG_GRACE" "$T/alice/log"
for n in carol erin grace; do
	check_fails "alice's peers list has no $n" ovl_has_peer alice $n@example.org
	check_fails "$n holds no session with alice either (refused inside TLS)" \
		ovl_session $n alice@example.com
	check_fails "$n's pings to alice get no answer" nsx $n ping -c2 -i0.3 -W1 "$A4"
	N0=$(grep -cF "peer $n@example.org:" "$T/alice/log")
	check_fails "alice's lookup of $n@example.org is refused" ctl alice resolve $n@example.org
	check "... and logged again ($N0 lines before)" \
		bash -c "[ \$(grep -cF 'peer $n@example.org:' '$T/alice/log') -gt $N0 ]"
done
check "the lookup path names the prefix and bob too" \
	bash -c "[ \$(grep -cF \"$MSG_CAROL\" '$T/alice/log') -ge 2 ]"

# Alice's packets for bob still reach bob, and only bob.
cap_start bob q2q0 "$T/bob.pcap" icmp
check "alice pings bob 5 times after the takeover attempts" nsx alice ping -c5 -i0.2 -W2 "$B4"
cap_stop "$T/bob.pcap"
check_eq "bob's q2q0 saw alice's 5 echo requests" \
	"$(cap_count "$T/bob.pcap" "src host $A4 and dst host $B4 and icmp[icmptype] == icmp-echo")" 5
RX1=$(ovl_peer bob alice@example.com rx_packets)
check "bob's rx_packets for alice grew by at least 5 ($RX0 -> $RX1)" \
	bash -c "[ -n '$RX0' ] && [ -n '$RX1' ] && [ \$(( $RX1 - $RX0 )) -ge 5 ]"
check_eq "alice still reaches bob at his own endpoint" \
	"$(ovl_peer alice bob@example.com endpoint)" 192.0.2.12:8789
check_eq "alice's route for bob's address is bob's" \
	"$(ctl alice whois "$B4" 2>/dev/null | head -1 | awk '{print $1}')" bob@example.com

# ---------------------------------------------------------------- a listed grant
check "frank: q2qctl up" ctl frank up
nsx frank ip addr add 203.0.113.5/32 dev lo
check "alice resolves frank@example.org (his grant is listed)" \
	wait_for 20 ctl alice resolve frank@example.org
# Another domain's node: alice shows him under a local IPv4 of hers.
F4=$(ctl alice resolve frank@example.org)
check "alice pings frank" wait_for 10 ovl_ping alice "$F4"
check_eq "alice's peers list frank's route" \
	"$(ovl_peer alice frank@example.org routes)" '["203.0.113.0/24"]'
nsx alice ip route add 203.0.113.0/24 dev q2q0
check "alice pings 203.0.113.5 behind frank, and frank answers from it" \
	wait_for 10 ovl_ping alice 203.0.113.5
check_eq "alice routes 203.0.113.5 to frank" "$(ctl alice whois 203.0.113.5 2>/dev/null | head -1)" frank@example.org
check_fails "alice's log refuses nothing of frank's" grep -qE "^q2qd: warning: peer frank@example\.org: .*refused$" "$T/alice/log"
check "alice still pings bob" ovl_ping alice "$B4"

e2e_finish

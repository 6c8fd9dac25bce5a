#!/bin/bash
# NAT traversal beyond the pair matrix (nat-matrix.sh): what happens to a
# working tunnel when the world changes under it. Eight cases, each in its
# own world of namespaces, run side by side:
#
#   keepalive  5 s NAT timeouts, keepalive = 2; 60 s idle; the direct path
#              holds and the first ping after it answers at once
#   idle       default settings, 15 s idle: both sides stay direct, no
#              new handshake
#   blackhole  bob's router drops the peers' UDP: a running ping survives
#              on the relay, and the path goes back to direct when it lifts
#   roam       alice moves behind another router: the tunnel follows her
#   authdown   the authority dies: the tunnel carries on; it comes back and
#              both nodes register again; a fresh resolve works
#   xdomain    alice@example.com <-> carol@example.org, two authorities
#   policy     bob refuses mallory: she learns nothing, gets nothing through
#   relay      hard <-> hard: the relay carries only ciphertext, and forged
#              or replayed RELAY datagrams get nothing forwarded or answered
#
# The common world (every case starts from it; some add the hosts they need):
#
#                                wan bridge (192.0.2.0/24)
#   +-----------+-----------+-----------+-----------+-----------+-----------+
#   |           |           |           |           |           |           |
# auth .10    ra .21      rb .22      rc .23      auth2 .20   carol .13   forger .30
# example.com NAT         NAT         NAT         example.org (authdown)  (relay)
# TCP+UDP     198.18.1/24 198.18.2/24 198.18.3/24 (xdomain)   dave .14
# 8788        |           |           |           pool        (policy)
#             alice .2    bob .2      .2: alice   100.100/16
#                                     (roam), carol (xdomain),
#                                     mallory (policy)
#
# Routers are natlab-lib.sh's: restricted (port-restricted cone) unless the
# case says otherwise; relay uses two hard (symmetric) ones.
# CASES ("keepalive roam ...") runs a subset; JOBS sets the parallelism.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/natlab-lib.sh"
e2e_init natpaths

AUTH=192.0.2.10
AUTH2=192.0.2.20
JOBS=${JOBS:-8}

link_is() { [ "$(ctl "$1" status --json 2>/dev/null | jq_get authority_link)" = "$2" ]; }
link_not() { local s; s=$(ctl "$1" status --json 2>/dev/null | jq_get authority_link); [ -n "$s" ] && [ "$s" != "$2" ]; }
# replies FILE: echo replies a running ping has written to FILE so far.
replies() { grep -c 'bytes from' "$1" 2>/dev/null; }
more_replies() { [ "$(replies "$1")" -ge "$2" ]; }
# in_net ADDR NET: ADDR lies inside NET.
in_net() { python3 -c 'import ipaddress,sys
sys.exit(ipaddress.ip_address(sys.argv[1]) not in ipaddress.ip_network(sys.argv[2]))' "$1" "$2"; }

# world KIND_A KIND_B: wan, the example.com authority, alice behind ra
# (KIND_A) and bob behind rb (KIND_B).
world() {
	wan_up
	host_add auth $AUTH/24
	nat_router ra "$1" 192.0.2.21/24 198.18.1.0/24 && nat_host alice ra 198.18.1.2/24 &&
		nat_router rb "$2" 192.0.2.22/24 198.18.2.0/24 && nat_host bob rb 198.18.2.2/24
}

# ---------------------------------------------------------------- keepalive
# The routers forget a UDP mapping after 5 s of silence; keepalive = 2 must
# hold both mappings through a minute of idleness, so the tunnel needs no
# new punch: the first ping after it gets its answer at once, direct.
case_keepalive() {
	world restricted restricted || { check "$tag topology" false; return; }
	nat_set_timeout ra 5 && nat_set_timeout rb 5 || { check "$tag 5 s timeouts" false; return; }
	nat_pair $AUTH 'keepalive = 2;' -- 'keepalive = 2;' || return
	nat_pair_settles direct 15
	local before; before=$(ovl_peer alice bob@example.com endpoint)
	# The idleness is the test: 60 s is 12 x the mapping timeout.
	sleep 60
	# Looked at before the ping, which would make new mappings.
	check_eq "$tag after 60 s idle the path is still direct" \
		"$(ovl_peer alice bob@example.com path)" direct
	check "$tag alice's router still holds her mapping towards bob" \
		nat_conntrack ra "src=198.18.1.2 dst=${before%:*} sport=8789 dport=${before##*:}"
	check "$tag bob's router still holds his mapping towards alice" \
		nat_conntrack rb "src=198.18.2.2 dst=192.0.2.21 sport=8789"
	check "$tag after 60 s idle, one ping answers within 2 s" nsx alice ping -c1 -W2 "$B4"
	check_eq "$tag ... direct, at the same endpoint" \
		"$(ovl_peer alice bob@example.com path) $(ovl_peer alice bob@example.com endpoint)" "direct $before"
	check "$tag bob pings alice too" nsx bob ping -c1 -W2 "$A4"
}

# ---------------------------------------------------------------- idle
# Default settings (keepalive 20 s, the kernel's UDP timeouts): one ping
# each way, then 15 s of quiet. Nothing has gone wrong, so both sides must
# still call the path direct and keep the session they had; a side that
# answered last and heard nothing back must get the peer's passive
# keepalive rather than conclude the path died.
case_idle() {
	world restricted restricted || { check "$tag topology" false; return; }
	nat_pair $AUTH || return
	nat_pair_settles direct 15
	# The quiet is the test: longer than the 5 s "unanswered" and 6 s
	# "direct dead" timers.
	sleep 15
	check_eq "$tag after 15 s idle alice's path to bob is direct" \
		"$(ovl_peer alice bob@example.com path)" direct
	check_eq "$tag after 15 s idle bob's path to alice is direct" \
		"$(ovl_peer bob alice@example.com path)" direct
	check "$tag alice kept her session (handshake_age $(ovl_peer alice bob@example.com handshake_age) >= 14 s)" \
		test "$(ovl_peer alice bob@example.com handshake_age)" -ge 14
	check "$tag bob kept his session (handshake_age $(ovl_peer bob alice@example.com handshake_age) >= 14 s)" \
		test "$(ovl_peer bob alice@example.com handshake_age)" -ge 14
	check "$tag a ping answers at once" nsx alice ping -c1 -W1 "$B4"
}

# ---------------------------------------------------------------- blackhole
# A running ping while bob's router drops all UDP between the peers (the
# authority's UDP and all TCP still pass): it must go on through the relay,
# and the path must come back to direct when the blackhole lifts.
case_blackhole() {
	local pf pid n0 n1 sent got
	world restricted restricted || { check "$tag topology" false; return; }
	nat_pair $AUTH || return
	nat_pair_settles direct 15
	pf=$T/ping.out
	ip netns exec "$PFX-alice" ping -i 0.2 -W 1 "$B4" > "$pf" 2>&1 &
	pid=$!
	wait_for 5 more_replies "$pf" 3
	nat_blackhole rb on $AUTH
	check "$tag blackhole: alice's path becomes relay within 12 s" \
		wait_for 12 nat_path_is alice bob@example.com relay
	check "$tag blackhole: bob's path becomes relay" wait_for 10 nat_path_is bob alice@example.com relay
	n0=$(replies "$pf")
	check "$tag the running ping gets 10 more replies through the relay" \
		wait_for 5 more_replies "$pf" $((n0 + 10))
	nat_blackhole rb off
	check "$tag blackhole lifted: alice's path back to direct within 15 s" \
		wait_for 15 nat_path_is alice bob@example.com direct
	check "$tag blackhole lifted: bob's path back to direct within 15 s" \
		wait_for 15 nat_path_is bob alice@example.com direct
	n1=$(replies "$pf")
	check "$tag the running ping gets 10 more replies direct" \
		wait_for 5 more_replies "$pf" $((n1 + 10))
	kill -INT "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$pf")
	got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$pf")
	echo "# $tag ping -i 0.2 through blackhole and recovery: $sent sent, $got received, $((sent - got)) lost"
	check "$tag the running ping printed its summary" test -n "$sent" -a -n "$got"
}

# ---------------------------------------------------------------- roam
# alice unplugs from ra and plugs into rc with a new LAN address (and so a
# new public address): the tunnel must follow her, and bob must see her
# new public address as the endpoint.
case_roam() {
	local old
	world restricted restricted || { check "$tag topology" false; return; }
	nat_router rc restricted 192.0.2.23/24 198.18.3.0/24 || { check "$tag router rc" false; return; }
	nat_pair $AUTH || return
	nat_pair_settles direct 15
	old=$(ovl_peer bob alice@example.com endpoint)
	check "$tag before roaming bob reaches alice via ra" nat_endpoint_in bob alice@example.com "192.0.2.21:*"
	nat_move_host alice rc 198.18.3.2/24 || { check "$tag roaming" false; return; }
	check "$tag after roaming alice pings bob within 15 s" wait_for 15 ovl_ping alice "$B4"
	check "$tag bob's endpoint for alice moves to rc's address" \
		wait_for 15 nat_endpoint_in bob alice@example.com "192.0.2.23:*"
	check_ne "$tag bob's endpoint for alice changed" "$(ovl_peer bob alice@example.com endpoint)" "$old"
	check "$tag bob pings alice" wait_for 10 ovl_ping bob "$A4"
	check_eq "$tag the path is direct" "$(ovl_peer bob alice@example.com path)" direct
}

# ---------------------------------------------------------------- authdown
# The authority only brokers: a tunnel that is up does not need it. It is
# killed (SIGKILL, no goodbye), the tunnel keeps carrying pings both ways;
# it restarts from its state and both nodes register again.
case_authdown() {
	local pid
	world restricted restricted || { check "$tag topology" false; return; }
	host_add carol 192.0.2.13/24
	nat_pair $AUTH || return
	nat_join carol carol@example.com auth $AUTH || return
	wait_for 10 link_is carol registered
	nat_pair_settles direct 15
	pid=$(cat "$T/auth/pid")
	kill -9 "$pid"; wait "$pid" 2>/dev/null; rm -f "$T/auth/pid"
	check "$tag authority down: alice notices" wait_for 30 link_not alice registered
	check "$tag authority down: 25 pings alice->bob, none lost" nsx alice ping -c25 -i0.2 -W2 "$B4"
	check "$tag authority down: 25 pings bob->alice, none lost" nsx bob ping -c25 -i0.2 -W2 "$A4"
	check_eq "$tag authority down: path still direct" "$(ovl_peer alice bob@example.com path)" direct
	check_fails "$tag authority down: resolving carol (never asked before) fails" \
		ctl alice resolve carol@example.com
	q2qd_start auth || { check "$tag authority restarts" false; return; }
	check "$tag authority back: alice registered within 30 s" wait_for 30 link_is alice registered
	check "$tag authority back: bob registered within 30 s" wait_for 30 link_is bob registered
	check "$tag authority back: carol registered within 30 s" wait_for 30 link_is carol registered
	local c4; c4=$(ctl carol status --json | jq_get ipv4)
	check_eq "$tag a fresh resolve of carol gives her address" "$(ctl alice resolve carol@example.com 2>&1)" "$c4"
	check "$tag alice pings carol" wait_for 10 ovl_ping alice "$c4"
	check "$tag alice still pings bob" ovl_ping alice "$B4"
}

# ---------------------------------------------------------------- xdomain
# carol@example.org, enrolled at a second authority with its own pool.
# alice pins example.org's CA in her config; carol learns example.com's on
# first use, when alice's connection reaches her (trust_policy =
# "first-use": the default takes DNSSEC-validated CAs only, see dnssec.sh).
# example.org's authority takes alice only because its operator pinned
# example.com's CA (an authority applies its own trust policy too).
case_xdomain() {
	local fp1 fp2 c4 ac4 ca4
	world restricted restricted || { check "$tag topology" false; return; }
	host_add auth2 $AUTH2/24
	nat_router rc restricted 192.0.2.23/24 198.18.3.0/24 && nat_host carol rc 198.18.3.2/24 ||
		{ check "$tag topology" false; return; }
	nat_auth_start auth example.com || { check "$tag example.com authority starts" false; return; }
	fp1=$(ctl auth status --json | jq_get authority_service.ca_fingerprint)
	q2qd_conf auth2 'authority = { domain = "example.org"; listen = "0.0.0.0:8788"; pool = "100.100.0.0/16"; };' \
		"trust = ( { domain = \"example.com\"; fingerprint = \"$fp1\"; } );"
	q2qd_start auth2 || { check "$tag example.org authority starts" false; return; }
	fp2=$(ctl auth2 status --json | jq_get authority_service.ca_fingerprint)
	nat_join alice alice@example.com auth $AUTH \
		"trust = ( { domain = \"example.org\"; fingerprint = \"$fp2\"; authority = \"$AUTH2:8788\"; } );" || return
	nat_join carol carol@example.org auth2 $AUTH2 'trust_policy = "first-use";' || return
	A4=$(ctl alice status --json | jq_get ipv4)
	c4=$(ctl carol status --json | jq_get ipv4)
	check "$tag carol's address $c4 is from example.org's pool" in_net "$c4" 100.100.0.0/16
	check "$tag alice resolves carol@example.org" wait_for 15 ctl alice resolve carol@example.org
	# Another domain's node is shown under a node-local IPv4 (PROTOCOL.md,
	# "IPv4 across domains"); --json also gives the certified one.
	ac4=$(ctl alice resolve carol@example.org 2>/dev/null)
	check "$tag ... to a node-local address of alice's ($ac4)" in_net "$ac4" 100.127.0.0/16
	check_eq "$tag ... standing for carol's certified $c4" \
		"$(ctl alice resolve --json carol@example.org | jq_get cert_ipv4)" "$c4"
	check "$tag alice pings carol by name" \
		wait_for 20 bash -c "nsx alice ping -c1 -W1 \$(ctl alice resolve carol@example.org)"
	ca4=$(ctl carol resolve alice@example.com 2>/dev/null)
	check "$tag carol shows alice under a local address of hers too ($ca4)" in_net "$ca4" 100.127.0.0/16
	check "$tag carol pings alice back" wait_for 10 ovl_ping carol "$ca4"
	check_eq "$tag alice's peers name carol@example.org" "$(ovl_peer alice carol@example.org session)" true
	check "$tag the path becomes direct" wait_for 15 nat_path_is alice carol@example.org direct
	head -c 256K /dev/urandom > "$T/file"
	check "$tag 256 KB alice->carol arrive intact" \
		tcp_copy alice carol "$ac4" 5001 "$T/file" "$T/file.rx" "$c4"
	check "$tag 256 KB carol->alice arrive intact" \
		tcp_copy carol alice "$ca4" 5002 "$T/file" "$T/file.rx2" "$A4"
	check "$tag carol's log: learned and pinned the CA of example.com" \
		grep -q "learned and pinned the CA of example.com" "$T/carol/log"
	check_eq "$tag carol's trust store pins example.com's CA fingerprint" \
		"$(cat "$T/carol/state/trust/example.com.pin" 2>/dev/null)" "$fp1"
	check_eq "$tag alice's trust store holds the configured example.org pin" \
		"$(cat "$T/alice/state/trust/example.org.pin" 2>/dev/null)" "$fp2"
}

# ---------------------------------------------------------------- policy
# bob refuses mallory. Her lookup of bob must fail with the very words a
# lookup of an offline or unknown identity gets (she must not learn that
# bob exists or is online), she must not learn his addresses, and nothing
# she sends reaches him; alice is unaffected.
case_policy() {
	local o_bob o_off o_none r_bob r_off r_none
	world restricted restricted || { check "$tag topology" false; return; }
	nat_router rc restricted 192.0.2.23/24 198.18.3.0/24 && nat_host mallory rc 198.18.3.2/24 &&
		host_add dave 192.0.2.14/24 || { check "$tag topology" false; return; }
	nat_pair $AUTH -- 'refuse = [ "mallory@example.com" ];' || return
	nat_join mallory mallory@example.com auth $AUTH || return
	# dave enrolls, then goes offline: a known identity nobody can reach
	nat_join dave dave@example.com auth $AUTH || return
	q2qd_stop dave
	nat_pair_settles direct 15
	wait_for 10 link_is mallory registered
	o_bob=$(ctl mallory resolve bob@example.com 2>&1); r_bob=$?
	o_off=$(ctl mallory resolve dave@example.com 2>&1); r_off=$?
	o_none=$(ctl mallory resolve nobody@example.com 2>&1); r_none=$?
	echo "# $tag refused: exit $r_bob '$o_bob'"
	echo "# $tag offline: exit $r_off '$o_off'"
	echo "# $tag unknown: exit $r_none '$o_none'"
	check "$tag mallory's resolve of bob fails" test "$r_bob" != 0
	check_eq "$tag same exit code as for an offline identity" "$r_bob" "$r_off"
	check_eq "$tag same exit code as for an unknown identity" "$r_bob" "$r_none"
	check_eq "$tag same message as for an offline identity" \
		"${o_bob//bob@example.com/NAME}" "${o_off//dave@example.com/NAME}"
	check_eq "$tag same message as for an unknown identity" \
		"${o_bob//bob@example.com/NAME}" "${o_none//nobody@example.com/NAME}"
	check "$tag mallory's ping to bob's address gets no reply" \
		bash -c "! nsx mallory ping -c3 -i0.5 -W2 $B4"
	check_fails "$tag mallory's peers show no session with bob" ovl_session mallory bob@example.com
	check_fails "$tag mallory learned none of bob's addresses" \
		bash -c "ctl mallory peers --json | grep -E '192\.0\.2\.22|198\.18\.2\.2'"
	check_fails "$tag bob has no session with mallory" ovl_session bob mallory@example.com
	check "$tag bob's log says he refused mallory (policy)" \
		grep -q "refusing a connection from mallory@example.com (policy)" "$T/bob/log"
	check "$tag alice still reaches bob" ovl_ping alice "$B4"
	check "$tag bob still reaches alice" ovl_ping bob "$A4"
}

# ---------------------------------------------------------------- relay
# Symmetric NATs on both sides: the authority relays. What it relays must
# be ciphertext; and it must forward or answer nothing that a registered
# node did not send and sign: 200 forged RELAY datagrams (random node ids,
# or the real ones read off the wire, random macs) and 20 replays of
# genuine ones, all from a host on the internet.
case_relay() {
	local mark=Q2Q-RELAY-PLAINTEXT-MARK relayed
	world hard hard || { check "$tag topology" false; return; }
	host_add forger 192.0.2.30/24
	nat_pair $AUTH || return
	nat_pair_settles relay 15
	check_eq "$tag alice's endpoint for bob is the relay" "$(ovl_peer alice bob@example.com endpoint)" relay

	nat_marked "$mark" "$T/marked"
	cap_start auth eth0 "$T/relay.pcap" udp
	cap_start bob q2q0 "$T/inner.pcap" tcp port 5001
	check "$tag 256 KB of marked text alice->bob through the relay arrive intact" \
		tcp_copy alice bob "$B4" 5001 "$T/marked" "$T/marked.rx"
	cap_stop "$T/relay.pcap"; cap_stop "$T/inner.pcap"
	relayed=$(cap_count "$T/relay.pcap" "src host $AUTH and udp src port 8788")
	check "$tag the authority's capture holds > 100 relayed datagrams ($relayed)" test "$relayed" -gt 100
	check "$tag control: the marker shows in the clear on bob's q2q0" grep -qaF "$mark" "$T/inner.pcap"
	check_fails "$tag the marker never appears at the relay" grep -qaF "$mark" "$T/relay.pcap"
	check_eq "$tag the path stayed relay" "$(ovl_peer alice bob@example.com path)" relay

	nat_relay_forgeries auth $AUTH "$T/relay.pcap" forger 192.0.2.30
	check "$tag the relay still works after the flood" wait_for 5 ovl_ping alice "$B4"
	check "$tag the authority is still running" kill -0 "$(cat "$T/auth/pid")"
}

read -ra CASES <<<"${CASES:-keepalive idle blackhole roam authdown xdomain policy relay}"
run_case() { "case_$1"; }
nat_cases "$JOBS" run_case "${CASES[@]}"
e2e_finish

#!/bin/bash
# Port mapping: hard <-> hard, which is relayed without it, goes direct
# when alice's router maps her UDP port for her. The router runs a real
# miniupnpd (portmap-lib.sh). Cases, each in its own world, side by side:
#
#   pcp      alice asks with PCP only (portmap = ["pcp"]); the router
#            caps PCP lifetimes at 20 s, so the mapping must be renewed
#   natpmp   alice asks with NAT-PMP only (portmap = ["natpmp"]); another
#            host on her LAN holds external port 8789 already, so she gets
#            another one, which only her REGISTER can tell peers of;
#            miniupnpd grants NAT-PMP the 7200 s asked for
#   late     natpmp, with the mapping granted after alice's first REGISTER
#            went out and before the authority answered it (miniupnpd and
#            the authority held with SIGSTOP, the authority's wire slowed
#            to 700 ms each way so the moment can be caught; alice asks
#            PCP first and her router drops it, so NAT-PMP starts 3.75 s
#            after up): the authority must still learn the mapping
#            (issue 10's race)
#   reboot   pcp, the router granting up to an hour; then miniupnpd
#            restarts, its mappings lost: its ANNOUNCE (an epoch time
#            gone back) makes alice map again at once, not in 30 min
#   upnp     alice asks with UPnP-IGD only (portmap = ["upnp"]); the
#            router offers UPnP-IGD too
#   liar     the router grants the PCP mapping but never forwards it: the
#            candidate never answers, the pair stays on the relay and works
#   off      the same router, but alice has portmap = false: relay, as
#            before, and nothing mapped at the router
#   none     no mapping service on either router (default settings):
#            both protocols tried, none answers, relay as before
#
# Each direct case checks netcheck (which protocol answered, the mapped
# address, its lifetime), the path both ways, ping and a file copied
# intact both ways; then that the mapping is in the router's nft table and
# lease file while up, and gone after `q2qctl down` (pcp) or after q2qd
# exits (natpmp).
#
#                         wan bridge (192.0.2.0/24)
#        +--------------+--------------+--------------+
#        |              |              |              |
#     auth .10       ra .21 hard     rb .22 hard    stun .200/.201
#     example.com    miniupnpd       (no service)   (stund, for
#                    (pcp natpmp off) |              miniupnpd's check)
#                       |             |
#                    alice .2      bob .2
#                    198.18.1/24   198.18.2/24
#
# CASES ("pcp off") runs a subset; JOBS sets the parallelism.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/natlab-lib.sh"
. "$(dirname "$0")/portmap-lib.sh"
e2e_init portmap

AUTH=192.0.2.10
JOBS=${JOBS:-4}
FILE_KB=${FILE_KB:-256}

netcheck() { ctl "$1" netcheck --json 2>/dev/null; }
# pm_proto_state NODE PROTO: that protocol's state in netcheck.
pm_proto_state() {
	netcheck "$1" | jq -r --arg p "$2" '.portmap.protocols[] | select(.name == $p) | .state'
}
pm_mapped_by() { [ "$(netcheck "$1" | jq -r '.portmap.mapping.protocol // empty')" = "$2" ]; }
pm_none_answered() {
	[ "$(netcheck "$1" | jq -r '.portmap.protocols | (length > 0 and all(.state == "no answer"))')" = true ]
}
not() { ! "$@"; }
# candidate_of NODE PEER EP: EP is among the candidates NODE holds for PEER.
candidate_of() {
	ctl "$1" peers --json | jq -e --arg id "$2@example.com" --arg ep "$3" \
		'any(.peers[] | select(.identity == $id) | .candidates[]; . == $ep)'
}

# late_conn: "BYTES_SENT RECV_Q" of the authority's TLS connection from
# alice (through her router), if one is established.
late_conn() {
	nsx auth ss -Htni state established "( sport = :8788 and dst 192.0.2.21 )" |
		awk 'NR == 1 { q = $1 } /bytes_sent:/ { for (i = 1; i <= NF; i++) if ($i ~ /^bytes_sent:/) { sub(/.*:/, "", $i); print $i, q } }'
}
late_flight_sent() { local c; c=$(late_conn); [ -n "$c" ] && [ "${c% *}" -gt 0 ]; }
late_register_waits() { local c; c=$(late_conn); [ -n "$c" ] && [ "${c#* }" -gt 0 ]; }
alice_link() { ctl alice status --json 2>/dev/null | jq -r '.authority_link // empty'; }
alice_registered() { [ "$(alice_link)" = registered ]; }

# late_no_pcp ROUTER: drops PCP requests (60 bytes and more; NAT-PMP's
# are 2 or 12) on their way to ROUTER's miniupnpd.
late_no_pcp() {
	ip netns exec "$PFX-$1" nft -f - <<-EOF
	table ip late_no_pcp {
		chain input {
			type filter hook input priority filter - 10; policy accept;
			iifname "lan" udp dport 5351 udp length > 20 drop
		}
	}
	EOF
}

# late_pair: the natpmp world's daemons, alice's mapping granted while her
# first REGISTER waits unread at the authority. The authority's wire
# delays every frame by 700 ms, so between its TLS flight leaving and
# alice's REGISTER (sent the moment that flight completes her handshake)
# arriving there are 1.4 s to stop it in. Then miniupnpd, held since
# before alice came up, may answer: NAT-PMP's turn runs from 3.75 s to
# 7.75 s after up (PCP's four unanswered sends first). The authority reads
# the REGISTER only after alice holds the mapping. Sets A4 and B4 as
# nat_pair does.
late_pair() {
	local mpid="$T/ra-miniupnpd/pid" apid upid
	nat_auth_start auth example.com || { check "$tag authority starts" false; return 1; }
	nat_join bob bob@example.com auth $AUTH || return 1
	q2qd_conf alice 'port = 8789;' "$@"
	q2qd_start alice || { check "$tag q2qd alice starts" false; return 1; }
	check "$tag alice enrolls as alice@example.com" ovl_enroll alice alice@example.com auth $AUTH:8788
	apid=$(q2qd_engine auth)
	check "$tag the authority's wire delays 700 ms each way" wire_impair auth 0 700 0 || return 1
	check "$tag alice's router drops PCP" late_no_pcp ra
	kill -STOP "$(cat "$mpid")"
	# up answers once alice is registered (or after 5 s): in the
	# background, so the authority can be stopped before it reads her
	# REGISTER.
	ctl alice up > "$T/alice.up" 2>&1 &
	upid=$!
	check "$tag the authority's TLS flight to alice leaves" wait_for 15 late_flight_sent
	kill -STOP "$apid"
	check "$tag alice's REGISTER waits unread at the (held) authority" wait_for 10 late_register_waits
	check_eq "$tag ... it went without a mapping: netcheck shows none yet" \
		"$(netcheck alice | jq -r .portmap.mapping)" null
	check_fails "$tag ... the authority has not read it" grep -q "alice@example.com is online" "$T/auth/log"
	kill -CONT "$(cat "$mpid")"
	check "$tag miniupnpd answers: natpmp holds the mapping" wait_for 10 pm_mapped_by alice natpmp
	check_eq "$tag ... while alice's link still waits for the authority's answer" "$(alice_link)" connecting
	kill -CONT "$apid"
	wire_clear auth
	check "$tag alice's link registers" wait_for 15 alice_registered
	check "$tag alice's up (miniupnpd held) succeeded" wait "$upid"
	wait_for 10 ctl alice resolve bob@example.com
	A4=$(ctl bob resolve alice@example.com 2>/dev/null)
	B4=$(ctl alice resolve bob@example.com 2>/dev/null)
	[ -n "$A4" ] && [ -n "$B4" ] || { check "$tag both overlay addresses resolve" false; return 1; }
}

run_case() {
	local c=$1 p=$1 conf=() want=direct gw=1 ext=192.0.2.21:8789 life=20
	[ $c = late ] && p=natpmp	# the natpmp world, set up in another order
	[ $c = reboot ] && p=pcp life=3600	# the pcp world, a longer lifetime
	case $c in
	pcp|reboot) conf=('portmap = [ "pcp" ];') ;;
	natpmp) conf=('portmap = [ "natpmp" ];') ;;
	late) conf=('portmap = [ "pcp", "natpmp" ];') ;;
	upnp) conf=('portmap = [ "upnp" ];') ;;
	liar) conf=('portmap = [ "pcp" ];'); want=relay ;;
	off) conf=('portmap = false;'); want=relay ;;
	none) want=relay; gw="" ;;
	esac

	wan_up
	host_add auth $AUTH/24
	nat_router ra hard 192.0.2.21/24 198.18.1.0/24 && nat_host alice ra 198.18.1.2/24 &&
		nat_router rb hard 192.0.2.22/24 198.18.2.0/24 && nat_host bob rb 198.18.2.2/24 ||
		{ check "$tag topology" false; return; }
	if [ -n "$gw" ]; then
		portmap_stun stun 192.0.2.200 192.0.2.201 || { check "$tag STUN server starts" false; return; }
		check "$tag miniupnpd runs on alice's router" portmap_gateway ra 192.0.2.200 "$life" \
			"$([ $c = upnp ] && echo upnp)" || return
	fi
	[ $c = liar ] && { check "$tag alice's router lies about port 8789" portmap_liar ra 8789 || return; }
	if [ $p = natpmp ]; then
		nat_host squat ra 198.18.1.3/24 || { check "$tag topology" false; return; }
		check "$tag another LAN host maps external UDP 8789 first" portmap_squat squat 8789
	fi
	if [ $c = late ]; then
		late_pair "${conf[@]}" || return
	else
		nat_pair $AUTH "${conf[@]}" || return
	fi

	case $p in
	liar)
		check "$tag alice's netcheck: pcp holds the (lying) mapping" wait_for 10 pm_mapped_by alice pcp
		check "$tag the router lists it (nft)" portmap_has ra 8789
		;;
	pcp|natpmp|upnp)
		check "$tag alice's netcheck: $p holds the mapping" wait_for 15 pm_mapped_by alice $p
		netcheck alice > "$T/alice.netcheck"
		check_eq "$tag alice's netcheck: the gateway is her router" \
			"$(jq -r .portmap.gateway < "$T/alice.netcheck")" 198.18.1.1
		if [ $p = natpmp ]; then
			ext=$(jq -r .portmap.mapping.external < "$T/alice.netcheck")
			check "$tag alice's netcheck: mapped to the router's WAN address, another port ($ext)" \
				eval '[[ $ext == 192.0.2.21:* && $ext != 192.0.2.21:8789 ]]'
		else
			check_eq "$tag alice's netcheck: mapped address is the router's WAN address, her port" \
				"$(jq -r .portmap.mapping.external < "$T/alice.netcheck")" $ext
		fi
		[ $p = pcp ] || life=7200
		check_eq "$tag alice's netcheck: lifetime as the router granted it" \
			"$(jq -r .portmap.mapping.lifetime < "$T/alice.netcheck")" $life
		[ $c = natpmp ] && check_eq "$tag alice's netcheck: pcp is off" \
			"$(jq -r '.portmap.protocols[] | select(.name == "pcp") | .state' < "$T/alice.netcheck")" off
		check "$tag the router forwards alice's UDP port (nft)" portmap_has ra ${ext##*:}
		check "$tag miniupnpd's lease file holds it" portmap_lease ra ${ext##*:}
		;;
	off)
		check_eq "$tag alice's netcheck: port mapping off" "$(netcheck alice | jq -r .portmap.enabled)" false
		;;
	none)
		check "$tag alice's netcheck: neither protocol answered" wait_for 10 pm_none_answered alice
		check_eq "$tag alice's netcheck: no mapping" "$(netcheck alice | jq -r .portmap.mapping)" null
		;;
	esac
	check "$tag bob's router has no mapping service: neither protocol answered for bob" \
		wait_for 10 pm_none_answered bob

	nat_pair_settles $want 30
	nat_pair_copies $want
	if [ $want = direct ]; then
		check "$tag bob holds alice's mapped endpoint among her candidates" candidate_of bob alice "$ext"
		check "$tag bob reaches alice at her mapped endpoint ($ext)" \
			nat_endpoint_in bob alice@example.com "$ext"
	fi


	case $c in
	reboot)
		check "$tag miniupnpd restarts, its mappings lost" portmap_reboot ra
		check "$tag ... the router no longer forwards alice's port" not portmap_has ra 8789
		check "$tag alice hears the restart" \
			wait_for 20 grep -q "gateway announced a restart" "$T/alice/log"
		check "$tag ... and maps again: the router forwards her port" wait_for 20 portmap_has ra 8789
		check "$tag ... miniupnpd's lease file holds it" wait_for 10 portmap_lease ra 8789
		check "$tag ... and bob still reaches her directly" wait_for 10 ovl_ping bob "$A4"
		;;
	pcp)
		# Lifetime 20 s: renewed every 10 s, so after 25 s miniupnpd
		# (which removes expired mappings) must still forward it, with
		# a later expiry in its lease file.
		local exp0 exp1
		exp0=$(portmap_lease_expiry ra 8789)
		sleep 25
		exp1=$(portmap_lease_expiry ra 8789)
		check "$tag after 25 s (lifetime 20 s) the router still forwards the port" portmap_has ra 8789
		check "$tag ... its lease was renewed (expiry $exp0 -> $exp1)" test "${exp1:-0}" -gt "${exp0:-0}"
		check "$tag ... and alice's netcheck still shows the mapping" pm_mapped_by alice pcp
		;;
	esac
	case $p in
	pcp|natpmp|upnp)
		# pcp, upnp: `q2qctl down`; natpmp: q2qd stops (SIGTERM).
		local how=down
		if [ $p != natpmp ]; then
			check "$tag alice down" ctl alice down
		else
			how=exit
			q2qd_stop alice
		fi
		check "$tag after $how the router's nft table no longer forwards the port" \
			wait_for 5 not portmap_has ra ${ext##*:}
		check "$tag after $how miniupnpd's lease file no longer holds it" \
			wait_for 5 not portmap_lease ra ${ext##*:}
		;;
	off)
		check "$tag nothing was mapped at the router" not portmap_has ra 8789
		;;
	esac
}

CASES_DEFAULT=(pcp natpmp late reboot upnp liar off none)
read -ra CASES <<<"${CASES:-${CASES_DEFAULT[*]}}"
nat_cases "$JOBS" run_case "${CASES[@]}"
e2e_finish

#!/bin/bash
# Relays across domains (issue 8): alice@example.com and carol@example.org,
# each behind a hard (endpoint-dependent, "symmetric") NAT, so no punch
# can work, with nothing between the two domains but DNS (signed SRV and
# TLSA, dnslib.sh). The authority of the domain looked up relays: alice's
# lookup of carol registers her at example.org's authority (the link she
# keeps there anyway), so that relay has both ends authenticated with
# their own keys (PROTOCOL.md, "Relays across domains"). What a user sees:
# pings both ways over IPv4 (the node-local addresses each shows for the
# other) and IPv6, 256 KB of marked text copied intact each way, `peers
# --json` saying relay on both sides and naming the same relaying
# authority, a capture at both authorities that never shows the marker,
# and forged or replayed RELAY datagrams to the relay getting nothing
# forwarded or answered.
#
#                        wan bridge (192.0.2.0/24)
#   +-----------+-----------+-----------+-----------+-----------+
#   |           |           |           |           |           |
#  dns .53    authc .10   autho .20   ra .21      ro .23     forger .30
#  knotd:     example.com example.org hard NAT    hard NAT
#  . com org  100.64/10   100.64/10   198.18.1/24 198.18.3/24
#                                     |           |
#                                     alice .2    carol .2
#                                     @example    @example
#                                     .com        .org
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/natlab-lib.sh"
. "$(dirname "$0")/dnslib.sh"
e2e_init xrelay

dns_require
tag="[xrelay]"
MARK=Q2Q-XRELAY-PLAINTEXT-MARK

wan_up
host_add dns 192.0.2.53/24
host_add authc 192.0.2.10/24
host_add autho 192.0.2.20/24
host_add forger 192.0.2.30/24
nat_router ra hard 192.0.2.21/24 198.18.1.0/24 && nat_host alice ra 198.18.1.2/24 &&
	nat_router ro hard 192.0.2.23/24 198.18.3.0/24 && nat_host carol ro 198.18.3.2/24 ||
	{ check "topology" false; e2e_finish; exit 1; }
declare -A AUTH_NS=([example.com]=authc [example.org]=autho)
declare -A AUTH_IP=([example.com]=192.0.2.10 [example.org]=192.0.2.20)

dns_authorities || exit 1
for dom in $(dns_domains); do
	dns_zone "$dom" signed "$(dns_authority_records "$dom" "${AUTH_IP[$dom]}" "${FP[$dom]}")"
done
check "knotd serves the signed test root" dns_start dns 192.0.2.53
DNSCONF="dns_resolver = \"192.0.2.53\"; dns_anchor = \"$T/dns/root.anchor\";"
# Each authority takes the other domain's node by DNSSEC, not by a pin.
dns_authorities_dns "$DNSCONF" || exit 1

nat_join alice alice@example.com authc 192.0.2.10 "$DNSCONF" || exit 1
nat_join carol carol@example.org autho 192.0.2.20 "$DNSCONF" || exit 1
A6=$(ctl alice status --json | jq_get ipv6)
C6=$(ctl carol status --json | jq_get ipv6)
A4=$(ctl alice status --json | jq_get ipv4)
C4=$(ctl carol status --json | jq_get ipv4)
check_eq "control: both are certified the same IPv4 (default pools)" "$C4" "$A4"

# --------------------------------------------------------------- connect
check "alice resolves carol@example.org through DNS" wait_for 30 ctl alice resolve carol@example.org
AC4=$(ctl alice resolve carol@example.org 2>/dev/null)
check "alice pings carol over IPv4 ($AC4)" wait_for 40 ovl_ping alice "$AC4"
check "carol resolves alice@example.com" wait_for 20 ctl carol resolve alice@example.com
CA4=$(ctl carol resolve alice@example.com 2>/dev/null)
check "carol pings alice over IPv4 ($CA4)" wait_for 20 ovl_ping carol "$CA4"
check "alice pings carol over IPv6" wait_for 20 ovl_ping alice "$C6"
check "carol pings alice over IPv6" wait_for 20 ovl_ping carol "$A6"

# nat_varies NODE IDENTITY: the authority told NODE that IDENTITY's NAT
# maps each destination anew. alice's probes of example.org's two ports
# race her lookup there: if they lose, a re-introduction (10 s on the
# relay) brings the news.
nat_varies() { ovl_peer "$1" "$2" peer_nat | grep -q '"mapping_varies_by_destination": true'; }
check "control: carol was told alice's NAT maps each destination anew" wait_for 30 nat_varies carol alice@example.com
check "control: alice was told carol's does too" wait_for 30 nat_varies alice carol@example.org
check "alice's path to carol is the relay" wait_for 20 nat_path_is alice carol@example.org relay
check "carol's path to alice is the relay" wait_for 20 nat_path_is carol alice@example.com relay
RA=$(ovl_peer alice carol@example.org relay_authority)
RC=$(ovl_peer carol alice@example.com relay_authority)
check_eq "alice and carol name the same relaying authority ($RA)" "$RC" "$RA"
case $RA in
example.com|example.org) RNS=${AUTH_NS[$RA]}; check "... one of the two domains'" true ;;
*) RA=example.org RNS=autho; check "... one of the two domains'" false ;;
esac
RIP=${AUTH_IP[$RA]}
check "q2qctl peers (text) names it too" bash -c "ctl alice peers | grep carol@example.org | grep -qF 'relay ($RA)'"

# ------------------------------------------------------ copies, captures
nat_marked "$MARK" "$T/marked"
for a in authc autho; do cap_start "$a" eth0 "$T/$a.pcap" udp; done
cap_start carol q2q0 "$T/inner.pcap" tcp port 5001
check "256 KB of marked text alice->carol over IPv4 arrive intact" \
	tcp_copy alice carol "$AC4" 5001 "$T/marked" "$T/marked.rx" "$C4"
check "256 KB of marked text carol->alice over IPv6 arrive intact" \
	tcp_copy carol alice "$A6" 5002 "$T/marked" "$T/marked.rx2"
for a in authc autho inner; do cap_stop "$T/$a.pcap"; done
n=$(cap_count "$T/$RNS.pcap" "src host $RIP and udp src port 8788")
check "the capture at the relaying authority holds > 200 relayed datagrams ($n)" test "$n" -gt 200
check "control: the marker shows in the clear on carol's q2q0" grep -qaF "$MARK" "$T/inner.pcap"
check_fails "the marker never appears at example.com's authority" grep -qaF "$MARK" "$T/authc.pcap"
check_fails "the marker never appears at example.org's authority" grep -qaF "$MARK" "$T/autho.pcap"
check_eq "alice's path is still the relay" "$(ovl_peer alice carol@example.org path)" relay
check_eq "carol's path is still the relay" "$(ovl_peer carol alice@example.com path)" relay
relayed=$(ctl "$RNS" metrics 2>/dev/null | awk '$1 == "q2q_authority_relayed_bytes_total" { print $2 }')
check "the relaying authority counts > 512 KB relayed ($relayed bytes)" test "${relayed:-0}" -gt 524288

# -------------------------------------------------------------- strangers
nat_relay_forgeries "$RNS" "$RIP" "$T/$RNS.pcap" forger 192.0.2.30
check "the relay still carries alice's pings after the flood" wait_for 10 ovl_ping alice "$AC4"
check "... and carol's" wait_for 10 ovl_ping carol "$CA4"

e2e_finish

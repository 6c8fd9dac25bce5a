#!/bin/bash
# DNS records' TTL is honoured (issue 8): a node keeps what DNS said of a
# foreign domain's authority only as long as its records' TTL (10 s
# here). When example.net's authority moves (its zone's A record changes
# from 192.0.2.30 to 192.0.2.33), alice's link follows it once the TTL
# has run out, without down/up, and she still reaches dave.
#
#                       wan bridge (192.0.2.0/24)
#   +-----------+-----------+-----------+-----------+
#   |           |           |           |           |
#  dns .53   authc .10   alice .11   authn .30    dave .31
#  knotd     example.com  alice@     example.net  dave@
#                         example    (.33 added   example.net
#                         .com       later)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dnslib.sh"
e2e_init dns-ttl

dns_require

wan_up
host_add dns 192.0.2.53/24
host_add authc 192.0.2.10/24
host_add alice 192.0.2.11/24
host_add authn 192.0.2.30/24
host_add dave 192.0.2.31/24

declare -A AUTH_NS=([example.com]=authc [example.net]=authn)
declare -A POOL=([example.com]=100.64.0.0/16 [example.net]=100.110.0.0/16)
declare -A FP
auth_conf() {	# DOMAIN [extra config]
	local dom=$1; shift
	q2qd_conf "${AUTH_NS[$dom]}" "authority = { domain = \"$dom\"; listen = \"0.0.0.0:8788\"; pool = \"${POOL[$dom]}\"; };" "$@"
}
for dom in example.com example.net; do
	auth_conf "$dom"
	q2qd_start "${AUTH_NS[$dom]}" || exit 1
	FP[$dom]=$(ctl "${AUTH_NS[$dom]}" status --json | jq_get authority_service.ca_fingerprint)
done

# Every record of example.net lives 10 s; example.com's the default 60 s.
net_records() {	# AUTH-IP SERIAL
	echo "_q2q._tcp.example.net. 10 SRV 0 0 8788 auth.example.net."
	echo "auth.example.net. 10 A $1"
	echo "_8788._tcp.auth.example.net. 10 TLSA 2 0 1 ${FP[example.net]}"
}
dns_zone example.com signed "_q2q._tcp.example.com. SRV 0 0 8788 auth.example.com." \
	"auth.example.com. A 192.0.2.10" "_8788._tcp.auth.example.com. TLSA 2 0 1 ${FP[example.com]}"
dns_zone example.net signed "$(net_records 192.0.2.30)"
check "knotd serves the signed test root" dns_start dns 192.0.2.53
DNSCONF="dns_resolver = \"192.0.2.53\"; dns_anchor = \"$T/dns/root.anchor\";"
for dom in example.com example.net; do
	q2qd_stop "${AUTH_NS[$dom]}"
	auth_conf "$dom" "$DNSCONF"
	q2qd_start "${AUTH_NS[$dom]}" || exit 1
done

q2qd_conf alice 'port = 8789;' "$DNSCONF"
q2qd_conf dave 'port = 8789;' "$DNSCONF"
q2qd_start alice || exit 1
q2qd_start dave || exit 1
check "alice enrolls" ovl_enroll alice alice@example.com authc 192.0.2.10:8788
check "dave enrolls" ovl_enroll dave dave@example.net authn 192.0.2.30:8788
check "alice: q2qctl up" ctl alice up
check "dave: q2qctl up" ctl dave up
D6=$(ctl dave status --json | jq_get ipv6)
check "alice resolves dave@example.net through DNS" wait_for 20 ctl alice resolve dave@example.net
check "alice pings dave" wait_for 20 ovl_ping alice "$D6"
link_to() { [ -n "$(nsx alice ss -Htn state established dst "$1" dport = :8788)" ]; }
check "alice's link to example.net's authority is at 192.0.2.30" link_to 192.0.2.30

# The authority moves: a second address, and the zone names only that.
nsx authn ip addr add 192.0.2.33/24 dev eth0
# knot has rewritten the file signed: the new one is written whole, with
# a serial above knot's, and knot signs it again.
{
	echo "\$TTL 60"
	echo "example.net. SOA ns. hostmaster.example.net. $(date +%s) 3600 600 86400 60"
	echo "example.net. NS ns."
	net_records 192.0.2.33
} > "$T/dns/zones/example.net.zone"
check "knotd reloads example.net" nsx dns knotc -c "$T/dns/knot.conf" zone-reload example.net
check "control: DNS now names 192.0.2.33" \
	wait_for 10 bash -c "nsx alice kdig +short @192.0.2.53 auth.example.net A | grep -qx 192.0.2.33"
t0=$(date +%s)
check "within the TTL and a bit, alice's link moves to 192.0.2.33" wait_for 30 link_to 192.0.2.33
echo "  moved after $(( $(date +%s) - t0 )) s"
check "alice's log says the authority moved" \
	grep -q "authority of example.net moved from 192.0.2.30:8788 to 192.0.2.33:8788 (DNS)" "$T/alice/log"
check_fails "... and the old link is gone" link_to 192.0.2.30
check "alice still pings dave" wait_for 10 ovl_ping alice "$D6"
check "alice still resolves dave@example.net (through the new link)" ctl alice resolve dave@example.net

e2e_finish

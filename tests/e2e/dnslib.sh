# A DNSSEC world for end-to-end tests: knotd (Debian's knot) in a
# namespace, authoritative for a test root "." and the zones a test adds,
# each signed by knot with a key made here (keymgr), its DS in the root,
# so the chain validates up to a test trust anchor ($T/dns/root.anchor)
# that nodes get as dns_anchor, with dns_resolver pointing at knotd. Nothing
# ever leaves the namespaces: no real root server is asked.
#
# Source after lib.sh:
#   dns_zone NAME MODE [RECORD...]   MODE signed | unsigned | bogus (signed,
#                                    but the root's DS does not match)
#   dns_start NS ADDR                writes the root, starts knotd in NS
#                                    listening on ADDR:53, waits for it
#   dns_world                        the wan and the hosts of three domains
#                                    (dnssec.sh, fed-v4.sh): dns .53 for
#                                    knotd; per domain its authority and first
#                                    node, named in AUTH_NS, AUTH_IP, DOM
#   dns_authorities                  starts the authorities AUTH_NS names
#                                    (dns_world's three, or a caller's own
#                                    AUTH_NS and AUTH_IP), each
#                                    with POOL[domain] if the caller set
#                                    it (else the default pool); their CA
#                                    fingerprints in FP
#   dns_authority_records DOMAIN IP FP  the SRV, A and TLSA lines of a
#                                    domain whose authority is at IP with
#                                    CA fingerprint FP (for dns_zone)
#   dns_authorities_dns CONF...      restarts those with CONF added
#                                    (the resolver and anchor, once DNS is
#                                    up: an authority takes another
#                                    domain's node only by its own trust
#                                    policy); checks each keeps its CA
#   dns_require                      skips the whole test (and exits)
#                                    where knot is not installed
# Records are zone-file lines relative to nothing ("_q2q._tcp.example.org.
# SRV 0 0 8788 auth.example.org.").

dns_require() {
	command -v knotd >/dev/null && command -v keymgr >/dev/null && return 0
	skip "knotd/keymgr not installed (package knot)"
	e2e_finish
	exit 0
}

DNS_ZONES=()
declare -A DNS_MODE

dns_dir() { echo "$T/dns"; }

dns_world() {
	wan_up
	host_add dns 192.0.2.53/24
	host_add authc 192.0.2.10/24
	host_add alice 192.0.2.11/24
	host_add autho 192.0.2.20/24
	host_add carol 192.0.2.21/24
	host_add authn 192.0.2.30/24
	host_add dave 192.0.2.31/24
	declare -gA AUTH_NS=([example.com]=authc [example.org]=autho [example.net]=authn)
	declare -gA AUTH_IP=([example.com]=192.0.2.10 [example.org]=192.0.2.20 [example.net]=192.0.2.30)
	declare -gA DOM=([alice]=example.com [carol]=example.org [dave]=example.net)
}

# dns_domains: the domains AUTH_NS names, in a fixed order.
dns_domains() { printf '%s\n' "${!AUTH_NS[@]}" | sort; }

dns_authority_records() {	# DOMAIN AUTH-IP FINGERPRINT
	echo "_q2q._tcp.$1. SRV 0 0 8788 auth.$1."
	echo "_q2q._udp.$1. SRV 0 0 8788 auth.$1."
	echo "auth.$1. A $2"
	echo "_8788._tcp.auth.$1. TLSA 2 0 1 $3"
}

dns_authorities() {
	local dom a
	declare -gA FP
	for dom in $(dns_domains); do
		a=${AUTH_NS[$dom]}
		q2qd_conf "$a" "$(dns_authorities_conf "$dom")"
		q2qd_start "$a" || return 1
		FP[$dom]=$(ctl "$a" status --json | jq_get authority_service.ca_fingerprint)
	done
}

dns_authorities_conf() {	# DOMAIN: the authority section dns_authorities wrote
	local pool=""
	if declare -p POOL >/dev/null 2>&1 && [ -n "${POOL[$1]:-}" ]; then
		pool="pool = \"${POOL[$1]}\";"
	fi
	echo "authority = { domain = \"$1\"; listen = \"0.0.0.0:8788\"; $pool };"
}

dns_authorities_dns() {
	local dom a
	for dom in $(dns_domains); do
		a=${AUTH_NS[$dom]}
		q2qd_stop "$a"
		q2qd_conf "$a" "$(dns_authorities_conf "$dom")" "$@"
		q2qd_start "$a" || return 1
		check_eq "$a restarted with the same CA" \
			"$(ctl "$a" status --json | jq_get authority_service.ca_fingerprint)" "${FP[$dom]}"
	done
}

dns_zone() {
	local name=$1 mode=$2 d; shift 2
	d=$(dns_dir); mkdir -p "$d/zones" "$d/db"
	DNS_ZONES+=("$name"); DNS_MODE[$name]=$mode
	{
		echo "\$TTL 60"
		echo "$name. SOA ns. hostmaster.$name. 1 3600 600 86400 60"
		echo "$name. NS ns."
		printf '%s\n' "$@"
	} > "$d/zones/$name.zone"
}

dns_conf() {
	local addr=$1 d z; d=$(dns_dir)
	{
		echo "server:"
		echo "    rundir: \"$d\""
		echo "    listen: $addr@53"
		echo "database:"
		echo "    storage: \"$d/db\""
		echo "policy:"
		echo "  - id: test"
		echo "    algorithm: ecdsap256sha256"
		echo "    single-type-signing: on"
		echo "    manual: on"
		echo "template:"
		echo "  - id: default"
		echo "    storage: \"$d/zones\""
		echo "    file: \"%s.zone\""
		echo "zone:"
		echo "  - domain: ."
		echo "    file: \"root.zone\""
		echo "    dnssec-signing: on"
		echo "    dnssec-policy: test"
		for z in "${DNS_ZONES[@]}"; do
			echo "  - domain: $z"
			[ "${DNS_MODE[$z]}" = unsigned ] && continue
			echo "    dnssec-signing: on"
			echo "    dnssec-policy: test"
		done
	} > "$d/knot.conf"
}

# dns_ds ZONE: the zone's DS (SHA-256) as keymgr prints it, key made first.
dns_ds() {
	local d; d=$(dns_dir)
	keymgr -c "$d/knot.conf" "$1." generate algorithm=ecdsap256sha256 ksk=yes zsk=yes >/dev/null || return 1
	keymgr -c "$d/knot.conf" "$1." ds | awk '$5 == 2'
}

dns_start() {
	local ns=$1 addr=$2 d z ds; d=$(dns_dir)
	dns_conf "$addr"
	{
		echo "\$TTL 60"
		echo ". SOA ns. hostmaster.example. 1 3600 600 86400 60"
		echo ". NS ns."
		echo "ns. A $addr"
		for z in "${DNS_ZONES[@]}"; do
			echo "$z. NS ns."
			case ${DNS_MODE[$z]} in
			signed) dns_ds "$z" || return 1 ;;
			bogus)	# a DS for the right key tag with another digest
				dns_ds "$z" | awk '{ $NF = substr($NF, 1, length($NF) - 4) "0000"; print }' ;;
			esac
		done
	} > "$d/zones/root.zone.tmp" || return 1
	mv "$d/zones/root.zone.tmp" "$d/zones/root.zone"
	ds=$(dns_ds "") || return 1
	# The test trust anchor: the root's DS, in zone-file form.
	echo "$ds" | sed 's/^\. /. IN /' > "$d/root.anchor"
	ip netns exec "$PFX-$ns" knotd -c "$d/knot.conf" >"$d/knotd.log" 2>&1 &
	echo $! > "$d/knotd.pid"
	wait_for 10 bash -c "nsx $ns kdig +dnssec @$addr . SOA | grep -q RRSIG"
}

# dns_stop: ends knotd (the namespace cleanup would too).
dns_stop() {
	local pid; pid=$(cat "$(dns_dir)/knotd.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
}

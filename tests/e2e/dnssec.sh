#!/bin/bash
# Federation through DNSSEC (issue 8): three domains whose configs name
# nothing of each other. Each node finds a foreign domain's authority by
# its _q2q._tcp SRV record and that domain's CA by the TLSA record at the
# SRV target (DANE-TA, 2 0 1), validated by libunbound up to a test root
# whose anchor the nodes are given; knotd serves and signs every zone.
# Every pair resolves, pings both ways over IPv6 and IPv4 (each node shows
# another domain's under a node-local IPv4; fed-v4.sh has the default
# pools, which clash) and copies a file intact; every
# CA learned is listed by q2qctl trust as learned through DNSSEC.
# Refused, with the reason, and nothing pinned: a squatter authority for
# example.org with another CA (TLSA mismatch), an authority whose CA its
# zone's TLSA does not name, an unsigned zone, a wrongly signed zone
# (bogus), a zone without SRV. trust_policy "first-use" takes the unsigned
# zone's CA; a missing trust anchor is logged, not fatal. Authorities
# take other domains' nodes by their own policy (DNSSEC), so the
# squatter's node mallory .41 is refused by example.com's authority. When
# example.org revokes carol, dave of example.net, which keeps a link to
# example.org's authority for its news since it talked to carol, drops
# her within seconds and refuses her handshake; example.org's REVOKED
# carrying alice@example.com's serial (planted in its registry) is
# ignored everywhere.
#
#                              wan bridge (192.0.2.0/24)
#   +--------+--------+--------+--------+--------+--------+--------+--------+--------+
#   |        |        |        |        |        |        |        |        |        |
#  dns .53  authc .10 alice .11 autho .20 carol .21 authn .30 dave .31 vic .32  squat .40
#  knotd:   example   alice@   example   carol@   example   dave@    vic@     "example.org"
#  . com    .com      example  .org      example  .net      example  example  with another CA
#  org net  100.64/16 .com     100.100/16 .org    100.110/16 .net    .net:    (squatter)
#  *.example                                                            trust entry
#                                                                    example.org at .40,
#                                                                    no fingerprint
#
# The zones: example.com/.org/.net signed with SRV, TLSA and A; unsigned.example
# unsigned (its authority .50, ursula .51 its node; frank .12 of example.com
# takes first use); bogus.example signed, but the root's DS for it is wrong;
# nosrv.example signed without SRV; hijack.example signed, its TLSA naming
# a CA its authority (authh .60) does not have. (Not under "test.": libunbound answers
# that name itself, as a default local zone.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dnslib.sh"
e2e_init dnssec

dns_require

dns_world
host_add vic 192.0.2.32/24
host_add squat 192.0.2.40/24
host_add authu 192.0.2.50/24
host_add ursula 192.0.2.51/24
host_add frank 192.0.2.12/24
host_add authh 192.0.2.60/24
host_add mallory 192.0.2.41/24
host_add authx 192.0.2.70/24
host_add xena 192.0.2.71/24

# ---------------------------------------------------------------- authorities
declare -A POOL=([example.com]=100.64.0.0/16 [example.org]=100.100.0.0/16 [example.net]=100.110.0.0/16)
dns_authorities || exit 1
q2qd_conf squat 'authority = { domain = "example.org"; listen = "0.0.0.0:8788"; pool = "100.100.0.0/16"; };'
q2qd_start squat || exit 1
SQFP=$(ctl squat status --json | jq_get authority_service.ca_fingerprint)
check_ne "control: the squatter's CA for example.org is another one" "$SQFP" "${FP[example.org]}"
q2qd_conf authu 'authority = { domain = "unsigned.example"; listen = "0.0.0.0:8788"; pool = "100.120.0.0/16"; };'
q2qd_start authu || exit 1
UFP=$(ctl authu status --json | jq_get authority_service.ca_fingerprint)
# hijack.example's zone names a CA (the squatter's) that its authority
# does not have: as if the address in DNS had been taken over.
q2qd_conf authh 'authority = { domain = "hijack.example"; listen = "0.0.0.0:8788"; pool = "100.121.0.0/16"; };'
q2qd_start authh || exit 1
HFP=$(ctl authh status --json | jq_get authority_service.ca_fingerprint)

# ---------------------------------------------------------------- DNS
for dom in example.com example.org example.net; do
	# shellcheck disable=SC2046
	dns_zone "$dom" signed "$(dns_authority_records "$dom" "${AUTH_IP[$dom]}" "${FP[$dom]}")"
done
dns_zone unsigned.example unsigned "$(dns_authority_records unsigned.example 192.0.2.50 "$UFP")"
dns_zone bogus.example bogus "$(dns_authority_records bogus.example 192.0.2.20 "${FP[example.org]}")"
dns_zone hijack.example signed "$(dns_authority_records hijack.example 192.0.2.60 "$SQFP")"
dns_zone nosrv.example signed "auth.nosrv.example. A 192.0.2.20"
check "knotd serves the signed test root" dns_start dns 192.0.2.53
check "control: example.org's zone is signed (RRSIG on its SRV)" \
	bash -c "nsx alice kdig +dnssec @192.0.2.53 _q2q._tcp.example.org SRV | grep -q RRSIG"
check "control: unsigned.example answers without signatures" \
	bash -c "nsx alice kdig +dnssec @192.0.2.53 _q2q._tcp.unsigned.example SRV | grep -q SRV &&
	    ! nsx alice kdig +dnssec @192.0.2.53 _q2q._tcp.unsigned.example SRV | grep -q RRSIG"

DNSCONF="dns_resolver = \"192.0.2.53\"; dns_anchor = \"$T/dns/root.anchor\";"
# An authority takes another domain's node only if its own trust policy
# takes that domain's CA (DNSSEC here): now that DNS is up, the three
# restart with the resolver and the anchor (their CAs stay).
dns_authorities_dns "$DNSCONF" || exit 1
q2qd_stop authu
q2qd_conf authu 'authority = { domain = "unsigned.example"; listen = "0.0.0.0:8788"; pool = "100.120.0.0/16"; };' "$DNSCONF"
q2qd_start authu || exit 1

# ---------------------------------------------------------------- nodes
declare -A V4 V6
for n in alice carol dave; do
	dom=${DOM[$n]}
	q2qd_conf "$n" 'port = 8789;' "$DNSCONF"
	q2qd_start "$n" || exit 1
	check "$n enrolls at $dom" ovl_enroll "$n" "$n@$dom" "${AUTH_NS[$dom]}" "${AUTH_IP[$dom]}:8788"
	check "$n: q2qctl up" ctl "$n" up
	V4[$n]=$(ctl "$n" status --json | jq_get ipv4)
	V6[$n]=$(ctl "$n" status --json | jq_get ipv6)
done
check_fails "control: alice's config names no other domain" grep -q "example.org\|example.net" "$T/alice/q2qd.conf"

head -c 256K /dev/urandom > "$T/file"
port=5000
for pair in alice:carol alice:dave carol:dave; do
	a=${pair%%:*} b=${pair##*:}
	ida="$a@${DOM[$a]}" idb="$b@${DOM[$b]}"
	check "$a resolves $idb through DNS" wait_for 20 ctl "$a" resolve "$idb"
	check_eq "$a: $idb's IPv6 is $b's" "$(ctl "$a" resolve -6 "$idb" 2>&1)" "${V6[$b]}"
	check_eq "$a: $idb's certified IPv4 is $b's" \
		"$(ctl "$a" resolve --json "$idb" | jq_get cert_ipv4)" "${V4[$b]}"
	check "$a pings $idb over IPv6" wait_for 20 ovl_ping "$a" "${V6[$b]}"
	check "$b pings $ida back over IPv6" wait_for 20 ovl_ping "$b" "${V6[$a]}"
	check "$b resolves $ida" wait_for 10 ctl "$b" resolve "$ida"
	check "$a pings $idb over IPv4" wait_for 10 ovl_ping "$a" "$(ctl "$a" resolve "$idb")"
	check "$b pings $ida back over IPv4" wait_for 10 ovl_ping "$b" "$(ctl "$b" resolve "$ida")"
	port=$((port + 1))
	check "256 KB $a->$b arrive intact" tcp_copy "$a" "$b" "${V6[$b]}" $port "$T/file" "$T/file.$a.$b"
	port=$((port + 1))
	check "256 KB $b->$a arrive intact" tcp_copy "$b" "$a" "${V6[$a]}" $port "$T/file" "$T/file.$b.$a"
done

# trust_field NODE DOMAIN FIELD: a field of DOMAIN's entry in NODE's
# q2qctl trust --json, "none" without one.
trust_field() {
	ctl "$1" trust --json | python3 -c 'import json,sys
for d in json.load(sys.stdin)["domains"]:
    if d["domain"] == sys.argv[1]: print(d[sys.argv[2]]); break
else: print("none")' "$2" "$3"
}
for n in alice carol dave; do
	for dom in example.com example.org example.net; do
		if [ "$dom" = "${DOM[$n]}" ]; then
			check_eq "$n's trust: its own $dom, learned at enrollment" \
				"$(trust_field "$n" "$dom" learned)" enrollment
			continue
		fi
		check_eq "$n's trust: $dom learned through DNSSEC" "$(trust_field "$n" "$dom" learned)" dnssec
		check_eq "$n's trust: $dom's CA fingerprint is its authority's" \
			"$(trust_field "$n" "$dom" ca_fingerprint)" "${FP[$dom]}"
		check "$n's trust: since when it was learned" \
			test "$(trust_field "$n" "$dom" since)" -gt 1700000000
	done
done
check "q2qctl trust (text) shows how example.org was learned" \
	bash -c "ctl alice trust | grep -E '^example.org +dnssec +[0-9-]+ [0-9:]+ +${FP[example.org]}'"

# ---------------------------------------------------------------- refusals
# A zone without DNSSEC, a zone whose signatures do not validate, a zone
# without SRV: each refused with the reason, nothing pinned.
out=$(ctl alice resolve bob@unsigned.example 2>&1); rc=$?
echo "  unsigned: $out"
check "unsigned zone: resolve fails" test "$rc" = 1
check "... naming the domain and that it is not signed" \
	bash -c "grep -q 'unsigned.example' <<<'$out' && grep -q 'not DNSSEC-signed' <<<'$out'"
out=$(ctl alice resolve bob@bogus.example 2>&1); rc=$?
echo "  bogus: $out"
check "bogus signatures: resolve fails" test "$rc" = 1
check "... naming the domain and the bogus signature" \
	bash -c "grep -q 'bogus.example' <<<'$out' && grep -q 'bogus DNSSEC signature' <<<'$out'"
out=$(ctl alice resolve bob@nosrv.example 2>&1); rc=$?
echo "  no SRV: $out"
check "no SRV: resolve fails, saying so" \
	bash -c "[ $rc = 1 ] && grep -q 'nosrv.example: no SRV record _q2q._tcp.nosrv.example' <<<'$out'"
out=$(ctl alice resolve bob@hijack.example 2>&1); rc=$?
echo "  TLSA mismatch: $out"
check "TLSA mismatch: resolve fails, naming the CA presented and the TLSA record" \
	bash -c "[ $rc = 1 ] && grep -q 'hijack.example: TLSA mismatch: authority 192.0.2.60:8788 presented CA $HFP, which no TLSA record at _8788._tcp.auth.hijack.example names' <<<'$out'"
check_eq "alice pinned none of them" \
	"$(ctl alice trust --json | grep -c 'unsigned.example\|bogus.example\|nosrv.example\|hijack.example')" 0

# The squatter: vic's trust entry names example.org's authority at the
# squatter's address, without a fingerprint; DNSSEC's TLSA decides.
q2qd_conf vic 'port = 8789;' "$DNSCONF" \
	'trust = ( { domain = "example.org"; authority = "192.0.2.40:8788"; } );'
check "a trust entry without a fingerprint checks out (trust_policy dnssec)" \
	nsx vic "$BIN/q2qd" -n -c "$T/vic/q2qd.conf"
q2qd_conf pinonly 'trust_policy = "pinned";' 'trust = ( { domain = "example.org"; } );'
check "... and is refused with trust_policy = \"pinned\"" \
	bash -c "! $BIN/q2qd -n -c $T/pinonly/q2qd.conf 2>&1 | grep -q OK &&
	    $BIN/q2qd -n -c $T/pinonly/q2qd.conf 2>&1 | grep -q \"trust\\[0\\]: missing 'fingerprint'\""
q2qd_start vic || exit 1
check "vic enrolls at example.net" ovl_enroll vic vic@example.net authn 192.0.2.30:8788
check "vic: q2qctl up" ctl vic up
check "vic's log: the squatter's CA is refused as a TLSA mismatch" \
	wait_for 30 grep -q "example.org: TLSA mismatch: authority 192.0.2.40:8788 presented CA $SQFP" "$T/vic/log"
check_fails "vic cannot resolve carol@example.org through the squatter" ctl vic resolve carol@example.org
check_eq "vic pinned nothing for example.org" "$(trust_field vic example.org learned)" none
check_fails "vic's trust store has no file for example.org" \
	bash -c "ls $T/vic/state/trust/ | grep -q example.org"

# trust_policy = "first-use": frank takes unsigned.example's CA on first
# use (ursula is its first user), which alice's default refused above.
q2qd_conf ursula 'port = 8789;' "$DNSCONF" 'trust_policy = "first-use";'
q2qd_conf frank 'port = 8789;' "$DNSCONF" 'trust_policy = "first-use";'
q2qd_start ursula || exit 1
q2qd_start frank || exit 1
check "ursula enrolls at unsigned.example" ovl_enroll ursula ursula@unsigned.example authu 192.0.2.50:8788
check "ursula: q2qctl up" ctl ursula up
check "frank enrolls at example.com" ovl_enroll frank frank@example.com authc 192.0.2.10:8788
check "frank: q2qctl up" ctl frank up
U6=$(ctl ursula status --json | jq_get ipv6)
check "first-use: frank resolves ursula@unsigned.example" wait_for 20 ctl frank resolve ursula@unsigned.example
check "first-use: frank pings ursula over IPv6" wait_for 20 ovl_ping frank "$U6"
check_eq "first-use: frank's trust: unsigned.example learned on first use" \
	"$(trust_field frank unsigned.example learned)" first-use
check_eq "... with its authority's CA" "$(trust_field frank unsigned.example ca_fingerprint)" "$UFP"
check "first-use: frank resolves carol@example.org" wait_for 20 ctl frank resolve carol@example.org
check_eq "first-use: a signed domain is still learned through DNSSEC" \
	"$(trust_field frank example.org learned)" dnssec
check_eq "alice (dnssec) still has nothing for unsigned.example" \
	"$(trust_field alice unsigned.example learned)" none

# ---------------------------------------------------------------- squatter's node
# mallory@example.org, enrolled at the squatter, calls alice: example.com's
# authority judges the squatter's CA by its own policy (the TLSA of
# example.org) and refuses it, saying why; it pins nothing. Then mallory
# calls xena@extra.example, whose authority (authx .70) its operator made
# trust the squatter's CA (a pin): the broker request reaches xena, whose
# own policy (DNSSEC) refuses that CA, saying why, and pins nothing.
q2qd_conf authx 'authority = { domain = "extra.example"; listen = "0.0.0.0:8788"; pool = "100.122.0.0/16"; };' \
	"$DNSCONF" "trust = ( { domain = \"example.org\"; fingerprint = \"$SQFP\"; } );"
q2qd_start authx || exit 1
XFP=$(ctl authx status --json | jq_get authority_service.ca_fingerprint)
q2qd_conf xena 'port = 8789;' "$DNSCONF"
q2qd_start xena || exit 1
check "xena enrolls at extra.example" ovl_enroll xena xena@extra.example authx 192.0.2.70:8788
check "xena: q2qctl up" ctl xena up
q2qd_conf mallory 'port = 8789;' "$DNSCONF" \
	"trust = ( { domain = \"extra.example\"; authority = \"192.0.2.70:8788\"; fingerprint = \"$XFP\"; } );"
q2qd_start mallory || exit 1
check "mallory enrolls at the squatter as mallory@example.org" \
	ovl_enroll mallory mallory@example.org squat 192.0.2.40:8788
check "mallory: q2qctl up" ctl mallory up
check_fails "mallory cannot resolve alice@example.com" ctl mallory resolve alice@example.com
check "example.com's authority refuses the squatter's CA, saying why" \
	wait_for 20 grep -Eq "the CA of example.org is not trusted here: example.org: (CA changed|TLSA mismatch): TLS client 192.0.2.41:[0-9]+ presented (CA )?$SQFP" "$T/authc/log"
check_eq "... and keeps example.org's real CA" "$(trust_field authc example.org ca_fingerprint)" "${FP[example.org]}"
check "mallory's log: the authority's reason" wait_for 10 \
	grep -q "the CA of example.org is not trusted here" "$T/mallory/log"
check_fails "mallory cannot resolve xena@extra.example" ctl mallory resolve xena@extra.example
check "control: extra.example's authority took mallory (its pin)" \
	grep -q "authority: mallory@example.org is online" "$T/authx/log"
check "xena refuses the broker request: the squatter's CA is no TLSA's" \
	wait_for 20 grep -q "refusing a connection from mallory@example.org: example.org: TLSA mismatch: a broker request presented CA $SQFP" "$T/xena/log"
check_eq "... and xena pinned nothing for example.org" "$(trust_field xena example.org learned)" none

# ---------------------------------------------------------------- revocation across domains
# dave (example.net) has talked to carol (example.org) and now keeps a
# link to example.org's authority for its revocation news.
dave_news() {
	ctl dave status --json | python3 -c 'import json,sys
for a in json.load(sys.stdin).get("authorities", []):
    if a["domain"] == sys.argv[1]: print(a["revocation_news"]); break
else: print("none")' "$1"
}
check "dave keeps a link to example.org's authority for its revocation news" \
	wait_for 20 bash -c "[ \"\$(ctl dave status --json | python3 -c 'import json,sys
print([a[\"link\"] for a in json.load(sys.stdin)[\"authorities\"] if a[\"domain\"] == \"example.org\"])')\" = \"['registered']\" ]"
check "dave's status: fresh revocation news from example.org" test "$(dave_news example.org)" -gt 1700000000
check "dave's status: ... and from its own example.net" test "$(dave_news example.net)" -gt 1700000000
check "dave pings carol" wait_for 10 ovl_ping dave "${V6[carol]}"
check "dave pings alice" wait_for 10 ovl_ping dave "${V6[alice]}"
# A foreign authority's word on example.com's certificates: example.org's
# registry is made to list alice's serial (as a rogue authority would),
# and goes out with carol's revocation to every node registered there.
ASERIAL=$(ctl alice status --json | jq_get cert_serial)
check "example.org's registry lists alice@example.com's serial $ASERIAL" \
	setpriv --reuid=q2q --regid=q2q --clear-groups sqlite3 -cmd ".timeout 5000" \
	    "$T/autho/state/authority/registry.db" \
	    "INSERT INTO revocations (serial, not_after) VALUES ('$ASERIAL', $(( $(date +%s) + 86400 )))"
check "example.org revokes carol" ctl autho revoke carol@example.org
t0=$(date +%s%N)
check "within 10 s dave (example.net) drops carol's session" \
	wait_for 10 bash -c "! [ \"\$(ctl dave peers --json | python3 -c 'import json,sys
print(any(p[\"identity\"] == \"carol@example.org\" and p[\"session\"] for p in json.load(sys.stdin)[\"peers\"]))')\" = True ]"
echo "  carol cut off at dave after $(( ($(date +%s%N) - t0) / 1000000 )) ms (as polled)"
check "dave's log: carol's certificate revoked by example.org" \
	grep -q "peer carol@example.org: certificate .* revoked by example.org" "$T/dave/log"
check_fails "carol cannot ping dave any more" nsx carol ping -c3 -i0.5 -W1 "${V6[dave]}"
check "dave refuses carol's new handshake as revoked" \
	wait_for 10 grep -q "refusing carol@example.org: its certificate .* is revoked" "$T/dave/log"
check_fails "dave keeps no session with carol" ovl_session dave carol@example.org
check "example.org's word on alice's serial is ignored: dave still pings alice" ovl_ping dave "${V6[alice]}"
check_fails "... and never logged alice as revoked" grep -q "peer alice@example.com: certificate .* revoked" "$T/dave/log"
check "... and alice, whose peers all heard it, still pings dave" ovl_ping alice "${V6[dave]}"

# A trust anchor that cannot be read: the node runs, says why, pins work.
q2qd_conf noanchor 'dns_resolver = "192.0.2.53"; dns_anchor = "/nonexistent/root.key";'
mkdir -p "$T/noanchor"
ip netns add "$PFX-noanchor"; NSES+=("$PFX-noanchor")
q2qd_start noanchor || exit 1
check "without a usable trust anchor q2qd runs and says why" \
	grep -q "/nonexistent/root.key.*reachable only through pinned trust entries" "$T/noanchor/log"

# ---------------------------------------------------------------- q2qctl trust
check_fails "forgetting a node's own domain is refused" ctl alice trust forget example.com
check "control: alice has a session with dave" wait_for 10 bash -c "ovl_ping alice ${V6[dave]} && ovl_session alice dave@example.net"
check "alice forgets example.net" ctl alice trust forget example.net
check_eq "... and it is gone from q2qctl trust" "$(trust_field alice example.net learned)" none
check_fails "... and so is her session with dave" ovl_session alice dave@example.net
check "... and her link to example.net's authority" bash -c "! ctl alice status --json | grep -q '\"domain\": *\"example.net\"'"
check_fails "alice cannot reach dave while she trusts no example.net CA" \
	nsx alice ping -c3 -i0.5 -W1 "${V6[dave]}"
check "alice's log: dave cut off as his CA is no longer trusted" \
	grep -q "peer dave@example.net: its domain's CA is no longer trusted" "$T/alice/log"
check "alice pins example.net by hand" ctl alice trust pin example.net "${FP[example.net]}"
check_eq "... shown as learned manually" "$(trust_field alice example.net learned)" manual
check_eq "... with the fingerprint given" "$(trust_field alice example.net ca_fingerprint)" "${FP[example.net]}"
check_fails "pinning another CA over it is refused" ctl alice trust pin example.net "$SQFP"
check_fails "a bad fingerprint is refused" ctl alice trust pin example.net 1234
check "pinned again, alice resolves dave@example.net" wait_for 20 ctl alice resolve dave@example.net
check "... and pings him" wait_for 20 ovl_ping alice "${V6[dave]}"

# ---------------------------------------------------------------- reload
# A new resolver or trust anchor cannot be applied by a reload (the
# resolver is made before the sandbox): the reload is refused whole,
# naming the key, and nothing of the file is applied, not even the new
# trust_policy beside it. Without them, trust_policy changes on reload:
# alice turned to "pinned" asks DNS for nothing more.
q2qd_conf alice 'port = 8789;' 'dns_resolver = "192.0.2.99"; dns_anchor = "'"$T"'/dns/root.anchor";' \
	'trust_policy = "pinned";'
out=$(ctl alice reload 2>&1); rc=$?
echo "  reload with a new resolver: exit $rc: $out"
check_eq "a reload that changes dns_resolver fails" "$rc" 1
check "... naming the key and both values" \
	grep -qF 'dns_resolver changed from "192.0.2.53" to "192.0.2.99"' <<<"$out"
check "... and saying it takes effect at a restart" grep -q "takes effect only when q2qd restarts" <<<"$out"
check_fails "... and the trust_policy beside it was not applied" \
	grep -q 'reload: trust_policy is now "pinned"' "$T/alice/log"
q2qd_conf alice 'port = 8789;' 'dns_resolver = "192.0.2.53"; dns_anchor = "/nonexistent/root.key";'
out=$(ctl alice reload 2>&1); rc=$?
check_eq "a reload that changes dns_anchor fails too" "$rc" 1
check "... naming dns_anchor" grep -qF 'dns_anchor changed from "'"$T"'/dns/root.anchor" to "/nonexistent/root.key"' <<<"$out"
out=$(ctl alice resolve bob@nosrv.example 2>&1)
check "DNS is still asked, through the resolver alice started with" \
	grep -q 'nosrv.example: no SRV record _q2q._tcp.nosrv.example' <<<"$out"
q2qd_conf alice 'port = 8789;' "$DNSCONF" 'trust_policy = "pinned";'
check "alice reloads" ctl alice reload
check "alice's log: the new trust_policy applies now" grep -q 'reload: trust_policy is now "pinned" (was "dnssec")' "$T/alice/log"
out=$(ctl alice resolve bob@nosrv.example 2>&1); rc=$?
echo "  pinned after reload: $out"
check "pinned after reload: a new domain is not looked up in DNS" \
	bash -c "[ $rc = 1 ] && grep -q 'trust_policy = \"pinned\"' <<<'$out'"
check "... while the pinned example.net still works" ovl_ping alice "${V6[dave]}"

e2e_finish

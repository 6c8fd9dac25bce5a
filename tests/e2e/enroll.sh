#!/bin/bash
# Enrollment end to end: an authority and nodes as separate q2qd processes
# in their own network namespaces.
#
#                   wan bridge (192.0.2.0/24)
#      +-------------+-------------+-------------+-------------+
#      |             |             |             |             |
#   auth .10      alice .11     bob .12      carol .13     dave .14
#   example.com   pinned CA     TOFU         refusals      auto-renewal
#
# The authority is two processes: the engine (TLS on :8788) and its CA
# process, which alone reads $T/auth/state-ca/ca.key.
#
# Checks what a user sees: q2qctl exit codes and messages, and
# `q2qctl status --json` on each node.
. "$(dirname "$0")/lib.sh"
e2e_init enroll

wan_up
host_add auth 192.0.2.10/24
host_add alice 192.0.2.11/24
host_add bob 192.0.2.12/24
host_add carol 192.0.2.13/24

q2qd_conf auth 'authority = { domain = "example.com"; listen = "0.0.0.0:8788"; };'
for n in alice bob carol; do q2qd_conf $n; done
for n in auth alice bob carol; do q2qd_start $n || exit 1; done

FP=$(ctl auth status --json | jq_get authority_service.ca_fingerprint)
check "authority status shows a SHA-256 CA fingerprint" \
	bash -c "[[ '$FP' =~ ^[0-9a-f]{64}$ ]]"
CADIR=$T/auth/state-ca
check "CA key is mode 0600 and owned by root, in the CA directory" \
	bash -c "[ \"\$(stat -c '%a %u' '$CADIR/ca.key')\" = '600 0' ]"
check "the CA directory is mode 0700 and owned by root" \
	bash -c "[ \"\$(stat -c '%a %u' '$CADIR')\" = '700 0' ]"
check "no CA key in the engine's state directory" \
	bash -c "[ -z \"\$(find '$T/auth/state' -name 'ca.key*')\" ]"
CAPID=$(pgrep -P "$(cat "$T/auth/pid")" -x q2qd-ca)
check "the CA process (q2qd-ca) is a child of q2qd with no capabilities" \
	bash -c "[ -n '$CAPID' ] && grep -q '^CapEff:[[:space:]]*0000000000000000' /proc/$CAPID/status &&
		grep -q '^CapBnd:[[:space:]]*0000000000000000' /proc/$CAPID/status &&
		grep -q '^NoNewPrivs:[[:space:]]*1' /proc/$CAPID/status"

# The TLS listener serves [serving certificate, CA certificate]: the
# serving certificate names the bare domain, is not a CA, and chains to the
# CA whose fingerprint q2qctl status shows.
if command -v openssl >/dev/null; then
	nsx alice timeout 10 openssl s_client -connect 192.0.2.10:8788 -showcerts </dev/null >"$T/s_client.out" 2>&1
	python3 - "$T" <<'PY'
import re, sys
out = open(f"{sys.argv[1]}/s_client.out").read()
pems = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n", out, re.S)
for i, p in enumerate(pems):
    open(f"{sys.argv[1]}/chain{i}.pem", "w").write(p)
open(f"{sys.argv[1]}/chain.count", "w").write(str(len(pems)))
PY
	fp_of() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }
	check_eq "the authority's TLS chain has two certificates" "$(cat "$T/chain.count")" 2
	check_eq "the chain's last certificate is the CA" "$(fp_of "$T/chain1.pem")" "$FP"
	check_ne "the serving certificate is not the CA" "$(fp_of "$T/chain0.pem")" "$FP"
	check "the serving certificate names example.com and is not a CA" \
		bash -c "openssl x509 -in '$T/chain0.pem' -noout -subject | grep -q 'CN *= *example.com\$' &&
			openssl x509 -in '$T/chain0.pem' -noout -ext basicConstraints | grep -q 'CA:FALSE'"
	check "the serving certificate binds no addresses" \
		bash -c "! openssl x509 -in '$T/chain0.pem' -noout -ext subjectAltName | grep -q ."
	check "the serving certificate chains to the CA" \
		openssl verify -CAfile "$T/chain1.pem" "$T/chain0.pem"
else
	skip "openssl is not installed: the serving certificate is not inspected"
fi

# --- alice: pinned fingerprint ---
TOK=$(ctl auth invite alice@example.com 2>/dev/null)
check "invite prints a token" test -n "$TOK"
check "alice enrolls with token and pinned CA fingerprint" \
	ctl alice enroll alice@example.com --authority 192.0.2.10:8788 --token "$TOK" --ca-fingerprint "$FP"
ctl alice status --json > "$T/alice.json"
A4=$(jq_get ipv4 < "$T/alice.json")
A6=$(jq_get ipv6 < "$T/alice.json")
EXP6=$(python3 -c 'import hashlib,ipaddress,sys
h=hashlib.sha256(b"alice@example.com").digest()
print(ipaddress.IPv6Address(b"\xfd"+h[:15]))')
check_eq "alice status: identity" "$(jq_get identity < "$T/alice.json")" alice@example.com
check "alice status: IPv4 $A4 inside 100.64.0.0/10" python3 -c "import ipaddress,sys
sys.exit(ipaddress.ip_address('$A4') not in ipaddress.ip_network('100.64.0.0/10'))"
check_eq "alice status: IPv6 is fd + sha256(identity)[:15]" "$A6" "$EXP6"
check "alice status: certificate valid ~30 days" python3 -c "import time,sys
t=int('$(jq_get cert_not_after < "$T/alice.json")'); sys.exit(not (29*86400 < t-time.time() <= 30*86400))"
check_eq "alice status: authority address" "$(jq_get authority < "$T/alice.json")" 192.0.2.10:8788
check_eq "alice status: CA fingerprint matches the authority's" "$(jq_get ca_fingerprint < "$T/alice.json")" "$FP"
check "alice's key file is mode 0600" bash -c "[ \$(stat -c %a '$T/alice/state/node/key.der') = 600 ]"
check "the token is not in the authority's log" bash -c "! grep -qF -- '$TOK' '$T/auth/log'"
check "the token is not in alice's log" bash -c "! grep -qF -- '$TOK' '$T/alice/log'"

# --- token reuse and bad tokens ---
out=$(ctl carol enroll alice@example.com --authority 192.0.2.10 --token "$TOK" --ca-fingerprint "$FP" 2>&1); rc=$?
check "a reused token is refused (exit 1) and says so" bash -c "[ $rc = 1 ] && grep -q 'already used' <<<\"$out\""
out=$(ctl carol enroll carol@example.com --authority 192.0.2.10 --token AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA --ca-fingerprint "$FP" 2>&1); rc=$?
check "a wrong token is refused (exit 1) and says so" bash -c "[ $rc = 1 ] && grep -q 'token' <<<\"$out\""
check "the authority keeps serving after refusals" ctl auth status
check_eq "carol is still not enrolled" "$(ctl carol status --json | jq_get enrolled)" False

# --- wrong CA fingerprint: refused before the token is sent ---
CTOK=$(ctl auth invite carol@example.com 2>/dev/null)
BADFP=$(printf '%064d' 0)
out=$(ctl carol enroll carol@example.com --authority 192.0.2.10 --token "$CTOK" --ca-fingerprint "$BADFP" 2>&1); rc=$?
check "a wrong CA fingerprint is refused (exit 1)" bash -c "[ $rc = 1 ] && grep -q 'expected' <<<\"$out\""
check "the token was not spent by the refused attempt" \
	ctl carol enroll carol@example.com --authority 192.0.2.10 --token "$CTOK" --ca-fingerprint "$FP"

# --- bob: trust on first use, then pinned ---
BTOK=$(ctl auth invite bob@example.com 2>/dev/null)
check "bob enrolls trusting the CA on first use" \
	ctl bob enroll bob@example.com --authority 192.0.2.10 --token "$BTOK"
ctl bob status --json > "$T/bob.json"
B4=$(jq_get ipv4 < "$T/bob.json")
check_eq "bob learned the same CA fingerprint" "$(jq_get ca_fingerprint < "$T/bob.json")" "$FP"
check "bob's trust store pins the CA, not the serving certificate" \
	bash -c "grep -rqi '$FP' '$T/bob/state/trust'"
check_ne "alice and bob have different IPv4" "$A4" "$B4"

# --- only root (or the control group) may use the control socket ---
# Open the file permissions wide so that the daemon's own SO_PEERCRED check
# is what refuses the caller.
chmod o+x "$T" "$T/bob"; chmod 666 "$T/bob/q2qd.sock"
out=$(nsx bob setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN/q2qctl" -s "$T/bob/q2qd.sock" status 2>&1); rc=$?
check "q2qd refuses an unprivileged caller (SO_PEERCRED)" bash -c "[ $rc != 0 ] && grep -q 'permission denied: q2qctl needs root' <<<\"$out\""
check "q2qd logged the refused uid" grep -q "control: refused uid 65534" "$T/bob/log"
chmod 660 "$T/bob/q2qd.sock"

# --- bad input gets exit 2 ---
out=$(ctl bob enroll Bob@example.com --authority 192.0.2.10 --token x 2>&1); rc=$?
check "an upper-case identity is refused with exit 2" bash -c "[ $rc = 2 ] && grep -qi 'upper' <<<\"$out\""
ctl bob frobnicate >/dev/null 2>&1; rc=$?
check "an unknown command exits 2" test $rc = 2
ctl bob enroll bob@example.com --token x >/dev/null 2>&1; rc=$?
check "enroll without --authority exits 2" test $rc = 2
check "every command has --help" bash -c "for c in status enroll invite revoke renew reload; do $BIN/q2qctl \$c --help | grep -q usage || exit 1; done"
out=$(ctl carol enroll dave@example.org --authority 192.0.2.10 --token "$CTOK" 2>&1); rc=$?
check "enrolling another domain's identity at this authority is refused" test $rc != 0

# --- restart keeps the identity ---
SER=$(jq_get cert_serial < "$T/bob.json")
q2qd_stop bob; q2qd_start bob
ctl bob status --json > "$T/bob2.json"
check_eq "after restart bob has the same identity" "$(jq_get identity < "$T/bob2.json")" bob@example.com
check_eq "after restart bob has the same certificate" "$(jq_get cert_serial < "$T/bob2.json")" "$SER"

# --- renewal and re-enrollment keep the address ---
check "bob renews on request" ctl bob renew
check_ne "renewal gave a new certificate" "$(ctl bob status --json | jq_get cert_serial)" "$SER"
check_eq "renewal kept bob's IPv4" "$(ctl bob status --json | jq_get ipv4)" "$B4"
BTOK2=$(ctl auth invite bob@example.com 2>/dev/null)
check "bob re-enrolls with a new invite" ctl bob enroll bob@example.com --authority 192.0.2.10 --token "$BTOK2"
check_eq "re-enrollment keeps bob's IPv4" "$(ctl bob status --json | jq_get ipv4)" "$B4"

# --- the token from a file or standard input, not the command line (ps) ---
BTOK3=$(ctl auth invite bob@example.com 2>/dev/null)
printf '%s\n' "$BTOK3" > "$T/bob-token"
check "bob enrolls with --token-file" \
	ctl bob enroll bob@example.com --authority 192.0.2.10 --token-file "$T/bob-token"
BTOK4=$(ctl auth invite bob@example.com 2>/dev/null)
enroll_stdin() { printf '%s\n' "$1" | ctl bob enroll bob@example.com --authority 192.0.2.10 --token -; }
check "bob enrolls with --token - (standard input)" enroll_stdin "$BTOK4"
check_eq "enrolling from a file and a pipe keeps bob's IPv4" "$(ctl bob status --json | jq_get ipv4)" "$B4"
out=$(ctl bob enroll bob@example.com --authority 192.0.2.10 --token-file "$T/no-such-token" 2>&1); rc=$?
check "a missing token file exits 1 and is named" \
	bash -c "[ $rc = 1 ] && grep -qF -- '$T/no-such-token' <<<\"\$0\"" "$out"
: > "$T/empty-token"
out=$(ctl bob enroll bob@example.com --authority 192.0.2.10 --token-file "$T/empty-token" 2>&1); rc=$?
check "an empty token file exits 1 and is named" \
	bash -c "[ $rc = 1 ] && grep -qF -- '$T/empty-token' <<<\"\$0\" && grep -q empty <<<\"\$0\"" "$out"
out=$(ctl bob enroll bob@example.com --authority 192.0.2.10 --token x --token-file "$T/bob-token" 2>&1); rc=$?
check "--token with --token-file exits 2" test $rc = 2

# --- automatic renewal before expiry ---
# Certificates live 30 days here; renew_before = 30 days - 5 s makes the
# renewal point come 5 s after enrollment.
q2qd_conf dave 'renew_before = 2591995;'
host_add dave 192.0.2.14/24
q2qd_start dave
DTOK=$(ctl auth invite dave@example.com 2>/dev/null)
ctl dave enroll dave@example.com --authority 192.0.2.10 --token "$DTOK" --ca-fingerprint "$FP" >/dev/null 2>&1
DSER=$(ctl dave status --json | jq_get cert_serial)
check "dave is enrolled" test -n "$DSER"
check "dave's certificate is renewed by itself before expiry" \
	wait_for 20 bash -c "s=\$(ctl dave status --json | jq_get cert_serial); [ -n \"\$s\" ] && [ \"\$s\" != '$DSER' ]"
check "the authority logged the renewal" grep -q "renews dave@example.com" "$T/auth/log"

# --- revocation ---
check "revoke alice" ctl auth revoke alice@example.com
out=$(ctl alice renew 2>&1); rc=$?
check "revoked alice cannot renew (exit 1, says revoked)" bash -c "[ $rc = 1 ] && grep -q 'revoked' <<<\"$out\""
check "accounts lists alice as revoked" bash -c "ctl auth accounts | grep alice@example.com | grep -q revoked"

# --- a changed CA for a known domain is an error ---
q2qd_stop auth
mv "$T/auth/state" "$T/auth/state.old"
mv "$T/auth/state-ca" "$T/auth/state-ca.old"
q2qd_start auth
NEWFP=$(ctl auth status --json | jq_get authority_service.ca_fingerprint)
check_ne "a restarted authority with a new state dir has a new CA" "$NEWFP" "$FP"
out=$(ctl bob renew 2>&1); rc=$?
check "bob refuses the changed CA of example.com" bash -c "[ $rc = 1 ] && grep -q 'changed' <<<\"$out\""
ETOK=$(ctl auth invite eve@example.com 2>/dev/null)
out=$(ctl bob enroll eve@example.com --authority 192.0.2.10 --token "$ETOK" 2>&1); rc=$?
check "TOFU does not override a pinned domain" bash -c "[ $rc = 1 ] && grep -q 'changed' <<<\"$out\""

# --- the CA process's start errors reach the caller ---
q2qd_conf badca "authority = { domain = \"example.org\"; listen = \"0.0.0.0:8790\";
	ca_dir = \"$T/badca/ca\"; };"
install -d -m 0755 "$T/badca/ca"
out=$(nsx auth timeout 20 "$BIN/q2qd" -c "$T/badca/q2qd.conf" 2>&1); rc=$?
check "q2qd refuses a CA directory others can read (exit 1, says why)" \
	bash -c "[ $rc = 1 ] && grep -q 'must be 0700' <<<\"$out\""
chmod 0700 "$T/badca/ca"
cp "$T/auth/state-ca/ca.key" "$T/auth/state-ca/ca.der" "$T/badca/ca/"
out=$(nsx auth timeout 20 "$BIN/q2qd" -c "$T/badca/q2qd.conf" 2>&1); rc=$?
check "q2qd refuses another domain's CA (exit 1, says why)" \
	bash -c "[ $rc = 1 ] && grep -q \"is the CA of 'example.com', but the config says domain 'example.org'\" <<<\"$out\""

# --- config checking ---
printf 'mtu = 100;\n' > "$T/bad.conf"
out=$("$BIN/q2qd" -n -c "$T/bad.conf" 2>&1); rc=$?
check "q2qd -n names the bad setting" bash -c "[ $rc != 0 ] && grep -q mtu <<<\"$out\""
check "q2qd -n accepts a good config" bash -c "$BIN/q2qd -n -c '$T/auth/q2qd.conf' | grep -q 'configuration OK'"

e2e_finish

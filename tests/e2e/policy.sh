#!/bin/bash
# The identity firewall (issue 13): the authority's groups and rules reach
# its nodes and decide, by the sender's certificate identity, who reaches
# which port; replies and ICMP errors of allowed flows pass; a rule change
# at the authority takes effect within seconds without a new handshake; a
# broken rule at reload keeps the old policy; a node's own rules narrow,
# never widen; denied packets are counted and optionally answered.
#
#                     wan bridge (192.0.2.0/24)
#     +---------------+---------------+---------------+
#     |               |               |               |
#  auth .10        alice .11        bob .12         dave .15
#  example.com     group admins     group servers   no group
#  groups, policy                   sshd on 22,
#                                   listener on 8080
#     |               |
#  auth2 .20       carol .21        web .16 (example.com, listeners on 80
#  example.org     example.org      and 443; trusts example.org on first use)
. "$(dirname "$0")/lib.sh"
e2e_init policy

wan_up
host_add auth 192.0.2.10/24
host_add alice 192.0.2.11/24
host_add bob 192.0.2.12/24
host_add dave 192.0.2.15/24

# auth_policy EXTRA: the authority's config with the issue's rules; EXTRA
# goes into the admins' allow list.
auth_policy() {
	q2qd_conf auth 'authority = { domain = "example.com"; listen = "0.0.0.0:8788"; };' \
		'groups = { admins = ["alice@example.com"]; servers = ["bob@example.com", "web@example.com"]; };' \
		'policy = (' \
		"  { from = \"group:admins\"; to = \"group:servers\"; allow = [\"tcp/22\", \"icmp\", \"udp/5353\"$1]; }," \
		'  { from = "*@example.com"; to = "web@example.com"; allow = ["tcp/80", "tcp/443"]; },' \
		'  { from = "*@example.org"; to = "web@example.com"; allow = ["tcp/443"]; }' \
		');'
}
auth_policy ""
for n in alice bob dave; do q2qd_conf $n 'port = 8789;'; done
for n in auth alice bob dave; do q2qd_start $n || exit 1; done
for n in alice bob dave; do
	check "$n enrolls" ovl_enroll $n $n@example.com auth 192.0.2.10:8788
	check "$n: q2qctl up" ctl $n up
done
B4=$(ctl alice resolve bob@example.com 2>/dev/null)
A4=$(ctl bob resolve alice@example.com 2>/dev/null)
[ -n "$B4" ] && [ -n "$A4" ] || { echo "cannot continue without overlay addresses"; e2e_finish; exit 1; }

# bob_policy FIELD: a field of bob's `q2qctl policy --json`.
bob_policy() { ctl bob policy --json | jq_get "$1"; }
check "bob receives the authority's policy" wait_for 10 bash -c "[ \"\$(ctl bob policy --json | jq_get layers.0.present)\" = True ]"
check_eq "bob enforces one rule (the admins' to servers)" "$(ctl bob policy --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["layers"][0]["rules"]))')" 1
check_eq "the rule in force is the file's policy[0]" "$(bob_policy layers.0.rules.0.index)" 0
check "q2qctl policy lists the rule for people" bash -c "ctl bob policy | grep -F 'from [\"group:admins\"]' | grep -F 'tcp/22'"
check_eq "alice (no rule names her) has a policy too" "$(ctl alice policy --json | jq_get active)" True

# ---------------------------------------------------------------- services on bob
ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey"
ssh-keygen -q -t ed25519 -N '' -f "$T/userkey"
cp "$T/userkey.pub" "$T/authorized_keys"
cat > "$T/sshd_config" <<EOF
ListenAddress $B4:22
HostKey $T/hostkey
AuthorizedKeysFile $T/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile none
EOF
# sshd wants its privilege separation directory, /run/sshd: a private
# mount namespace gives it one without touching the machine's /run.
ip netns exec "$PFX-bob" unshare -m --propagation private sh -c \
	"mount -t tmpfs tmpfs /run && mkdir -m 0755 /run/sshd && exec /usr/sbin/sshd -D -e -f '$T/sshd_config'" \
	>"$T/sshd.log" 2>&1 &
check "sshd listens on bob's overlay address, port 22" wait_for 10 ovl_listening bob 22
# A plain TCP listener on 8080 that answers every connection with "web".
ip netns exec "$PFX-bob" timeout 120 python3 -c 'import socket,sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 8080)); s.listen(8)
while True:
    c, _ = s.accept(); c.sendall(b"web\n"); c.close()' "$B4" >/dev/null 2>&1 &
check "a listener runs on bob's 8080" wait_for 5 ovl_listening bob 8080

ssh_bob() {
	nsx "$1" timeout 20 ssh -F /dev/null -i "$T/userkey" -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o ConnectTimeout=4 -o BatchMode=yes "root@$B4" echo through-q2q
}
# tcp_get NODE PORT: what bob's listener says, within 3 s.
tcp_get() {
	nsx "$1" timeout 5 python3 -c 'import socket,sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
print(s.recv(100).decode().strip())' "$B4" "$2"
}
export -f ssh_bob tcp_get; export B4

# ---------------------------------------------------------------- admins reach 22, not 8080
check "alice pings bob (icmp allowed; the replies pass back into alice)" wait_for 10 ovl_ping alice "$B4"
check "alice (admins) runs a command on bob over ssh" bash -c "ssh_bob alice | grep -qx through-q2q"
check_fails "alice cannot reach bob's 8080" tcp_get alice 8080
check "bob's authority rule counts hits" test "$(bob_policy layers.0.rules.0.hits)" -gt 0
check "bob counts the denied packets" test "$(bob_policy layers.0.denied)" -gt 0
check "bob's peers --json counts alice's denied packets" test "$(ovl_peer bob alice@example.com policy_denied)" -gt 0
check "bob's metrics count them as drops by policy" test "$(ctl bob metrics | awk '$1 == "q2q_drops_total{reason=\"policy\"}" { print $2 }')" -gt 0

# ---------------------------------------------------------------- a rule change, live
# Right after the sessions started, well before their 120 s rekey: any
# handshake now would be the reload's doing.
HS0=$(ctl bob metrics | awk '$1 == "q2q_handshakes_completed_total" { print $2 }')
AGE0=$(ovl_peer bob alice@example.com handshake_age)
GEN0=$(bob_policy layers.0.generation)
auth_policy ', "tcp/8080"'
check "the authority reloads with tcp/8080 for admins" ctl auth reload
check "within 5 s alice reaches bob's 8080" wait_for 5 bash -c "tcp_get alice 8080 | grep -qx web"
check_ne "bob's policy generation moved" "$(bob_policy layers.0.generation)" "$GEN0"
check_eq "no new handshake on bob" "$(ctl bob metrics | awk '$1 == "q2q_handshakes_completed_total" { print $2 }')" "$HS0"
check "alice's session on bob is the same (its age grew)" test "$(ovl_peer bob alice@example.com handshake_age)" -ge "$AGE0"
check "ssh still works" bash -c "ssh_bob alice | grep -qx through-q2q"

# dave is of the domain, in no group: his identity opens nothing, even
# though his address is as good as alice's.
check "dave has a session with bob (the tunnel is there)" bash -c "ctl dave ping bob@example.com -c 1"
check_fails "dave cannot ping bob" ovl_ping dave "$B4"
B6=$(ctl alice resolve -6 bob@example.com 2>/dev/null)
check "alice pings bob over IPv6 (icmp covers ICMPv6)" wait_for 10 ovl_ping alice "$B6"
check_fails "dave cannot ping bob over IPv6" ovl_ping dave "$B6"
# 3000-byte pings leave alice in three fragments each way: the ones after
# the first carry no ports and pass because their first fragment did
# (a rule let the request in at bob; the reply belongs to alice's flow).
check "alice pings bob with 3000-byte packets (fragments follow their first)" nsx alice ping -c2 -W3 -s 3000 "$B4"
check "and over IPv6" nsx alice ping -c2 -W3 -s 3000 "$B6"
check_eq "bob dropped no fragment of them" "$(bob_policy stray_fragments)" 0
check_fails "dave's fragmented pings get nothing either" nsx dave ping -c1 -W2 -s 3000 "$B4"
check_fails "dave cannot ssh to bob" bash -c "ssh_bob dave | grep -qx through-q2q"
check "bob counts dave's denied packets" test "$(ovl_peer bob dave@example.com policy_denied)" -gt 0

# ---------------------------------------------------------------- ICMP errors of allowed flows
# udp/5353 is allowed but nothing listens: bob's kernel answers with
# "port unreachable", which must reach alice's socket although no rule
# lets anything into alice. A lost error shows as a time-out.
udp_refused() {
	nsx alice timeout 5 python3 -c 'import socket,sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
s.connect((sys.argv[1], 5353))
for _ in range(3):
    s.send(b"q")
    try:
        s.recv(10)
    except ConnectionRefusedError:
        print("refused"); sys.exit(0)
    except socket.timeout:
        pass
sys.exit(1)' "$B4"
}
check "an ICMP port unreachable for alice's UDP flow reaches her" bash -c "$(declare -f udp_refused); udp_refused | grep -qx refused"
# bob's own connection out to alice: alice lets in nothing, but the
# replies to what bob opened pass.
nsx alice timeout 60 python3 -c 'import socket,sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 7000)); s.listen(1)
while True:
    c, _ = s.accept(); c.sendall(b"alice\n"); c.close()' "$A4" >/dev/null 2>&1 &
wait_for 5 ovl_listening alice 7000
check_fails "bob cannot open a connection to alice (no rule names alice)" nsx bob timeout 5 python3 -c 'import socket,sys
s = socket.create_connection((sys.argv[1], 7000), timeout=3); print(s.recv(10))' "$A4"
check "alice counts bob's denied packets" test "$(ovl_peer alice bob@example.com policy_denied)" -gt 0

# ---------------------------------------------------------------- a broken rule is refused
GEN1=$(bob_policy layers.0.generation)
cp "$T/auth/q2qd.conf" "$T/auth/q2qd.conf.good"
sed -i 's#"tcp/8080"#"tcp/70000"#' "$T/auth/q2qd.conf"
OUT=$("$BIN/q2qd" -n -c "$T/auth/q2qd.conf" 2>&1)
check "q2qd -n names the rule and what is wrong" grep -q "policy\[0\]\.allow\[3\]: 'tcp/70000': port out of range 1..65535" <<<"$OUT"
OUT=$(ctl auth reload 2>&1); RC=$?
echo "    # reload: $OUT"
check "reload with the broken rule fails, naming it" bash -c "[ $RC != 0 ] && grep -q 'policy\[0\]\.allow\[3\]' <<<\"\$1\"" _ "$OUT"
sleep 2
check_eq "bob's policy generation did not move" "$(bob_policy layers.0.generation)" "$GEN1"
check "alice still reaches 8080 (the old policy stands)" bash -c "tcp_get alice 8080 | grep -qx web"
cp "$T/auth/q2qd.conf.good" "$T/auth/q2qd.conf"

# ---------------------------------------------------------------- bob narrows, never widens
q2qd_conf bob 'port = 8789;' 'policy_reject = true;' \
	'groups = { ops = ["alice@example.com", "dave@example.com"]; };' \
	'policy = ( { from = "group:ops"; to = "bob@example.com"; allow = ["tcp/22", "icmp"]; },' \
	'           { from = "alice@example.com"; to = "*"; allow = ["udp/5353"]; } );'
check "bob reloads with rules of his own" ctl bob reload
check_eq "bob shows his local rules" "$(bob_policy layers.1.present)" True
LD0=$(bob_policy layers.1.denied)
check "ssh from alice still works (both layers allow it)" bash -c "ssh_bob alice | grep -qx through-q2q"
check_fails "alice no longer reaches 8080 (bob's rules leave it out)" tcp_get alice 8080
check "bob's local layer counted that" test "$(bob_policy layers.1.denied)" -gt "${LD0:-0}"
check_fails "dave still cannot ssh to bob (bob's rules cannot widen the authority's)" bash -c "ssh_bob dave | grep -qx through-q2q"
# policy_reject: the refused connection fails at once, not by time-out.
check "with policy_reject, alice's refused connect fails at once (ICMP prohibited: no route to host)" bash -c "nsx alice timeout 5 python3 -c 'import socket,sys,time
t = time.time()
try:
    socket.create_connection((sys.argv[1], 8080), timeout=4)
except OSError as e:
    print(e); sys.exit(0 if time.time() - t < 2 else 1)
sys.exit(1)' $B4 | grep -Eqi 'unreachable|no route to host'"

# ---------------------------------------------------------------- another domain
# carol@example.org is named by a rule of example.com's authority: she
# reaches web's 443 and nothing else, while alice, of example.com, also
# reaches its 80 ("*@example.com").
host_add auth2 192.0.2.20/24
host_add web 192.0.2.16/24
host_add carol 192.0.2.21/24
q2qd_conf auth2 'authority = { domain = "example.org"; listen = "0.0.0.0:8788"; pool = "100.100.0.0/16"; };'
FP1=$(ctl auth status --json | jq_get authority_service.ca_fingerprint)
q2qd_conf web 'port = 8789;' 'trust_policy = "first-use";'
q2qd_conf carol 'port = 8789;' \
	"trust = ( { domain = \"example.com\"; fingerprint = \"$FP1\"; authority = \"192.0.2.10:8788\"; } );"
for n in auth2 web carol; do q2qd_start $n || exit 1; done
# example.com's authority takes example.org's nodes only under a pin its
# operator chose (there is no DNS here).
FP2=$(ctl auth2 status --json | jq_get authority_service.ca_fingerprint)
echo "trust = ( { domain = \"example.org\"; fingerprint = \"$FP2\"; } );" >> "$T/auth/q2qd.conf"
check "example.com's authority pins example.org's CA (reload)" ctl auth reload
check "web enrolls at example.com" ovl_enroll web web@example.com auth 192.0.2.10:8788
check "carol enrolls at example.org" ovl_enroll carol carol@example.org auth2 192.0.2.20:8788
check "web: q2qctl up" ctl web up
check "carol: q2qctl up" ctl carol up
W4=$(ctl web status --json | jq_get ipv4)
for port in 80 443; do
	ip netns exec "$PFX-web" timeout 120 python3 -c 'import socket,sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(8)
while True:
    c, _ = s.accept(); c.sendall(b"web%s\n" % sys.argv[2].encode()); c.close()' "$W4" $port >/dev/null 2>&1 &
done
wait_for 5 ovl_listening web 443
check_eq "web enforces the three rules naming it (servers, web twice)" \
	"$(ctl web policy --json | python3 -c 'import json,sys; print([r["index"] for r in json.load(sys.stdin)["layers"][0]["rules"]])')" "[0, 1, 2]"
# web_get NODE PORT: what web's listener on PORT says, within 3 s, at
# web's IPv4 as NODE sees it (another domain's node shows web under a
# node-local IPv4 of its own: PROTOCOL.md "IPv4 across domains").
web_get() {
	local a=$W4
	[ "$1" = carol ] && a=$CW4
	nsx "$1" timeout 5 python3 -c 'import socket,sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
print(s.recv(100).decode().strip())' "$a" "$2"
}
export -f web_get; export W4
check "carol resolves web@example.com through example.com's authority" wait_for 20 ctl carol resolve web@example.com
CW4=$(ctl carol resolve --json web@example.com | jq_get ipv4); export CW4
check "carol@example.org reaches web's 443" wait_for 20 bash -c "web_get carol 443 | grep -qx web443"
check_fails "carol cannot reach web's 80 (only *@example.com may)" web_get carol 80
check "alice@example.com reaches web's 80" wait_for 15 bash -c "web_get alice 80 | grep -qx web80"
check "web counts carol's denied packets" test "$(ovl_peer web carol@example.org policy_denied)" -gt 0

e2e_finish

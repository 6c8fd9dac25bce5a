#!/bin/bash
# The q2q demo (`sudo make demo`): builds a tiny internet out of network
# namespaces, runs an authority for example.com and two people's machines,
# and shows alice reaching bob *by name* over an encrypted, mutually
# authenticated tunnel. It explains each step in plain words as it goes,
# checks every step, and exits non-zero if any check failed. Everything it
# creates (namespaces, daemons, temporary files) is removed at the end.
#
#                  the "internet": a bridge, 192.0.2.0/24
#         +--------------------+--------------------+
#         |                    |                    |
#    authority .10         alice .11             bob .12
#    example.com           alice@example.com     bob@example.com
#    (q2qd, CA)            (q2qd, q2q0)          (q2qd, q2q0)
#
#    alice --- q2q0 ===== encrypted UDP, port 8789 ===== q2q0 --- bob
#
# Usage: tests/demo.sh [BUILD_DIR]   (KEEP=1 keeps the logs in /tmp)
O=${1:-${O:-build}}
. "$(dirname "$0")/e2e/lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "demo: needs root to create network namespaces (try: sudo make demo)" >&2
	exit 1
fi
for tool in ip ping python3 sha256sum tcpdump; do
	command -v "$tool" >/dev/null || { echo "demo: '$tool' is missing (sudo make deps)" >&2; exit 1; }
done

e2e_init demo

# --- how the demo talks ---------------------------------------------------
if [ -t 1 ]; then B=$'\e[1m' D=$'\e[2m' N=$'\e[0m'; else B="" D="" N=""; fi
STEP=0
step() { STEP=$((STEP + 1)); printf '\n%s== %d. %s%s\n' "$B" "$STEP" "$1" "$N"; }
say() { printf '%s\n' "$@" | fold -s -w 76 | sed '/./s/^/   /'; }
# show NODE ARGS...: runs a q2qctl command in NODE's namespace and shows
# it and its output, as if typed on that machine.
show() {
	local node=$1; shift
	printf '\n   %s%s$ q2qctl %s%s\n' "$D" "$node" "$*" "$N"
	qctl "$node" "$@" 2>&1 | sed 's/^/     /'
	return "${PIPESTATUS[0]}"
}
# q2qctl with a time limit, so a stuck daemon fails a step instead of
# hanging the demo.
qctl() { local n=$1; shift; timeout 30 ip netns exec "$PFX-$n" "$BIN/q2qctl" -s "$T/$n/q2qd.sock" "$@"; }
# jget KEY: like lib.sh's jq_get, but quiet when the input is not JSON
jget() { jq_get "$1" 2>/dev/null; }
# critical CONDITION-DESCRIPTION: later steps make no sense after this
# failed; stop there, tear down and summarise instead of piling up errors.
ABORTED=""
UP_TRIED=""
critical() { [ "$FAIL" -eq 0 ] || { ABORTED=$1; return 1; }; }

# ---------------------------------------------------------------------------
cat <<EOF
${B}q2q demo${N}: reach a person's machine by name, from any program.

   Three machines, each in its own network namespace on this computer,
   joined by a bridge that plays the internet (192.0.2.0/24):
     192.0.2.10  the authority for example.com (vouches for its people)
     192.0.2.11  alice@example.com's machine
     192.0.2.12  bob@example.com's machine
EOF

wan_up
host_add auth 192.0.2.10/24
host_add alice 192.0.2.11/24
host_add bob 192.0.2.12/24

demo_authority() {
	step "Start the authority for example.com"
	say "Any q2qd becomes an authority with an 'authority' section in its" \
	    "configuration. On first start it creates a certificate authority (CA)" \
	    "for example.com. People check its fingerprint once, like an SSH host key."
	q2qd_conf auth 'authority = { domain = "example.com"; listen = "0.0.0.0:8788"; };'
	for n in alice bob; do q2qd_conf "$n"; done
	for n in auth alice bob; do
		check "q2qd starts on $n's machine" q2qd_start "$n"
	done
	FP=$(qctl auth status --json | jget authority_service.ca_fingerprint)
	say "" "CA fingerprint of example.com (SHA-256):" "  ${FP:-(none)}"
	check "the authority is running and has a CA fingerprint" \
		bash -c "[[ '$FP' =~ ^[0-9a-f]{64}$ ]]"
	critical "the daemons did not start"
}

demo_invite() {
	step "Invite alice and bob"
	say "The authority's operator hands each person a one-time token."
	ATOK=$(qctl auth invite alice@example.com 2>/dev/null)
	BTOK=$(qctl auth invite bob@example.com 2>/dev/null)
	printf '\n   %sauthority$ q2qctl invite alice@example.com%s\n     %s\n' "$D" "$N" "${ATOK:0:6}... (cut short here: it is a secret)"
	printf '   %sauthority$ q2qctl invite bob@example.com%s\n     %s\n' "$D" "$N" "${BTOK:0:6}..."
	check "the authority issued a token for alice" test -n "$ATOK"
	check "the authority issued a token for bob" test -n "$BTOK"
	critical "no invitations"
}

demo_enroll() {
	local out rc
	step "Enroll alice and bob"
	say "Each machine makes its own key pair (the private key never leaves it)," \
	    "sends a certificate request plus the token to the authority over" \
	    "TLS 1.3, and gets back a certificate binding its name to its overlay" \
	    "addresses. Both pin the CA fingerprint from step 1."
	check "alice enrolls as alice@example.com" \
		qctl alice enroll alice@example.com --authority 192.0.2.10:8788 --token "$ATOK" --ca-fingerprint "$FP"
	check "bob enrolls as bob@example.com" \
		qctl bob enroll bob@example.com --authority 192.0.2.10:8788 --token "$BTOK" --ca-fingerprint "$FP"
	say "" "A token works once. Someone replaying alice's token is turned away:"
	printf '\n   %sbob$ q2qctl enroll alice@example.com --token <alice'"'"'s token> ...%s\n' "$D" "$N"
	out=$(qctl bob enroll alice@example.com --authority 192.0.2.10:8788 --token "$ATOK" --ca-fingerprint "$FP" 2>&1); rc=$?
	sed 's/^/     /' <<<"$out"
	check "a reused token is refused" bash -c "[ $rc != 0 ] && grep -qi 'used' <<<\"\$1\"" _ "$out"
	say "" "This is what alice's machine knows about itself now:"
	show alice status
	check_eq "alice's machine says it is alice@example.com" \
		"$(qctl alice status --json | jget identity)" alice@example.com
	critical "enrollment failed"
}

demo_up() {
	step "Bring the overlay up on both machines"
	say "'q2qctl up' creates the network interface q2q0 with the machine's" \
	    "overlay addresses, opens UDP port 8789 and registers with the" \
	    "authority. From now on any program can use the overlay."
	UP_TRIED=1
	check "alice: q2qctl up" qctl alice up
	check "bob: q2qctl up" qctl bob up
	check "alice has a q2q0 interface" nsx alice ip link show q2q0
	printf '\n   %salice$ ip -brief address show q2q0%s\n' "$D" "$N"
	nsx alice ip -brief address show q2q0 2>&1 | sed 's/^/     /'
	critical "the overlay did not come up"
}

demo_resolve() {
	step "Find bob by name"
	say "Alice does not need to know where bob's machine is. She asks for bob" \
	    "by name; the authority vouches for bob's address."
	show alice resolve bob@example.com
	BOB4=$(qctl alice resolve bob@example.com 2>/dev/null)
	check_eq "bob@example.com resolves to the address on bob's certificate" \
		"$BOB4" "$(qctl bob status --json | jget ipv4)"
	critical "bob's name did not resolve"
}

demo_ping() {
	local out
	step "Ping bob by name"
	say "Plain old ping, unchanged, pointed at bob's name. The first packet" \
	    "makes the two machines meet: a TLS 1.3 handshake in which each proves" \
	    "its identity with its certificate. Then packets flow encrypted."
	printf '\n   %salice$ ping -c3 $(q2qctl resolve bob@example.com)%s\n' "$D" "$N"
	# The first echo may wait for the handshake, so allow it some time.
	out=$(nsx alice ping -c3 -W 5 "$(qctl alice resolve bob@example.com 2>/dev/null)" 2>&1)
	sed 's/^/     /' <<<"$out"
	PINGS=$(sed -nE 's/.* ([0-9]+) received.*/\1/p' <<<"$out")
	check_eq "3 of 3 pings answered" "${PINGS:-0}" 3
	say "" "q2qctl can ping through the tunnel by name too, and says which path" \
	    "the packets took:"
	show alice ping bob@example.com -c 3
	check "q2qctl ping bob@example.com gets replies" qctl alice ping bob@example.com -c 3
}

demo_copy() {
	local mark=q2q-demo-plaintext-marker size tcpdump recv t0 t1 wire seen
	step "Copy a 10 MB file to bob by name"
	say "Any program works over the overlay. Here a small Python program sends" \
	    "10 MB to bob's address, found by name; bob's side writes it to disk" \
	    "and we compare SHA-256 checksums. Meanwhile we record all traffic on" \
	    "the 'internet' bridge, as an eavesdropper would."
	# 10 MB of random data with a readable marker every 62.5 kB, to look
	# for on the wire
	python3 - "$T/send.bin" "$mark" <<'PY'
import os, sys
mark = sys.argv[2].encode()
with open(sys.argv[1], "wb") as f:
    for _ in range(160):
        f.write(mark + os.urandom(62500 - len(mark)))
PY
	size=$(stat -c %s "$T/send.bin")
	nsx wan tcpdump -i br0 -s 0 -U -w "$T/wire.pcap" udp >"$T/tcpdump.log" 2>&1 &
	tcpdump=$!
	wait_for 5 grep -q listening "$T/tcpdump.log"
	# bob: accept one connection, store what arrives
	nsx bob timeout 90 python3 - "$T/recv.bin" >"$T/recv.log" 2>&1 <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 5001)); s.listen(1)
c, peer = s.accept()
with open(sys.argv[1], "wb") as f:
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        f.write(b)
print("received from", peer[0])
PY
	recv=$!
	wait_for 10 bash -c "ip netns exec $PFX-bob ss -Hltn 'sport = :5001' | grep -q ."
	printf '\n   %salice$ send.py send.bin $(q2qctl resolve bob@example.com) 5001%s\n' "$D" "$N"
	t0=$(date +%s%N)
	nsx alice timeout 90 python3 - "$T/send.bin" "$(qctl alice resolve bob@example.com 2>/dev/null)" 2>&1 <<'PY' | sed 's/^/     /'
import socket, sys
s = socket.create_connection((sys.argv[2], 5001), timeout=30)
with open(sys.argv[1], "rb") as f:
    s.sendfile(f)
s.shutdown(socket.SHUT_WR)
s.recv(1)  # bob closes once everything has arrived
print("sent %s to %s" % (sys.argv[1].rsplit("/", 1)[-1], sys.argv[2]))
PY
	t1=$(date +%s%N)
	# bob's side ends by itself after a complete transfer; not after a failed one
	wait_for 5 bash -c "! kill -0 $recv" || kill "$recv" 2>/dev/null
	wait "$recv" 2>/dev/null
	kill "$tcpdump" 2>/dev/null; wait "$tcpdump" 2>/dev/null
	SUM_A=$(sha256sum < "$T/send.bin" | cut -d' ' -f1)
	SUM_B=$( [ -f "$T/recv.bin" ] && sha256sum < "$T/recv.bin" | cut -d' ' -f1)
	GOT=$(stat -c %s "$T/recv.bin" 2>/dev/null || echo 0)
	say "" "alice's copy: sha256 ${SUM_A:0:32}..." \
	    "bob's copy:   sha256 $([ -n "$SUM_B" ] && echo "${SUM_B:0:32}..." || echo "(nothing received)")" \
	    "$(python3 -c "print('%.1f MB in %.2f s' % ($GOT / 1e6, ($t1 - $t0) / 1e9))")"
	check_eq "bob received all $size bytes" "$GOT" "$size"
	check_eq "the checksums match" "$SUM_B" "$SUM_A"
	wire=$(stat -c %s "$T/wire.pcap" 2>/dev/null || echo 0)
	seen=$(grep -c -a -F "$mark" "$T/wire.pcap" 2>/dev/null)
	say "" "The eavesdropper recorded $((wire / 1000000)) MB of UDP on the bridge;" \
	    "the file's readable marker appears in it ${seen:-0} times."
	check "the transfer crossed the bridge as UDP (the capture holds >= 10 MB)" test "$wire" -ge "$size"
	check_eq "the file's contents never appear in clear on the wire" "${seen:-0}" 0
}

demo_peers() {
	local a4
	step "Who is alice talking to?"
	say "Alice's machine lists its peers: bob, authenticated by certificate," \
	    "with the path, endpoint and traffic counters."
	show alice peers
	check_eq "alice's first peer is bob@example.com" \
		"$(qctl alice peers --json | jget peers.0.identity)" bob@example.com
	say "" "And bob knows for sure who was calling, because alice proved it:"
	a4=$(qctl alice status --json | jget ipv4)
	show bob whois "$a4"
	check_eq "bob identifies $a4 as alice@example.com" \
		"$(qctl bob whois "$a4" --json | jget identity)" alice@example.com
}

demo_teardown() {
	local pfx=$PFX tmp=$T n
	step "Tear down"
	say "'q2qctl down' removes q2q0; then the daemons stop and the namespaces go."
	if [ -n "$UP_TRIED" ]; then
		check "alice: q2qctl down" qctl alice down
		check "bob: q2qctl down" qctl bob down
		check_fails "alice's q2q0 is gone" nsx alice ip link show q2q0
	fi
	for n in alice bob auth; do q2qd_stop "$n"; done
	[ -n "${KEEP:-}" ] && say "(KEEP is set: logs stay in $T)"
	# clean up now rather than in the EXIT trap, so it can be verified
	e2e_cleanup
	T=""
	check_eq "no namespaces left behind" "$(ip netns list | grep -c -- "^$pfx-")" 0
	check_eq "no processes left behind" "$(pgrep -f -c -- "$tmp")" 0
}

for s in demo_authority demo_invite demo_enroll demo_up demo_resolve \
    demo_ping demo_copy demo_peers; do
	"$s" || { printf '\n   %s: skipping the remaining steps.\n' "$ABORTED"; break; }
done
demo_teardown

# ---------------------------------------------------------------------------
printf '\n%s== Summary%s\n' "$B" "$N"
if [ "$FAIL" -eq 0 ]; then
	say "alice reached bob by name over an encrypted, mutually authenticated" \
	    "tunnel: ${PINGS:-0}/3 pings, $((GOT / 1000000)) MB copied, checksums match."
else
	[ -n "$ABORTED" ] && say "Stopped early: $ABORTED."
	say "Something did not work: $FAIL check(s) failed (marked 'not ok'" \
	    "above). Pings ${PINGS:-0}/3, $((GOT / 1000000)) MB copied, checksums" \
	    "$([ -n "$SUM_B" ] && [ "$SUM_A" = "$SUM_B" ] && echo match || echo "do not match")." \
	    "Run with KEEP=1 to keep the daemons' logs in /tmp/q2q-e2e-demo.*"
fi
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
